/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * libFuzzer entry point for signalr_msgpack.c: decodes the input as one
 * MessagePack value and as an invocation, re-encodes whatever decoded and
 * checks that it decodes back to an equal value.  Build and run:
 *
 * clang -g -fsanitize=fuzzer,address -I ngx_signalr_module
 *     t/fuzz/fuzz_msgpack.c ngx_signalr_module/signalr_msgpack.c -ljansson
 *     -o /tmp/fuzz_msgpack && /tmp/fuzz_msgpack -max_total_time=60
 */


#include <stdint.h>
#include <stdlib.h>

#include "signalr_msgpack.h"


static void
fuzz_round_trip(json_t *value)
{
    char              err[128];
    size_t            used;
    json_t           *again;
    signalr_str_t     b = { 0 };

    if (signalr_msgpack_encode(&b, value) != 0) {
        abort();
    }

    if (signalr_msgpack_decode((unsigned char *) b.data, b.len, &used, &again, err,
                               sizeof(err))
        != 0
        || used != b.len
        || !json_equal(value, again))
    {
        abort();
    }

    json_decref(again);
    b.len = 0;

    if (signalr_msgpack_completion(&b, "0", 1,
                                   SIGNALR_MSGPACK_COMPLETION_RESULT, value)
        != 0)
    {
        abort();
    }

    signalr_str_free(&b);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                          err[128];
    size_t                        used;
    json_t                       *value;
    signalr_msgpack_invocation_t  inv;

    if (signalr_msgpack_decode(data, size, &used, &value, err, sizeof(err))
        == 0)
    {
        if (used == 0 || used > size) {
            abort();
        }

        fuzz_round_trip(value);
        json_decref(value);
    }

    if (signalr_msgpack_parse_invocation(data, size, &inv, err, sizeof(err))
        == 0)
    {
        if (inv.target == NULL || inv.target[0] == '\0'
            || !json_is_array(inv.arguments)
            || (inv.invocation_id != NULL
                && !json_is_string(inv.invocation_id)))
        {
            abort();
        }

        fuzz_round_trip(inv.arguments);
        signalr_msgpack_invocation_free(&inv);
    }

    return 0;
}
