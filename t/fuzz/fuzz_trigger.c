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
fuzz_check_pairs(json_t *obj)
{
    json_t      *v;
    const char  *key;

    if (json_object_size(obj) > SIGNALR_TRIGGER_MAX_PAIRS) {
        abort();
    }

    json_object_foreach(obj, key, v) {
        if (!json_is_string(v)
            || !signalr_utf8_valid((const unsigned char *) key, strlen(key))
            || !signalr_utf8_valid(
                   (const unsigned char *) json_string_value(v),
                   json_string_length(v)))
        {
            abort();
        }
    }
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
    json_t             *obj;
    const char         *why;
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

    obj = json_object();
    if (obj == NULL) {
        return 0;
    }

    if (signalr_parse_query(obj, data, size) == SIGNALR_TRIGGER_OK) {
        fuzz_check_pairs(obj);
    }

    json_object_clear(obj);

    if (signalr_parse_claims(obj, data, size) == SIGNALR_TRIGGER_OK) {
        fuzz_check_pairs(obj);
    }

    json_decref(obj);

    return 0;
}
