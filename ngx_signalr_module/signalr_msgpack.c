/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * MessagePack codec for the SignalR hub protocol: decodes the unframed
 * invocation messages Azure SignalR Service posts to the module into
 * jansson values, and encodes framed completion messages the way the .NET
 * MessagePack writer does (smallest form of every value).
 */


#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalr_crypto.h"
#include "signalr_json.h"
#include "signalr_msgpack.h"


typedef struct {
    const unsigned char  *pos;
    const unsigned char  *end;
    char                 *err;
    size_t                errlen;
} signalr_msgpack_reader_t;


static const char *signalr_msgpack_invocation_item(
    signalr_msgpack_invocation_t *inv, uint64_t i, unsigned char type,
    json_t **item);
static int signalr_msgpack_fail(signalr_msgpack_reader_t *r,
    const char *msg);
static int signalr_msgpack_set(signalr_msgpack_reader_t *r, json_t *value,
    json_t **out);
static int signalr_msgpack_is_str(unsigned char c);
static int signalr_msgpack_read_uint(signalr_msgpack_reader_t *r, size_t n,
    uint64_t *v);
static json_int_t signalr_msgpack_sign(uint64_t v, size_t n);
static int signalr_msgpack_read_value(signalr_msgpack_reader_t *r,
    unsigned depth, json_t **out);
static int signalr_msgpack_read_float(signalr_msgpack_reader_t *r,
    size_t n, json_t **out);
static int signalr_msgpack_read_str(signalr_msgpack_reader_t *r,
    uint64_t n, json_t **out);
static int signalr_msgpack_read_bin(signalr_msgpack_reader_t *r,
    uint64_t n, json_t **out);
static int signalr_msgpack_read_array(signalr_msgpack_reader_t *r,
    uint64_t n, unsigned depth, json_t **out);
static int signalr_msgpack_read_map(signalr_msgpack_reader_t *r,
    uint64_t n, unsigned depth, json_t **out);
static int signalr_msgpack_put_code(signalr_str_t *b, unsigned char code,
    uint64_t v, size_t n);
static int signalr_msgpack_put_len(signalr_str_t *b, size_t n,
    unsigned char fix, size_t fixmax, unsigned char code8,
    unsigned char code16);
static int signalr_msgpack_put_int(signalr_str_t *b, json_int_t v);
static int signalr_msgpack_put_str(signalr_str_t *b, const char *s,
    size_t n);
static int signalr_msgpack_encode_value(signalr_str_t *b, json_t *value,
    unsigned depth);


int
signalr_msgpack_decode(const unsigned char *buf, size_t len, size_t *used,
    json_t **json, char *err, size_t errlen)
{
    signalr_msgpack_reader_t  r;

    r.pos = buf;
    r.end = buf + len;
    r.err = err;
    r.errlen = errlen;

    if (signalr_msgpack_read_value(&r, 0, json) != 0) {
        return -1;
    }

    if (used) {
        *used = (size_t) (r.pos - buf);
    }

    return 0;
}


int
signalr_msgpack_parse_invocation(const unsigned char *buf, size_t len,
    signalr_msgpack_invocation_t *inv, char *err, size_t errlen)
{
    uint64_t                   i, n;
    json_t                    *item;
    const char                *msg;
    unsigned char              c, type;
    signalr_msgpack_reader_t   r;

    memset(inv, 0, sizeof(signalr_msgpack_invocation_t));

    r.pos = buf;
    r.end = buf + len;
    r.err = err;
    r.errlen = errlen;

    if (r.pos == r.end) {
        return signalr_msgpack_fail(&r, "truncated MessagePack input");
    }

    c = *r.pos++;

    if (c >= 0x90 && c <= 0x9f) {
        n = c & 0x0f;

    } else if (c == 0xdc || c == 0xdd) {
        if (signalr_msgpack_read_uint(&r, (size_t) 2 << (c - 0xdc), &n)
            != 0)
        {
            return -1;
        }

    } else {
        return signalr_msgpack_fail(&r,
                                    "invocation must be a MessagePack array");
    }

    if (n < 5) {
        return signalr_msgpack_fail(&r,
                         "invocation must be an array of at least 5 elements");
    }

    for (i = 0; i < n; i++) {

        /* the type byte tells a str from a bin, which decodes to a string */
        type = (r.pos < r.end) ? *r.pos : 0;

        if (signalr_msgpack_read_value(&r, 1, &item) != 0) {
            signalr_msgpack_invocation_free(inv);
            return -1;
        }

        msg = signalr_msgpack_invocation_item(inv, i, type, &item);
        json_decref(item);

        if (msg) {
            signalr_msgpack_invocation_free(inv);
            return signalr_msgpack_fail(&r, msg);
        }
    }

    if (r.pos != r.end) {
        signalr_msgpack_invocation_free(inv);
        return signalr_msgpack_fail(&r,
                                    "trailing bytes after MessagePack message");
    }

    return 0;
}


