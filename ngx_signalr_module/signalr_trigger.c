/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * The upstream calls of Azure SignalR Service: signatures, bodies, client
 * query and claims (see signalr_trigger.h). Plain C: no nginx types.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalr_crypto.h"
#include "signalr_json.h"
#include "signalr_msgpack.h"
#include "signalr_names.h"
#include "signalr_trigger.h"


static json_t *signalr_caseless_member(json_t *obj, const char *name);
static int signalr_target_is(json_t *target, const unsigned char *event,
    size_t event_len);
static size_t signalr_query_decode(unsigned char *dst,
    const unsigned char *src, size_t len);
static int signalr_hex_value(unsigned char c);
static void signalr_dotnet_trim(const unsigned char **p,
    const unsigned char **last);
static size_t signalr_dotnet_space(const unsigned char *p, size_t len);
static const unsigned char *signalr_next_item(const unsigned char *p,
    const unsigned char *last, int sep, const unsigned char **item,
    const unsigned char **end);


#define signalr_is_space(c)  ((c) == ' ' || (c) == '\t')


int
signalr_signature_match(const unsigned char *value, size_t len,
    const unsigned char *macs, size_t nmacs)
{
    size_t                i, n, items;
    const unsigned char  *p, *last, *item, *end;
    unsigned char         got[SIGNALR_SHA256_LEN];

    /* "sha256=<hex>" items, comma-separated, spaces around them allowed */

    p = value;
    last = value + len;
    items = 0;

    while (p < last && items < SIGNALR_TRIGGER_MAX_SIGNATURES) {
        p = signalr_next_item(p, last, ',', &item, &end);

        while (item < end && signalr_is_space(*item)) {
            item++;
        }

        while (end > item && signalr_is_space(end[-1])) {
            end--;
        }

        n = end - item;

        if (n == 0) {
            continue;
        }

        items++;

        if (n != sizeof("sha256=") - 1 + 2 * SIGNALR_SHA256_LEN
            || !signalr_caseless_eq(item, 7, (unsigned char *) "sha256=", 7)
            || signalr_hex_decode(got, item + 7, SIGNALR_SHA256_LEN) != 0)
        {
            continue;
        }

        for (i = 0; i < nmacs; i++) {
            if (signalr_ct_equal(got, macs + i * SIGNALR_SHA256_LEN,
                                 SIGNALR_SHA256_LEN))
            {
                return (int) i + 1;
            }
        }
    }

    return 0;
}


int
signalr_parse_event(const unsigned char *body, size_t len, int connected,
    signalr_message_t *m, const char **why)
{
    int           rc;
    json_t       *root, *v;
    json_error_t  jerr;

    memset(m, 0, sizeof(signalr_message_t));

    /* {"type":10} or {"type":11,"error":...}, names in any case */

    root = json_loadb((const char *) body, len, 0, &jerr);
    v = signalr_caseless_member(root, "type");

    if (v == NULL || !json_is_integer(v)
        || json_integer_value(v) != (connected ? 10 : 11))
    {
        *why = connected ? "a connected event needs the body {\"type\":10}"
                         : "a disconnected event needs the body "
                           "{\"type\":11}";
        rc = SIGNALR_TRIGGER_INVALID;
        goto done;
    }

    v = signalr_caseless_member(root, "error");

    if (v && json_is_string(v)) {
        m->error = json_incref(v);

    } else if (v && !json_is_null(v)) {
        *why = "the error of a disconnected event must be a string";
        rc = SIGNALR_TRIGGER_INVALID;
        goto done;
    }

    rc = SIGNALR_TRIGGER_OK;

done:

    json_decref(root);

    return rc;
}


