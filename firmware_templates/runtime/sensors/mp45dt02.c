/*
 * SOUND from the MP45DT02 PDM microphone of the STM32F4-Discovery (UM1472): its clock on PB10
 * (I2S2_CK), its data on PC3 (I2S2_SD). I2S2 runs as a master receiver clocked by PLLI2S, so its
 * bit clock is the microphone's clock and each 16-bit word it receives is 16 PDM bits; DMA1
 * stream 3 (channel 0: SPI2_RX) copies the words into a circular buffer, and the CPU decimates
 * each half (pdm_decimator.h) while the other fills.
 *
 * i16 mono PCM at the capability's `hz`, 7,813 to 16,000 Hz: the microphone is clocked at 64,
 * 96 or 128 times hz, whichever is the least within its 1 to 3.25 MHz, and the CPU, at 16 MHz,
 * must decimate faster than the bits come (at most about half its time, measured in
 * instructions on the emulated Cortex-M4: hil_tests/test_sensor_firmware.py). 24 dB of gain:
 * the MP45DT02 gives -26 dBFS at 94 dB SPL, which would leave speech far down in the 16 bits;
 * 96 dB SPL and louder clip. Each read records afresh: 50 ms are dropped (the microphone waking
 * up, the filters settling), then `sample_duration_ms` are kept.
 */
#include <string.h>

#include "i2s_clock.h"
#include "pdm_decimator.h"
#include "sensor.h"

#define RCC 0x40023800u
#define RCC_CR (RCC + 0x00u)
#define RCC_PLLCFGR (RCC + 0x04u)
#define RCC_CFGR (RCC + 0x08u)
#define RCC_AHB1ENR (RCC + 0x30u)
#define RCC_APB1ENR (RCC + 0x40u)
#define RCC_PLLI2SCFGR (RCC + 0x84u)
#define CR_PLLON (1u << 24)
#define CR_PLLI2SON (1u << 26)
#define CR_PLLI2SRDY (1u << 27)
#define GPIOB 0x40020400u
#define GPIOC 0x40020800u
#define GPIO_MODER 0x00u
#define GPIO_OSPEEDR 0x08u
#define GPIO_AFRL 0x20u
#define GPIO_AFRH 0x24u
#define SPI2 0x40003800u
#define SPI2_CR2 (SPI2 + 0x04u)
#define SPI2_SR (SPI2 + 0x08u)
#define SPI2_DR (SPI2 + 0x0Cu)
#define SPI2_I2SCFGR (SPI2 + 0x1Cu)
#define SPI2_I2SPR (SPI2 + 0x20u)
#define SR_OVR (1u << 6)
#define I2SCFGR_I2SE (1u << 10)
#define DMA1 0x40026000u
#define DMA1_LISR (DMA1 + 0x00u)
#define DMA1_LIFCR (DMA1 + 0x08u)
#define S3CR (DMA1 + 0x58u) /* stream 3: 0x10 + 0x18 * 3 */
#define S3NDTR (DMA1 + 0x5Cu)
#define S3PAR (DMA1 + 0x60u)
#define S3M0AR (DMA1 + 0x64u)
#define S3FCR (DMA1 + 0x6Cu)
#define TEIF3 (1u << 25)
#define HTIF3 (1u << 26)
#define TCIF3 (1u << 27)
#define FLAGS3 (0x3Du << 22) /* all of stream 3's flags */

#define PLL_INPUT_HZ 1000000u /* the HSI's 16 MHz divided by PLLM = 16 (its reset value) */
#define MIC_MIN_HZ 1000000u   /* the MP45DT02's clock range */
#define MIC_MAX_HZ 3250000u
#define MIN_RATE_HZ 7813u
#define MAX_RATE_HZ 16000u
#define GAIN_SHIFT 4u /* 24 dB */
#define SETTLE_MS 50u
#define HALF_WORDS 512u /* 8 ms at 1.024 MHz */

static uint16_t words[2 * HALF_WORDS]; /* DMA1 writes here, round and round */
static int16_t pcm[HALF_WORDS * 16u / 64u + 1u];
static pdm_decimator decimator;
static i2s_clock running; /* PLLI2S's settings, once it runs */

