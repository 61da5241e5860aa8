#include "json_line.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t crc32_update(uint32_t crc, const void *data, size_t length) {
    const uint8_t *bytes = (const uint8_t *)data;
    crc = ~crc;
    while (length--) {
        crc ^= *bytes++;
        for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void emit(json_line *line, const char *text, size_t length) {
    line->crc = crc32_update(line->crc, text, length);
    line->write(text, length, line->context);
}

void json_raw(json_line *line, const char *text) { emit(line, text, strlen(text)); }

void json_begin(json_line *line) {
    line->crc = 0;
    line->fields = 0;
    emit(line, "{", 1);
}

void json_key(json_line *line, const char *key) {
    if (line->fields++) emit(line, ",", 1);
    emit(line, "\"", 1);
    json_raw(line, key);
    emit(line, "\":", 2);
}

/* UTF-8 well-formedness, so that invalid bytes become U+FFFD one by one, as on the desktop. */
static size_t valid_sequence(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c >= 0xE0 && c <= 0xEF) { need = 2; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { need = 3; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else return 0;
    if (need >= n) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i <= need; i++) if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return need + 1;
}

void json_string(json_line *line, const char *text, size_t n) {
    const unsigned char *s = (const unsigned char *)text;
    emit(line, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        char escape[8];
        if (c == '"' || c == '\\') {
            escape[0] = '\\'; escape[1] = (char)c;
            emit(line, escape, 2);
            i++;
        } else if (c < 0x20) {
            const char *named = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : c == '\b' ? "\\b"
                              : c == '\f' ? "\\f" : NULL;
            if (named) emit(line, named, 2);
            else { snprintf(escape, sizeof escape, "\\u%04x", c); emit(line, escape, 6); }
            i++;
        } else {
            size_t length = valid_sequence(s + i, n - i);
            if (length) { emit(line, text + i, length); i += length; }
            else { emit(line, "\xEF\xBF\xBD", 3); i++; } /* U+FFFD */
        }
    }
    emit(line, "\"", 1);
}

void json_uint(json_line *line, uint64_t value) {
    char digits[24];
    int n = 0;
    do { digits[n++] = (char)('0' + value % 10); value /= 10; } while (value);
    char text[24];
    for (int i = 0; i < n; i++) text[i] = digits[n - 1 - i];
    emit(line, text, (size_t)n);
}

void json_int(json_line *line, int64_t value) {
    if (value < 0) {
        emit(line, "-", 1);
        json_uint(line, (uint64_t)0 - (uint64_t)value);
    } else {
        json_uint(line, (uint64_t)value);
    }
}

/* The fewest significant digits ("%.*g") that read back as the same value of the type. */
void json_float(json_line *line, double value, int single) {
    char text[40];
    if (value != value) { json_raw(line, "\"NaN\""); return; }
    if (value > 1.7976931348623157e308 || value < -1.7976931348623157e308) {
        json_raw(line, value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    int limit = single ? 9 : 17;
    for (int precision = 1; precision <= limit; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, value);
        if (single ? strtof(text, NULL) == (float)value : strtod(text, NULL) == value) break;
    }
    json_raw(line, text);
}

void json_elements(json_line *line, uint32_t type, const void *data, uint32_t count,
                   const char *(*string_at)(uint32_t address, size_t *length, void *context), void *context) {
    emit(line, "[", 1);
    for (uint32_t i = 0; i < count; i++) {
        if (i) emit(line, ",", 1);
        switch (type) {
        case 1: json_uint(line, ((const uint8_t *)data)[i]); break;
        case 2: json_int(line, ((const int8_t *)data)[i]); break;
        case 3: json_uint(line, ((const uint16_t *)data)[i]); break;
        case 4: json_int(line, ((const int16_t *)data)[i]); break;
        case 5: json_uint(line, ((const uint32_t *)data)[i]); break;
        case 6: json_int(line, ((const int32_t *)data)[i]); break;
        case 7: json_uint(line, ((const uint64_t *)data)[i]); break;
        case 8: json_int(line, ((const int64_t *)data)[i]); break;
        case 9: json_float(line, ((const float *)data)[i], 1); break;
        case 10: json_float(line, ((const double *)data)[i], 0); break;
        case 11: {
            size_t length = 0;
            const char *text = string_at(((const uint32_t *)data)[i], &length, context);
            json_string(line, text ? text : "", text ? length : 0);
            break;
        }
        default: json_raw(line, "null");
        }
    }
    emit(line, "]", 1);
}

void json_end(json_line *line) {
    char tail[40];
    int n = snprintf(tail, sizeof tail, ",\"seq\":%lu", (unsigned long)line->seq++);
    emit(line, tail, (size_t)n);
    n = snprintf(tail, sizeof tail, ",\"crc\":\"%08lx\"}\n", (unsigned long)line->crc);
    line->write(tail, (size_t)n, line->context);
}
