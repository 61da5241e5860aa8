/* How many instructions the PDM decimation (firmware_templates/runtime/sensors/pdm_decimator.c)
 * takes per PCM sample on a Cortex-M4, built as the firmware builds it: run bare on the emulated
 * STM32F405 (QEMU, -icount shift=0: SysTick counts 0.168 per instruction at its 168 MHz), for
 * hil_tests/test_sensor_firmware.py. Prints "ratio R ticks T samples S" per ratio over
 * semihosting, then exits. */
#include <stdint.h>

#include "cortex_m.h" /* REG32, SYST_* */
#include "pdm_decimator.h"

#define WORDS 512u /* one DMA half of the driver */

extern uint32_t _stack_top, _data, _edata, _data_load, _bss, _ebss;
static uint16_t words[WORDS];
static int16_t pcm[WORDS * 16u / 64u + 1u];
static pdm_decimator decimator;

static void semihost(uint32_t operation, const void *argument) {
    register uint32_t r0 __asm__("r0") = operation;
    register const void *r1 __asm__("r1") = argument;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}

static void say(const char *text) { semihost(0x04, text); } /* SYS_WRITE0 */

static void say_number(uint32_t value) {
    char digits[12];
    uint32_t n = sizeof digits - 1;
    digits[n] = 0;
    do {
        digits[--n] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value);
    say(digits + n);
}

int main(void) {
    uint32_t x = 0x12345678u; /* bits like a busy microphone's: xorshift */
    for (uint32_t i = 0; i < WORDS; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        words[i] = (uint16_t)x;
    }
    for (uint32_t ratio = 64; ratio <= 128; ratio += 32) {
        pdm_decimator_init(&decimator, ratio, 4);
        REG32(SYST_RVR) = 0xFFFFFFu;
        REG32(SYST_CVR) = 0;
        REG32(SYST_CSR) = 5u; /* processor clock, no interrupt */
        uint32_t ticks = 0, samples = 0;
        for (uint32_t round = 0; round < 8; round++) {
            uint32_t before = REG32(SYST_CVR);
            samples += pdm_decimate(&decimator, words, WORDS, pcm);
            ticks += (before - REG32(SYST_CVR)) & 0xFFFFFFu; /* it counts down */
        }
        say("ratio ");
        say_number(ratio);
        say(" ticks ");
        say_number(ticks);
        say(" samples ");
        say_number(samples);
        say("\n");
    }
    semihost(0x18, (const void *)0x20026u); /* SYS_EXIT: application exit */
    for (;;) {
    }
}

void Reset_Handler(void) {
#if defined(__ARM_FP)
    REG32(0xE000ED88u) |= 0xFu << 20; /* CPACR: the FPU, as the firmware's start-up enables it */
    __asm__ volatile("dsb\n isb");
#endif
    uint32_t *from = &_data_load, *to = &_data;
    while (to < &_edata) *to++ = *from++;
    for (to = &_bss; to < &_ebss;) *to++ = 0;
    main();
}

static void Fault_Handler(void) {
    say("fault\n");
    semihost(0x18, (const void *)0x20026u);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))&_stack_top, Reset_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, 0, 0, 0, 0, Fault_Handler, Fault_Handler, 0, Fault_Handler, Fault_Handler,
};
