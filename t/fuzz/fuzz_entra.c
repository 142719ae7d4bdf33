/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Fuzz entry point: the answers of the Microsoft Entra token services and
 * of the key exchange. What is taken holds only the characters its use
 * allows (a token: a JWT's; a key id: letters, digits, "-", "_", "."; a
 * key: printable ASCII), within its limit; an error text is one line of
 * printable ASCII.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signalr_entra.h"


/* the JWKS of t/unit/test_entra.c */
static const char  jwks_json[] =
    "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"k1\",\"x5t\":\"k1\",\"n\":\"kHQUt"
    "5kDNTz1pPoWwLELgpES8-0MYEeLeqxQ0BKTY1ZCqfDqbWIWdcux9a2hi1tHcW2ivLE"
    "RzKPwlw-KfjZrx0zTIg54WpqAS85X8RrsQsrO_EfC2MaACHdIkp9ng5A-Q1fkjJVLd"
    "me6_ZGwpVQcik6YDa2lHKEVPLHu_oyZKGyBhWp2yChHKznXCNYSkUsy4OOFanNfUnj"
    "1cFVxs8LpqZSGceyLprMIJJqCQbrHdp5uEQhol6XSwp_mO-wjg5Xt0gIdX-jjGGZG-"
    "sjOgEhvoX8-z2qwO2pOlm2BPzbD7O43ZvifGil7kCKLACd-T3XKKnADfnYJ3chzAMh"
    "zLAdd-w\",\"e\":\"AQAB\",\"x5c\":[\"MIIB\"]},{\"kty\":\"EC\",\"kid\":\"ec\",\"crv\":\""
    "P-256\",\"x\":\"a\",\"y\":\"b\"}]}";


static void
fuzz_check_chars(const char *s, size_t len, const char *extra)
{
    size_t         i;
    unsigned char  c;

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || (c && strchr(extra, c))))
        {
            abort();
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char              err[256], text[128];
    char              kid[SIGNALR_ENTRA_MAX_KID], key[SIGNALR_ENTRA_MAX_KEY];
    size_t            i, tlen, kid_len, key_len;
    long long         expires;
    static char       token[SIGNALR_ENTRA_MAX_TOKEN];
    const long long   now = 1700000000;

    if (signalr_entra_token_parse((const char *) data, size, now, token,
                                  sizeof(token), &tlen, &expires, err,
                                  sizeof(err))
        == 0)
    {
        if (tlen == 0 || tlen > sizeof(token) || expires <= now) {
            abort();
        }

        fuzz_check_chars(token, tlen, "-_.");
    }

    if (signalr_entra_key_parse((const char *) data, size, kid, &kid_len, key,
                                &key_len, err, sizeof(err))
        == 0)
    {
        if (kid_len == 0 || kid_len > sizeof(kid) || key_len == 0
            || key_len > sizeof(key))
        {
            abort();
        }

        fuzz_check_chars(kid, kid_len, "-_.");

        for (i = 0; i < key_len; i++) {
            if (key[i] < 0x21 || key[i] > 0x7e) {
                abort();
            }
        }
    }

    /* JWKS and RS256: any input refused or taken without a fault */

    {
        static signalr_jwks_t  *jwks;
        signalr_jwks_t         *parsed;

        if (jwks == NULL) {
            jwks = signalr_jwks_parse(jwks_json, sizeof(jwks_json) - 1, err,
                                      sizeof(err));
        }

        parsed = signalr_jwks_parse((const char *) data, size, err,
                                    sizeof(err));
        if (parsed && signalr_jwks_count(parsed) == 0) {
            abort();
        }

        signalr_jwks_free(parsed);

        /* no token of the fuzzer's can carry a valid signature */

        if (jwks && signalr_entra_jwt_verify(jwks, (const char *) data, size,
                                             "i", "a", now, err, sizeof(err))
                    == 0)
        {
            abort();
        }
    }

    signalr_entra_error_text((const char *) data, size, text, sizeof(text));

    for (i = 0; text[i]; i++) {
        if (text[i] < 0x20 || text[i] > 0x7e) {
            abort();
        }
    }

    if (i >= sizeof(text)) {
        abort();
    }

    return 0;
}