/*
 * Element i of an Invocation array ([1, headers, invocationId, target,
 * arguments, streamIds...]), checked and taken into inv where it belongs
 * (*item is then NULL); returns what is wrong with it, or NULL.
 */

static const char *
signalr_msgpack_invocation_item(signalr_msgpack_invocation_t *inv,
    uint64_t i, unsigned char type, json_t **item)
{
    size_t   size;
    json_t  *v;

    v = *item;

    switch (i) {

    case 0:
        if (!json_is_integer(v) || json_integer_value(v) != 1) {
            return "only Invocation messages (type 1) are supported";
        }

        return NULL;

    case 1:
        return json_is_object(v) ? NULL : "invocation headers must be a map";

    case 2:
        if (json_is_null(v)) {
            return NULL;
        }

        if (!signalr_msgpack_is_str(type)) {
            return "invocation id must be a string or nil";
        }

        inv->invocation_id = v;
        *item = NULL;
        return NULL;

    case 3:
        if (!signalr_msgpack_is_str(type)) {
            return "invocation target must be a string";
        }

        size = json_string_length(v);

        if (size == 0) {
            return "invocation target must not be empty";
        }

        if (strlen(json_string_value(v)) != size) {
            return "invocation target must not contain NUL bytes";
        }

        inv->target = malloc(size + 1);
        if (inv->target == NULL) {
            return "out of memory";
        }

        memcpy(inv->target, json_string_value(v), size + 1);
        return NULL;

    case 4:
        if (!json_is_array(v)) {
            return "invocation arguments must be an array";
        }

        inv->arguments = v;
        *item = NULL;
        return NULL;

    default:
        /* streamIds and anything later: well-formed, but ignored */
        return NULL;
    }
}


void
signalr_msgpack_invocation_free(signalr_msgpack_invocation_t *inv)
{
    json_decref(inv->invocation_id);
    free(inv->target);
    json_decref(inv->arguments);

    memset(inv, 0, sizeof(signalr_msgpack_invocation_t));
}


int
signalr_msgpack_encode(signalr_str_t *b, json_t *value)
{
    size_t  len;

    if (value == NULL) {
        return -1;
    }

    len = b->len;

    if (signalr_msgpack_encode_value(b, value, 0) != 0) {
        b->len = len;
        return -1;
    }

    return 0;
}


