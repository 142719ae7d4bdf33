/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Output binding actions to SignalR Service REST API calls: the members of
 * an action are looked up in a table of known members (case-insensitively),
 * type-checked, mapped to one of the routes below and then written out as
 * an escaped path, a query and, for message sends and invocations, a body;
 * an action with several recipients is written out once for each.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalr_action.h"
#include "signalr_json.h"
#include "signalr_names.h"


#define SIGNALR_ACTION_ID_MAX_LEN  1024
#define SIGNALR_ACTION_MAX_URI     8000       /* escaped path and query */
#define SIGNALR_ACTION_TTL_MAX     2147483647
#define SIGNALR_ACTION_NAME_LEN    64
#define SIGNALR_ACTION_NREF        4          /* members of an endpoint */


/* the members of an action; connectionId, userId and groupName in a row */

enum {
    SIGNALR_ACTION_F_TARGET = 0,
    SIGNALR_ACTION_F_ARGUMENTS,
    SIGNALR_ACTION_F_CONNECTION_ID,
    SIGNALR_ACTION_F_USER_ID,
    SIGNALR_ACTION_F_GROUP_NAME,
    SIGNALR_ACTION_F_EXCLUDED,
    SIGNALR_ACTION_F_ACTION,
    SIGNALR_ACTION_F_TTL,
    SIGNALR_ACTION_F_REASON,
    SIGNALR_ACTION_F_ENDPOINTS,
    SIGNALR_ACTION_F_CONNECTION_IDS,  /* the same three, several */
    SIGNALR_ACTION_F_USER_IDS,
    SIGNALR_ACTION_F_GROUP_NAMES,
    SIGNALR_ACTION_NFIELDS
};


/* the REST calls an action becomes */

enum {
    SIGNALR_ACTION_R_BROADCAST = 0,
    SIGNALR_ACTION_R_SEND_USER,
    SIGNALR_ACTION_R_SEND_GROUP,
    SIGNALR_ACTION_R_SEND_CONNECTION,
    SIGNALR_ACTION_R_ADD_CONNECTION,
    SIGNALR_ACTION_R_REMOVE_CONNECTION,
    SIGNALR_ACTION_R_REMOVE_CONNECTION_ALL,
    SIGNALR_ACTION_R_ADD_USER,
    SIGNALR_ACTION_R_REMOVE_USER,
    SIGNALR_ACTION_R_REMOVE_USER_ALL,
    SIGNALR_ACTION_R_CLOSE,
    SIGNALR_ACTION_R_CLOSE_HUB,
    SIGNALR_ACTION_R_CLOSE_GROUP,
    SIGNALR_ACTION_R_CLOSE_USER,
    SIGNALR_ACTION_R_EXISTS_CONNECTION,
    SIGNALR_ACTION_R_EXISTS_USER,
    SIGNALR_ACTION_R_EXISTS_GROUP,
    SIGNALR_ACTION_R_EXISTS_USER_GROUP,
    SIGNALR_ACTION_R_INVOKE,
    SIGNALR_ACTION_R_LIST,
    SIGNALR_ACTION_NROUTES
};


#define SIGNALR_ACTION_ROUTE(r)  (1u << SIGNALR_ACTION_R_##r)
#define SIGNALR_ACTION_ALL       ((1u << SIGNALR_ACTION_NROUTES) - 1)
#define SIGNALR_ACTION_SENDS                                                  \
    (SIGNALR_ACTION_ROUTE(BROADCAST) | SIGNALR_ACTION_ROUTE(SEND_USER)        \
     | SIGNALR_ACTION_ROUTE(SEND_GROUP) | SIGNALR_ACTION_ROUTE(SEND_CONNECTION))
#define SIGNALR_ACTION_CLOSES                                                 \
    (SIGNALR_ACTION_ROUTE(CLOSE_HUB) | SIGNALR_ACTION_ROUTE(CLOSE_GROUP)      \
     | SIGNALR_ACTION_ROUTE(CLOSE_USER))


/* how the value of a member is checked */

enum {
    SIGNALR_ACTION_T_ANY = 0,
    SIGNALR_ACTION_T_TARGET,          /* a non-empty string */
    SIGNALR_ACTION_T_STRING,
    SIGNALR_ACTION_T_ARRAY,
    SIGNALR_ACTION_T_ID,
    SIGNALR_ACTION_T_GROUP,
    SIGNALR_ACTION_T_IDS,             /* an array of ids */
    SIGNALR_ACTION_T_TTL,
    SIGNALR_ACTION_T_ENDPOINTS,
    SIGNALR_ACTION_T_RECIPIENTS       /* ids, several, each once */
};


typedef struct {
    const char  *name;                /* camelCase, as the binding writes */
    int          type;                /* SIGNALR_ACTION_T_* */
    unsigned     routes;              /* the routes it may appear in */
    const char  *misplaced;           /* the error in any other route */
} signalr_action_field_t;


typedef struct {
    int          method;
    int          kind;                /* SIGNALR_CALL_* */
    unsigned     message;             /* a send: never sent twice */
    unsigned     body;                /* {"target","arguments"} */
    unsigned     connection;          /* about one connection */
    const char  *version;             /* the api-version query */
    const char  *what;
    const char  *name;                /* what, as a metric label */
    const char  *path;                /* after "/api/hubs/{hub}"; %c, %u */
                                      /* and %g are the escaped ids */
    const char  *absent;              /* the x-ms-error-code of a 404 */
                                      /* that counts as done */
} signalr_action_route_t;


/*
 * an "action": the route with connectionId, else with userId and
 * groupName, else with userId, else with groupName, else with none of
 * them; -1 where there is none, and then needs says what is missing
 */

typedef struct {
    const char  *name;
    int          connection;
    int          user_group;
    int          user;
    int          group;
    int          none;
    const char  *needs;
} signalr_action_verb_t;


/*
 * As the Functions binding, a message or a group action with connectionId
 * ignores userId and groupName, and a message with userId ignores
 * groupName; the actions it lacks take only the members they use.
 */

