/* STM32F4 boards: the console on a USART, clocked from the 16 MHz internal oscillator (so no
   PLL set-up is needed, and QEMU, which ignores clock settings, behaves the same). */
#include "board.h"
#include "cortex_m.h"
#include "rune_generated.h"

#define USART_SR (CONSOLE_UART + 0x00u)
#define USART_DR (CONSOLE_UART + 0x04u)
#define USART_BRR (CONSOLE_UART + 0x08u)
#define USART_CR1 (CONSOLE_UART + 0x0Cu)
#define RCC 0x40023800u
#define GPIOA 0x40020000u
#define HSI_HZ 16000000u

void board_init(void) {
#if CONSOLE_UART == 0x40004400u /* USART2 on PA2/PA3 (the ST-Link's virtual COM port on Nucleo boards) */
    REG32(RCC + 0x30u) |= 1u << 0;                 /* AHB1ENR: GPIOA */
    REG32(RCC + 0x40u) |= 1u << 17;                /* APB1ENR: USART2 */
    REG32(GPIOA + 0x00u) = (REG32(GPIOA) & ~(0xFu << 4)) | (0xAu << 4); /* PA2, PA3: alternate function */
    REG32(GPIOA + 0x20u) = (REG32(GPIOA + 0x20u) & ~(0xFFu << 8)) | (0x77u << 8); /* AF7 */
#else /* USART1 on PA9/PA10 */
    REG32(RCC + 0x30u) |= 1u << 0;
    REG32(RCC + 0x44u) |= 1u << 4;                 /* APB2ENR: USART1 */
    REG32(GPIOA + 0x00u) = (REG32(GPIOA) & ~(0xFu << 18)) | (0xAu << 18);
    REG32(GPIOA + 0x24u) = (REG32(GPIOA + 0x24u) & ~(0xFFu << 4)) | (0x77u << 4);
#endif
    REG32(USART_BRR) = (HSI_HZ + CONSOLE_BAUD / 2) / CONSOLE_BAUD;
    REG32(USART_CR1) = (1u << 13) | (1u << 3) | (1u << 2); /* UE, TE, RE */
    cortex_m_start_ticks(board_cpu_hz());
}

uint32_t board_cpu_hz(void) { return CPU_HZ; }

void board_write(const char *data, size_t length) {
    for (size_t i = 0; i < length; i++) {
        while (!(REG32(USART_SR) & (1u << 7))) { /* TXE */
        }
        REG32(USART_DR) = (uint8_t)data[i];
    }
}

int board_read_byte(void) {
    while (!(REG32(USART_SR) & (1u << 5))) { /* RXNE */
    }
    return (int)(REG32(USART_DR) & 0xFFu);
}