int
signalr_msgpack_completion(signalr_str_t *out, const char *invocation_id,
    size_t id_len, int kind, json_t *value_or_error_string)
{
    size_t         start, size, n;
    unsigned char  head[3], prefix[5];

    switch (kind) {

    case SIGNALR_MSGPACK_COMPLETION_ERROR:
        if (!json_is_string(value_or_error_string)) {
            return -1;
        }

        break;

    case SIGNALR_MSGPACK_COMPLETION_VOID:
        break;

    case SIGNALR_MSGPACK_COMPLETION_RESULT:
        if (value_or_error_string == NULL) {
            return -1;
        }

        break;

    default:
        return -1;
    }

    if (invocation_id == NULL
        || !signalr_utf8_valid((const unsigned char *) invocation_id,
                               id_len))
    {
        return -1;
    }

    start = out->len;

    /* [3, {}, id, kind, value?] */
    head[0] = (kind == SIGNALR_MSGPACK_COMPLETION_VOID) ? 0x94 : 0x95;
    head[1] = 0x03;
    head[2] = 0x80;

    if (signalr_str_append(out, head, 3) != 0
        || signalr_msgpack_put_str(out, invocation_id, id_len) != 0
        || signalr_msgpack_put_code(out, (unsigned char) kind, 0, 0) != 0
        || (kind != SIGNALR_MSGPACK_COMPLETION_VOID
            && signalr_msgpack_encode_value(out, value_or_error_string, 0)
               != 0))
    {
        goto failed;
    }

    size = out->len - start;

    /* the hub protocol limits messages to 2 GB, so 5 VarInt bytes suffice */
    if (size > 0x7fffffff) {
        goto failed;
    }

    n = 0;

    do {
        prefix[n] = size & 0x7f;
        size >>= 7;

        if (size) {
            prefix[n] |= 0x80;
        }

        n++;

    } while (size);

    if (signalr_str_reserve(out, n) != 0) {
        goto failed;
    }

    memmove(out->data + start + n, out->data + start, out->len - start);
    memcpy(out->data + start, prefix, n);
    out->len += n;

    return 0;

failed:

    out->len = start;
    return -1;
}


static int
signalr_msgpack_fail(signalr_msgpack_reader_t *r, const char *msg)
{
    if (r->errlen) {
        snprintf(r->err, r->errlen, "%s", msg);
    }

    return -1;
}


/* stores a freshly created value; NULL means jansson ran out of memory */

static int
signalr_msgpack_set(signalr_msgpack_reader_t *r, json_t *value, json_t **out)
{
    if (value == NULL) {
        return signalr_msgpack_fail(r, "out of memory");
    }

    *out = value;

    return 0;
}


static int
signalr_msgpack_is_str(unsigned char c)
{
    return (c >= 0xa0 && c <= 0xbf) || (c >= 0xd9 && c <= 0xdb);
}


/* reads an n-byte big-endian unsigned integer */

static int
signalr_msgpack_read_uint(signalr_msgpack_reader_t *r, size_t n, uint64_t *v)
{
    size_t  i;

    if ((size_t) (r->end - r->pos) < n) {
        return signalr_msgpack_fail(r, "truncated MessagePack input");
    }

    *v = 0;

    for (i = 0; i < n; i++) {
        *v = (*v << 8) | *r->pos++;
    }

    return 0;
}


/* reinterprets an n-byte two's complement integer as signed */

static json_int_t
signalr_msgpack_sign(uint64_t v, size_t n)
{
    if (v >> (8 * n - 1)) {
        return -(json_int_t) (~v & (UINT64_MAX >> (64 - 8 * n))) - 1;
    }

    return (json_int_t) v;
}


/* depth is the number of containers enclosing the value */