static const signalr_action_field_t  signalr_action_fields[] = {
    { "target", SIGNALR_ACTION_T_TARGET, SIGNALR_ACTION_ALL, NULL },
    { "arguments", SIGNALR_ACTION_T_ARRAY,
      SIGNALR_ACTION_SENDS | SIGNALR_ACTION_ROUTE(INVOKE),
      "\"arguments\" applies only to messages and \"invoke\"" },
    { "connectionId", SIGNALR_ACTION_T_ID,
      SIGNALR_ACTION_ALL & ~(SIGNALR_ACTION_ROUTE(LIST)
                             | SIGNALR_ACTION_CLOSES),
      NULL },
    { "userId", SIGNALR_ACTION_T_ID,
      SIGNALR_ACTION_ALL & ~(SIGNALR_ACTION_ROUTE(LIST)
                             | SIGNALR_ACTION_ROUTE(INVOKE)
                             | SIGNALR_ACTION_ROUTE(EXISTS_CONNECTION)),
      NULL },
    { "groupName", SIGNALR_ACTION_T_GROUP,
      SIGNALR_ACTION_ALL & ~(SIGNALR_ACTION_ROUTE(CLOSE)
                             | SIGNALR_ACTION_ROUTE(CLOSE_USER)
                             | SIGNALR_ACTION_ROUTE(INVOKE)
                             | SIGNALR_ACTION_ROUTE(EXISTS_CONNECTION)),
      NULL },
    { "excluded", SIGNALR_ACTION_T_IDS,
      SIGNALR_ACTION_ROUTE(BROADCAST) | SIGNALR_ACTION_ROUTE(SEND_GROUP)
      | SIGNALR_ACTION_CLOSES,
      "\"excluded\" applies only to broadcasts, group sends and "
      "\"closeConnections\"" },
    { "action", SIGNALR_ACTION_T_STRING, SIGNALR_ACTION_ALL, NULL },
    { "ttl", SIGNALR_ACTION_T_TTL, SIGNALR_ACTION_ROUTE(ADD_USER),
      "\"ttl\" applies only when adding a user to a group" },
    { "reason", SIGNALR_ACTION_T_STRING,
      SIGNALR_ACTION_ROUTE(CLOSE) | SIGNALR_ACTION_CLOSES,
      "\"reason\" applies only to \"close\" and \"closeConnections\"" },
    { "endpoints", SIGNALR_ACTION_T_ENDPOINTS, SIGNALR_ACTION_ALL, NULL },
    { "connectionIds", SIGNALR_ACTION_T_RECIPIENTS,
      SIGNALR_ACTION_ROUTE(SEND_CONNECTION)
      | SIGNALR_ACTION_ROUTE(ADD_CONNECTION)
      | SIGNALR_ACTION_ROUTE(REMOVE_CONNECTION)
      | SIGNALR_ACTION_ROUTE(REMOVE_CONNECTION_ALL)
      | SIGNALR_ACTION_ROUTE(CLOSE), NULL },
    { "userIds", SIGNALR_ACTION_T_RECIPIENTS,
      SIGNALR_ACTION_ROUTE(SEND_USER) | SIGNALR_ACTION_ROUTE(ADD_USER)
      | SIGNALR_ACTION_ROUTE(REMOVE_USER)
      | SIGNALR_ACTION_ROUTE(REMOVE_USER_ALL)
      | SIGNALR_ACTION_ROUTE(CLOSE_USER), NULL },
    { "groupNames", SIGNALR_ACTION_T_RECIPIENTS,
      SIGNALR_ACTION_ROUTE(SEND_GROUP) | SIGNALR_ACTION_ROUTE(ADD_CONNECTION)
      | SIGNALR_ACTION_ROUTE(REMOVE_CONNECTION)
      | SIGNALR_ACTION_ROUTE(ADD_USER) | SIGNALR_ACTION_ROUTE(REMOVE_USER)
      | SIGNALR_ACTION_ROUTE(CLOSE_GROUP), NULL }
};


/*
 * The routes of Microsoft's REST API specs (Azure/azure-signalr,
 * docs/swagger/V20220601.json and v20241201.json): :invoke and the list of
 * a group's connections came with 2024-12-01, every other route is in
 * 2022-06-01.
 *
 * absent: as RestHubLifetimeManager.cs of Azure/azure-signalr
 * (FilterExpectedResponse), adding a connection the endpoint does not hold
 * to a group, or closing it, is done; removing it from a group is not; an
 * existence check answered 404 with that code says "not there" (any other
 * 404 is a failure: a REST location that finds no route must not say so)
 */

#define SIGNALR_V2022  SIGNALR_API_VERSION_QUERY
#define SIGNALR_V2024  SIGNALR_API_VERSION_2024

