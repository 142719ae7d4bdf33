/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * HS256 JWT builder. The payload JSON is written into the tail of the
 * caller's buffer, then base64url-encoded into its head and signed, so a
 * token costs one allocation and one HMAC.
 */

#include <stdio.h>
#include <string.h>

#include "signalr_json.h"
#include "signalr_jwt.h"


/* base64url of {"alg":"HS256","typ":"JWT"} */
#define SIGNALR_JWT_HEADER  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

/* the header's length with its ".", the payload's given or the plain one */
#define signalr_jwt_header_len(p)                                            \
    ((p)->header.len ? (p)->header.len + 1 : sizeof(SIGNALR_JWT_HEADER))


/* the length of n in decimal, its sign included */

static size_t
signalr_jwt_digits(long long n)
{
    size_t              len;
    unsigned long long  u;

    u = (n < 0) ? 0 - (unsigned long long) n : (unsigned long long) n;
    len = (n < 0) + 1;

    while (u >= 10) {
        u /= 10;
        len++;
    }

    return len;
}


/*
 * The payload JSON's length if no byte of its strings needed escaping
 * (plain), and the most it can be, every byte escaped as \u00XX (max): the
 * buffer is sized without a pass over the strings.
 */

static void
signalr_jwt_payload_lengths(const signalr_jwt_payload_t *p, size_t *plain,
    size_t *max)
{
    size_t                      n, strings, i, j;
    const signalr_jwt_claim_t  *c;

    /* {"nbf":N,"exp":N,"iat":N,"aud":""}, nbf and iat the same time */
    n = sizeof("{\"nbf\":,\"exp\":,\"iat\":,\"aud\":\"\"}") - 1
        + 2 * signalr_jwt_digits(p->iat) + signalr_jwt_digits(p->exp);
    strings = p->aud.len;

    for (i = 0; i < p->nclaims; i++) {
        c = &p->claims[i];

        if (c->nvalues == 0) {
            continue;
        }

        /* "name":"value", or "name":["value","value"], */
        n += 4 + (c->nvalues > 1 ? 2 : 0);
        strings += c->name.len;

        for (j = 0; j < c->nvalues; j++) {
            n += 2 + (j ? 1 : 0);
            strings += c->values[j].len;
        }
    }

    *plain = n + strings;
    *max = n + 6 * strings;
}


static unsigned char *
signalr_jwt_write_string(unsigned char *d, const signalr_bytes_t *s)
{
    *d++ = '"';
    d = signalr_json_escape(d, s->data, s->len);
    *d++ = '"';

    return d;
}


static size_t
signalr_jwt_write_payload(const signalr_jwt_payload_t *p, unsigned char *d)
{
    size_t                      i, j, iat_len;
    unsigned char              *start, *iat;
    const signalr_jwt_claim_t  *c;

    start = d;
    *d++ = '{';

    for (i = 0; i < p->nclaims; i++) {
        c = &p->claims[i];

        if (c->nvalues == 0) {
            continue;
        }

        d = signalr_jwt_write_string(d, &c->name);
        *d++ = ':';

        if (c->nvalues == 1) {
            d = signalr_jwt_write_string(d, &c->values[0]);

        } else {
            *d++ = '[';

            for (j = 0; j < c->nvalues; j++) {
                if (j) {
                    *d++ = ',';
                }
                d = signalr_jwt_write_string(d, &c->values[j]);
            }

            *d++ = ']';
        }

        *d++ = ',';
    }

    /* nbf and iat are the same time, written once and copied */

    memcpy(d, "\"nbf\":", 6);
    d += 6;
    iat = d;
    iat_len = signalr_format_integer((char *) d, p->iat);
    d += iat_len;
    memcpy(d, ",\"exp\":", 7);
    d += 7;
    d += signalr_format_integer((char *) d, p->exp);
    memcpy(d, ",\"iat\":", 7);
    d += 7;
    memcpy(d, iat, iat_len);
    d += iat_len;
    memcpy(d, ",\"aud\":", 7);
    d += 7;
    d = signalr_jwt_write_string(d, &p->aud);
    *d++ = '}';

    return d - start;
}


/*
 * The buffer: the token grows from its head, while the payload JSON is
 * written at its tail, where the base64url of it, two bytes behind for
 * every three, never reaches what is still to be read.
 */

size_t
signalr_jwt_size(signalr_jwt_payload_t *p)
{
    signalr_jwt_payload_lengths(p, &p->json_plain, &p->json_max);

    /* header "." payload "." signature, then the payload JSON as scratch */
    return signalr_jwt_header_len(p) + signalr_base64url_len(p->json_max) + 1
           + signalr_base64url_len(SIGNALR_SHA256_LEN) + p->json_max;
}


size_t
signalr_jwt_min_len(const signalr_jwt_payload_t *p)
{
    return signalr_jwt_header_len(p) + signalr_base64url_len(p->json_plain)
           + 1 + signalr_base64url_len(SIGNALR_SHA256_LEN);
}


size_t
signalr_jwt_build(signalr_hmac_t *key, const signalr_jwt_payload_t *p,
    unsigned char *out)
{
    size_t          json_len;
    unsigned char  *d, *json, mac[SIGNALR_SHA256_LEN];

    /* the tail of the buffer signalr_jwt_size() sized */
    json = out + signalr_jwt_header_len(p)
           + signalr_base64url_len(p->json_max) + 1
           + signalr_base64url_len(SIGNALR_SHA256_LEN);
    json_len = signalr_jwt_write_payload(p, json);

    d = out;

    if (p->header.len) {
        memcpy(d, p->header.data, p->header.len);
        d += p->header.len;
        *d++ = '.';

    } else {
        memcpy(d, SIGNALR_JWT_HEADER ".", sizeof(SIGNALR_JWT_HEADER));
        d += sizeof(SIGNALR_JWT_HEADER);
    }
    d += signalr_base64url_encode(d, json, json_len);

    if (signalr_hmac_sha256(key, out, d - out, mac) != 0) {
        return 0;
    }

    *d++ = '.';
    d += signalr_base64url_encode(d, mac, SIGNALR_SHA256_LEN);

    return d - out;
}
