/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * JSON helpers shared by every part of ngx_signalr_module: UTF-8
 * validation, string escaping as the SignalR SDKs write it (only '"', '\\'
 * and control characters are escaped; '/' and non-ASCII stay raw) and a
 * compact serializer for jansson values that writes real numbers in their
 * shortest round-trip form (jansson's own json_dumps() writes 0.1 as
 * 0.10000000000000001). Plain C: no nginx types.
 */

#ifndef SIGNALR_JSON_H
#define SIGNALR_JSON_H

#include <stddef.h>
#include <jansson.h>


typedef struct {
    char    *data;
    size_t   len;
    size_t   cap;
} signalr_str_t;


int signalr_utf8_valid(const unsigned char *p, size_t len);

/* the length of the escaped form of src, without the quotes */
size_t signalr_json_escaped_len(const unsigned char *src, size_t len);

/* writes the escaped form (no quotes) to dst; returns the end of it */
unsigned char *signalr_json_escape(unsigned char *dst,
    const unsigned char *src, size_t len);

int signalr_str_append(signalr_str_t *s, const void *data, size_t len);
int signalr_str_append_json_string(signalr_str_t *s, const char *src,
    size_t len);
void signalr_str_free(signalr_str_t *s);

/* appends the compact JSON text of value; 0 or -1 (allocation failure) */
int signalr_json_dump(signalr_str_t *s, json_t *value);

/* writes a double in its shortest round-trip form; returns the length */
int signalr_json_format_real(char *buf, size_t size, double value);

#endif /* SIGNALR_JSON_H */