static const signalr_action_route_t  signalr_action_routes[] = {
    { SIGNALR_REST_POST, SIGNALR_CALL_DO, 1, 1, 0, SIGNALR_V2022,
      "broadcast", "broadcast",
      "/:send", NULL },
    { SIGNALR_REST_POST, SIGNALR_CALL_DO, 1, 1, 0, SIGNALR_V2022,
      "send to user", "send_to_user",
      "/users/%u/:send", NULL },
    { SIGNALR_REST_POST, SIGNALR_CALL_DO, 1, 1, 0, SIGNALR_V2022,
      "send to group", "send_to_group",
      "/groups/%g/:send", NULL },
    { SIGNALR_REST_POST, SIGNALR_CALL_DO, 1, 1, 1, SIGNALR_V2022,
      "send to connection", "send_to_connection",
      "/connections/%c/:send", NULL },
    { SIGNALR_REST_PUT, SIGNALR_CALL_DO, 0, 0, 1, SIGNALR_V2022,
      "add connection to group", "add_connection_to_group",
      "/groups/%g/connections/%c",
      "Error.Connection.NotExisted" },
    { SIGNALR_REST_DELETE, SIGNALR_CALL_DO, 0, 0, 1, SIGNALR_V2022,
      "remove connection from group", "remove_connection_from_group",
      "/groups/%g/connections/%c", NULL },
    { SIGNALR_REST_DELETE, SIGNALR_CALL_DO, 0, 0, 1, SIGNALR_V2022,
      "remove connection from all groups", "remove_connection_from_all_groups",
      "/connections/%c/groups", NULL },
    { SIGNALR_REST_PUT, SIGNALR_CALL_DO, 0, 0, 0, SIGNALR_V2022,
      "add user to group", "add_user_to_group",
      "/users/%u/groups/%g", NULL },
    { SIGNALR_REST_DELETE, SIGNALR_CALL_DO, 0, 0, 0, SIGNALR_V2022,
      "remove user from group", "remove_user_from_group",
      "/users/%u/groups/%g", NULL },
    { SIGNALR_REST_DELETE, SIGNALR_CALL_DO, 0, 0, 0, SIGNALR_V2022,
      "remove user from all groups", "remove_user_from_all_groups",
      "/users/%u/groups", NULL },
    { SIGNALR_REST_DELETE, SIGNALR_CALL_DO, 0, 0, 1, SIGNALR_V2022,
      "close connection", "close_connection",
      "/connections/%c",
      "Warning.Connection.NotExisted" },
    { SIGNALR_REST_POST, SIGNALR_CALL_DO, 0, 0, 0, SIGNALR_V2022,
      "close hub connections", "close_hub_connections",
      "/:closeConnections", NULL },
    { SIGNALR_REST_POST, SIGNALR_CALL_DO, 0, 0, 0, SIGNALR_V2022,
      "close group connections", "close_group_connections",
      "/groups/%g/:closeConnections", NULL },
    { SIGNALR_REST_POST, SIGNALR_CALL_DO, 0, 0, 0, SIGNALR_V2022,
      "close user connections", "close_user_connections",
      "/users/%u/:closeConnections", NULL },
    { SIGNALR_REST_HEAD, SIGNALR_CALL_EXISTS, 0, 0, 1, SIGNALR_V2022,
      "connection exists", "connection_exists",
      "/connections/%c",
      "Warning.Connection.NotExisted" },
    { SIGNALR_REST_HEAD, SIGNALR_CALL_EXISTS, 0, 0, 0, SIGNALR_V2022,
      "user exists", "user_exists",
      "/users/%u", "Warning.User.NotExisted" },
    { SIGNALR_REST_HEAD, SIGNALR_CALL_EXISTS, 0, 0, 0, SIGNALR_V2022,
      "group exists", "group_exists",
      "/groups/%g", "Warning.Group.NotExisted" },
    { SIGNALR_REST_HEAD, SIGNALR_CALL_EXISTS, 0, 0, 0, SIGNALR_V2022,
      "user in group", "user_in_group",
      "/users/%u/groups/%g", "Info.User.NotInGroup" },
    { SIGNALR_REST_POST, SIGNALR_CALL_INVOKE, 0, 1, 1, SIGNALR_V2024,
      "invoke", "invoke",
      "/connections/%c/:invoke", NULL },
    { SIGNALR_REST_GET, SIGNALR_CALL_LIST, 0, 0, 0, SIGNALR_V2024,
      "list connections", "list_connections",
      "/groups/%g/connections", NULL }
};


const char *
signalr_action_name(size_t i)
{
    return (i < SIGNALR_ACTION_NROUTES) ? signalr_action_routes[i].name
                                        : NULL;
}


#define SIGNALR_ACTION_NONE  -1

static const signalr_action_verb_t  signalr_action_verbs[] = {
    { "add", SIGNALR_ACTION_R_ADD_CONNECTION, SIGNALR_ACTION_NONE,
      SIGNALR_ACTION_R_ADD_USER, SIGNALR_ACTION_NONE, SIGNALR_ACTION_NONE,
      "\"connectionId\" and \"userId\" cannot both be empty" },
    { "remove", SIGNALR_ACTION_R_REMOVE_CONNECTION, SIGNALR_ACTION_NONE,
      SIGNALR_ACTION_R_REMOVE_USER, SIGNALR_ACTION_NONE, SIGNALR_ACTION_NONE,
      "\"connectionId\" and \"userId\" cannot both be empty" },
    { "removeAll", SIGNALR_ACTION_R_REMOVE_CONNECTION_ALL,
      SIGNALR_ACTION_NONE, SIGNALR_ACTION_R_REMOVE_USER_ALL,
      SIGNALR_ACTION_NONE, SIGNALR_ACTION_NONE,
      "\"connectionId\" and \"userId\" cannot both be empty" },
    { "close", SIGNALR_ACTION_R_CLOSE, SIGNALR_ACTION_NONE,
      SIGNALR_ACTION_NONE, SIGNALR_ACTION_NONE, SIGNALR_ACTION_NONE,
      "\"close\" needs \"connectionId\"" },
    { "closeConnections", SIGNALR_ACTION_NONE, SIGNALR_ACTION_NONE,
      SIGNALR_ACTION_R_CLOSE_USER, SIGNALR_ACTION_R_CLOSE_GROUP,
      SIGNALR_ACTION_R_CLOSE_HUB,
      "\"closeConnections\" takes \"userId\", \"groupName\" or "
      "neither (\"close\" closes one connection)" },
    { "exists", SIGNALR_ACTION_R_EXISTS_CONNECTION,
      SIGNALR_ACTION_R_EXISTS_USER_GROUP, SIGNALR_ACTION_R_EXISTS_USER,
      SIGNALR_ACTION_R_EXISTS_GROUP, SIGNALR_ACTION_NONE,
      "\"exists\" needs \"connectionId\", \"userId\" or \"groupName\"" },
    { "invoke", SIGNALR_ACTION_R_INVOKE, SIGNALR_ACTION_NONE,
      SIGNALR_ACTION_NONE, SIGNALR_ACTION_NONE, SIGNALR_ACTION_NONE,
      "\"invoke\" needs \"connectionId\"" },
    { "listConnections", SIGNALR_ACTION_NONE, SIGNALR_ACTION_NONE,
      SIGNALR_ACTION_NONE, SIGNALR_ACTION_R_LIST, SIGNALR_ACTION_NONE,
      "\"listConnections\" needs \"groupName\"" }
};


#define SIGNALR_ACTION_NVERBS                                                 \
    (sizeof(signalr_action_verbs) / sizeof(signalr_action_verbs[0]))


/* formats into err; returns the length written, without the NUL */

