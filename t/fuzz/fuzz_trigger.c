/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * libFuzzer entry point for signalr_trigger.c, what the service (or anyone
 * who reaches the trigger location) writes: the input is an X-ASRS-Signature
 * value, an event body, an invocation in JSON and in MessagePack (with the
 * input's first bytes as the event name), a client query and a claims
 * header. What parses must hold what the module relies on.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signalr_crypto.h"
#include "signalr_json.h"
#include "signalr_trigger.h"


static void
fuzz_check_pairs(signalr_pairs_t *p)
{
    json_t        *obj, *v;
    const char    *key;
    signalr_jw_t   w;
    signalr_str_t  s = { 0 };

    /* what is written is one JSON object of UTF-8 strings, within limits */

    signalr_jw_init(&w, &s);
    signalr_jw_pairs(&w, p);

    if (signalr_jw_done(&w) != 0) {
        abort();
    }

    obj = json_loadb(s.data, s.len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
                     NULL);

    if (!json_is_object(obj)
        || json_object_size(obj) > SIGNALR_TRIGGER_MAX_PAIRS)
    {
        abort();
    }

    json_object_foreach(obj, key, v) {
        if (!json_is_string(v)) {
            abort();
        }
    }

    json_decref(obj);
    signalr_str_free(&s);
}


static void
fuzz_check_message(signalr_message_t *m, int invocation)
{
    signalr_str_t  s = { 0 };

    if (invocation) {
        if (!json_is_array(m->arguments)
            || (m->invocation_id && !json_is_string(m->invocation_id))
            || m->error != NULL)
        {
            abort();
        }

        if (signalr_json_dump(&s, m->arguments) != 0
            || !signalr_utf8_valid((const unsigned char *) s.data, s.len))
        {
            abort();
        }

        signalr_str_free(&s);

    } else if (m->arguments || m->invocation_id
               || (m->error && !json_is_string(m->error)))
    {
        abort();
    }

    signalr_message_free(m);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                 rc;
    size_t              elen;
    const char         *why;
    signalr_pairs_t     pairs = { 0 };
    unsigned char       macs[2 * SIGNALR_SHA256_LEN];
    signalr_message_t   m;
    char                detail[128];

    memset(macs, 0x5a, sizeof(macs));
    (void) signalr_signature_match(data, size, macs, 2);

    rc = signalr_parse_event(data, size, size & 1, &m, &why);
    if (rc == SIGNALR_TRIGGER_OK) {
        fuzz_check_message(&m, 0);
    }

    /* the event name: up to the first NUL of the first 16 bytes */
    elen = 0;
    while (elen < size && elen < 16 && data[elen] != '\0') {
        elen++;
    }

    rc = signalr_parse_invocation_json(data, size, data, elen, &m, &why,
                                       detail, sizeof(detail));
    if (rc == SIGNALR_TRIGGER_OK) {
        fuzz_check_message(&m, 1);
    }

    rc = signalr_parse_invocation_msgpack(data, size, data, elen, &m, &why,
                                          detail, sizeof(detail));
    if (rc == SIGNALR_TRIGGER_OK) {
        fuzz_check_message(&m, 1);
    }

    signalr_pairs_init(&pairs, 1);

    if (signalr_parse_query(&pairs, data, size) == SIGNALR_TRIGGER_OK) {
        fuzz_check_pairs(&pairs);
    }

    signalr_pairs_init(&pairs, 0);

    if (signalr_parse_claims(&pairs, data, size) == SIGNALR_TRIGGER_OK) {
        fuzz_check_pairs(&pairs);
    }

    signalr_pairs_free(&pairs);

    return 0;
}
