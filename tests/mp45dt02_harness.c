/* The MP45DT02 driver (firmware_templates/runtime/sensors/mp45dt02.c) run natively against a
 * simulation of what it drives, for tests/test_sensors.py: the registers it uses (RCC, I2S2,
 * DMA1 stream 3, the NVIC) are memory here, and the time the driver waits in (board_cycles)
 * moves a simulated DMA that fills the driver's buffer half by half with a PDM stream and, when
 * the driver has enabled it, calls its interrupt handler, as the hardware would.
 *
 *   mp45dt02_harness HZ OPERATION...     one JSON line per read
 *
 * Operations: read:N (read N samples), wait:MS (the rune computes for MS ms while the capture
 * runs), stop (a read without a destination), stuck (the data line stays at 0 from now on),
 * overrun (I2S2 reports an overrun), late (the next interrupt comes a half too late).
 *
 * Each read says whether it failed, and which capture (counted from 1: the DMA started again)
 * and which samples of it (the offset in the PCM that decimating that capture's whole stream
 * gives) it returned; -1 if they are not a run of that PCM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "cortex_m.h"
#include "pdm_decimator.h"
#include "rune_config.h"

const char *sensor_mp45dt02_read(const rune_capability_config *c, uint8_t *out);
void DMA1_Stream3_IRQHandler(void);

#define CPU_HZ 16000000u
#define RCC_CR 0x40023800u
#define RCC_PLLI2SCFGR 0x40023884u
#define SPI2_CR2 0x40003804u
#define SPI2_SR 0x40003808u
#define SPI2_I2SCFGR 0x4000381Cu
#define SPI2_I2SPR 0x40003820u
#define DMA1_LISR 0x40026000u
#define DMA1_LIFCR 0x40026008u
#define S3CR 0x40026058u
#define S3M0AR 0x40026064u
#define NVIC_ISER0 0xE000E100u
#define NVIC_ICER0 0xE000E180u
#define HTIF3 (1u << 26)
#define TCIF3 (1u << 27)
#define HALF_WORDS 512u
#define MAX_SAMPLES (16000u * 8u)

static struct {
    uint32_t address, value;
} registers[64];
static uint32_t nvic_enabled, in_interrupt;
static uint64_t now, next_half_at;
static uint32_t half, world_word = 1, stuck, late, ratio;

/* One capture's PCM, as decimating its whole stream gives it: the reference. */
static pdm_decimator reference;
static int16_t expected[MAX_SAMPLES];
static uint32_t expected_count, capture, capture_bit_hz;

static volatile uint32_t *slot(uint32_t address) {
    for (uint32_t i = 0; i < sizeof registers / sizeof registers[0]; i++) {
        if (registers[i].address == address) return &registers[i].value;
        if (!registers[i].address) {
            registers[i].address = address;
            return &registers[i].value;
        }
    }
    fprintf(stderr, "too many registers\n");
    exit(2);
}

/* What the hardware does with what was written: flags cleared, the PLL locked, the NVIC. */
static void settle_registers(void) {
    *slot(DMA1_LISR) &= ~*slot(DMA1_LIFCR);
    *slot(DMA1_LIFCR) = 0;
    *slot(RCC_CR) = (*slot(RCC_CR) & ~(1u << 27)) | ((*slot(RCC_CR) >> 26 & 1u) << 27); /* PLLI2SRDY */
    nvic_enabled = (nvic_enabled | *slot(NVIC_ISER0)) & ~*slot(NVIC_ICER0);
    *slot(NVIC_ISER0) = *slot(NVIC_ICER0) = 0;
}

volatile uint32_t *fake_register(uint32_t address) {
    settle_registers();
    return slot(address);
}

static uint16_t next_word(void) {
    world_word ^= world_word << 13; /* a busy microphone: xorshift bits */
    world_word ^= world_word >> 17;
    world_word ^= world_word << 5;
    return stuck ? 0 : (uint16_t)world_word;
}

/* PLLI2S and the I2S prescaler as set: 1 MHz * N / R / (2 * I2SDIV + ODD). */
static uint32_t bit_hz(void) {
    uint32_t pll = *slot(RCC_PLLI2SCFGR), prescaler = *slot(SPI2_I2SPR);
    uint32_t divider = 2 * (prescaler & 0xFFu) + (prescaler >> 8 & 1u);
    return (uint32_t)(1000000ull * (pll >> 6 & 0x1FFu) / (pll >> 28 & 7u) / divider);
}

