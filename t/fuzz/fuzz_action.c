/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * libFuzzer target for signalr_actions_parse(): any input must either fail
 * with a message or give calls whose path, query and body are well formed;
 * nothing may leak. The input is parsed twice, the second time with a tiny
 * error buffer, and both runs must agree.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signalr_action.h"


#define FUZZ_HUB_PATH  "/api/hubs/chat/"


static void
fuzz_action_check_uri(const char *p, size_t len, const char *extra)
{
    size_t  i;

    if (strlen(p) != len) {
        abort();
    }

    for (i = 0; i < len; i++) {
        if ((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z')
            || (p[i] >= '0' && p[i] <= '9') || strchr("-._~%", p[i])
            || strchr(extra, p[i]))
        {
            continue;
        }

        abort();
    }
}


static void
fuzz_action_check_call(const signalr_rest_call_t *call)
{
    json_t        *body;
    json_error_t   error;

    if (call->method < SIGNALR_REST_POST
        || call->method > SIGNALR_REST_GET
        || call->kind < SIGNALR_CALL_DO || call->kind > SIGNALR_CALL_LIST
        || call->what == NULL
        || strncmp(call->path, FUZZ_HUB_PATH, sizeof(FUZZ_HUB_PATH) - 1)
           != 0
        || (strncmp(call->query, SIGNALR_API_VERSION_QUERY,
                    sizeof(SIGNALR_API_VERSION_QUERY) - 1)
            != 0
            && strncmp(call->query, SIGNALR_API_VERSION_2024,
                       sizeof(SIGNALR_API_VERSION_2024) - 1)
               != 0)
        || (call->recipient == NULL) != (call->member == NULL)
        || (call->recipient != NULL && call->recipient[0] == '\0'))
    {
        abort();
    }

    fuzz_action_check_uri(call->path, call->path_len, "/:");
    fuzz_action_check_uri(call->query, call->query_len, "=&");

    if (!call->message && call->kind != SIGNALR_CALL_INVOKE) {
        if (call->body != NULL || call->body_len != 0) {
            abort();
        }

        return;
    }

    body = json_loadb(call->body, call->body_len, JSON_ALLOW_NUL, &error);

    if (body == NULL
        || json_object_size(body) != 2
        || !json_is_string(json_object_get(body, "target"))
        || !json_is_array(json_object_get(body, "arguments")))
    {
        abort();
    }

    json_decref(body);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   rc;
    char                  err[256], small[7];
    size_t                i;
    signalr_rest_calls_t  calls;

    rc = signalr_actions_parse("chat", (const char *) data, size, 100, &calls,
                               err, sizeof(err));

    if (rc == 0) {
        if (calls.n == 0 || calls.nactions == 0 || calls.nactions > 100
            || calls.n > 100 * SIGNALR_ACTION_MAX_RECIPIENTS
            || calls.n < calls.nactions)
        {
            abort();
        }

        for (i = 0; i < calls.n; i++) {
            fuzz_action_check_call(&calls.calls[i]);

            /* actions in order, the calls of one in a row, recipients */

            if (i == 0 ? calls.calls[0].action != 0
                : calls.calls[i].action == calls.calls[i - 1].action
                ? calls.calls[i].recipient == NULL
                : calls.calls[i].action != calls.calls[i - 1].action + 1)
            {
                abort();
            }

            /* an action with an answer of its own is alone */

            if (calls.calls[i].kind != SIGNALR_CALL_DO && calls.n != 1) {
                abort();
            }
        }

        if (calls.calls[calls.n - 1].action != calls.nactions - 1) {
            abort();
        }

    } else if (rc != -1 || err[0] == '\0' || calls.calls != NULL
               || calls.n != 0)
    {
        abort();
    }

    signalr_rest_calls_free(&calls);

    if (signalr_actions_parse("chat", (const char *) data, size, 100, &calls,
                              small, sizeof(small))
        != rc
        || (rc == -1 && strncmp(err, small, sizeof(small) - 1) != 0))
    {
        abort();
    }

    signalr_rest_calls_free(&calls);

    return 0;
}