static int wait_for(uint32_t address, uint32_t mask, uint32_t value, uint32_t ms) {
    uint64_t deadline = sensor_deadline(ms);
    while ((REG32(address) & mask) != value) {
        if (sensor_expired(deadline)) return -1;
    }
    return 0;
}

static const char *start_clock(const i2s_clock *clock) {
    if (running.n == clock->n && running.r == clock->r && (REG32(RCC_CR) & CR_PLLI2SRDY)) return 0;
    if (REG32(RCC_CR) & CR_PLLON) return "MP45DT02: the main PLL runs, so PLLI2S's input cannot be chosen";
    REG32(RCC_PLLCFGR) = (REG32(RCC_PLLCFGR) & ~((1u << 22) | 0x3Fu)) | 16u; /* HSI / 16 */
    REG32(RCC_CFGR) &= ~(1u << 23);                                           /* I2S clocked by PLLI2S */
    REG32(RCC_CR) &= ~CR_PLLI2SON; /* its settings change only while it is off */
    if (wait_for(RCC_CR, CR_PLLI2SRDY, 0, 2)) return "MP45DT02: PLLI2S did not stop";
    REG32(RCC_PLLI2SCFGR) = (clock->r << 28) | (clock->n << 6);
    REG32(RCC_CR) |= CR_PLLI2SON;
    if (wait_for(RCC_CR, CR_PLLI2SRDY, CR_PLLI2SRDY, 2)) return "MP45DT02: PLLI2S did not lock within 2 ms";
    running = *clock;
    return 0;
}

static void start_pins(void) {
    REG32(RCC_AHB1ENR) |= (1u << 1) | (1u << 2) | (1u << 21); /* GPIOB, GPIOC, DMA1 */
    REG32(RCC_APB1ENR) |= 1u << 14;                            /* SPI2 (I2S2) */
    (void)REG32(RCC_APB1ENR);
    /* PB10 (I2S2_CK) and PC3 (I2S2_SD): alternate function 5 */
    REG32(GPIOB + GPIO_MODER) = (REG32(GPIOB + GPIO_MODER) & ~(3u << 20)) | (2u << 20);
    REG32(GPIOB + GPIO_OSPEEDR) = (REG32(GPIOB + GPIO_OSPEEDR) & ~(3u << 20)) | (2u << 20);
    REG32(GPIOB + GPIO_AFRH) = (REG32(GPIOB + GPIO_AFRH) & ~(0xFu << 8)) | (5u << 8);
    REG32(GPIOC + GPIO_MODER) = (REG32(GPIOC + GPIO_MODER) & ~(3u << 6)) | (2u << 6);
    REG32(GPIOC + GPIO_AFRL) = (REG32(GPIOC + GPIO_AFRL) & ~(0xFu << 12)) | (5u << 12);
}

static const char *stop_capture(void) {
    REG32(SPI2_I2SCFGR) &= ~I2SCFGR_I2SE;
    REG32(SPI2_CR2) = 0;
    REG32(S3CR) &= ~1u;
    return wait_for(S3CR, 1u, 0, 2) ? "MP45DT02: DMA1 stream 3 did not stop" : 0;
}

static const char *start_capture(const i2s_clock *clock) {
    const char *problem = stop_capture();
    if (problem) return problem;
    /* Master receive, Philips standard, 16-bit data in 16-bit channels (every clock carries a
       bit, so the words are the stream as it is; WS is not wired), clock idle high (CKPOL) as
       ST configures this board's microphone. */
    REG32(SPI2_I2SCFGR) = (1u << 11) | (3u << 8) | (1u << 3);
    REG32(SPI2_I2SPR) = (clock->odd << 8) | clock->div;
    (void)REG32(SPI2_DR); /* a stale word and an old overrun go */
    (void)REG32(SPI2_SR);
    REG32(DMA1_LIFCR) = FLAGS3;
    REG32(S3PAR) = SPI2_DR;
    REG32(S3M0AR) = (uint32_t)(uintptr_t)words;
    REG32(S3NDTR) = 2 * HALF_WORDS;
    REG32(S3FCR) = 0; /* direct mode */
    /* channel 0, high priority, 16 bits each side, memory increments, circular, from the peripheral */
    REG32(S3CR) = (2u << 16) | (1u << 13) | (1u << 11) | (1u << 10) | (1u << 8);
    REG32(S3CR) |= 1u;
    REG32(SPI2_CR2) = 1u;                   /* RXDMAEN */
    REG32(SPI2_I2SCFGR) |= I2SCFGR_I2SE;    /* the clock starts */
    return 0;
}

