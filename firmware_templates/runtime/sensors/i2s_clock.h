/*
 * The STM32F4's I2S clock for a wanted bit clock: PLLI2S multiplies a 1 MHz input by N and
 * divides by R; the I2S prescaler divides that by 2 * I2SDIV + ODD (RM0090, "Clock generator",
 * master mode without MCLK output). Arithmetic only, tested natively.
 */
#ifndef RUNE_I2S_CLOCK_H
#define RUNE_I2S_CLOCK_H

#include <stdint.h>

typedef struct {
    uint32_t n, r;        /* PLLI2SN (192 to 432: VCO 192 to 432 MHz from 1 MHz), PLLI2SR (2 to 7) */
    uint32_t div, odd;    /* I2SDIV (2 to 255), ODD */
    uint32_t bit_hz;      /* the bit clock they give, rounded down */
} i2s_clock;

/* The settings whose bit clock is nearest `bit_hz` from a PLL input of `input_hz`; 0 if it is
   within 0.1% (of the nominal input: the clock is as accurate as that input), else -1 (the
   nearest is still in *clock; all zeros for a bit_hz of 0). About 1,400 candidates with 64-bit
   divisions: tens of milliseconds at 16 MHz, so a caller plans once per rate. */
int i2s_clock_plan(uint32_t input_hz, uint32_t bit_hz, i2s_clock *clock);

#endif
