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
#include <string.h>
#include <jansson.h>


/*
 * The growable buffer of the plain-C layer; all zero is a valid empty one,
 * grown with realloc(). With grow set it grows through grow(ctx, data, len,
 * size), which returns a block of size bytes holding the len bytes of data
 * (the nginx glue grows it in a request's pool), and is not freed.
 */
typedef struct {
    char    *data;
    size_t   len;
    size_t   cap;
    void  *(*grow)(void *ctx, void *data, size_t len, size_t size);
    void    *ctx;
} signalr_str_t;


/*
 * The JSON writer: compact JSON text appended to a signalr_str_t, commas
 * and nesting kept by the writer, strings escaped as the SignalR SDKs
 * write them. Errors (memory, nesting deeper than SIGNALR_JW_MAX_DEPTH, a
 * real that is not finite) are kept and reported once, by
 * signalr_jw_done().
 */

/* as deep as jansson parses (JSON_PARSER_MAX_DEPTH) */
#define SIGNALR_JW_MAX_DEPTH  2048

typedef struct {
    signalr_str_t  *out;
    unsigned        depth;
    unsigned        failed:1;
    unsigned        after_key:1;
    unsigned char   more[SIGNALR_JW_MAX_DEPTH + 1];   /* per level */
} signalr_jw_t;


int signalr_utf8_valid(const unsigned char *p, size_t len);

/*
 * writes the escaped form (no quotes) to dst, which has room for six times
 * len; returns the end of it
 */
unsigned char *signalr_json_escape(unsigned char *dst,
    const unsigned char *src, size_t len);

/* room for len more bytes; 0 or -1 */
int signalr_str_reserve(signalr_str_t *s, size_t len);
int signalr_str_append_json_string(signalr_str_t *s, const char *src,
    size_t len);
/* the escaped form of src, without quotes */
int signalr_str_append_escaped(signalr_str_t *s, const void *src,
    size_t len);
void signalr_str_free(signalr_str_t *s);

/* appends len bytes; 0 or -1 (the check inline: the writer's hot path) */

static inline int
signalr_str_append(signalr_str_t *s, const void *data, size_t len)
{
    if (s->cap - s->len < len && signalr_str_reserve(s, len) != 0) {
        return -1;
    }

    if (len) {
        memcpy(s->data + s->len, data, len);
        s->len += len;
    }

    return 0;
}

/* appends the compact JSON text of value; 0 or -1 (allocation failure) */
int signalr_json_dump(signalr_str_t *s, json_t *value);

void signalr_jw_init(signalr_jw_t *w, signalr_str_t *out);
void signalr_jw_object(signalr_jw_t *w);
void signalr_jw_array(signalr_jw_t *w);
void signalr_jw_end(signalr_jw_t *w);
void signalr_jw_key(signalr_jw_t *w, const char *name, size_t len);
void signalr_jw_key_raw(signalr_jw_t *w, const char *text, size_t len);
void signalr_jw_string(signalr_jw_t *w, const void *s, size_t len);
void signalr_jw_string_plain(signalr_jw_t *w, const void *s, size_t len);
void signalr_jw_string_or_null(signalr_jw_t *w, const void *s, size_t len,
    int present);
void signalr_jw_string_open(signalr_jw_t *w);
void signalr_jw_string_part(signalr_jw_t *w, const void *s, size_t len);
void signalr_jw_string_close(signalr_jw_t *w);
void signalr_jw_integer(signalr_jw_t *w, long long n);
void signalr_jw_null(signalr_jw_t *w);
void signalr_jw_bool(signalr_jw_t *w, int b);
/* text that is JSON already (a value), appended as it is */
void signalr_jw_raw(signalr_jw_t *w, const void *json, size_t len);
/* a jansson value; reals in their shortest round-trip form */
void signalr_jw_json(signalr_jw_t *w, json_t *value);
/* 0 when everything was written, -1 otherwise */
int signalr_jw_done(signalr_jw_t *w);

/* a literal C string that needs no escaping as the key, written whole */
#define signalr_jw_key_lit(w, s)                                             \
    signalr_jw_key_raw(w, "\"" s "\":", sizeof(s) + 2)

/* room for any long long in decimal, sign included */
#define SIGNALR_INTEGER_LEN  20

size_t signalr_format_integer(char *buf, long long n);

/* writes a double in its shortest round-trip form; returns the length */
int signalr_json_format_real(char *buf, size_t size, double value);

#endif /* SIGNALR_JSON_H */
