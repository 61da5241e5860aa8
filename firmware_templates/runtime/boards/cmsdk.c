/* Arm MPS2 boards (emulated): the console on CMSDK APB UART0. */
#include "board.h"
#include "cortex_m.h"
#include "rune_generated.h"

#define UART_DATA (CONSOLE_UART + 0x00u)
#define UART_STATE (CONSOLE_UART + 0x04u)
#define UART_CTRL (CONSOLE_UART + 0x08u)
#define UART_BAUDDIV (CONSOLE_UART + 0x10u)

void board_init(void) {
    REG32(UART_BAUDDIV) = CPU_HZ / CONSOLE_BAUD;
    REG32(UART_CTRL) = 3u; /* TX and RX enable: without them nothing comes out */
    cortex_m_start_ticks(board_cpu_hz());
}

uint32_t board_cpu_hz(void) { return CPU_HZ; }

void board_write(const char *data, size_t length) {
    for (size_t i = 0; i < length; i++) {
        while (REG32(UART_STATE) & 1u) { /* TX full */
        }
        REG32(UART_DATA) = (uint8_t)data[i];
    }
}

int board_read_byte(void) {
    while (!(REG32(UART_STATE) & 2u)) { /* RX full */
    }
    return (int)(REG32(UART_DATA) & 0xFFu);
}
