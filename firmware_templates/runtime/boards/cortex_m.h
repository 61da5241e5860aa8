/* What every Cortex-M board shares: SysTick, the system reset, and a reset-cause record that
   survives the reset (in .noinit RAM, which start-up does not clear). */
#ifndef RUNE_CORTEX_M_H
#define RUNE_CORTEX_M_H

#include <stdint.h>

#define REG32(address) (*(volatile uint32_t *)(address))
#define SYST_CSR 0xE000E010u
#define SYST_RVR 0xE000E014u
#define SYST_CVR 0xE000E018u
#define SCB_AIRCR 0xE000ED0Cu

/* Starts SysTick; cortex_m.c implements board.h's cycles, watchdog, reset and fault with it. */
void cortex_m_start_ticks(uint32_t cpu_hz);

#endif