static int
signalr_msgpack_read_value(signalr_msgpack_reader_t *r, unsigned depth,
    json_t **out)
{
    uint64_t       v;
    json_int_t     i;
    unsigned char  c;

    *out = NULL;

    if (r->pos == r->end) {
        return signalr_msgpack_fail(r, "truncated MessagePack input");
    }

    c = *r->pos++;

    if (c <= 0x7f) {
        return signalr_msgpack_set(r, json_integer(c), out);
    }

    if (c >= 0xe0) {
        return signalr_msgpack_set(r, json_integer((json_int_t) c - 0x100),
                                   out);
    }

    if (c <= 0x8f) {
        return signalr_msgpack_read_map(r, c & 0x0f, depth, out);
    }

    if (c <= 0x9f) {
        return signalr_msgpack_read_array(r, c & 0x0f, depth, out);
    }

    if (c <= 0xbf) {
        return signalr_msgpack_read_str(r, c & 0x1f, out);
    }

    switch (c) {

    case 0xc0:
        return signalr_msgpack_set(r, json_null(), out);

    case 0xc2:
        return signalr_msgpack_set(r, json_false(), out);

    case 0xc3:
        return signalr_msgpack_set(r, json_true(), out);

    case 0xc4:
    case 0xc5:
    case 0xc6:
        if (signalr_msgpack_read_uint(r, (size_t) 1 << (c - 0xc4), &v) != 0) {
            return -1;
        }

        return signalr_msgpack_read_bin(r, v, out);

    case 0xca:
        return signalr_msgpack_read_float(r, 4, out);

    case 0xcb:
        return signalr_msgpack_read_float(r, 8, out);

    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
        if (signalr_msgpack_read_uint(r, (size_t) 1 << (c - 0xcc), &v) != 0) {
            return -1;
        }

        /* jansson has no bignum: uint64 above INT64_MAX becomes a real */

        if (v > INT64_MAX) {
            return signalr_msgpack_set(r, json_real((double) v), out);
        }

        return signalr_msgpack_set(r, json_integer((json_int_t) v), out);

    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3:
        if (signalr_msgpack_read_uint(r, (size_t) 1 << (c - 0xd0), &v) != 0) {
            return -1;
        }

        i = signalr_msgpack_sign(v, (size_t) 1 << (c - 0xd0));

        return signalr_msgpack_set(r, json_integer(i), out);

    case 0xd9:
    case 0xda:
    case 0xdb:
        if (signalr_msgpack_read_uint(r, (size_t) 1 << (c - 0xd9), &v) != 0) {
            return -1;
        }

        return signalr_msgpack_read_str(r, v, out);

    case 0xdc:
    case 0xdd:
        if (signalr_msgpack_read_uint(r, (size_t) 2 << (c - 0xdc), &v) != 0) {
            return -1;
        }

        return signalr_msgpack_read_array(r, v, depth, out);

    case 0xde:
    case 0xdf:
        if (signalr_msgpack_read_uint(r, (size_t) 2 << (c - 0xde), &v) != 0) {
            return -1;
        }

        return signalr_msgpack_read_map(r, v, depth, out);

    case 0xc7:
    case 0xc8:
    case 0xc9:
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        return signalr_msgpack_fail(r,
                                    "MessagePack ext types are not supported");

    default: /* 0xc1 */
        return signalr_msgpack_fail(r, "invalid MessagePack type byte 0xc1");
    }
}


static int
signalr_msgpack_read_float(signalr_msgpack_reader_t *r, size_t n,
    json_t **out)
{
    float     f;
    double    d;
    uint32_t  u32;
    uint64_t  v;

    if (signalr_msgpack_read_uint(r, n, &v) != 0) {
        return -1;
    }

    if (n == 4) {
        u32 = (uint32_t) v;
        memcpy(&f, &u32, 4);
        d = f;

    } else {
        memcpy(&d, &v, 8);
    }

    if (!isfinite(d)) {
        return signalr_msgpack_fail(r, "NaN and Infinity are not valid JSON");
    }

    return signalr_msgpack_set(r, json_real(d), out);
}


static int
signalr_msgpack_read_str(signalr_msgpack_reader_t *r, uint64_t n,
    json_t **out)
{
    const char  *s;

    if (n > (size_t) (r->end - r->pos)) {
        return signalr_msgpack_fail(r, "truncated MessagePack input");
    }

    if (!signalr_utf8_valid(r->pos, n)) {
        return signalr_msgpack_fail(r, "invalid UTF-8 in MessagePack string");
    }

    s = (const char *) r->pos;
    r->pos += n;

    return signalr_msgpack_set(r, json_stringn_nocheck(s, n), out);
}


/* bin becomes a string holding its RFC 4648 base64 form, with padding */

static int
signalr_msgpack_read_bin(signalr_msgpack_reader_t *r, uint64_t n,
    json_t **out)
{
    char    *dst;
    size_t   len;
    json_t  *value;

    if (n > (size_t) (r->end - r->pos)) {
        return signalr_msgpack_fail(r, "truncated MessagePack input");
    }

    /* only possible where size_t is 32 bits: len must not overflow */

    if (n > SIZE_MAX / 4 * 3 - 3) {
        return signalr_msgpack_fail(r, "MessagePack bin too long");
    }

    dst = malloc((n + 2) / 3 * 4 + 1);
    if (dst == NULL) {
        return signalr_msgpack_fail(r, "out of memory");
    }

    len = signalr_base64_encode((unsigned char *) dst, r->pos, n);
    r->pos += n;

    value = json_stringn_nocheck(dst, len);
    free(dst);

    return signalr_msgpack_set(r, value, out);
}


