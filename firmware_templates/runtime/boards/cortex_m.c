/* The part of board.h that every Cortex-M board shares, on SysTick and the system reset. */
#include "board.h"
#include "cortex_m.h"

#include <string.h>

#define TICKS_PER_SECOND 1000u
#define MARKER 0x52554E45u /* "RUNE" */

static volatile uint32_t milliseconds, watchdog_ms, watchdog_deadline;
static uint32_t reload;

__attribute__((section(".noinit"))) static struct {
    uint32_t marker;
    char cause[12];
    uint32_t fault_pc;
} reset_record;
static char cause_at_boot[12];
static uint32_t fault_at_boot;

void cortex_m_start_ticks(uint32_t cpu_hz) {
    if (reset_record.marker == MARKER) {
        memcpy(cause_at_boot, reset_record.cause, sizeof cause_at_boot);
        cause_at_boot[sizeof cause_at_boot - 1] = 0;
        fault_at_boot = reset_record.fault_pc;
    } else {
        strcpy(cause_at_boot, "power");
    }
    reset_record.marker = 0;
    reload = cpu_hz / TICKS_PER_SECOND - 1;
    REG32(SYST_RVR) = reload;
    REG32(SYST_CVR) = 0;
    REG32(SYST_CSR) = 7; /* processor clock, interrupt, enable */
}

uint64_t board_cycles(void) {
    uint32_t ms, value;
    do { /* a consistent pair across a tick */
        ms = milliseconds;
        value = REG32(SYST_CVR);
    } while (ms != milliseconds);
    return (uint64_t)ms * (reload + 1) + (reload - value);
}

void SysTick_Handler(void) {
    milliseconds++;
    if (watchdog_ms && (int32_t)(milliseconds - watchdog_deadline) > 0) board_reset("watchdog");
}

void board_watchdog_start(uint32_t ms) {
    watchdog_ms = ms;
    watchdog_deadline = milliseconds + ms;
}

void board_watchdog_kick(void) { watchdog_deadline = milliseconds + watchdog_ms; }

const char *board_reset_cause(void) { return cause_at_boot; }
uint32_t board_fault_address(void) { return fault_at_boot; }

void board_fault(uint32_t pc) {
    reset_record.fault_pc = pc;
    board_reset("fault");
}

void board_reset(const char *cause) {
    if (strcmp(cause, "fault") != 0) reset_record.fault_pc = 0;
    reset_record.marker = MARKER;
    strncpy(reset_record.cause, cause, sizeof reset_record.cause - 1);
    __asm__ volatile("dsb");
    REG32(SCB_AIRCR) = (0x5FAu << 16) | (1u << 2); /* SYSRESETREQ */
    __asm__ volatile("dsb");
    for (;;) {
    }
}
