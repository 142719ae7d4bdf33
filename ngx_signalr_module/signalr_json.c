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


static int
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

    p = realloc(s->data, cap);
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
    size_t          n;
    unsigned char  *p;

    n = signalr_json_escaped_len((const unsigned char *) src, len);

    if (signalr_str_reserve(s, n + 2) != 0) {
        return -1;
    }

    p = (unsigned char *) s->data + s->len;
    *p++ = '"';
    p = signalr_json_escape(p, (const unsigned char *) src, len);
    *p++ = '"';

    s->len = (char *) p - s->data;

    return 0;
}


void
signalr_str_free(signalr_str_t *s)
{
    free(s->data);
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
    int          n;
    char         num[64];
    size_t       i, len;
    json_t      *v;
    const char  *key;

    switch (json_typeof(value)) {

    case JSON_OBJECT:
        if (signalr_str_append(s, "{", 1) != 0) {
            return -1;
        }

        i = 0;
        json_object_foreach(value, key, v) {
            if ((i++ && signalr_str_append(s, ",", 1) != 0)
                || signalr_str_append_json_string(s, key, strlen(key)) != 0
                || signalr_str_append(s, ":", 1) != 0
                || signalr_json_dump(s, v) != 0)
            {
                return -1;
            }
        }

        return signalr_str_append(s, "}", 1);

    case JSON_ARRAY:
        if (signalr_str_append(s, "[", 1) != 0) {
            return -1;
        }

        json_array_foreach(value, i, v) {
            if ((i && signalr_str_append(s, ",", 1) != 0)
                || signalr_json_dump(s, v) != 0)
            {
                return -1;
            }
        }

        return signalr_str_append(s, "]", 1);

    case JSON_STRING:
        len = json_string_length(value);
        return signalr_str_append_json_string(s, json_string_value(value),
                                              len);

    case JSON_INTEGER:
        n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(value));
        return signalr_str_append(s, num, n);

    case JSON_REAL:
        if (!isfinite(json_real_value(value))) {
            return -1;
        }

        n = signalr_json_format_real(num, sizeof(num),
                                     json_real_value(value));
        if (n < 0) {
            return -1;
        }

        return signalr_str_append(s, num, n);

    case JSON_TRUE:
        return signalr_str_append(s, "true", 4);

    case JSON_FALSE:
        return signalr_str_append(s, "false", 5);

    default: /* JSON_NULL */
        return signalr_str_append(s, "null", 4);
    }
}
