/*
 * ACCEL from the LIS3DSH accelerometer of the STM32F4-Discovery (UM1472; the board revision
 * MB997C and later, earlier ones have a LIS302DL): SPI1 on PA5 (SCK), PA6 (MISO), PA7 (MOSI),
 * chip select PE3.
 *
 * Rows of x, y, z in g (standard gravity), along the sensor's own axes (lying flat, component
 * side up, z reads about +1 g): the sensor samples at 100 Hz (its output data rate, with its
 * 50 Hz anti-aliasing filter), ±4 g full scale, 0.12 mg a digit (LIS3DSH datasheet). A read
 * takes `samples` fresh samples, so it lasts samples / 100 seconds.
 */
#include <stdio.h>
#include <string.h>

#include "sensor.h"

#define RCC 0x40023800u
#define RCC_AHB1ENR (RCC + 0x30u)
#define RCC_APB2ENR (RCC + 0x44u)
#define GPIOA 0x40020000u
#define GPIOE 0x40021000u
#define GPIO_MODER 0x00u
#define GPIO_OSPEEDR 0x08u
#define GPIO_AFRL 0x20u
#define GPIO_BSRR 0x18u
#define SPI1 0x40013000u
#define SPI_CR1 (SPI1 + 0x00u)
#define SPI_SR (SPI1 + 0x08u)
#define SPI_DR (SPI1 + 0x0Cu)
#define SR_RXNE (1u << 0)
#define SR_TXE (1u << 1)
#define SR_BSY (1u << 7)

#define CHIP_SELECT 3u /* PE3 */

/* The LIS3DSH's registers (datasheet DocID022405, section 8). */
#define READ 0x80u /* the first bit on SPI: 1 reads, 0 writes */
#define WHO_AM_I 0x0Fu
#define WHO_AM_I_LIS3DSH 0x3Fu
#define WHO_AM_I_LIS302DL 0x3Bu
#define CTRL_REG4 0x20u
#define CTRL_REG5 0x24u
#define STATUS 0x27u
#define STATUS_ZYXDA 0x08 /* a new x, y, z sample */
#define OUT_X_L 0x28u      /* then X_H, Y_L, Y_H, Z_L, Z_H */

#define CTRL_REG4_VALUE 0x6Fu /* ODR 100 Hz (0110), BDU: low and high bytes of one sample, x, y, z on */
#define CTRL_REG5_VALUE 0xC8u /* anti-aliasing 50 Hz (11), ±4 g (001), no self-test, 4-wire SPI */
#define G_PER_DIGIT 0.00012f  /* 0.12 mg at ±4 g */
#define SAMPLE_TIMEOUT_MS 50u /* five sample periods */
#define SPI_TIMEOUT_MS 2u     /* a byte takes 4 us at 2 MHz */

static int ready;
static char message[96];

static void select_chip(int on) { REG32(GPIOE + GPIO_BSRR) = on ? 1u << (CHIP_SELECT + 16) : 1u << CHIP_SELECT; }

/* One byte each way; -1 if SPI1 does not finish in time. */
static int exchange(uint8_t out) {
    uint64_t deadline = sensor_deadline(SPI_TIMEOUT_MS);
    while (!(REG32(SPI_SR) & SR_TXE)) {
        if (sensor_expired(deadline)) return -1;
    }
    REG32(SPI_DR) = out;
    while (!(REG32(SPI_SR) & SR_RXNE)) {
        if (sensor_expired(deadline)) return -1;
    }
    return (int)(REG32(SPI_DR) & 0xFFu);
}

/* One register (single-byte transfers: no reliance on address auto-increment). */
static int transfer(uint8_t command, uint8_t value) {
    select_chip(1);
    int result = exchange(command);
    if (result >= 0) result = exchange(value);
    uint64_t deadline = sensor_deadline(SPI_TIMEOUT_MS);
    while ((REG32(SPI_SR) & SR_BSY) && !sensor_expired(deadline)) {
    }
    select_chip(0);
    return result;
}

static int read_register(uint8_t address) { return transfer(READ | address, 0); }
static int write_register(uint8_t address, uint8_t value) { return transfer(address, value) < 0 ? -1 : 0; }

