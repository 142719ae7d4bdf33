/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * JSON helpers: UTF-8 validation, SDK-compatible string escaping and a
 * compact serializer for jansson values.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalr_json.h"


static const char  signalr_json_hex[] = "0123456789abcdef";


int
signalr_utf8_valid(const unsigned char *p, size_t len)
{
    size_t         i, n;
    unsigned char  c;
    unsigned int   cp, min;

    i = 0;

    while (i < len) {
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


size_t
signalr_json_escaped_len(const unsigned char *src, size_t len)
{
    size_t  i, n;

    n = len;

    for (i = 0; i < len; i++) {
        switch (src[i]) {
        case '"': case '\\': case '\b': case '\f': case '\n': case '\r':
        case '\t':
            n++;
            break;
        default:
            if (src[i] < 0x20) {
                n += 5;
            }
        }
    }

    return n;
}


unsigned char *
signalr_json_escape(unsigned char *dst, const unsigned char *src, size_t len)
{
    size_t         i;
    unsigned char  c;

    for (i = 0; i < len; i++) {
        c = src[i];

        switch (c) {
        case '"':  *dst++ = '\\'; *dst++ = '"'; break;
        case '\\': *dst++ = '\\'; *dst++ = '\\'; break;
        case '\b': *dst++ = '\\'; *dst++ = 'b'; break;
        case '\f': *dst++ = '\\'; *dst++ = 'f'; break;
        case '\n': *dst++ = '\\'; *dst++ = 'n'; break;
        case '\r': *dst++ = '\\'; *dst++ = 'r'; break;
        case '\t': *dst++ = '\\'; *dst++ = 't'; break;
        default:
            if (c < 0x20) {
                *dst++ = '\\'; *dst++ = 'u'; *dst++ = '0'; *dst++ = '0';
                *dst++ = signalr_json_hex[c >> 4];
                *dst++ = signalr_json_hex[c & 0xf];

            } else {
                *dst++ = c;
            }
        }
    }

    return dst;
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
signalr_str_append(signalr_str_t *s, const void *data, size_t len)
{
    if (signalr_str_reserve(s, len) != 0) {
        return -1;
    }

    if (len) {
        memcpy(s->data + s->len, data, len);
        s->len += len;
    }

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
    size_t                i, run;
    unsigned char         c;
    char                  esc[6];
    const unsigned char  *p;

    /* one pass: runs of plain bytes copied whole, escapes between them */

    if (signalr_str_reserve(s, len) != 0) {
        return -1;
    }

    p = src;
    run = 0;

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }

        if (signalr_str_append(s, p + run, i - run) != 0) {
            return -1;
        }

        run = i + 1;

        esc[0] = '\\';

        switch (c) {
        case '"':  esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = signalr_json_hex[c >> 4];
            esc[5] = signalr_json_hex[c & 0xf];
            if (signalr_str_append(s, esc, 6) != 0) {
                return -1;
            }
            continue;
        }

        if (signalr_str_append(s, esc, 2) != 0) {
            return -1;
        }
    }

    return signalr_str_append(s, p + run, len - run);
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


/* the decimal form of n, without printf's machinery; returns its length */

size_t
signalr_format_integer(char *buf, long long n)
{
    char                 tmp[SIGNALR_INTEGER_LEN];
    size_t               i, len;
    unsigned long long   u;

    u = (n < 0) ? 0 - (unsigned long long) n : (unsigned long long) n;
    i = sizeof(tmp);

    do {
        tmp[--i] = (char) ('0' + u % 10);
        u /= 10;
    } while (u);

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
