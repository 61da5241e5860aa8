/*
 * SOUND from the MP45DT02 PDM microphone of the STM32F4-Discovery (UM1472): its clock on PB10
 * (I2S2_CK), its data on PC3 (I2S2_SD). I2S2 runs as a master receiver clocked by PLLI2S, so its
 * bit clock is the microphone's clock and each 16-bit word it receives is 16 PDM bits; DMA1
 * stream 3 (channel 0: SPI2_RX) copies the words into a circular buffer of two halves, and its
 * interrupt decimates each half (pdm_decimator.h) into a ring of PCM while the other fills.
 *
 * The capture is continuous: it starts at the first read (the PLL, the pins, the DMA; 50 ms are
 * dropped while the microphone wakes up and the filters settle) and then runs, between reads
 * too, so that each read returns the samples that follow the previous read's. A read waits for
 * the samples it lacks. When samples are lost (the rune did not come back to read them before
 * the ring filled, the decimation did not keep up, I2S or the DMA failed), the capture stops and
 * the read that would have needed them fails, saying so; the next read starts it again (and
 * drops 50 ms again). A read with no destination stops it (capabilities.c, before the serial
 * link receives: the console is polled, and the interrupt would make it lose bytes).
 *
 * i16 mono PCM at the capability's `hz`, 7,813 to 16,000 Hz: the microphone is clocked at 64,
 * 96 or 128 times hz, whichever is the least within its 1 to 3.25 MHz, and the CPU, at 16 MHz,
 * must decimate faster than the bits come (at most about half its time, measured in
 * instructions on the emulated Cortex-M4: hil_tests/test_sensor_firmware.py), time it takes from
 * the rune while the capture runs. 24 dB of gain: the MP45DT02 gives -26 dBFS at 94 dB SPL,
 * which would leave speech far down in the 16 bits; 96 dB SPL and louder clip.
 */
#include <stdio.h>
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
#define S3CR_EN (1u << 0)
#define S3CR_INTERRUPTS ((1u << 4) | (1u << 3) | (1u << 2)) /* TCIE, HTIE, TEIE */
#define DMA1_STREAM3_IRQ 14u
#define NVIC_ISER0 0xE000E100u
#define NVIC_ICER0 0xE000E180u
#define NVIC_ICPR0 0xE000E280u
#define NVIC_IPR3 0xE000E40Cu /* the priorities of interrupts 12 to 15, a byte each */

#define PLL_INPUT_HZ 1000000u /* the HSI's 16 MHz divided by PLLM = 16 (its reset value) */
#define MIC_MIN_HZ 1000000u   /* the MP45DT02 takes a 1 to 3.25 MHz clock; the ratios below keep it under 1.6 */
#define MIN_RATE_HZ 7813u
#define MAX_RATE_HZ 16000u
#define GAIN_SHIFT 4u /* 24 dB */
#define SETTLE_MS 50u
#define HALF_WORDS 512u    /* 8 ms at 1.024 MHz */
#define HALF_SAMPLES (HALF_WORDS * 16u / 64u + 1u)
#define RING_SAMPLES 4096u /* 256 ms at 16 kHz: how long the rune may take between reads */

#define STUCK "MP45DT02: its data line (PC3) stays at 0 or 1: no microphone answers"
#define KEEP_UP "MP45DT02: the decimation did not keep up with the microphone"

static uint16_t words[2 * HALF_WORDS]; /* DMA1 writes here, round and round */
static pdm_decimator decimator;       /* the interrupt's, while the capture runs */
static int16_t ring[RING_SAMPLES];
static volatile uint32_t ring_in, ring_out; /* samples put in (the interrupt), taken out (reads); they wrap */
static const char *volatile lost;           /* why the capture stopped by itself, or NULL */
static volatile int heard;                  /* the data line has moved since the start */
static volatile int settled;                /* the 50 ms after the start are over */
static uint32_t capturing_hz;               /* the capture's rate; 0: stopped */
static i2s_clock running;                   /* PLLI2S's settings, once it runs */
static char lost_message[160];

