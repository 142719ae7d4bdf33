/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * The actions a user POSTs to an output location, in the JSON the Azure
 * Functions SignalR output binding takes (one object or an array of them),
 * turned into calls of the SignalR Service REST API 2022-06-01. The whole
 * input is validated before any call is returned. Plain C: no nginx types.
 */

#ifndef SIGNALR_ACTION_H
#define SIGNALR_ACTION_H

#include <stddef.h>
#include <jansson.h>


#define SIGNALR_ACTION_NOMEM  "out of memory"

#define SIGNALR_API_VERSION_QUERY  "api-version=2022-06-01"


enum {
    SIGNALR_REST_POST = 1,
    SIGNALR_REST_PUT,
    SIGNALR_REST_DELETE
};


/* at most so many items in an action's "endpoints" */
#define SIGNALR_ACTION_MAX_ENDPOINTS  64


/*
 * an item of an action's "endpoints": the Functions binding's
 * SignalREndpoint (name, endpoint, endpointType, online), to be matched
 * with the configured endpoints by the caller
 */

typedef struct {
    char         *name;        /* NULL when not given */
    char         *url;         /* "endpoint", NULL when not given */
    int           type;        /* -1: not given, 0: primary, 1: secondary */
} signalr_endpoint_ref_t;


typedef struct {
    int           method;      /* SIGNALR_REST_* */
    unsigned      message:1;   /* a message send (retried on status > 500) */
    unsigned      connection:1;  /* about one connection: done when any */
                                 /* endpoint took it */
    char         *path;        /* "/api/hubs/<hub>/...", escaped */
    size_t        path_len;
    char         *query;       /* SIGNALR_API_VERSION_QUERY, then extras */
    size_t        query_len;
    char         *body;        /* {"target":..,"arguments":[..]} or NULL */
    size_t        body_len;
    const char   *what;        /* static text for logs: "broadcast", ... */
    const char   *absent;      /* the x-ms-error-code of a 404 that counts */
                               /* as done (the connection is not there), */
                               /* or NULL */
    signalr_endpoint_ref_t  *endpoints;  /* NULL: every endpoint */
    size_t        nendpoints;
} signalr_rest_call_t;


typedef struct {
    signalr_rest_call_t  *calls;
    size_t                n;
} signalr_rest_calls_t;


/*
 * hub is lower-cased and validated by the caller; path, query and body are
 * NUL-terminated. Both return 0, or -1 with an English message in err;
 * SIGNALR_ACTION_NOMEM is that message when memory ran out (not the
 * caller's fault).
 */
int signalr_actions_parse(const char *hub, const char *body, size_t len,
    size_t max_actions, signalr_rest_calls_t *out, char *err, size_t errlen);
int signalr_action_from_json(const char *hub, json_t *item,
    signalr_rest_call_t *call, char *err, size_t errlen);

void signalr_rest_call_free(signalr_rest_call_t *call);
void signalr_rest_calls_free(signalr_rest_calls_t *calls);

#endif /* SIGNALR_ACTION_H */