static int
signalr_msgpack_read_array(signalr_msgpack_reader_t *r, uint64_t n,
    unsigned depth, json_t **out)
{
    json_t    *array, *item;
    uint64_t   i;

    if (depth >= SIGNALR_MSGPACK_MAX_DEPTH) {
        return signalr_msgpack_fail(r, "nesting deeper than 64 levels");
    }

    /* every element takes at least one byte */

    if (n > (size_t) (r->end - r->pos)) {
        return signalr_msgpack_fail(r, "truncated MessagePack input");
    }

    array = json_array();
    if (array == NULL) {
        return signalr_msgpack_fail(r, "out of memory");
    }

    for (i = 0; i < n; i++) {

        if (signalr_msgpack_read_value(r, depth + 1, &item) != 0) {
            json_decref(array);
            return -1;
        }

        if (json_array_append_new(array, item) != 0) {
            json_decref(array);
            return signalr_msgpack_fail(r, "out of memory");
        }
    }

    *out = array;

    return 0;
}


static int
signalr_msgpack_read_map(signalr_msgpack_reader_t *r, uint64_t n,
    unsigned depth, json_t **out)
{
    json_t      *object, *key, *value;
    uint64_t     i;
    const char  *k;

    if (depth >= SIGNALR_MSGPACK_MAX_DEPTH) {
        return signalr_msgpack_fail(r, "nesting deeper than 64 levels");
    }

    /* every entry takes at least two bytes */

    if (n > (size_t) (r->end - r->pos) / 2) {
        return signalr_msgpack_fail(r, "truncated MessagePack input");
    }

    object = json_object();
    if (object == NULL) {
        return signalr_msgpack_fail(r, "out of memory");
    }

    for (i = 0; i < n; i++) {

        if (r->pos < r->end && !signalr_msgpack_is_str(*r->pos)) {
            signalr_msgpack_fail(r, "map keys must be strings");
            goto failed;
        }

        if (signalr_msgpack_read_value(r, depth + 1, &key) != 0) {
            goto failed;
        }

        k = json_string_value(key);

        if (strlen(k) != json_string_length(key)) {
            signalr_msgpack_fail(r, "map keys must not contain NUL bytes");
            goto failed_key;
        }

        if (json_object_get(object, k) != NULL) {
            signalr_msgpack_fail(r, "duplicate map key");
            goto failed_key;
        }

        if (signalr_msgpack_read_value(r, depth + 1, &value) != 0) {
            goto failed_key;
        }

        if (json_object_set_new_nocheck(object, k, value) != 0) {
            signalr_msgpack_fail(r, "out of memory");
            goto failed_key;
        }

        json_decref(key);
    }

    *out = object;

    return 0;

failed_key:

    json_decref(key);

failed:

    json_decref(object);
    return -1;
}


/* writes a type byte followed by the n low bytes of v, big-endian */

static int
signalr_msgpack_put_code(signalr_str_t *b, unsigned char code, uint64_t v,
    size_t n)
{
    size_t         i;
    unsigned char  buf[9];

    buf[0] = code;

    for (i = 0; i < n; i++) {
        buf[1 + i] = (unsigned char) (v >> (8 * (n - 1 - i)));
    }

    return signalr_str_append(b, buf, n + 1);
}


/*
 * writes a str, array or map header; the 32-bit form's type byte always
 * follows the 16-bit one, and code8 is 0 when there is no 8-bit form
 */

