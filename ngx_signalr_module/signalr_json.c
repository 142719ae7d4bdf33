/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * JSON helpers: UTF-8 validation, SDK-compatible string escaping and a
 * compact serializer for jansson values.
 */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalr_json.h"


static const char  signalr_json_hex[] = "0123456789abcdef";


int
signalr_utf8_valid(const unsigned char *p, size_t len)
{
    size_t         i, n;
    uint64_t       x;
    unsigned char  c;
    unsigned int   cp, min;

    i = 0;

    while (i < len) {

        /* ASCII eight bytes at a time */

        if (len - i >= 8) {
            memcpy(&x, p + i, 8);

            if ((x & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }

        c = p[i];

        if (c < 0x80) {
            i++;
            continue;
        }

        if (c >= 0xc2 && c <= 0xdf) {
            n = 1; cp = c & 0x1f; min = 0x80;

        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2; cp = c & 0x0f; min = 0x800;

        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3; cp = c & 0x07; min = 0x10000;

        } else {
            return 0;
        }

        if (len - i <= n) {
            return 0;
        }

        while (n--) {
            c = p[++i];
            if ((c & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (c & 0x3f);
        }

        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }

        i++;
    }

    return 1;
}


/*
 * The length of the leading run of p that JSON takes as it is: no control
 * character, '"' or '\\'. Eight bytes at a time where it can, with the
 * "has a byte less than n" test of "Bit Twiddling Hacks" (S. E. Anderson):
 * (v - 0x0101..01 * n) & ~v & 0x8080..80 is not zero exactly when a byte of
 * v is below n; '"' and '\\' are zero bytes of v XOR their repetition.
 */

static size_t
signalr_json_plain_run(const unsigned char *p, size_t len)
{
    size_t    i;
    uint64_t  x, q, b;

    for (i = 0; len - i >= 8; i += 8) {
        memcpy(&x, p + i, 8);
        q = x ^ 0x2222222222222222ULL;
        b = x ^ 0x5c5c5c5c5c5c5c5cULL;

        if ((((x - 0x2020202020202020ULL) & ~x)
             | ((q - 0x0101010101010101ULL) & ~q)
             | ((b - 0x0101010101010101ULL) & ~b))
            & 0x8080808080808080ULL)
        {
            break;
        }
    }

    while (i < len && p[i] >= 0x20 && p[i] != '"' && p[i] != '\\') {
        i++;
    }

    return i;
}


/* the escape of a byte that needs one: two bytes, or six for \u00XX */

static unsigned char *
signalr_json_escape_byte(unsigned char *d, unsigned char c)
{
    *d++ = '\\';

    switch (c) {
    case '"':  *d++ = '"'; break;
    case '\\': *d++ = '\\'; break;
    case '\b': *d++ = 'b'; break;
    case '\f': *d++ = 'f'; break;
    case '\n': *d++ = 'n'; break;
    case '\r': *d++ = 'r'; break;
    case '\t': *d++ = 't'; break;
    default:
        *d++ = 'u'; *d++ = '0'; *d++ = '0';
        *d++ = signalr_json_hex[c >> 4];
        *d++ = signalr_json_hex[c & 0xf];
    }

    return d;
}


unsigned char *
signalr_json_escape(unsigned char *dst, const unsigned char *src, size_t len)
{
    size_t  run;

    for ( ;; ) {
        run = signalr_json_plain_run(src, len);
        memcpy(dst, src, run);
        dst += run;

        if (run == len) {
            return dst;
        }

        dst = signalr_json_escape_byte(dst, src[run]);
        src += run + 1;
        len -= run + 1;
    }
}


int
signalr_str_reserve(signalr_str_t *s, size_t len)
{
    char    *p;
    size_t   cap;

    if (s->cap - s->len >= len) {
        return 0;
    }

    cap = s->cap ? s->cap : 256;

    while (cap - s->len < len) {
        if (cap > ((size_t) -1) / 2) {
            return -1;
        }
        cap *= 2;
    }

    p = s->grow ? s->grow(s->ctx, s->data, s->len, cap)
                : realloc(s->data, cap);
    if (p == NULL) {
        return -1;
    }

    s->data = p;
    s->cap = cap;

    return 0;
}


int
signalr_str_append_json_string(signalr_str_t *s, const char *src, size_t len)
{
    if (signalr_str_append(s, "\"", 1) != 0
        || signalr_str_append_escaped(s, src, len) != 0
        || signalr_str_append(s, "\"", 1) != 0)
    {
        return -1;
    }

    return 0;
}


int
signalr_str_append_escaped(signalr_str_t *s, const void *src, size_t len)
{
    size_t                run;
    unsigned char        *d;
    const unsigned char  *p;

    /* runs of plain bytes copied whole, escapes between them */

    p = src;

    for ( ;; ) {
        run = signalr_json_plain_run(p, len);

        if (signalr_str_append(s, p, run) != 0) {
            return -1;
        }

        if (run == len) {
            return 0;
        }

        if (signalr_str_reserve(s, 6) != 0) {
            return -1;
        }

        d = signalr_json_escape_byte((unsigned char *) s->data + s->len,
                                     p[run]);
        s->len = (char *) d - s->data;
        p += run + 1;
        len -= run + 1;
    }
}


void
signalr_str_free(signalr_str_t *s)
{
    if (s->grow == NULL) {
        free(s->data);
    }

    s->data = NULL;
    s->len = 0;
    s->cap = 0;
}


int
signalr_json_format_real(char *buf, size_t size, double value)
{
    int      n, precision;
    double   back;

    /* the shortest of %.15g .. %.17g that reads back as the same double */

    n = 0;

    for (precision = 15; precision <= 17; precision++) {
        n = snprintf(buf, size, "%.*g", precision, value);
        if (n < 0 || (size_t) n >= size) {
            return -1;
        }

        back = strtod(buf, NULL);
        if (back == value) {
            break;
        }
    }

    /* keep it a JSON real: "1" becomes "1.0", as jansson and .NET do */

    if (strpbrk(buf, ".eEn") == NULL && (size_t) n + 2 < size) {
        buf[n++] = '.';
        buf[n++] = '0';
        buf[n] = '\0';
    }

    return n;
}


int
signalr_json_dump(signalr_str_t *s, json_t *value)
{
    signalr_jw_t  w;

    signalr_jw_init(&w, s);
    signalr_jw_json(&w, value);

    return signalr_jw_done(&w);
}


void
signalr_jw_init(signalr_jw_t *w, signalr_str_t *out)
{
    /* not the levels: each is set when it is opened */

    w->out = out;
    w->depth = 0;
    w->failed = 0;
    w->after_key = 0;
    w->more[0] = 0;
}


/* the comma before a value or a key, unless it follows a key */

static void
signalr_jw_sep(signalr_jw_t *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }

    if ((w->more[w->depth] & 1)
        && signalr_str_append(w->out, ",", 1) != 0)
    {
        w->failed = 1;
    }

    w->more[w->depth] |= 1;
}


static void
signalr_jw_put(signalr_jw_t *w, const void *p, size_t len)
{
    if (!w->failed && signalr_str_append(w->out, p, len) != 0) {
        w->failed = 1;
    }
}


static void
signalr_jw_open(signalr_jw_t *w, const char *c)
{
    signalr_jw_sep(w);

    if (w->depth == SIGNALR_JW_MAX_DEPTH) {
        w->failed = 1;
        return;
    }

    signalr_jw_put(w, c, 1);

    /* bit 0: a member was written at this level; bit 1: an object */
    w->more[++w->depth] = (*c == '{') ? 2 : 0;
}


void
signalr_jw_object(signalr_jw_t *w)
{
    signalr_jw_open(w, "{");
}


void
signalr_jw_array(signalr_jw_t *w)
{
    signalr_jw_open(w, "[");
}


void
signalr_jw_end(signalr_jw_t *w)
{
    char  c;

    if (w->depth == 0) {
        w->failed = 1;
        return;
    }

    c = (w->more[w->depth] & 2) ? '}' : ']';
    w->depth--;
    signalr_jw_put(w, &c, 1);
}


void
signalr_jw_key(signalr_jw_t *w, const char *name, size_t len)
{
    signalr_jw_sep(w);

    if (!w->failed
        && (signalr_str_append_json_string(w->out, name, len) != 0
            || signalr_str_append(w->out, ":", 1) != 0))
    {
        w->failed = 1;
    }

    w->after_key = 1;
}


/* a key given with its quotes and colon, as signalr_jw_key_lit() makes */

void
signalr_jw_key_raw(signalr_jw_t *w, const char *text, size_t len)
{
    signalr_jw_sep(w);
    signalr_jw_put(w, text, len);
    w->after_key = 1;
}


void
signalr_jw_string(signalr_jw_t *w, const void *s, size_t len)
{
    signalr_jw_sep(w);

    if (!w->failed
        && signalr_str_append_json_string(w->out, s, len) != 0)
    {
        w->failed = 1;
    }
}


/* a string written in parts: open, any number of parts, close */

void
signalr_jw_string_open(signalr_jw_t *w)
{
    signalr_jw_sep(w);
    signalr_jw_put(w, "\"", 1);
}


void
signalr_jw_string_part(signalr_jw_t *w, const void *s, size_t len)
{
    if (!w->failed && signalr_str_append_escaped(w->out, s, len) != 0) {
        w->failed = 1;
    }
}


void
signalr_jw_string_close(signalr_jw_t *w)
{
    signalr_jw_put(w, "\"", 1);
}


/* a string known to need no escaping (base64url, a token): copied */

void
signalr_jw_string_plain(signalr_jw_t *w, const void *s, size_t len)
{
    signalr_jw_sep(w);
    signalr_jw_put(w, "\"", 1);
    signalr_jw_put(w, s, len);
    signalr_jw_put(w, "\"", 1);
}


/* a string, or null when it is not there */

void
signalr_jw_string_or_null(signalr_jw_t *w, const void *s, size_t len,
    int present)
{
    if (present) {
        signalr_jw_string(w, s, len);

    } else {
        signalr_jw_null(w);
    }
}


void
signalr_jw_integer(signalr_jw_t *w, long long n)
{
    char  num[SIGNALR_INTEGER_LEN];

    signalr_jw_sep(w);
    signalr_jw_put(w, num, signalr_format_integer(num, n));
}


/*
 * the decimal form of n, without printf's machinery, two digits a
 * division; returns its length
 */

size_t
signalr_format_integer(char *buf, long long n)
{
    char                 tmp[SIGNALR_INTEGER_LEN];
    size_t               i, len, k;
    unsigned long long   u;

    static const char    pairs[] =
        "00010203040506070809101112131415161718192021222324"
        "25262728293031323334353637383940414243444546474849"
        "50515253545556575859606162636465666768697071727374"
        "75767778798081828384858687888990919293949596979899";

    u = (n < 0) ? 0 - (unsigned long long) n : (unsigned long long) n;
    i = sizeof(tmp);

    while (u >= 100) {
        k = (u % 100) * 2;
        u /= 100;
        tmp[--i] = pairs[k + 1];
        tmp[--i] = pairs[k];
    }

    if (u >= 10) {
        tmp[--i] = pairs[u * 2 + 1];
        tmp[--i] = pairs[u * 2];

    } else {
        tmp[--i] = (char) ('0' + u);
    }

    if (n < 0) {
        tmp[--i] = '-';
    }

    len = sizeof(tmp) - i;
    memcpy(buf, tmp + i, len);

    return len;
}


void
signalr_jw_null(signalr_jw_t *w)
{
    signalr_jw_sep(w);
    signalr_jw_put(w, "null", 4);
}


void
signalr_jw_bool(signalr_jw_t *w, int b)
{
    signalr_jw_sep(w);
    signalr_jw_put(w, b ? "true" : "false", b ? 4 : 5);
}


void
signalr_jw_raw(signalr_jw_t *w, const void *json, size_t len)
{
    signalr_jw_sep(w);
    signalr_jw_put(w, json, len);
}


void
signalr_jw_json(signalr_jw_t *w, json_t *value)
{
    int          n;
    char         num[64];
    size_t       i;
    json_t      *v;
    const char  *key;

    switch (json_typeof(value)) {

    case JSON_OBJECT:
        signalr_jw_object(w);

        json_object_foreach(value, key, v) {
            signalr_jw_key(w, key, strlen(key));
            signalr_jw_json(w, v);

            if (w->failed) {
                return;
            }
        }

        signalr_jw_end(w);
        return;

    case JSON_ARRAY:
        signalr_jw_array(w);

        json_array_foreach(value, i, v) {
            signalr_jw_json(w, v);

            if (w->failed) {
                return;
            }
        }

        signalr_jw_end(w);
        return;

    case JSON_STRING:
        signalr_jw_string(w, json_string_value(value),
                          json_string_length(value));
        return;

    case JSON_INTEGER:
        signalr_jw_integer(w, json_integer_value(value));
        return;

    case JSON_REAL:
        n = isfinite(json_real_value(value))
            ? signalr_json_format_real(num, sizeof(num),
                                       json_real_value(value))
            : -1;

        if (n < 0) {
            w->failed = 1;
            return;
        }

        signalr_jw_raw(w, num, n);
        return;

    case JSON_TRUE:
        signalr_jw_bool(w, 1);
        return;

    case JSON_FALSE:
        signalr_jw_bool(w, 0);
        return;

    default: /* JSON_NULL */
        signalr_jw_null(w);
        return;
    }
}


int
signalr_jw_done(signalr_jw_t *w)
{
    return (w->failed || w->depth != 0 || w->after_key) ? -1 : 0;
}
