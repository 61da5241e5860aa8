#include "i2s_clock.h"

#define I2S_CLOCK_MAX_HZ 192000000u /* the I2S peripheral's own clock (VCO / R) at most */

int i2s_clock_plan(uint32_t input_hz, uint32_t bit_hz, i2s_clock *clock) {
    *clock = (i2s_clock){0};
    if (!bit_hz) return -1;
    uint64_t best_error = UINT64_MAX;
    for (uint32_t n = 192; n <= 432; n++)
        for (uint32_t r = 2; r <= 7; r++) {
            uint64_t source = (uint64_t)input_hz * n / r;
            if (source > I2S_CLOCK_MAX_HZ) continue;
            uint64_t divider = (source + bit_hz / 2) / bit_hz; /* 2 * I2SDIV + ODD, 4 to 511 */
            if (divider < 4) divider = 4;
            if (divider > 511) divider = 511;
            /* |source / divider - bit_hz| scaled by divider, in exact integers */
            uint64_t made = (uint64_t)input_hz * n, wanted = (uint64_t)bit_hz * r * divider;
            uint64_t error = (made > wanted ? made - wanted : wanted - made) * 1000000u / wanted;
            if (error < best_error) {
                best_error = error;
                clock->n = n;
                clock->r = r;
                clock->div = (uint32_t)(divider / 2);
                clock->odd = (uint32_t)(divider % 2);
                clock->bit_hz = (uint32_t)(source / divider);
            }
        }
    return best_error <= 1000u ? 0 : -1; /* parts per million */
}