static size_t
signalr_action_error(char *err, size_t errlen, const char *fmt, ...)
{
    int      n;
    va_list  args;

    if (errlen == 0) {
        return 0;
    }

    va_start(args, fmt);
    n = vsnprintf(err, errlen, fmt, args);
    va_end(args);

    if (n < 0) {
        err[0] = '\0';
        return 0;
    }

    return (size_t) n < errlen ? (size_t) n : errlen - 1;
}


/* a user-given name made safe to log: printable ASCII, cut to fit buf */

static void
signalr_action_printable(char *buf, size_t size, const char *p, size_t len)
{
    size_t         i, n;
    unsigned char  c;

    n = (len < size - 1) ? len : size - 4;

    for (i = 0; i < n; i++) {
        c = (unsigned char) p[i];
        buf[i] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '?';
    }

    if (n < len) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }

    buf[n] = '\0';
}


/* len bytes at p are the NUL-terminated name, ignoring ASCII case */

#define signalr_action_is(p, len, name)                                      \
    signalr_caseless_eq((const unsigned char *) (p), len,                    \
                        (const unsigned char *) (name), strlen(name))


/* fills value[] with the members of item, JSON null as NULL */

static int
signalr_action_members(json_t *item, json_t **value, char *err,
    size_t errlen)
{
    char         name[SIGNALR_ACTION_NAME_LEN];
    size_t       i;
    json_t      *v;
    const char  *key, *seen[SIGNALR_ACTION_NFIELDS];

    if (!json_is_object(item)) {
        signalr_action_error(err, errlen, "an action must be a JSON object");
        return -1;
    }

    for (i = 0; i < SIGNALR_ACTION_NFIELDS; i++) {
        value[i] = NULL;
        seen[i] = NULL;
    }

    json_object_foreach(item, key, v) {

        for (i = 0; i < SIGNALR_ACTION_NFIELDS; i++) {
            if (signalr_action_is(key, strlen(key),
                                  signalr_action_fields[i].name))
            {
                break;
            }
        }

        if (i == SIGNALR_ACTION_NFIELDS) {
            signalr_action_printable(name, sizeof(name), key, strlen(key));
            signalr_action_error(err, errlen, "unknown member \"%s\"", name);
            return -1;
        }

        /* a known name is ASCII letters only: safe to print as is */

        if (seen[i] != NULL) {
            signalr_action_error(err, errlen,
                                 "\"%s\" and \"%s\" name the same member",
                                 seen[i], key);
            return -1;
        }

        seen[i] = key;
        value[i] = json_is_null(v) ? NULL : v;
    }

    return 0;
}


static int
signalr_action_check_id(json_t *v, const char *label, int group, char *err,
    size_t errlen)
{
    size_t       len;
    const char  *p, *fmt;

    if (!json_is_string(v)) {
        fmt = "%s must be a string";

    } else {
        p = json_string_value(v);
        len = json_string_length(v);

        if (len == 0) {
            fmt = "empty %s";

        } else if (len > SIGNALR_ACTION_ID_MAX_LEN) {
            fmt = "%s is longer than 1024 bytes";

        } else if (strlen(p) != len) {
            fmt = "%s contains a NUL byte";

        } else if (p[0] == '.' && (len == 1 || (len == 2 && p[1] == '.'))) {
            /* a dot segment: a proxy normalising the path would drop it */
            fmt = "%s cannot be \".\" or \"..\"";

        } else if (group
                   && !signalr_group_valid((const unsigned char *) p, len))
        {
            fmt = "%s must not be only white space";

        } else {
            return 0;
        }
    }

    signalr_action_error(err, errlen, fmt, label);

    return -1;
}


/*
 * "endpoints": 1 to SIGNALR_ACTION_MAX_ENDPOINTS SignalREndpoint objects of
 * the Functions binding (LiteServiceEndpoint.cs of the extension), each
 * with a name or an endpoint URL; "online" is the sender's view and is not
 * used
 */

static int
signalr_action_check_endpoints(json_t *v, char *err, size_t errlen)
{
    char          name[SIGNALR_ACTION_NAME_LEN];
    size_t        i, k, n;
    json_t       *item, *m;
    unsigned      seen;
    json_int_t    type;
    const char   *key, *fmt;

    static const char  *members[SIGNALR_ACTION_NREF] = {
        "name", "endpoint", "endpointType", "online"
    };

    if (!json_is_array(v) || json_array_size(v) == 0) {
        signalr_action_error(err, errlen, "\"endpoints\" must be a non-empty "
                             "array of endpoints (leave it out to send to "
                             "every endpoint)");
        return -1;
    }

    if (json_array_size(v) > SIGNALR_ACTION_MAX_ENDPOINTS) {
        signalr_action_error(err, errlen, "\"endpoints\" has more than %d "
                             "items", SIGNALR_ACTION_MAX_ENDPOINTS);
        return -1;
    }

    json_array_foreach(v, i, item) {

        if (!json_is_object(item)) {
            signalr_action_error(err, errlen, "\"endpoints\" item %zu must "
                                 "be an object", i);
            return -1;
        }

        n = 0;
        fmt = NULL;
        seen = 0;

        json_object_foreach(item, key, m) {

            /* each member once, in any case */

            for (k = 0; k < SIGNALR_ACTION_NREF; k++) {
                if (signalr_action_is(key, strlen(key), members[k])) {
                    break;
                }
            }

            if (k < SIGNALR_ACTION_NREF && (seen & (1u << k))) {
                fmt = "\"endpoints\" item %zu: \"%s\" is given twice";
                break;
            }

            seen |= (k < SIGNALR_ACTION_NREF) ? 1u << k : 0;

            if (json_is_null(m)) {
                continue;
            }

            if (signalr_action_is(key, strlen(key), "name")
                || signalr_action_is(key, strlen(key), "endpoint"))
            {
                if (!json_is_string(m) || json_string_length(m) == 0
                    || json_string_length(m) > SIGNALR_ACTION_ID_MAX_LEN
                    || strlen(json_string_value(m)) != json_string_length(m))
                {
                    fmt = "\"endpoints\" item %zu: \"%s\" must be a "
                          "non-empty string of at most 1024 bytes";
                    break;
                }

                n++;

            } else if (signalr_action_is(key, strlen(key), "endpointType")) {
                type = -1;

                if (json_is_string(m)) {
                    type = signalr_action_is(json_string_value(m),
                                             json_string_length(m),
                                             "primary") ? 0
                           : signalr_action_is(json_string_value(m),
                                               json_string_length(m),
                                               "secondary") ? 1 : -1;

                } else if (json_is_integer(m)) {
                    type = json_integer_value(m);
                }

                if (type != 0 && type != 1) {
                    fmt = "\"endpoints\" item %zu: \"%s\" must be "
                          "\"Primary\" or \"Secondary\"";
                    break;
                }

            } else if (signalr_action_is(key, strlen(key), "online")) {
                if (!json_is_boolean(m)) {
                    fmt = "\"endpoints\" item %zu: \"%s\" must be true or "
                          "false";
                    break;
                }

            } else {
                signalr_action_printable(name, sizeof(name), key,
                                         strlen(key));
                signalr_action_error(err, errlen, "\"endpoints\" item %zu: "
                                     "unknown member \"%s\"", i, name);
                return -1;
            }
        }

        if (fmt != NULL) {
            /* a known name, in ASCII letters, but in the caller's case */
            signalr_action_printable(name, sizeof(name), key, strlen(key));
            signalr_action_error(err, errlen, fmt, i, name);
            return -1;
        }

        if (n == 0) {
            signalr_action_error(err, errlen, "\"endpoints\" item %zu needs "
                                 "\"name\" or \"endpoint\"", i);
            return -1;
        }
    }

    return 0;
}


