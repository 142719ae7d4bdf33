/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * The actions a user POSTs to an output location, in the JSON the Azure
 * Functions SignalR output binding takes (one object or an array of them),
 * and the ones the binding lacks (closeConnections, exists, invoke,
 * listConnections, several recipients), turned into calls of the SignalR
 * Service REST API: 2022-06-01, and 2024-12-01 for the operations it added.
 * The whole input is validated before any call is returned. Plain C: no
 * nginx types.
 */

#ifndef SIGNALR_ACTION_H
#define SIGNALR_ACTION_H

#include <stddef.h>
#include <jansson.h>


#define SIGNALR_ACTION_NOMEM  "out of memory"

#define SIGNALR_API_VERSION_QUERY  "api-version=2022-06-01"
#define SIGNALR_API_VERSION_2024   "api-version=2024-12-01"


enum {
    SIGNALR_REST_POST = 1,
    SIGNALR_REST_PUT,
    SIGNALR_REST_DELETE,
    SIGNALR_REST_HEAD,
    SIGNALR_REST_GET
};


/* what a call asks: the answer the caller gets depends on it */
enum {
    SIGNALR_CALL_DO = 0,      /* a send, a group action, a close */
    SIGNALR_CALL_EXISTS,      /* HEAD: 200 there, 404 not */
    SIGNALR_CALL_INVOKE,      /* a client result */
    SIGNALR_CALL_LIST         /* the connections of a group, paged */
};


/* recipients in one "userIds", "groupNames" or "connectionIds", at most */
#define SIGNALR_ACTION_MAX_RECIPIENTS  100


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
    int           kind;        /* SIGNALR_CALL_* */
    size_t        action;      /* the action it comes from, from 0 */
    const char   *member;      /* "userId", "groupName" or "connectionId" */
    char         *recipient;   /* of an action with several recipients: */
                               /* this call's one; NULL otherwise */
    unsigned      message:1;   /* a message send (retried on status > 500) */
    unsigned      connection:1;  /* about one connection: done when any */
                                 /* endpoint took it */
    char         *path;        /* "/api/hubs/<hub>/...", escaped */
    size_t        path_len;
    char         *query;       /* the api-version, then extras */
    size_t        query_len;
    char         *body;        /* {"target":..,"arguments":[..]} or NULL */
    size_t        body_len;
    unsigned      body_shared:1;  /* the body of the call before it, as */
                                  /* the action's first recipient's */
    const char   *what;        /* static text for logs: "broadcast", ... */
    const char   *name;        /* the same as a metric label: */
                               /* "send_to_user", ... */
    const char   *absent;      /* the x-ms-error-code of a 404 that counts */
                               /* as done (the connection is not there), */
                               /* or NULL */
    signalr_endpoint_ref_t  *endpoints;  /* NULL: every endpoint */
    size_t        nendpoints;
} signalr_rest_call_t;


/*
 * the calls of the actions, in order: an action with several recipients
 * is one call per recipient, in a row
 */

typedef struct {
    signalr_rest_call_t  *calls;
    size_t                n;
    size_t                nactions;
    size_t                size;      /* calls allocated */
} signalr_rest_calls_t;


/*
 * hub is lower-cased and validated by the caller; path, query and body are
 * NUL-terminated. Both return 0, or -1 with an English message in err;
 * SIGNALR_ACTION_NOMEM is that message when memory ran out (not the
 * caller's fault). max_actions bounds the calls, each recipient of an
 * action counting as one. An exists, invoke or listConnections action asks for
 * an answer of its own: it must be the only action. signalr_action_from_json
 * adds the calls of one action to out, which starts zeroed.
 */
int signalr_actions_parse(const char *hub, const char *body, size_t len,
    size_t max_actions, signalr_rest_calls_t *out, char *err, size_t errlen);
int signalr_action_from_json(const char *hub, json_t *item,
    signalr_rest_calls_t *out, char *err, size_t errlen);

/* the name of route i, as a metric label; NULL after the last */
const char *signalr_action_name(size_t i);

void signalr_rest_call_free(signalr_rest_call_t *call);
void signalr_rest_calls_free(signalr_rest_calls_t *calls);

#endif /* SIGNALR_ACTION_H */