static int wait_for(uint32_t address, uint32_t mask, uint32_t value, uint32_t ms) {
    uint64_t deadline = sensor_deadline(ms);
    while ((REG32(address) & mask) != value) {
        if (sensor_expired(deadline)) return -1;
    }
    return 0;
}

/* The I2S clock for a rate, planned once per rate (the search takes tens of ms at 16 MHz);
   NULL if there is none within 0.1%. */
static const i2s_clock *clock_for(uint32_t bit_hz) {
    static uint32_t planned_hz;
    static i2s_clock plan;
    static int found;
    if (planned_hz != bit_hz) {
        found = i2s_clock_plan(PLL_INPUT_HZ, bit_hz, &plan) == 0;
        planned_hz = bit_hz;
    }
    return found ? &plan : 0;
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

/* I2S2 and the DMA off, the interrupt first so that it does not run while the rest stops. */
static void halt(void) {
    REG32(NVIC_ICER0) = 1u << DMA1_STREAM3_IRQ;
    REG32(SPI2_I2SCFGR) &= ~I2SCFGR_I2SE;
    REG32(SPI2_CR2) = 0;
    REG32(S3CR) &= ~(S3CR_EN | S3CR_INTERRUPTS);
}

static const char *stop_capture(void) {
    halt();
    capturing_hz = 0;
    const char *problem = wait_for(S3CR, S3CR_EN, 0, 2) ? "MP45DT02: DMA1 stream 3 did not stop" : 0;
    REG32(DMA1_LIFCR) = FLAGS3;
    REG32(NVIC_ICPR0) = 1u << DMA1_STREAM3_IRQ;
    return problem;
}

/* From the interrupt: the capture stops itself; reads find out once the ring is empty. */
static void give_up(const char *why) {
    halt();
    lost = why;
}

static const char *start_capture(const i2s_clock *clock) {
    const char *problem = stop_capture();
    if (problem) return problem;
    ring_in = ring_out = 0;
    lost = 0;
    heard = settled = 0;
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
    /* channel 0, high priority, 16 bits each side, memory increments, circular, from the
       peripheral; an interrupt at each half, at the end and on an error */
    REG32(S3CR) = (2u << 16) | (1u << 13) | (1u << 11) | (1u << 10) | (1u << 8) | S3CR_INTERRUPTS;
    /* The lowest priority: SysTick (the clock, the watchdog) interrupts the decimation. */
    REG32(NVIC_IPR3) = (REG32(NVIC_IPR3) & ~(0xFFu << 16)) | (0xF0u << 16);
    REG32(NVIC_ICPR0) = 1u << DMA1_STREAM3_IRQ;
    REG32(NVIC_ISER0) = 1u << DMA1_STREAM3_IRQ;
    REG32(S3CR) |= S3CR_EN;
    REG32(SPI2_CR2) = 1u;                /* RXDMAEN */
    REG32(SPI2_I2SCFGR) |= I2SCFGR_I2SE; /* the clock starts */
    return 0;
}

/* Whether a half holds anything but a line stuck at 0 or 1. */
static int alive(const uint16_t *half) {
    for (uint32_t i = 0; i < HALF_WORDS; i++)
        if (half[i] != 0x0000u && half[i] != 0xFFFFu) return 1;
    return 0;
}

/* A half is full: decimate it into the ring while the DMA fills the other; NULL, or why the
   capture must stop. */
static const char *decimate_half(void) {
    uint32_t status = REG32(DMA1_LISR), done = status & (HTIF3 | TCIF3);
    if (status & TEIF3) return "MP45DT02: DMA1 stream 3 reported a transfer error";
    if (done == (HTIF3 | TCIF3)) return KEEP_UP; /* a half went by undecimated */
    if (!done) return 0;
    REG32(DMA1_LIFCR) = done;
    SENSOR_BARRIER(); /* the DMA's words are read after its flag */
    const uint16_t *half = words + (done == TCIF3 ? HALF_WORDS : 0);
    if (alive(half)) heard = 1;
    else if (settled) return STUCK; /* the microphone woke up, and has stopped since */
    int16_t pcm[HALF_SAMPLES];
    uint32_t made = pdm_decimate(&decimator, half, HALF_WORDS, pcm);
    /* The DMA has filled the other half as well: it may have written into this one while it
       was being read. */
    if (REG32(DMA1_LISR) & (done ^ (HTIF3 | TCIF3))) return KEEP_UP;
    if (REG32(SPI2_SR) & SR_OVR) return "MP45DT02: I2S2 overran (DMA too slow)";
    uint32_t in = ring_in;
    if (RING_SAMPLES - (in - ring_out) < made) return lost_message;
    for (uint32_t i = 0; i < made; i++) ring[(in + i) % RING_SAMPLES] = pcm[i];
    SENSOR_BARRIER(); /* the samples are in the ring before the reader can see them */
    ring_in = in + made;
    return 0;
}

/* DMA1 stream 3's interrupt (its vector: startup.c), at the lowest priority. */
void DMA1_Stream3_IRQHandler(void) {
    const char *why = decimate_half();
    if (why) give_up(why);
}

/* The next `count` samples of the capture into `out` (dropped if NULL); NULL or why not. */
static const char *take(uint32_t count, uint32_t patience_ms, uint8_t *out) {
    uint64_t deadline = sensor_deadline(patience_ms);
    for (uint32_t taken = 0; taken < count;) {
        uint32_t at = ring_out, ready = ring_in - at;
        if (!ready) {
            if (lost && ring_in == at) return lost;
            if (sensor_expired(deadline)) return "MP45DT02: no data from I2S2 (is PLLI2S running?)";
            continue;
        }
        SENSOR_BARRIER(); /* the ring's samples are read after the count that says they are there */
        uint32_t n = count - taken, first = at % RING_SAMPLES;
        if (n > ready) n = ready;
        if (n > RING_SAMPLES - first) n = RING_SAMPLES - first;
        if (out) memcpy(out + 2 * taken, ring + first, 2 * n);
        taken += n;
        SENSOR_BARRIER(); /* read before the interrupt may write there again */
        ring_out = at + n;
        deadline = sensor_deadline(patience_ms);
    }
    return 0;
}

/* Start the capture at `hz` and let it settle; NULL or why not. */
static const char *start(uint32_t hz, uint32_t ratio, uint32_t patience_ms) {
    const i2s_clock *clock = clock_for(hz * ratio);
    if (!clock) return "MP45DT02: no I2S clock within 0.1% of the microphone clock this rate needs";
    const char *problem = start_clock(clock);
    if (problem) return problem;
    start_pins();
    pdm_decimator_init(&decimator, ratio, GAIN_SHIFT);
    snprintf(lost_message, sizeof lost_message,
             "MP45DT02: sound was lost: the rune fell more than %lu ms behind the microphone (all the driver "
             "holds at this rate); the next read records afresh", (unsigned long)(RING_SAMPLES * 1000u / hz));
    problem = start_capture(clock);
    if (!problem) capturing_hz = hz;
    if (!problem) problem = take(hz * SETTLE_MS / 1000u, patience_ms, 0);
    if (!problem && !heard) problem = STUCK;
    settled = 1;
    return problem;
}

const char *sensor_mp45dt02_read(const rune_capability_config *c, uint8_t *out) {
    if (!out) return capturing_hz ? stop_capture() : 0;
    if (c->type != 4) return "MP45DT02: SOUND must be i16";
    if (c->hz < MIN_RATE_HZ || c->hz > MAX_RATE_HZ)
        return "MP45DT02: SOUND's hz must be 7813 to 16000 (the microphone takes a 1 to 3.25 MHz clock, and "
               "the CPU decimates its bits at 16 MHz)";
    uint32_t ratio = c->hz * 64u >= MIC_MIN_HZ ? 64u : c->hz * 96u >= MIC_MIN_HZ ? 96u : 128u;
    uint32_t patience_ms = 3u * (HALF_WORDS * 16u * 1000u / (c->hz * ratio) + 1u) + 5u; /* three halves */
    const char *problem = capturing_hz == c->hz ? 0 : start(c->hz, ratio, patience_ms);
    if (!problem) problem = take(c->count, patience_ms, out);
    if (problem && capturing_hz) stop_capture(); /* not if it never started: DMA1 may have no clock yet */
    return problem;
}