static char *
signalr_action_copy(json_t *v)
{
    char    *p;
    size_t   len;

    len = json_string_length(v);

    p = malloc(len + 1);
    if (p != NULL) {
        memcpy(p, json_string_value(v), len + 1);
    }

    return p;
}


/* the checked "endpoints" of an action, copied into the call */

static int
signalr_action_endpoints(json_t *v, signalr_rest_call_t *call)
{
    size_t                   i;
    json_t                  *item, *m;
    const char              *key;
    signalr_endpoint_ref_t  *ref;

    call->endpoints = calloc(json_array_size(v),
                             sizeof(signalr_endpoint_ref_t));
    if (call->endpoints == NULL) {
        return -1;
    }

    json_array_foreach(v, i, item) {
        ref = &call->endpoints[i];
        ref->type = -1;
        call->nendpoints++;

        json_object_foreach(item, key, m) {

            if (json_is_null(m)) {
                continue;
            }

            if (signalr_action_is(key, strlen(key), "name")) {
                ref->name = signalr_action_copy(m);
                if (ref->name == NULL) {
                    return -1;
                }

            } else if (signalr_action_is(key, strlen(key), "endpoint")) {
                ref->url = signalr_action_copy(m);
                if (ref->url == NULL) {
                    return -1;
                }

            } else if (signalr_action_is(key, strlen(key), "endpointType")) {
                ref->type = json_is_integer(m)
                            ? (int) json_integer_value(m)
                            : signalr_action_is(json_string_value(m),
                                                json_string_length(m),
                                                "secondary");
            }
        }
    }

    return 0;
}


/*
 * "connectionIds", "userIds", "groupNames": 1 to
 * SIGNALR_ACTION_MAX_RECIPIENTS ids of the member named without the "s",
 * each once
 */

static int
signalr_action_check_recipients(json_t *v, size_t field, char *err,
    size_t errlen)
{
    char         label[SIGNALR_ACTION_NAME_LEN];
    size_t       j, k;
    json_t      *id, *other;
    const char  *name;

    name = signalr_action_fields[field].name;

    if (!json_is_array(v) || json_array_size(v) == 0
        || json_array_size(v) > SIGNALR_ACTION_MAX_RECIPIENTS)
    {
        signalr_action_error(err, errlen, "\"%s\" must be an array of 1 "
                             "to %d strings", name,
                             SIGNALR_ACTION_MAX_RECIPIENTS);
        return -1;
    }

    json_array_foreach(v, j, id) {
        snprintf(label, sizeof(label), "\"%s\" item %zu", name, j);

        if (signalr_action_check_id(id, label,
                                    field == SIGNALR_ACTION_F_GROUP_NAMES,
                                    err, errlen)
            != 0)
        {
            return -1;
        }

        for (k = 0; k < j; k++) {
            other = json_array_get(v, k);

            if (json_string_length(other) == json_string_length(id)
                && memcmp(json_string_value(other), json_string_value(id),
                          json_string_length(id))
                   == 0)
            {
                signalr_action_error(err, errlen, "\"%s\" item %zu repeats "
                                     "item %zu", name, j, k);
                return -1;
            }
        }
    }

    return 0;
}


/* checks the type of every member given, used or not */

static int
signalr_action_check(json_t **value, char *err, size_t errlen)
{
    int          group;
    char         label[SIGNALR_ACTION_NAME_LEN];
    size_t       i, j;
    json_t      *v, *id;
    json_int_t   ttl;
    const char  *name, *fmt;

    for (i = 0; i < SIGNALR_ACTION_NFIELDS; i++) {
        v = value[i];

        if (v == NULL) {
            continue;
        }

        name = signalr_action_fields[i].name;
        fmt = NULL;

        switch (signalr_action_fields[i].type) {

        case SIGNALR_ACTION_T_TARGET:
            if (!json_is_string(v) || json_string_length(v) == 0) {
                fmt = "\"%s\" must be a non-empty string";
            }
            break;

        case SIGNALR_ACTION_T_STRING:
            if (!json_is_string(v)) {
                fmt = "\"%s\" must be a string";

            } else if (json_string_length(v) > SIGNALR_ACTION_ID_MAX_LEN) {
                fmt = "\"%s\" is longer than 1024 bytes";
            }
            break;

        case SIGNALR_ACTION_T_ARRAY:
            if (!json_is_array(v)) {
                fmt = "\"%s\" must be an array";
            }
            break;

        case SIGNALR_ACTION_T_ID:
        case SIGNALR_ACTION_T_GROUP:
            snprintf(label, sizeof(label), "\"%s\"", name);
            group = (signalr_action_fields[i].type == SIGNALR_ACTION_T_GROUP);

            if (signalr_action_check_id(v, label, group, err, errlen) != 0) {
                return -1;
            }
            break;

        case SIGNALR_ACTION_T_IDS:
            if (!json_is_array(v)) {
                fmt = "\"%s\" must be an array of strings";
                break;
            }

            json_array_foreach(v, j, id) {
                snprintf(label, sizeof(label), "\"%s\" item %zu", name, j);

                if (signalr_action_check_id(id, label, 0, err, errlen) != 0) {
                    return -1;
                }
            }
            break;

        case SIGNALR_ACTION_T_ENDPOINTS:
            if (signalr_action_check_endpoints(v, err, errlen) != 0) {
                return -1;
            }
            break;

        case SIGNALR_ACTION_T_RECIPIENTS:
            if (signalr_action_check_recipients(v, i, err, errlen) != 0) {
                return -1;
            }
            break;

        case SIGNALR_ACTION_T_TTL:
            ttl = json_is_integer(v) ? json_integer_value(v) : -1;

            if (ttl < 0 || ttl > SIGNALR_ACTION_TTL_MAX) {
                fmt = "\"%s\" must be an integer from 0 to 2147483647";
            }
            break;

        default: /* SIGNALR_ACTION_T_ANY */
            break;
        }

        if (fmt != NULL) {
            signalr_action_error(err, errlen, fmt, name);
            return -1;
        }
    }

    return 0;
}


