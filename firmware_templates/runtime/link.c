#include "link.h"

#include "board.h"

#define FRAME_CAPABILITY 1
#define ATTEMPTS 3

static void write_out(const char *data, size_t length, void *context) {
    (void)context;
    board_write(data, length);
}

json_line link_out = {write_out, 0, 0, 0, 0};

void link_init(void) { link_out.seq = 0; }

void link_error(const char *kind, const char *stage, const char *message) {
    json_begin(&link_out);
    json_key(&link_out, "error");
    json_string(&link_out, kind, __builtin_strlen(kind));
    if (stage) {
        json_key(&link_out, "stage");
        json_string(&link_out, stage, __builtin_strlen(stage));
    }
    json_key(&link_out, "message");
    json_string(&link_out, message, __builtin_strlen(message));
    json_end(&link_out);
}

static uint32_t read_u32(void) {
    uint32_t value = 0;
    for (int i = 0; i < 4; i++) value |= (uint32_t)board_read_byte() << (8 * i);
    return value;
}

/* Skip bytes until the frame marker "RUNE". */
static void synchronise(void) {
    static const char marker[4] = {'R', 'U', 'N', 'E'};
    int matched = 0;
    while (matched < 4) {
        int c = board_read_byte();
        matched = c == marker[matched] ? matched + 1 : (c == 'R' ? 1 : 0);
    }
}

/* Read one frame into destination; 0 if it is the expected one and intact. */
static int receive(uint32_t index, uint8_t *destination, uint32_t bytes) {
    synchronise();
    int kind = board_read_byte();
    int frame_index = board_read_byte();
    board_read_byte();
    board_read_byte();
    uint32_t length = read_u32();
    if (kind != FRAME_CAPABILITY || (uint32_t)frame_index != index || length != bytes) {
        for (uint32_t i = 0; i < length + 4 && i < (1u << 24); i++) board_read_byte(); /* drop it */
        return -1;
    }
    for (uint32_t i = 0; i < length; i++) destination[i] = (uint8_t)board_read_byte();
    return read_u32() == crc32_update(0, destination, length) ? 0 : -2;
}

int link_request_capability(uint32_t index, uint8_t *destination, uint32_t bytes) {
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        json_begin(&link_out);
        json_key(&link_out, "request");
        json_raw(&link_out, "\"capability\"");
        json_key(&link_out, "index");
        json_uint(&link_out, index);
        json_key(&link_out, "bytes");
        json_uint(&link_out, bytes);
        json_end(&link_out);
        int status = receive(index, destination, bytes);
        if (status == 0) return 0;
        link_error("link", 0, status == -2 ? "capability data failed its checksum; asking again"
                                           : "unexpected capability frame; asking again");
    }
    return -1;
}
