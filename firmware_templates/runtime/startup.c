/* Cortex-M start-up: the vector table, copying .data, clearing .bss, marking the stack, the FPU,
   and faults. */
#include <stdint.h>

#include "board.h"
#include "memory_use.h"

extern uint32_t _data, _edata, _data_load, _bss, _ebss, _stack_top;
int main(void);
void SysTick_Handler(void);

void Reset_Handler(void) {
    uint32_t *source = &_data_load, *destination = &_data;
    while (destination < &_edata) *destination++ = *source++;
    for (destination = &_bss; destination < &_ebss;) *destination++ = 0;
    memory_paint_stack();
#if defined(__ARM_FP)
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: enable CP10, CP11 (the FPU) */
    __asm__ volatile("dsb\n isb");
#endif
    main();
    for (;;) {
    }
}

/* A fault is a bug in the firmware, not in the rune (every access the rune makes is checked):
   reset, and say so on the next boot, with the address of the faulting instruction. */
void fault_report(const uint32_t *frame) { board_fault(frame[6]); }

__attribute__((naked)) void Fault_Handler(void) {
    __asm__ volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "b fault_report\n");
}

/* The device interrupts a driver uses, which it defines (otherwise the interrupt is a fault):
   the STM32F4's DMA1 stream 3, interrupt 14 (sensors/mp45dt02.c). No other is enabled. */
void DMA1_Stream3_IRQHandler(void) __attribute__((weak, alias("Fault_Handler")));

__attribute__((section(".vectors"), used)) static void (*const vectors[16 + 15])(void) = {
    (void (*)(void))&_stack_top, Reset_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, 0, 0, 0, 0, Fault_Handler, Fault_Handler, 0, Fault_Handler, SysTick_Handler,
    [16 + 14] = DMA1_Stream3_IRQHandler,
};
