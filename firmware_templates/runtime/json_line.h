/*
 * The canonical SERIAL JSON line (docs/abi.md, "Outputs"), written exactly as `rune run --json`
 * writes it, followed by the sequence number and CRC-32 that let a reader detect lost and
 * corrupted lines:
 *
 *   {"type_name":"f32","channel":1,"elements":[0.5],"dimensions":[1,1],"seq":7,"crc":"0c1d2e3f"}
 *
 * The CRC covers every byte before `,"crc"`.
 */
#ifndef RUNE_JSON_LINE_H
#define RUNE_JSON_LINE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    void (*write)(const char *data, size_t length, void *context); /* where the line goes */
    void *context;
    uint32_t crc;    /* running CRC-32 of what has been written */
    uint32_t seq;    /* the next line's sequence number */
    int fields;      /* fields written so far in this line */
} json_line;

void json_begin(json_line *line);                              /* "{" */
void json_raw(json_line *line, const char *text);              /* text as it is */
void json_key(json_line *line, const char *key);               /* "key": (with a comma if needed) */
void json_string(json_line *line, const char *text, size_t n); /* a JSON string, escaped */
void json_uint(json_line *line, uint64_t value);
void json_int(json_line *line, int64_t value);
void json_float(json_line *line, double value, int single);    /* shortest round-trip form */
void json_end(json_line *line);                                /* ,"seq":N,"crc":"..."}\n */

/* Elements of a tensor of element type `type` (rune ABI codes), `count` of them at `data`;
   utf8 elements are pointers (`strings`, read through `string_at`). */
void json_elements(json_line *line, uint32_t type, const void *data, uint32_t count,
                   const char *(*string_at)(uint32_t address, size_t *length, void *context), void *context);

uint32_t crc32_update(uint32_t crc, const void *data, size_t length);

#endif
