/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Fuzz entry point: connection strings. Any input either parses into
 * well-formed base URLs or fails with a message that never contains the
 * AccessKey.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signalr_connstr.h"


static void
fuzz_check_base(const char *base)
{
    size_t  n;

    n = strlen(base);

    if ((strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
        || n == 0 || base[n - 1] != '/' || strchr(base, '?') != NULL
        || strchr(base, '#') != NULL || strchr(base, ' ') != NULL)
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char               err[256];
    signalr_connstr_t  cs;

    if (signalr_connstr_parse((const char *) data, size, &cs, err,
                              sizeof(err))
        != 0)
    {
        if (err[0] == '\0') {
            abort();
        }

        return 0;
    }

    if (cs.auth == SIGNALR_AUTH_KEY
        ? (cs.access_key == NULL || cs.access_key_len == 0
           || strlen(cs.access_key) > cs.access_key_len)
        : (cs.access_key != NULL
           || (cs.auth == SIGNALR_AUTH_APP
               && (cs.client_id == NULL || cs.tenant_id == NULL
                   || cs.client_secret_len == 0))))
    {
        abort();
    }

    fuzz_check_base(cs.client_base);
    fuzz_check_base(cs.server_base);
    fuzz_check_base(cs.audience_base);

    signalr_connstr_free(&cs);

    return 0;
}
