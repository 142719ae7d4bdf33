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


/*
 * room for the payload JSON: every string as if each of its bytes were
 * escaped as \u00XX, so that no pass over the strings is needed to size it
 */

static size_t
signalr_jwt_payload_max(const signalr_jwt_payload_t *p)
{
    size_t                      n, i, j;
    const signalr_jwt_claim_t  *c;

    /* {"nbf":N,"exp":N,"iat":N,"aud":""} */
    n = sizeof("{\"nbf\":,\"exp\":,\"iat\":,\"aud\":\"\"}") - 1
        + 3 * SIGNALR_INTEGER_LEN + 6 * p->aud.len;

    for (i = 0; i < p->nclaims; i++) {
        c = &p->claims[i];

        /* "name":[...], */
        n += 6 * c->name.len + 6;

        for (j = 0; j < c->nvalues; j++) {
            n += 6 * c->values[j].len + 3;
        }
    }

    return n;
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
signalr_jwt_size(const signalr_jwt_payload_t *p)
{
    size_t  n;

    n = signalr_jwt_payload_max(p);

    /* header "." payload "." signature, then the payload JSON as scratch */
    return sizeof(SIGNALR_JWT_HEADER) + signalr_base64url_len(n) + 1
           + signalr_base64url_len(SIGNALR_SHA256_LEN) + n;
}


size_t
signalr_jwt_build(signalr_hmac_t *key, const signalr_jwt_payload_t *p,
    unsigned char *out)
{
    size_t          json_len;
    unsigned char  *d, *json, mac[SIGNALR_SHA256_LEN];

    json = out + signalr_jwt_size(p) - signalr_jwt_payload_max(p);
    json_len = signalr_jwt_write_payload(p, json);

    d = out;
    memcpy(d, SIGNALR_JWT_HEADER ".", sizeof(SIGNALR_JWT_HEADER));
    d += sizeof(SIGNALR_JWT_HEADER);
    d += signalr_base64url_encode(d, json, json_len);

    if (signalr_hmac_sha256(key, out, d - out, mac) != 0) {
        return 0;
    }

    *d++ = '.';
    d += signalr_base64url_encode(d, mac, SIGNALR_SHA256_LEN);

    return d - out;
}