int
signalr_parse_invocation_json(const unsigned char *body, size_t len,
    const unsigned char *event, size_t event_len, signalr_message_t *m,
    const char **why, char *detail, size_t detlen)
{
    int           rc;
    json_t       *root, *v, *args;
    json_error_t  jerr;

    memset(m, 0, sizeof(signalr_message_t));

    rc = SIGNALR_TRIGGER_INVALID;

    root = json_loadb((const char *) body, len, JSON_REJECT_DUPLICATES,
                      &jerr);

    if (root == NULL || !json_is_object(root)) {
        if (detlen) {
            snprintf(detail, detlen, "%s",
                     root ? "not an object" : jerr.text);
        }

        *why = "invalid JSON invocation";
        goto done;
    }

    v = json_object_get(root, "type");
    if (!json_is_integer(v) || json_integer_value(v) != 1) {
        *why = "the message is not an invocation (type 1)";
        goto done;
    }

    if (!signalr_target_is(json_object_get(root, "target"), event,
                           event_len))
    {
        *why = "the invocation target differs from X-ASRS-Event";
        goto done;
    }

    args = json_object_get(root, "arguments");
    if (!json_is_array(args)) {
        *why = "the invocation arguments must be an array";
        goto done;
    }

    v = json_object_get(root, "invocationId");
    if (v && !json_is_string(v) && !json_is_null(v)) {
        *why = "the invocationId must be a string";
        goto done;
    }

    m->arguments = json_incref(args);
    m->invocation_id = json_is_string(v) ? json_incref(v) : NULL;

    rc = SIGNALR_TRIGGER_OK;

done:

    json_decref(root);

    return rc;
}


int
signalr_parse_invocation_msgpack(const unsigned char *body, size_t len,
    const unsigned char *event, size_t event_len, signalr_message_t *m,
    const char **why, char *detail, size_t detlen)
{
    int                           rc;
    json_t                       *target;
    signalr_msgpack_invocation_t  inv;

    memset(m, 0, sizeof(signalr_message_t));

    if (signalr_msgpack_parse_invocation(body, len, &inv, detail, detlen)
        != 0)
    {
        *why = "invalid MessagePack invocation";
        return SIGNALR_TRIGGER_INVALID;
    }

    target = json_string(inv.target);

    if (target == NULL) {
        rc = SIGNALR_TRIGGER_NOMEM;

    } else if (!signalr_target_is(target, event, event_len)) {
        *why = "the invocation target differs from X-ASRS-Event";
        rc = SIGNALR_TRIGGER_INVALID;

    } else {
        m->arguments = inv.arguments;
        m->invocation_id = inv.invocation_id;
        inv.arguments = NULL;
        inv.invocation_id = NULL;
        rc = SIGNALR_TRIGGER_OK;
    }

    json_decref(target);
    signalr_msgpack_invocation_free(&inv);

    return rc;
}


void
signalr_message_free(signalr_message_t *m)
{
    json_decref(m->arguments);
    json_decref(m->invocation_id);
    json_decref(m->error);

    memset(m, 0, sizeof(signalr_message_t));
}


void
signalr_pairs_init(signalr_pairs_t *p, int join)
{
    p->list.len = 0;
    p->decoded.len = 0;
    p->names = 0;
    p->join = join;
}


void
signalr_pairs_free(signalr_pairs_t *p)
{
    signalr_str_free(&p->list);
    signalr_str_free(&p->decoded);
}


/*
 * the first entry named name (in any case when the values are joined,
 * exactly otherwise), or NULL
 */

static signalr_pair_t *
signalr_pairs_find(signalr_pairs_t *p, size_t end, const unsigned char *name,
    size_t nlen)
{
    size_t           i;
    signalr_pair_t  *e;

    e = (signalr_pair_t *) p->list.data;

    for (i = 0; i < end; i++) {
        if (p->join ? signalr_caseless_eq(e[i].name, e[i].name_len, name, nlen)
                    : (e[i].name_len == nlen
                       && memcmp(e[i].name, name, nlen) == 0))
        {
            return &e[i];
        }
    }

    return NULL;
}


int
signalr_pairs_add(signalr_pairs_t *p, const unsigned char *name,
    size_t nlen, const unsigned char *value, size_t vlen)
{
    size_t          n;
    signalr_pair_t  e;

    /* a full list takes nothing more, not even a repeated name */

    if (p->names == SIGNALR_TRIGGER_MAX_PAIRS
        || memchr(name, '\0', nlen) != NULL
        || !signalr_utf8_valid(name, nlen) || !signalr_utf8_valid(value, vlen))
    {
        return SIGNALR_TRIGGER_INVALID;
    }

    n = p->list.len / sizeof(signalr_pair_t);

    if (signalr_pairs_find(p, n, name, nlen) == NULL) {
        p->names++;

    } else if (!p->join) {
        return SIGNALR_TRIGGER_OK;
    }

    e.name = name;
    e.name_len = nlen;
    e.value = value;
    e.value_len = vlen;

    if (signalr_str_append(&p->list, &e, sizeof(signalr_pair_t)) != 0) {
        return SIGNALR_TRIGGER_NOMEM;
    }

    return SIGNALR_TRIGGER_OK;
}


