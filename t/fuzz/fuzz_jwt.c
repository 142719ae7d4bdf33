/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Fuzz entry point: HS256 tokens built from arbitrary claim names, values
 * and audiences. The token must be three base64url segments whose payload
 * is valid JSON holding exactly the values given, and whose signature
 * verifies; base64url output must never exceed its computed length.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "signalr_crypto.h"
#include "signalr_json.h"
#include "signalr_jwt.h"


static size_t
fuzz_b64url_decode(unsigned char *dst, const unsigned char *src, size_t len)
{
    size_t          i, n;
    unsigned int    acc, bits;
    unsigned char   c;
    int             v;

    n = 0;
    acc = 0;
    bits = 0;

    for (i = 0; i < len; i++) {
        c = src[i];

        if (c >= 'A' && c <= 'Z') { v = c - 'A'; }
        else if (c >= 'a' && c <= 'z') { v = c - 'a' + 26; }
        else if (c >= '0' && c <= '9') { v = c - '0' + 52; }
        else if (c == '-') { v = 62; }
        else if (c == '_') { v = 63; }
        else { abort(); }

        acc = (acc << 6) | (unsigned int) v;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            dst[n++] = (unsigned char) (acc >> bits);
        }
    }

    return n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                  third, len, plen, n;
    json_t                 *payload, *v;
    unsigned char          *out, *dot1, *dot2, *json, mac[32], sig[64];
    signalr_hmac_t         *h;
    signalr_bytes_t         values[1];
    signalr_jwt_claim_t     claim;
    signalr_jwt_payload_t   p;
    unsigned char           b64[16];

    /* base64url of every short prefix stays within its computed length */

    n = size < 10 ? size : 10;
    if (signalr_base64url_encode(b64, data, n) != signalr_base64url_len(n)) {
        abort();
    }

    /* key | claim value | audience, all valid UTF-8 or nothing to check */

    third = size / 3;

    if (third == 0 || !signalr_utf8_valid(data + third, third)
        || !signalr_utf8_valid(data + 2 * third, size - 2 * third))
    {
        return 0;
    }

    h = signalr_hmac_new(data, third);
    if (h == NULL) {
        abort();
    }

    values[0].data = data + third;
    values[0].len = third;
    claim.name.data = (const unsigned char *) "c";
    claim.name.len = 1;
    claim.values = values;
    claim.nvalues = 1;

    p.claims = &claim;
    p.nclaims = 1;
    p.iat = 1700000000;
    p.exp = 1700003600;
    p.aud.data = data + 2 * third;
    p.aud.len = size - 2 * third;
    p.header.len = 0;

    out = malloc(signalr_jwt_size(&p));
    len = signalr_jwt_build(h, &p, out);

    /* the least length is never more than the length */
    if (signalr_jwt_min_len(&p) > len) {
        abort();
    }

    dot1 = memchr(out, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (dot1 + 1 - out)) : NULL;
    if (dot1 == NULL || dot2 == NULL) {
        abort();
    }

    /* the signature verifies */

    signalr_hmac_sha256(h, out, dot2 - out, mac);
    if (fuzz_b64url_decode(sig, dot2 + 1, len - (dot2 + 1 - out)) != 32
        || memcmp(sig, mac, 32) != 0)
    {
        abort();
    }

    /* the payload is JSON carrying the exact value and audience */

    json = malloc(dot2 - dot1);
    plen = fuzz_b64url_decode(json, dot1 + 1, dot2 - dot1 - 1);
    payload = json_loadb((char *) json, plen, JSON_ALLOW_NUL, NULL);

    if (payload == NULL) {
        abort();
    }

    v = json_object_get(payload, "c");
    if (!json_is_string(v) || json_string_length(v) != values[0].len
        || memcmp(json_string_value(v), values[0].data, values[0].len) != 0)
    {
        abort();
    }

    v = json_object_get(payload, "aud");
    if (!json_is_string(v) || json_string_length(v) != p.aud.len
        || memcmp(json_string_value(v), p.aud.data, p.aud.len) != 0)
    {
        abort();
    }

    json_decref(payload);
    free(json);
    free(out);
    signalr_hmac_free(h);

    return 0;
}
