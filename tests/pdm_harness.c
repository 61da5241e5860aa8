/* The sensor drivers' arithmetic, natively, for tests/test_pdm_decimator.py:
 *
 *   pdm_harness decimate RATIO GAIN_SHIFT < words > pcm   16-bit little-endian words in, i16 out,
 *                                                         fed in chunks of 1 to 37 words
 *   pdm_harness clock INPUT_HZ BIT_HZ                     the I2S clock plan, as JSON
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i2s_clock.h"
#include "pdm_decimator.h"

static int decimate(uint32_t ratio, uint32_t gain_shift) {
    static pdm_decimator d;
    const char *problem = pdm_decimator_init(&d, ratio, gain_shift);
    if (problem) {
        fprintf(stderr, "%s\n", problem);
        return 2;
    }
    uint16_t words[37];
    int16_t pcm[37 * 16 / 64 + 1];
    for (uint32_t chunk = 1;; chunk = chunk % 37 + 1) { /* uneven chunks: the state carries over */
        size_t got = fread(words, 2, chunk, stdin);
        if (!got) break;
        uint32_t made = pdm_decimate(&d, words, (uint32_t)got, pcm);
        if (made > got * 16 / ratio + 1) {
            fprintf(stderr, "%u samples from %zu words\n", made, got);
            return 3;
        }
        fwrite(pcm, 2, made, stdout);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "decimate") == 0)
        return decimate((uint32_t)strtoul(argv[2], 0, 10), (uint32_t)strtoul(argv[3], 0, 10));
    if (argc == 4 && strcmp(argv[1], "clock") == 0) {
        i2s_clock c;
        int status = i2s_clock_plan((uint32_t)strtoul(argv[2], 0, 10), (uint32_t)strtoul(argv[3], 0, 10), &c);
        printf("{\"ok\": %s, \"n\": %u, \"r\": %u, \"div\": %u, \"odd\": %u, \"bit_hz\": %u}\n",
               status == 0 ? "true" : "false", c.n, c.r, c.div, c.odd, c.bit_hz);
        return 0;
    }
    fprintf(stderr, "usage: pdm_harness decimate RATIO GAIN_SHIFT | clock INPUT_HZ BIT_HZ\n");
    return 2;
}