void
signalr_jw_pairs(signalr_jw_t *w, signalr_pairs_t *p)
{
    size_t           i, j, n;
    signalr_pair_t  *e;

    e = (signalr_pair_t *) p->list.data;
    n = p->list.len / sizeof(signalr_pair_t);

    signalr_jw_object(w);

    if (p->names == n) {

        /* no name repeats: each pair as it is */

        for (i = 0; i < n; i++) {
            signalr_jw_key(w, (const char *) e[i].name, e[i].name_len);
            signalr_jw_string(w, e[i].value, e[i].value_len);
        }

        signalr_jw_end(w);
        return;
    }

    for (i = 0; i < n; i++) {

        /* a name is written where it first appears, with all its values */

        if (signalr_pairs_find(p, i, e[i].name, e[i].name_len) != NULL) {
            continue;
        }

        signalr_jw_key(w, (const char *) e[i].name, e[i].name_len);
        signalr_jw_string_open(w);
        signalr_jw_string_part(w, e[i].value, e[i].value_len);

        for (j = i + 1; j < n; j++) {
            if (signalr_caseless_eq(e[j].name, e[j].name_len, e[i].name,
                                    e[i].name_len))
            {
                signalr_jw_string_part(w, ",", 1);
                signalr_jw_string_part(w, e[j].value, e[j].value_len);
            }
        }

        signalr_jw_string_close(w);
    }

    signalr_jw_end(w);
}


int
signalr_parse_query(signalr_pairs_t *pairs, const unsigned char *p,
    size_t len)
{
    int                   rc;
    size_t                klen, vlen;
    unsigned char        *k, *v;
    const unsigned char  *last, *pair, *end, *eq;

    last = p + len;

    if (p < last && *p == '?') {
        p++;
    }

    /*
     * the decoded names and values, never longer than the query: one
     * block, reserved once, so that the pairs can point into it
     */

    if (pairs->decoded.len != 0) {
        /* pairs point into the decoded text: one query a list */
        return SIGNALR_TRIGGER_NOMEM;
    }

    if (signalr_str_reserve(&pairs->decoded, last - p + 1) != 0) {
        return SIGNALR_TRIGGER_NOMEM;
    }

    while (p < last) {
        p = signalr_next_item(p, last, '&', &pair, &end);

        if (end == pair) {
            continue;
        }

        eq = memchr(pair, '=', end - pair);

        k = (unsigned char *) pairs->decoded.data + pairs->decoded.len;
        klen = signalr_query_decode(k, pair, (eq ? eq : end) - pair);

        v = k + klen;
        vlen = eq ? signalr_query_decode(v, eq + 1, end - eq - 1) : 0;

        /* "=v" is the name "" (QueryStringEnumerable of ASP.NET Core) */

        pairs->decoded.len += klen + vlen;

        rc = signalr_pairs_add(pairs, k, klen, v, vlen);
        if (rc != SIGNALR_TRIGGER_OK) {
            return rc;
        }
    }

    return SIGNALR_TRIGGER_OK;
}


int
signalr_parse_claims(signalr_pairs_t *pairs, const unsigned char *p,
    size_t len)
{
    int                   rc;
    size_t                n;
    const unsigned char  *last, *piece, *end, *q, *s, *part[2], *part_end[2];

    last = p + len;

    while (p < last) {
        p = signalr_next_item(p, last, ',', &piece, &end);

        /*
         * the piece split on ": ", the empty parts left out (String.Split
         * with RemoveEmptyEntries): a claim when two parts are left
         */

        n = 0;
        s = piece;
        q = piece;

        for ( ;; ) {
            if (q < end && !(q + 1 < end && q[0] == ':' && q[1] == ' ')) {
                q++;
                continue;
            }

            /* a part ends at q: at a ": ", or at the end of the piece */

            if (q > s) {
                if (n < 2) {
                    part[n] = s;
                    part_end[n] = q;
                }

                n++;
            }

            if (q == end) {
                break;
            }

            q += 2;
            s = q;
        }

        if (n != 2) {
            continue;
        }

        /* the type and the value trimmed as String.Trim() does */

        signalr_dotnet_trim(&part[0], &part_end[0]);
        signalr_dotnet_trim(&part[1], &part_end[1]);

        rc = signalr_pairs_add(pairs, part[0], part_end[0] - part[0],
                               part[1], part_end[1] - part[1]);
        if (rc != SIGNALR_TRIGGER_OK) {
            return rc;
        }
    }

    return SIGNALR_TRIGGER_OK;
}


