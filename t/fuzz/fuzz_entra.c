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
