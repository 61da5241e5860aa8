/*
 * What the firmware needs of a board: a console UART, a tick counter, a watchdog and reset.
 * boards/<family>.c implements the console and the clock for each family (STM32F4 USART, CMSDK
 * UART on MPS2); boards/cortex_m.c the rest, on SysTick and the system reset.
 */
#ifndef RUNE_BOARD_H
#define RUNE_BOARD_H

#include <stddef.h>
#include <stdint.h>

void board_init(void);
void board_write(const char *data, size_t length);
int board_read_byte(void);            /* blocks until a byte arrives */

uint64_t board_cycles(void);          /* CPU cycles since start (SysTick based) */
uint32_t board_cpu_hz(void);

/* A software watchdog on SysTick: if board_watchdog_kick is not called within `ms`, the
   board resets (and the next boot reports the reason). 0 disables it. */
void board_watchdog_start(uint32_t ms);
void board_watchdog_kick(void);

/* Why the board last started: "power", "watchdog", "fault" or "reset"; for a fault, where. */
const char *board_reset_cause(void);
uint32_t board_fault_address(void);
void board_reset(const char *cause);  /* records the cause, then resets; does not return */
void board_fault(uint32_t pc);        /* records a fault at pc, then resets */

#endif