static int
signalr_msgpack_put_len(signalr_str_t *b, size_t n, unsigned char fix,
    size_t fixmax, unsigned char code8, unsigned char code16)
{
    if (n <= fixmax) {
        return signalr_msgpack_put_code(b, (unsigned char) (fix | n), 0, 0);
    }

    if (code8 && n <= 0xff) {
        return signalr_msgpack_put_code(b, code8, n, 1);
    }

    if (n <= 0xffff) {
        return signalr_msgpack_put_code(b, code16, n, 2);
    }

    if ((uint64_t) n <= 0xffffffff) {
        return signalr_msgpack_put_code(b, code16 + 1, n, 4);
    }

    return -1;
}


static int
signalr_msgpack_put_int(signalr_str_t *b, json_int_t v)
{
    if (v >= 0) {

        if (v <= 0x7f) {
            return signalr_msgpack_put_code(b, (unsigned char) v, 0, 0);
        }

        if (v <= 0xff) {
            return signalr_msgpack_put_code(b, 0xcc, v, 1);
        }

        if (v <= 0xffff) {
            return signalr_msgpack_put_code(b, 0xcd, v, 2);
        }

        if (v <= 0xffffffff) {
            return signalr_msgpack_put_code(b, 0xce, v, 4);
        }

        return signalr_msgpack_put_code(b, 0xcf, v, 8);
    }

    /* the conversions to unsigned types keep the two's complement bytes */

    if (v >= -32) {
        return signalr_msgpack_put_code(b, (unsigned char) v, 0, 0);
    }

    if (v >= -128) {
        return signalr_msgpack_put_code(b, 0xd0, (uint64_t) v, 1);
    }

    if (v >= -32768) {
        return signalr_msgpack_put_code(b, 0xd1, (uint64_t) v, 2);
    }

    if (v >= INT32_MIN) {
        return signalr_msgpack_put_code(b, 0xd2, (uint64_t) v, 4);
    }

    return signalr_msgpack_put_code(b, 0xd3, (uint64_t) v, 8);
}


static int
signalr_msgpack_put_str(signalr_str_t *b, const char *s, size_t n)
{
    if (signalr_msgpack_put_len(b, n, 0xa0, 31, 0xd9, 0xda) != 0) {
        return -1;
    }

    return signalr_str_append(b, s, n);
}


static int
signalr_msgpack_encode_value(signalr_str_t *b, json_t *value,
    unsigned depth)
{
    double       d;
    size_t       i;
    json_t      *item;
    uint64_t     bits;
    const char  *key;

    switch (json_typeof(value)) {

    case JSON_NULL:
        return signalr_msgpack_put_code(b, 0xc0, 0, 0);

    case JSON_FALSE:
        return signalr_msgpack_put_code(b, 0xc2, 0, 0);

    case JSON_TRUE:
        return signalr_msgpack_put_code(b, 0xc3, 0, 0);

    case JSON_INTEGER:
        return signalr_msgpack_put_int(b, json_integer_value(value));

    case JSON_REAL:
        d = json_real_value(value);
        memcpy(&bits, &d, 8);

        return signalr_msgpack_put_code(b, 0xcb, bits, 8);

    case JSON_STRING:
        return signalr_msgpack_put_str(b, json_string_value(value),
                                       json_string_length(value));

    case JSON_ARRAY:
        if (depth >= SIGNALR_MSGPACK_MAX_DEPTH
            || signalr_msgpack_put_len(b, json_array_size(value), 0x90, 15,
                                       0, 0xdc)
               != 0)
        {
            return -1;
        }

        json_array_foreach(value, i, item) {
            if (signalr_msgpack_encode_value(b, item, depth + 1) != 0) {
                return -1;
            }
        }

        return 0;

    case JSON_OBJECT:
        if (depth >= SIGNALR_MSGPACK_MAX_DEPTH
            || signalr_msgpack_put_len(b, json_object_size(value), 0x80, 15,
                                       0, 0xde)
               != 0)
        {
            return -1;
        }

        json_object_foreach(value, key, item) {
            if (signalr_msgpack_put_str(b, key, strlen(key)) != 0
                || signalr_msgpack_encode_value(b, item, depth + 1) != 0)
            {
                return -1;
            }
        }

        return 0;

    default:
        return -1;
    }
}