/*
 * returns the SIGNALR_ACTION_R_* route of a checked action, or -1; sets
 * *several to the member with several recipients, or to -1
 */

static int
signalr_action_route(json_t **value, int *several, char *err, size_t errlen)
{
    int                           has[3], route;
    char                          name[SIGNALR_ACTION_NAME_LEN];
    size_t                        i, k, len;
    const char                   *p;
    const signalr_action_verb_t  *verb;

    /* connectionId, userId and groupName, one or several of each */

    *several = -1;

    for (k = 0; k < 3; k++) {
        has[k] = (value[SIGNALR_ACTION_F_CONNECTION_ID + k] != NULL);

        if (value[SIGNALR_ACTION_F_CONNECTION_IDS + k] == NULL) {
            continue;
        }

        if (has[k]) {
            signalr_action_error(err, errlen, "\"%s\" and \"%s\" cannot "
                    "both be given",
                    signalr_action_fields[SIGNALR_ACTION_F_CONNECTION_ID
                                          + k].name,
                    signalr_action_fields[SIGNALR_ACTION_F_CONNECTION_IDS
                                          + k].name);
            return -1;
        }

        if (*several >= 0) {
            signalr_action_error(err, errlen, "\"%s\" and \"%s\" cannot "
                    "both be given: an action has one list of recipients",
                    signalr_action_fields[*several].name,
                    signalr_action_fields[SIGNALR_ACTION_F_CONNECTION_IDS
                                          + k].name);
            return -1;
        }

        *several = SIGNALR_ACTION_F_CONNECTION_IDS + k;
        has[k] = 1;
    }

    if (value[SIGNALR_ACTION_F_ACTION] == NULL) {

        if (value[SIGNALR_ACTION_F_TARGET] == NULL) {
            signalr_action_error(err, errlen, "an action needs \"target\" "
                                 "(a message) or \"action\"");
            return -1;
        }

        /* the precedence of the Functions binding */

        return has[0] ? SIGNALR_ACTION_R_SEND_CONNECTION
               : has[1] ? SIGNALR_ACTION_R_SEND_USER
               : has[2] ? SIGNALR_ACTION_R_SEND_GROUP
               : SIGNALR_ACTION_R_BROADCAST;
    }

    p = json_string_value(value[SIGNALR_ACTION_F_ACTION]);
    len = json_string_length(value[SIGNALR_ACTION_F_ACTION]);

    for (i = 0; i < SIGNALR_ACTION_NVERBS; i++) {
        if (signalr_action_is(p, len, signalr_action_verbs[i].name)) {
            break;
        }
    }

    if (i == SIGNALR_ACTION_NVERBS) {
        signalr_action_printable(name, sizeof(name), p, len);
        signalr_action_error(err, errlen, "unknown action \"%s\" (expected "
                             "\"add\", \"remove\", \"removeAll\", "
                             "\"close\", \"closeConnections\", \"exists\", "
                             "\"invoke\" or \"listConnections\")", name);
        return -1;
    }

    verb = &signalr_action_verbs[i];

    if (value[SIGNALR_ACTION_F_TARGET] != NULL
        && verb->connection != SIGNALR_ACTION_R_INVOKE)
    {
        signalr_action_error(err, errlen, "\"target\" applies only to "
                             "messages and \"invoke\"");
        return -1;
    }

    if (verb->connection == SIGNALR_ACTION_R_INVOKE
        && value[SIGNALR_ACTION_F_TARGET] == NULL)
    {
        signalr_action_error(err, errlen, "\"invoke\" needs \"target\"");
        return -1;
    }

    /* the first route the members given have; the others are misplaced */

    route = SIGNALR_ACTION_NONE;

    if (has[0]) {
        route = verb->connection;
    }

    if (route == SIGNALR_ACTION_NONE && has[1] && has[2]) {
        route = verb->user_group;
    }

    if (route == SIGNALR_ACTION_NONE && has[1]) {
        route = verb->user;
    }

    if (route == SIGNALR_ACTION_NONE && has[2]) {
        route = verb->group;
    }

    if (route == SIGNALR_ACTION_NONE && !has[0] && !has[1] && !has[2]) {
        route = verb->none;
    }

    if (route == SIGNALR_ACTION_NONE) {
        signalr_action_error(err, errlen, "%s", verb->needs);
        return -1;
    }

    return route;
}


static int
signalr_action_escape(signalr_str_t *s, const char *p, size_t len)
{
    size_t          n;
    unsigned char   buf[3 * 64], *end;

    while (len) {
        n = (len < 64) ? len : 64;
        end = signalr_uri_escape(buf, (const unsigned char *) p, n);

        if (signalr_str_append(s, buf, end - buf) != 0) {
            return -1;
        }

        p += n;
        len -= n;
    }

    return 0;
}