/*
 * [*p, *last) without the white space .NET's char.IsWhiteSpace() sees at
 * either end, in UTF-8: U+0009-U+000D, U+0020, U+0085, U+00A0, U+1680,
 * U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000
 */

static void
signalr_dotnet_trim(const unsigned char **p, const unsigned char **last)
{
    size_t  n;

    while ((n = signalr_dotnet_space(*p, *last - *p)) != 0) {
        *p += n;
    }

    for ( ;; ) {
        for (n = 1; n <= 3 && n <= (size_t) (*last - *p); n++) {
            if (signalr_dotnet_space(*last - n, n) == n) {
                break;
            }
        }

        if (n > 3 || n > (size_t) (*last - *p)) {
            return;
        }

        *last -= n;
    }
}


/* the length of the white-space character at the start of p, or 0 */

static size_t
signalr_dotnet_space(const unsigned char *p, size_t len)
{
    if (len == 0) {
        return 0;
    }

    if (p[0] == ' ' || (p[0] >= 0x09 && p[0] <= 0x0d)) {
        return 1;
    }

    if (len >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0)) {
        return 2;
    }

    if (len < 3) {
        return 0;
    }

    if ((p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80)
        || (p[0] == 0xe2 && p[1] == 0x80
            && ((p[2] >= 0x80 && p[2] <= 0x8a) || p[2] == 0xa8
                || p[2] == 0xa9 || p[2] == 0xaf))
        || (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)
        || (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80))
    {
        return 3;
    }

    return 0;
}


/* the member of obj named name in any case, or NULL */

static json_t *
signalr_caseless_member(json_t *obj, const char *name)
{
    json_t      *v;
    const char  *key;

    if (!json_is_object(obj)) {
        return NULL;
    }

    json_object_foreach(obj, key, v) {
        if (signalr_caseless_eq((const unsigned char *) key, strlen(key),
                                (const unsigned char *) name, strlen(name)))
        {
            return v;
        }
    }

    return NULL;
}


static int
signalr_target_is(json_t *target, const unsigned char *event,
    size_t event_len)
{
    return json_is_string(target)
           && signalr_caseless_eq(
                  (const unsigned char *) json_string_value(target),
                  json_string_length(target), event, event_len);
}


/* '+' is a space, %XX a byte, any other '%' itself; returns the length */

static size_t
signalr_query_decode(unsigned char *dst, const unsigned char *src,
    size_t len)
{
    int             hi, lo;
    size_t          i;
    unsigned char  *d;

    d = dst;

    for (i = 0; i < len; i++) {

        if (src[i] == '+') {
            *d++ = ' ';
            continue;
        }

        if (src[i] == '%' && i + 2 < len) {
            hi = signalr_hex_value(src[i + 1]);
            lo = signalr_hex_value(src[i + 2]);

            if (hi >= 0 && lo >= 0) {
                *d++ = (unsigned char) (hi << 4 | lo);
                i += 2;
                continue;
            }
        }

        *d++ = src[i];
    }

    return d - dst;
}


static int
signalr_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c = signalr_lower(c);

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/*
 * the item of a list separated by sep that starts at p: [*item, *end);
 * returns where the next one starts (last after the last one)
 */

static const unsigned char *
signalr_next_item(const unsigned char *p, const unsigned char *last, int sep,
    const unsigned char **item, const unsigned char **end)
{
    *item = p;
    *end = memchr(p, sep, last - p);

    if (*end == NULL) {
        *end = last;
        return last;
    }

    return *end + 1;
}