static void start_spi(void) {
    REG32(RCC_AHB1ENR) |= (1u << 0) | (1u << 4); /* GPIOA, GPIOE */
    REG32(RCC_APB2ENR) |= 1u << 12;              /* SPI1 */
    (void)REG32(RCC_APB2ENR);                    /* the clock is on before the registers are used */
    /* PE3: output, high (deselected) before it drives the pin. */
    select_chip(0);
    REG32(GPIOE + GPIO_MODER) = (REG32(GPIOE + GPIO_MODER) & ~(3u << (2 * CHIP_SELECT))) | (1u << (2 * CHIP_SELECT));
    /* PA5-PA7: alternate function 5 (SPI1); PA2/PA3 (the console) are left alone. */
    REG32(GPIOA + GPIO_MODER) = (REG32(GPIOA + GPIO_MODER) & ~(0x3Fu << 10)) | (0x2Au << 10);
    REG32(GPIOA + GPIO_OSPEEDR) = (REG32(GPIOA + GPIO_OSPEEDR) & ~(0x3Fu << 10)) | (0x2Au << 10);
    REG32(GPIOA + GPIO_AFRL) = (REG32(GPIOA + GPIO_AFRL) & ~(0xFFFu << 20)) | (0x555u << 20);
    /* Master, mode 3 (CPOL 1, CPHA 1, as the LIS3DSH expects), 16 MHz / 8 = 2 MHz (it takes up
       to 10), 8-bit frames, MSB first, chip select in software. */
    REG32(SPI_CR1) = 0;
    REG32(SPI_CR1) = (1u << 9) | (1u << 8) | (2u << 3) | (1u << 2) | (1u << 1) | (1u << 0);
    REG32(SPI_CR1) |= 1u << 6; /* SPE */
}

/* Check that the LIS3DSH answers and configure it; NULL or why not. */
static const char *start(void) {
    start_spi();
    int id = read_register(WHO_AM_I);
    if (id < 0) return "LIS3DSH: SPI1 did not complete a transfer";
    if (id == WHO_AM_I_LIS302DL)
        return "this STM32F4-Discovery has a LIS302DL accelerometer (board MB997B), not the LIS3DSH the driver reads; "
               "feed ACCEL from the host (rune flash --accel FILE.csv or --no-sensors)";
    if (id != WHO_AM_I_LIS3DSH) {
        snprintf(message, sizeof message, "LIS3DSH: WHO_AM_I reads 0x%02x, expected 0x3f (no answer on SPI1 / PE3?)",
                 (unsigned)id);
        return message;
    }
    if (write_register(CTRL_REG4, CTRL_REG4_VALUE) || write_register(CTRL_REG5, CTRL_REG5_VALUE) ||
        read_register(CTRL_REG4) != CTRL_REG4_VALUE || read_register(CTRL_REG5) != CTRL_REG5_VALUE)
        return "LIS3DSH: its control registers did not keep the configuration";
    return 0;
}

/* The newest sample, in digits; NULL or why not. */
static const char *read_sample(int16_t xyz[3]) {
    uint8_t bytes[6];
    for (uint32_t i = 0; i < 6; i++) {
        int value = read_register((uint8_t)(OUT_X_L + i));
        if (value < 0) return "LIS3DSH: SPI1 did not complete a transfer";
        bytes[i] = (uint8_t)value;
    }
    for (uint32_t axis = 0; axis < 3; axis++) xyz[axis] = (int16_t)(bytes[2 * axis] | (bytes[2 * axis + 1] << 8));
    return 0;
}

const char *sensor_lis3dsh_read(const rune_capability_config *c, uint8_t *out) {
    if (!out) return 0; /* nothing runs between reads */
    if (c->type != 9 || c->count % 3) return "LIS3DSH: ACCEL must be f32 rows of x, y, z";
    if (!ready) {
        const char *problem = start();
        if (problem) return problem;
        ready = 1;
    }
    int16_t xyz[3];
    const char *problem = read_sample(xyz); /* drops a sample older than this read */
    for (uint32_t row = 0; !problem && row < c->count / 3; row++) {
        uint64_t deadline = sensor_deadline(SAMPLE_TIMEOUT_MS);
        int status;
        while ((status = read_register(STATUS)) >= 0 && !(status & STATUS_ZYXDA)) {
            if (sensor_expired(deadline)) {
                ready = 0; /* configure it again next time: it may have been reset */
                return "LIS3DSH: no new sample within 50 ms (it samples at 100 Hz)";
            }
        }
        problem = status < 0 ? "LIS3DSH: SPI1 did not complete a transfer" : read_sample(xyz);
        for (uint32_t axis = 0; !problem && axis < 3; axis++) {
            float g = (float)xyz[axis] * G_PER_DIGIT;
            memcpy(out + 12 * row + 4 * axis, &g, 4);
        }
    }
    if (problem) ready = 0;
    return problem;
}