/* The DMA: while I2S2 and stream 3 run, a half of words every 8192 bit clocks. */
static void run_hardware(void) {
    settle_registers();
    if (in_interrupt) return;
    int running = (*slot(S3CR) & 1u) && (*slot(SPI2_I2SCFGR) & (1u << 10)) && (*slot(SPI2_CR2) & 1u);
    if (!running) {
        next_half_at = 0;
        return;
    }
    if (!next_half_at) { /* it starts: a new capture */
        capture++;
        capture_bit_hz = bit_hz();
        half = 0;
        expected_count = 0;
        next_half_at = now + (uint64_t)CPU_HZ * 16u * HALF_WORDS / capture_bit_hz;
        pdm_decimator_init(&reference, ratio, 4);
        *slot(SPI2_SR) &= ~(1u << 6); /* the driver read DR and SR before it started: no overrun */
    }
    while (now >= next_half_at) {
        uint16_t *words = (uint16_t *)(uintptr_t)*slot(S3M0AR) + half * HALF_WORDS;
        for (uint32_t i = 0; i < HALF_WORDS; i++) words[i] = next_word();
        if (expected_count + HALF_WORDS < MAX_SAMPLES)
            expected_count += pdm_decimate(&reference, words, HALF_WORDS, expected + expected_count);
        *slot(DMA1_LISR) |= half ? TCIF3 : HTIF3;
        half ^= 1u;
        next_half_at += (uint64_t)CPU_HZ * 16u * HALF_WORDS / capture_bit_hz;
        if (late) { /* the interrupt comes only with the next half */
            late = 0;
            continue;
        }
        if (nvic_enabled & (1u << 14)) {
            in_interrupt = 1;
            DMA1_Stream3_IRQHandler();
            in_interrupt = 0;
            settle_registers();
        }
    }
}

uint64_t board_cycles(void) {
    now += 40; /* a turn of a waiting loop */
    run_hardware();
    return now;
}

uint32_t board_cpu_hz(void) { return CPU_HZ; }

static void compute_for(uint32_t ms) {
    for (uint64_t until = now + (uint64_t)CPU_HZ / 1000u * ms; now < until;) board_cycles();
}

static long find(const int16_t *samples, uint32_t count) {
    for (uint32_t at = 0; at + count <= expected_count; at++)
        if (memcmp(expected + at, samples, 2 * count) == 0) return (long)at;
    return -1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: mp45dt02_harness HZ OPERATION...\n");
        return 2;
    }
    static int16_t samples[MAX_SAMPLES];
    rune_capability_config c = {.source = CAPABILITY_SENSOR, .type = 4, .hz = (uint32_t)strtoul(argv[1], 0, 10),
                                .sensor = sensor_mp45dt02_read};
    ratio = c.hz * 64u >= 1000000u ? 64u : c.hz * 96u >= 1000000u ? 96u : 128u;
    for (int i = 2; i < argc; i++) {
        const char *op = argv[i];
        if (strncmp(op, "read:", 5) == 0) {
            c.count = (uint32_t)strtoul(op + 5, 0, 10);
            c.bytes = 2 * c.count;
            const char *problem = sensor_mp45dt02_read(&c, (uint8_t *)samples);
            long offset = problem ? -1 : find(samples, c.count);
            printf("{\"error\": %s%s%s, \"capture\": %u, \"offset\": %ld, \"bit_hz\": %u}\n", problem ? "\"" : "",
                   problem ? problem : "null", problem ? "\"" : "", capture, offset, capture_bit_hz);
        } else if (strncmp(op, "wait:", 5) == 0) {
            compute_for((uint32_t)strtoul(op + 5, 0, 10));
        } else if (strcmp(op, "stop") == 0) {
            if (sensor_mp45dt02_read(&c, 0)) return 3;
            settle_registers();
            printf("{\"stopped\": %s}\n", (*slot(S3CR) & 1u) || (nvic_enabled & (1u << 14)) ? "false" : "true");
        } else if (strcmp(op, "stuck") == 0) {
            stuck = 1;
        } else if (strcmp(op, "overrun") == 0) {
            *slot(SPI2_SR) |= 1u << 6;
        } else if (strcmp(op, "late") == 0) {
            late = 1;
        } else {
            fprintf(stderr, "unknown operation %s\n", op);
            return 2;
        }
    }
    return 0;
}