static int
signalr_action_escape_json(signalr_str_t *s, const char *prefix, json_t *v)
{
    if (signalr_str_append(s, prefix, strlen(prefix)) != 0) {
        return -1;
    }

    return signalr_action_escape(s, json_string_value(v),
                                 json_string_length(v));
}


/* writes the path; on failure the error is in err */

static int
signalr_action_path(signalr_str_t *s, const char *hub, const char *tpl,
    json_t **value, char *err, size_t errlen)
{
    int          field;
    size_t       n;
    json_t      *v;
    const char  *p, *ids;

    if (signalr_str_append(s, "/api/hubs/", 10) != 0
        || signalr_action_escape(s, hub, strlen(hub)) != 0)
    {
        goto nomem;
    }

    for (p = tpl; *p != '\0'; p += n) {

        if (*p != '%') {
            n = strcspn(p, "%");

            if (signalr_str_append(s, p, n) != 0) {
                goto nomem;
            }

            continue;
        }

        /* %c, %u and %g: the members follow each other in that order */

        ids = "cug";
        field = SIGNALR_ACTION_F_CONNECTION_ID + (strchr(ids, p[1]) - ids);
        v = value[field];
        n = 2;

        if (v == NULL) {
            signalr_action_error(err, errlen, "\"%s\" is missing",
                                 signalr_action_fields[field].name);
            return -1;
        }

        if (signalr_action_escape(s, json_string_value(v),
                                  json_string_length(v))
            != 0)
        {
            goto nomem;
        }
    }

    return 0;

nomem:

    signalr_action_error(err, errlen, SIGNALR_ACTION_NOMEM);

    return -1;
}


static int
signalr_action_query(signalr_str_t *s, const signalr_action_route_t *route,
    json_t **value)
{
    int      n;
    char     num[32];
    size_t   i;
    json_t  *v;

    if (signalr_str_append(s, route->version, strlen(route->version)) != 0) {
        return -1;
    }

    /* the largest page the service gives (v20241201.json) */

    if (route->kind == SIGNALR_CALL_LIST
        && signalr_str_append(s, "&maxpagesize=200", 16) != 0)
    {
        return -1;
    }

    /* json_array_size(NULL) is 0: no "excluded", no iteration */

    json_array_foreach(value[SIGNALR_ACTION_F_EXCLUDED], i, v) {
        if (signalr_action_escape_json(s, "&excluded=", v) != 0) {
            return -1;
        }
    }

    v = value[SIGNALR_ACTION_F_TTL];

    if (v != NULL) {
        n = snprintf(num, sizeof(num), "&ttl=%" JSON_INTEGER_FORMAT,
                     json_integer_value(v));

        if (signalr_str_append(s, num, n) != 0) {
            return -1;
        }
    }

    v = value[SIGNALR_ACTION_F_REASON];

    if (v != NULL && signalr_action_escape_json(s, "&reason=", v) != 0) {
        return -1;
    }

    return 0;
}


/* {"target":..,"arguments":[..]}, as the swagger PayloadMessage */

static int
signalr_action_body(signalr_str_t *s, json_t **value)
{
    json_t  *target, *arguments;

    target = value[SIGNALR_ACTION_F_TARGET];
    arguments = value[SIGNALR_ACTION_F_ARGUMENTS];

    if (signalr_str_append(s, "{\"target\":", 10) != 0
        || signalr_str_append_json_string(s, json_string_value(target),
                                          json_string_length(target))
           != 0
        || signalr_str_append(s, ",\"arguments\":", 13) != 0
        || (arguments ? signalr_json_dump(s, arguments)
                      : signalr_str_append(s, "[]", 2))
           != 0)
    {
        return -1;
    }

    return signalr_str_append(s, "}", 1);
}


static int
signalr_action_build(const char *hub, const signalr_action_route_t *route,
    json_t **value, const signalr_rest_call_t *shared, signalr_rest_call_t *call,
    char *err, size_t errlen)
{
    signalr_str_t  path, query, body;

    memset(&path, 0, sizeof(signalr_str_t));
    memset(&query, 0, sizeof(signalr_str_t));
    memset(&body, 0, sizeof(signalr_str_t));

    if (signalr_action_path(&path, hub, route->path, value, err, errlen)
        != 0)
    {
        goto failed;
    }

    /* path, query and body end with a NUL not counted in their lengths */

    if (signalr_str_append(&path, "", 1) != 0
        || signalr_action_query(&query, route, value) != 0
        || signalr_str_append(&query, "", 1) != 0
        || (route->body && shared == NULL
            && (signalr_action_body(&body, value) != 0
                || signalr_str_append(&body, "", 1) != 0)))
    {
        signalr_action_error(err, errlen, SIGNALR_ACTION_NOMEM);
        goto failed;
    }

    /*
     * the service's front takes a request line of 8 KB (as Kestrel's
     * MaxRequestLineSize); one longer is answered 414, which the caller
     * could do nothing about: refused here, before anything is sent
     */

    if (path.len - 1 + 1 + query.len - 1 > SIGNALR_ACTION_MAX_URI) {
        signalr_action_error(err, errlen, "the REST call's URI would be %zu "
                             "bytes long, more than the %d the service "
                             "takes: fewer \"excluded\" ids",
                             path.len - 1 + 1 + query.len - 1,
                             SIGNALR_ACTION_MAX_URI);
        goto failed;
    }

    call->method = route->method;
    call->kind = route->kind;
    call->message = route->message;
    call->connection = route->connection;
    call->what = route->what;
    call->name = route->name;
    call->absent = route->absent;
    call->path = path.data;
    call->path_len = path.len - 1;
    call->query = query.data;
    call->query_len = query.len - 1;
    call->body = body.data;
    call->body_len = body.len ? body.len - 1 : 0;

    /* the recipients of an action get the same message: made once */

    if (shared && shared->body) {
        call->body = shared->body;
        call->body_len = shared->body_len;
        call->body_shared = 1;
    }

    return 0;

failed:

    signalr_str_free(&path);
    signalr_str_free(&query);
    signalr_str_free(&body);

    return -1;
}


/* room for one more call in out */