/* Whether a half holds anything but a line stuck at 0 or 1. */
static int alive(const uint16_t *half) {
    for (uint32_t i = 0; i < HALF_WORDS; i++)
        if (half[i] != 0x0000u && half[i] != 0xFFFFu) return 1;
    return 0;
}

/* Record c->count samples into out; NULL or why not. The capture runs; the caller stops it. */
static const char *record(const rune_capability_config *c, uint32_t ratio, uint8_t *out) {
    uint32_t skip = (uint32_t)((uint64_t)c->hz * SETTLE_MS / 1000u), written = 0;
    int heard = 0;
    uint32_t half_ms = HALF_WORDS * 16u * 1000u / (c->hz * ratio) + 1u;
    for (uint32_t half = 0; written < c->count; half ^= 1u) {
        uint32_t flag = half ? TCIF3 : HTIF3, other = half ? HTIF3 : TCIF3;
        uint64_t deadline = sensor_deadline(3 * half_ms + 5);
        while (!(REG32(DMA1_LISR) & flag)) {
            if (REG32(DMA1_LISR) & TEIF3) return "MP45DT02: DMA1 stream 3 reported a transfer error";
            if (sensor_expired(deadline)) return "MP45DT02: no data from I2S2 (is PLLI2S running?)";
        }
        REG32(DMA1_LIFCR) = flag;
        const uint16_t *data = words + half * HALF_WORDS;
        if (skip && !heard) heard = alive(data);
        uint32_t made = pdm_decimate(&decimator, data, HALF_WORDS, pcm);
        uint32_t dropped = skip < made ? skip : made;
        skip -= dropped;
        if (!skip && !heard) return "MP45DT02: its data line (PC3) stays at 0 or 1: no microphone answers";
        uint32_t kept = made - dropped;
        if (kept > c->count - written) kept = c->count - written;
        memcpy(out + 2 * written, pcm + dropped, 2 * kept);
        written += kept;
        /* The DMA has filled the other half as well: it may have written into this one while it
           was being read. */
        if (REG32(DMA1_LISR) & other) return "MP45DT02: the decimation did not keep up with the microphone";
        if (REG32(SPI2_SR) & SR_OVR) return "MP45DT02: I2S2 overran (DMA too slow)";
    }
    return 0;
}

const char *sensor_mp45dt02_read(const rune_capability_config *c, uint8_t *out) {
    if (c->type != 4) return "MP45DT02: SOUND must be i16";
    if (c->hz < MIN_RATE_HZ || c->hz > MAX_RATE_HZ)
        return "MP45DT02: SOUND's hz must be 7813 to 16000 (the microphone takes a 1 to 3.25 MHz clock, and "
               "the CPU decimates its bits at 16 MHz)";
    uint32_t ratio = c->hz * 64u >= MIC_MIN_HZ ? 64u : c->hz * 96u >= MIC_MIN_HZ ? 96u : 128u;
    i2s_clock clock;
    if (i2s_clock_plan(PLL_INPUT_HZ, c->hz * ratio, &clock) || clock.bit_hz > MIC_MAX_HZ)
        return "MP45DT02: no I2S clock within 0.1% of the microphone clock this rate needs";
    const char *problem = start_clock(&clock);
    if (problem) return problem;
    start_pins();
    pdm_decimator_init(&decimator, ratio, GAIN_SHIFT);
    problem = start_capture(&clock);
    if (!problem) problem = record(c, ratio, out);
    const char *stopped = stop_capture();
    return problem ? problem : stopped;
}