static signalr_rest_call_t *
signalr_action_push(signalr_rest_calls_t *out)
{
    size_t                size;
    signalr_rest_call_t  *calls;

    if (out->n == out->size) {
        size = out->size ? 2 * out->size : 4;

        calls = realloc(out->calls, size * sizeof(signalr_rest_call_t));
        if (calls == NULL) {
            return NULL;
        }

        out->calls = calls;
        out->size = size;
    }

    memset(&out->calls[out->n], 0, sizeof(signalr_rest_call_t));

    return &out->calls[out->n];
}


int
signalr_action_from_json(const char *hub, json_t *item,
    signalr_rest_calls_t *out, char *err, size_t errlen)
{
    int                            route, several, single;
    size_t                         i, k, n;
    json_t                        *value[SIGNALR_ACTION_NFIELDS], *list;
    signalr_rest_call_t           *call;
    const signalr_action_route_t  *r;

    if (signalr_action_members(item, value, err, errlen) != 0
        || signalr_action_check(value, err, errlen) != 0)
    {
        return -1;
    }

    route = signalr_action_route(value, &several, err, errlen);
    if (route < 0) {
        return -1;
    }

    r = &signalr_action_routes[route];

    for (i = 0; i < SIGNALR_ACTION_NFIELDS; i++) {
        if (value[i] == NULL
            || (signalr_action_fields[i].routes & (1u << route)) != 0)
        {
            continue;
        }

        if (signalr_action_fields[i].misplaced) {
            signalr_action_error(err, errlen, "%s",
                                 signalr_action_fields[i].misplaced);

        } else {
            signalr_action_error(err, errlen, "\"%s\" does not apply to "
                                 "\"%s\"", signalr_action_fields[i].name,
                                 r->what);
        }

        return -1;
    }

    /* one call, or one for each recipient, in the member they replace */

    list = (several >= 0) ? value[several] : NULL;
    single = several - SIGNALR_ACTION_F_CONNECTION_IDS
             + SIGNALR_ACTION_F_CONNECTION_ID;
    n = list ? json_array_size(list) : 1;

    for (k = 0; k < n; k++) {
        call = signalr_action_push(out);
        if (call == NULL) {
            signalr_action_error(err, errlen, SIGNALR_ACTION_NOMEM);
            return -1;
        }

        if (list) {
            value[single] = json_array_get(list, k);
        }

        if (signalr_action_build(hub, r, value,
                                 k ? &out->calls[out->n - 1] : NULL, call,
                                 err, errlen)
            != 0)
        {
            return -1;
        }

        out->n++;

        call->action = out->nactions;

        if (list) {
            call->member = signalr_action_fields[single].name;
            call->recipient = signalr_action_copy(value[single]);

            if (call->recipient == NULL) {
                signalr_action_error(err, errlen, SIGNALR_ACTION_NOMEM);
                return -1;
            }
        }

        if (value[SIGNALR_ACTION_F_ENDPOINTS] != NULL
            && signalr_action_endpoints(value[SIGNALR_ACTION_F_ENDPOINTS],
                                        call)
               != 0)
        {
            signalr_action_error(err, errlen, SIGNALR_ACTION_NOMEM);
            return -1;
        }
    }

    out->nactions++;

    return 0;
}


int
signalr_actions_parse(const char *hub, const char *body, size_t len,
    size_t max_actions, signalr_rest_calls_t *out, char *err, size_t errlen)
{
    size_t        i, n, off;
    json_t       *root, *item;
    json_error_t  error;

    memset(out, 0, sizeof(signalr_rest_calls_t));

    root = json_loadb(body, len,
                      JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL,
                      &error);
    if (root == NULL) {
        signalr_action_error(err, errlen,
                             "invalid JSON at line %d, column %d: %s",
                             error.line, error.column, error.text);
        return -1;
    }

    if (json_is_object(root)) {
        n = 1;

    } else if (json_is_array(root)) {
        n = json_array_size(root);

    } else {
        signalr_action_error(err, errlen, "the body must be a JSON object "
                             "or an array of objects");
        goto failed;
    }

    if (n == 0) {
        signalr_action_error(err, errlen, "no actions");
        goto failed;
    }

    if (n > max_actions) {
        signalr_action_error(err, errlen, "more than %zu actions",
                             max_actions);
        goto failed;
    }

    for (i = 0; i < n; i++) {
        item = root;
        off = 0;

        if (json_is_array(root)) {
            item = json_array_get(root, i);
            off = signalr_action_error(err, errlen, "action %zu: ", i);
        }

        if (signalr_action_from_json(hub, item, out,
                                     errlen ? err + off : err, errlen - off)
            != 0)
        {
            goto failed;
        }

        /* recipients count: max_actions bounds the calls */

        if (out->n > max_actions) {
            signalr_action_error(err, errlen, "more than %zu actions (each "
                                 "recipient counts as one)", max_actions);
            goto failed;
        }

        /* an action with an answer of its own is the only one */

        if (n > 1 && out->calls[out->n - 1].kind != SIGNALR_CALL_DO) {
            signalr_action_error(errlen ? err + off : err, errlen - off,
                                 "\"%s\" must be "
                                 "the only action: it has an answer of its "
                                 "own", out->calls[out->n - 1].kind
                                        == SIGNALR_CALL_EXISTS ? "exists"
                                        : out->calls[out->n - 1].kind
                                          == SIGNALR_CALL_INVOKE ? "invoke"
                                        : "listConnections");
            goto failed;
        }
    }

    json_decref(root);

    return 0;

failed:

    signalr_rest_calls_free(out);
    json_decref(root);

    return -1;
}


void
signalr_rest_call_free(signalr_rest_call_t *call)
{
    size_t  i;

    free(call->path);
    free(call->query);
    free(call->recipient);

    if (!call->body_shared) {
        free(call->body);
    }

    for (i = 0; i < call->nendpoints; i++) {
        free(call->endpoints[i].name);
        free(call->endpoints[i].url);
    }

    free(call->endpoints);
    memset(call, 0, sizeof(signalr_rest_call_t));
}


void
signalr_rest_calls_free(signalr_rest_calls_t *calls)
{
    size_t  i;

    for (i = 0; i < calls->n; i++) {
        signalr_rest_call_free(&calls->calls[i]);
    }

    free(calls->calls);
    memset(calls, 0, sizeof(signalr_rest_calls_t));
}
