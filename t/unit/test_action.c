/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Unit tests of signalr_action.c: output binding JSON to SignalR Service
 * REST API calls.
 */

#include <stdlib.h>

#include "unit.h"
#include "signalr_action.h"


#define V  "api-version=2022-06-01"


/* checks every member of a call; body is NULL for non-message calls */

#define CHECK_CALL(c, m, p, q, b)                                             \
    do {                                                                      \
        const char  *body_ = (b);                                             \
        CHECK_INT((c)->method, m);                                            \
        CHECK_INT((c)->message,                                               \
                  body_ != NULL && (c)->kind == SIGNALR_CALL_DO);             \
        CHECK_STR((c)->path, p);                                              \
        CHECK_INT((c)->path_len, strlen(p));                                  \
        CHECK_STR((c)->query, q);                                             \
        CHECK_INT((c)->query_len, strlen(q));                                 \
        if (body_ == NULL) {                                                  \
            CHECK((c)->body == NULL);                                         \
            CHECK_INT((c)->body_len, 0);                                      \
        } else {                                                              \
            CHECK_STR((c)->body, body_);                                      \
            CHECK_INT((c)->body_len, strlen(body_));                          \
        }                                                                     \
        CHECK((c)->what != NULL);                                             \
    } while (0)


/* parses json as one action and checks the call it becomes */

#define EXPECT_ONE(json, m, p, q, b)                                          \
    do {                                                                      \
        char                  err_[256];                                      \
        signalr_rest_calls_t  calls_;                                         \
        err_[0] = '\0';                                                       \
        if (signalr_actions_parse("chat", json, strlen(json), 100, &calls_,   \
                                  err_, sizeof(err_))                         \
            != 0)                                                             \
        {                                                                     \
            UNIT_FAIL("%s: unexpected error: %s", json, err_);                \
            break;                                                            \
        }                                                                     \
        CHECK_INT(calls_.n, 1);                                               \
        CHECK_CALL(&calls_.calls[0], m, p, q, b);                             \
        signalr_rest_calls_free(&calls_);                                     \
    } while (0)


/* parses json and checks the error message */

#define EXPECT_ERR(json, msg)                                                 \
    do {                                                                      \
        char                  err_[256];                                      \
        const char           *json_ = (json);                                 \
        signalr_rest_calls_t  calls_;                                         \
        err_[0] = '\0';                                                       \
        if (signalr_actions_parse("chat", json_, strlen(json_), 100, &calls_, \
                                  err_, sizeof(err_))                         \
            == 0)                                                             \
        {                                                                     \
            UNIT_FAIL("%s: unexpectedly parsed", json_);                      \
            signalr_rest_calls_free(&calls_);                                 \
            break;                                                            \
        }                                                                     \
        CHECK(calls_.calls == NULL);                                          \
        CHECK_INT(calls_.n, 0);                                               \
        CHECK_STR(err_, msg);                                                 \
    } while (0)


static void
test_broadcast(void)
{
    EXPECT_ONE("{\"target\":\"newMessage\",\"arguments\":[\"hi\",1]}",
               SIGNALR_REST_POST, "/api/hubs/chat/:send", V,
               "{\"target\":\"newMessage\",\"arguments\":[\"hi\",1]}");

    EXPECT_ONE("{\"target\":\"ping\"}",
               SIGNALR_REST_POST, "/api/hubs/chat/:send", V,
               "{\"target\":\"ping\",\"arguments\":[]}");

    EXPECT_ONE("  {\"arguments\":[],\"target\":\"t\"}\n",
               SIGNALR_REST_POST, "/api/hubs/chat/:send", V,
               "{\"target\":\"t\",\"arguments\":[]}");
}


static void
test_what(void)
{
    char                  err[256];
    const char           *json;
    signalr_rest_calls_t  calls;

    json = "[{\"target\":\"t\"},{\"target\":\"t\",\"userId\":\"u\"},"
           "{\"action\":\"add\",\"connectionId\":\"c\",\"groupName\":\"g\"},"
           "{\"action\":\"close\",\"connectionId\":\"c\"}]";

    CHECK_INT(signalr_actions_parse("chat", json, strlen(json), 100, &calls,
                                    err, sizeof(err)), 0);
    CHECK_INT(calls.n, 4);

    if (calls.n == 4) {
        CHECK_STR(calls.calls[0].what, "broadcast");
        CHECK_STR(calls.calls[1].what, "send to user");
        CHECK_STR(calls.calls[2].what, "add connection to group");
        CHECK_STR(calls.calls[3].what, "close connection");
    }

    signalr_rest_calls_free(&calls);
    CHECK(calls.calls == NULL);
    CHECK_INT(calls.n, 0);
}


/*
 * the calls about one connection, and the 404 codes that count as done
 * (RestHubLifetimeManager.cs of Azure/azure-signalr)
 */

static void
test_connection_scope(void)
{
    char                  err[256];
    size_t                i;
    const char           *json;
    signalr_rest_calls_t  calls;

    static const struct {
        int          connection;
        const char  *absent;
    } expect[] = {
        { 0, NULL },                              /* broadcast */
        { 0, NULL },                              /* send to user */
        { 0, NULL },                              /* send to group */
        { 1, NULL },                              /* send to connection */
        { 1, "Error.Connection.NotExisted" },     /* add connection */
        { 1, NULL },                              /* remove connection */
        { 1, NULL },                              /* remove from all */
        { 0, NULL },                              /* add user */
        { 0, NULL },                              /* remove user */
        { 0, NULL },                              /* remove user from all */
        { 1, "Warning.Connection.NotExisted" }    /* close */
    };

    json = "[{\"target\":\"t\"},{\"target\":\"t\",\"userId\":\"u\"},"
           "{\"target\":\"t\",\"groupName\":\"g\"},"
           "{\"target\":\"t\",\"connectionId\":\"c\"},"
           "{\"action\":\"add\",\"connectionId\":\"c\",\"groupName\":\"g\"},"
           "{\"action\":\"remove\",\"connectionId\":\"c\",\"groupName\":\"g\"},"
           "{\"action\":\"removeAll\",\"connectionId\":\"c\"},"
           "{\"action\":\"add\",\"userId\":\"u\",\"groupName\":\"g\"},"
           "{\"action\":\"remove\",\"userId\":\"u\",\"groupName\":\"g\"},"
           "{\"action\":\"removeAll\",\"userId\":\"u\"},"
           "{\"action\":\"close\",\"connectionId\":\"c\"}]";

    CHECK_INT(signalr_actions_parse("chat", json, strlen(json), 100, &calls,
                                    err, sizeof(err)), 0);
    CHECK_INT(calls.n, 11);

    for (i = 0; i < calls.n && i < 11; i++) {
        CHECK_INT(calls.calls[i].connection, expect[i].connection);

        if (expect[i].absent == NULL) {
            CHECK(calls.calls[i].absent == NULL);

        } else {
            CHECK(calls.calls[i].absent != NULL);
            CHECK_STR(calls.calls[i].absent, expect[i].absent);
        }
    }

    signalr_rest_calls_free(&calls);
}


/* "endpoints": the Functions binding's SignalREndpoint objects */

static void
test_endpoints(void)
{
    char                  err[256];
    const char           *json;
    signalr_rest_calls_t  calls;

    json = "[{\"target\":\"t\"},"
           "{\"action\":\"close\",\"connectionId\":\"c\",\"endpoints\":"
           "[{\"name\":\"east\",\"endpointType\":\"Secondary\","
           "\"Online\":false},{\"Endpoint\":\"https://w.example.net\","
           "\"endpointType\":0,\"name\":null},"
           "{\"name\":\"x\",\"endpoint\":\"http://x\"}]}]";

    CHECK_INT(signalr_actions_parse("chat", json, strlen(json), 100, &calls,
                                    err, sizeof(err)), 0);
    CHECK_INT(calls.n, 2);

    if (calls.n == 2) {
        CHECK(calls.calls[0].endpoints == NULL);
        CHECK_INT(calls.calls[0].nendpoints, 0);
        CHECK_INT(calls.calls[1].nendpoints, 3);
    }

    if (calls.n == 2 && calls.calls[1].nendpoints == 3) {
        CHECK_STR(calls.calls[1].endpoints[0].name, "east");
        CHECK(calls.calls[1].endpoints[0].url == NULL);
        CHECK_INT(calls.calls[1].endpoints[0].type, 1);
        CHECK(calls.calls[1].endpoints[1].name == NULL);
        CHECK_STR(calls.calls[1].endpoints[1].url, "https://w.example.net");
        CHECK_INT(calls.calls[1].endpoints[1].type, 0);
        CHECK_STR(calls.calls[1].endpoints[2].name, "x");
        CHECK_STR(calls.calls[1].endpoints[2].url, "http://x");
        CHECK_INT(calls.calls[1].endpoints[2].type, -1);
    }

    signalr_rest_calls_free(&calls);

    EXPECT_ERR("{\"target\":\"t\",\"endpoints\":[]}",
               "\"endpoints\" must be a non-empty array of endpoints (leave "
               "it out to send to every endpoint)");
    EXPECT_ERR("{\"target\":\"t\",\"endpoints\":{\"name\":\"a\"}}",
               "\"endpoints\" must be a non-empty array of endpoints (leave "
               "it out to send to every endpoint)");
    EXPECT_ERR("{\"target\":\"t\",\"endpoints\":[\"a\"]}",
               "\"endpoints\" item 0 must be an object");
    EXPECT_ERR("{\"target\":\"t\",\"endpoints\":[{\"name\":\"a\"},{}]}",
               "\"endpoints\" item 1 needs \"name\" or \"endpoint\"");
    EXPECT_ERR("{\"target\":\"t\",\"endpoints\":[{\"online\":true}]}",
               "\"endpoints\" item 0 needs \"name\" or \"endpoint\"");
    EXPECT_ERR("{\"target\":\"t\",\"endpoints\":[{\"name\":\"\"}]}",
               "\"endpoints\" item 0: \"name\" must be a non-empty string "
               "of at most 1024 bytes");
    EXPECT_ERR("{\"target\":\"t\",\"endpoints\":[{\"endpoint\":7}]}",
               "\"endpoints\" item 0: \"endpoint\" must be a non-empty "
               "string of at most 1024 bytes");
    EXPECT_ERR("{\"target\":\"t\",\"endpoints\":[{\"name\":\"a\\u0000\"}]}",
               "\"endpoints\" item 0: \"name\" must be a non-empty string "
               "of at most 1024 bytes");
    EXPECT_ERR("{\"target\":\"t\",\"endpoints\":[{\"name\":\"a\","
               "\"endpointType\":\"tertiary\"}]}",
               "\"endpoints\" item 0: \"endpointType\" must be "
               "\"Primary\" or \"Secondary\"");
    EXPECT_ERR("{\"target\":\"t\",\"endpoints\":[{\"name\":\"a\","
               "\"endpointType\":2}]}",
               "\"endpoints\" item 0: \"endpointType\" must be "
               "\"Primary\" or \"Secondary\"");
    EXPECT_ERR("{\"target\":\"t\",\"endpoints\":[{\"name\":\"a\","
               "\"online\":1}]}",
               "\"endpoints\" item 0: \"online\" must be true or false");
    EXPECT_ERR("{\"target\":\"t\",\"endpoints\":[{\"name\":\"a\","
               "\"connectionString\":\"Endpoint=x\"}]}",
               "\"endpoints\" item 0: unknown member \"connectionString\"");
    EXPECT_ERR("{\"target\":\"t\",\"endpoints\":[{\"name\":\"a\","
               "\"Name\":\"b\"}]}",
               "\"endpoints\" item 0: \"Name\" is given twice");
    EXPECT_ERR("{\"target\":\"t\",\"endpoints\":[{\"name\":\"a\","
               "\"NAME\":null}]}",
               "\"endpoints\" item 0: \"NAME\" is given twice");
}


static void
test_endpoints_limit(void)
{
    char    json[4096], *p;
    size_t  i;

    p = json + sprintf(json, "{\"target\":\"t\",\"endpoints\":[");

    for (i = 0; i <= SIGNALR_ACTION_MAX_ENDPOINTS; i++) {
        p += sprintf(p, "%s{\"name\":\"e%zu\"}", i ? "," : "", i);
    }

    sprintf(p, "]}");

    EXPECT_ERR(json, "\"endpoints\" has more than 64 items");
}


/* caller-controlled sizes that would make a URI the service refuses (414) */

static void
test_uri_limits(void)
{
    char                  *json, *p;
    size_t                 i, size;
    signalr_rest_calls_t   calls;
    char                   err[256];

    size = 64 * 1024;
    json = malloc(size);
    CHECK(json != NULL);

    if (json == NULL) {
        return;
    }

    /* a reason of 1025 bytes; 1024 pass */

    p = json + sprintf(json, "{\"action\":\"close\",\"connectionId\":\"c\","
                       "\"reason\":\"");
    memset(p, 'r', 1025);
    strcpy(p + 1025, "\"}");
    EXPECT_ERR(json, "\"reason\" is longer than 1024 bytes");

    strcpy(p + 1024, "\"}");
    CHECK_INT(signalr_actions_parse("chat", json, strlen(json), 100, &calls,
                                    err, sizeof(err)), 0);
    signalr_rest_calls_free(&calls);

    /* 1500 excluded ids: a URI over 8000 bytes; 300 pass */

    p = json + sprintf(json, "{\"target\":\"t\",\"excluded\":[");

    for (i = 0; i < 1500; i++) {
        p += sprintf(p, "%s\"c%zu\"", i ? "," : "", i);
    }

    strcpy(p, "]}");
    EXPECT_ERR(json, "the REST call's URI would be 21433 bytes long, more "
               "than the 8000 the service takes: fewer \"excluded\" ids");

    p = json + sprintf(json, "{\"target\":\"t\",\"excluded\":[");

    for (i = 0; i < 300; i++) {
        p += sprintf(p, "%s\"c%zu\"", i ? "," : "", i);
    }

    strcpy(p, "]}");
    CHECK_INT(signalr_actions_parse("chat", json, strlen(json), 100, &calls,
                                    err, sizeof(err)), 0);
    signalr_rest_calls_free(&calls);

    free(json);
}


static void
test_send_routes(void)
{
    EXPECT_ONE("{\"target\":\"t\",\"arguments\":[1],\"userId\":\"alice\"}",
               SIGNALR_REST_POST, "/api/hubs/chat/users/alice/:send", V,
               "{\"target\":\"t\",\"arguments\":[1]}");

    EXPECT_ONE("{\"target\":\"t\",\"arguments\":[1],\"groupName\":\"room\"}",
               SIGNALR_REST_POST, "/api/hubs/chat/groups/room/:send", V,
               "{\"target\":\"t\",\"arguments\":[1]}");

    EXPECT_ONE("{\"target\":\"t\",\"arguments\":[1],\"connectionId\":\"c1\"}",
               SIGNALR_REST_POST, "/api/hubs/chat/connections/c1/:send", V,
               "{\"target\":\"t\",\"arguments\":[1]}");
}


static void
test_excluded(void)
{
    EXPECT_ONE("{\"target\":\"t\",\"excluded\":[\"c1\",\"a b/c\"]}",
               SIGNALR_REST_POST, "/api/hubs/chat/:send",
               V "&excluded=c1&excluded=a%20b%2Fc",
               "{\"target\":\"t\",\"arguments\":[]}");

    EXPECT_ONE("{\"target\":\"t\",\"groupName\":\"g\","
               "\"excluded\":[\"x&y\",\"z=1\"]}",
               SIGNALR_REST_POST, "/api/hubs/chat/groups/g/:send",
               V "&excluded=x%26y&excluded=z%3D1",
               "{\"target\":\"t\",\"arguments\":[]}");

    EXPECT_ONE("{\"target\":\"t\",\"excluded\":[]}",
               SIGNALR_REST_POST, "/api/hubs/chat/:send", V,
               "{\"target\":\"t\",\"arguments\":[]}");
}


static void
test_escaping(void)
{
    char                  err[256];
    const char           *json;
    signalr_rest_calls_t  calls;

    EXPECT_ONE("{\"target\":\"t\",\"userId\":\"a/b %?#\xc3\xa9\"}",
               SIGNALR_REST_POST,
               "/api/hubs/chat/users/a%2Fb%20%25%3F%23%C3%A9/:send", V,
               "{\"target\":\"t\",\"arguments\":[]}");

    EXPECT_ONE("{\"target\":\"t\",\"groupName\":\"A-Z.a_z~0+9\"}",
               SIGNALR_REST_POST, "/api/hubs/chat/groups/A-Z.a_z~0%2B9/:send",
               V, "{\"target\":\"t\",\"arguments\":[]}");

    /* a hub may hold ` , [ ] */

    json = "{\"action\":\"add\",\"userId\":\"u\",\"groupName\":\"g\"}";

    CHECK_INT(signalr_actions_parse("a`b,c[d].e_f", json, strlen(json), 100,
                                    &calls, err, sizeof(err)), 0);
    CHECK_INT(calls.n, 1);

    if (calls.n == 1) {
        CHECK_CALL(&calls.calls[0], SIGNALR_REST_PUT,
                   "/api/hubs/a%60b%2Cc%5Bd%5D.e_f/users/u/groups/g", V,
                   NULL);
    }

    signalr_rest_calls_free(&calls);
}


static void
test_group_actions(void)
{
    EXPECT_ONE("{\"action\":\"add\",\"connectionId\":\"c\","
               "\"groupName\":\"g\"}",
               SIGNALR_REST_PUT, "/api/hubs/chat/groups/g/connections/c", V,
               NULL);

    EXPECT_ONE("{\"action\":\"remove\",\"connectionId\":\"c\","
               "\"groupName\":\"g\"}",
               SIGNALR_REST_DELETE, "/api/hubs/chat/groups/g/connections/c",
               V, NULL);

    EXPECT_ONE("{\"action\":\"removeAll\",\"connectionId\":\"c\"}",
               SIGNALR_REST_DELETE, "/api/hubs/chat/connections/c/groups",
               V, NULL);

    EXPECT_ONE("{\"action\":\"add\",\"userId\":\"u\",\"groupName\":\"g\"}",
               SIGNALR_REST_PUT, "/api/hubs/chat/users/u/groups/g", V,
               NULL);

    EXPECT_ONE("{\"action\":\"remove\",\"userId\":\"u\",\"groupName\":\"g\"}",
               SIGNALR_REST_DELETE, "/api/hubs/chat/users/u/groups/g", V,
               NULL);

    EXPECT_ONE("{\"action\":\"removeAll\",\"userId\":\"u\"}",
               SIGNALR_REST_DELETE, "/api/hubs/chat/users/u/groups", V,
               NULL);

    /* groupName is checked, then ignored */

    EXPECT_ONE("{\"action\":\"removeAll\",\"userId\":\"u\","
               "\"groupName\":\"g\"}",
               SIGNALR_REST_DELETE, "/api/hubs/chat/users/u/groups", V,
               NULL);

    EXPECT_ONE("{\"action\":\"removeAll\",\"connectionId\":\"c\","
               "\"groupName\":\"g\"}",
               SIGNALR_REST_DELETE, "/api/hubs/chat/connections/c/groups",
               V, NULL);

    EXPECT_ERR("{\"action\":\"removeAll\",\"userId\":\"u\",\"groupName\":1}",
               "\"groupName\" must be a string");

    /* the action is matched case-insensitively */

    EXPECT_ONE("{\"action\":\"REMOVEALL\",\"userId\":\"u\"}",
               SIGNALR_REST_DELETE, "/api/hubs/chat/users/u/groups", V,
               NULL);

    EXPECT_ONE("{\"action\":\"Add\",\"userId\":\"u\",\"groupName\":\"g\"}",
               SIGNALR_REST_PUT, "/api/hubs/chat/users/u/groups/g", V,
               NULL);

    /* connectionId wins over userId */

    EXPECT_ONE("{\"action\":\"add\",\"userId\":\"u\",\"connectionId\":\"c\","
               "\"groupName\":\"g\"}",
               SIGNALR_REST_PUT, "/api/hubs/chat/groups/g/connections/c", V,
               NULL);
}


static void
test_ttl(void)
{
    EXPECT_ONE("{\"action\":\"add\",\"userId\":\"u\",\"groupName\":\"g\","
               "\"ttl\":0}",
               SIGNALR_REST_PUT, "/api/hubs/chat/users/u/groups/g",
               V "&ttl=0", NULL);

    EXPECT_ONE("{\"action\":\"add\",\"userId\":\"u\",\"groupName\":\"g\","
               "\"ttl\":2147483647}",
               SIGNALR_REST_PUT, "/api/hubs/chat/users/u/groups/g",
               V "&ttl=2147483647", NULL);

    EXPECT_ONE("{\"action\":\"add\",\"userId\":\"u\",\"groupName\":\"g\","
               "\"ttl\":null}",
               SIGNALR_REST_PUT, "/api/hubs/chat/users/u/groups/g", V,
               NULL);
}


static void
test_close(void)
{
    EXPECT_ONE("{\"action\":\"close\",\"connectionId\":\"c\"}",
               SIGNALR_REST_DELETE, "/api/hubs/chat/connections/c", V, NULL);

    EXPECT_ONE("{\"action\":\"CLOSE\",\"connectionId\":\"c\","
               "\"reason\":\"bye now & 100% \xc3\xa9\"}",
               SIGNALR_REST_DELETE, "/api/hubs/chat/connections/c",
               V "&reason=bye%20now%20%26%20100%25%20%C3%A9", NULL);

    /* connectionId wins over userId here too */

    EXPECT_ONE("{\"action\":\"close\",\"connectionId\":\"c\","
               "\"userId\":\"u\"}",
               SIGNALR_REST_DELETE, "/api/hubs/chat/connections/c", V, NULL);
}


static void
test_close_connections(void)
{
    EXPECT_ONE("{\"action\":\"closeConnections\"}",
               SIGNALR_REST_POST, "/api/hubs/chat/:closeConnections", V, NULL);

    EXPECT_ONE("{\"action\":\"closeconnections\",\"groupName\":\"g 1\","
               "\"excluded\":[\"c1\",\"c/2\"],\"reason\":\"bye\"}",
               SIGNALR_REST_POST, "/api/hubs/chat/groups/g%201/"
               ":closeConnections",
               V "&excluded=c1&excluded=c%2F2&reason=bye", NULL);

    EXPECT_ONE("{\"action\":\"closeConnections\",\"userId\":\"u\","
               "\"reason\":\"r\"}",
               SIGNALR_REST_POST, "/api/hubs/chat/users/u/:closeConnections",
               V "&reason=r", NULL);

    EXPECT_ERR("{\"action\":\"closeConnections\",\"connectionId\":\"c\"}",
               "\"closeConnections\" takes \"userId\", \"groupName\" or "
               "neither (\"close\" closes one connection)");
    EXPECT_ERR("{\"action\":\"closeConnections\",\"userId\":\"u\","
               "\"groupName\":\"g\"}",
               "\"groupName\" does not apply to \"close user connections\"");
    EXPECT_ERR("{\"action\":\"closeConnections\",\"groupName\":\"g\","
               "\"connectionId\":\"c\"}",
               "\"connectionId\" does not apply to "
               "\"close group connections\"");
    EXPECT_ERR("{\"action\":\"closeConnections\",\"ttl\":1}",
               "\"ttl\" applies only when adding a user to a group");
    EXPECT_ERR("{\"action\":\"closeConnections\",\"arguments\":[]}",
               "\"arguments\" applies only to messages and \"invoke\"");
}


/* the call of a one-action body, checked, for the members not in CHECK_CALL */

static void
check_kind(const char *json, int kind, int connection, const char *what,
    const char *absent)
{
    char                  err[256];
    signalr_rest_calls_t  calls;

    if (signalr_actions_parse("chat", json, strlen(json), 100, &calls, err,
                              sizeof(err))
        != 0)
    {
        UNIT_FAIL("%s: unexpected error: %s", json, err);
        return;
    }

    CHECK_INT(calls.n, 1);
    CHECK_INT(calls.calls[0].kind, kind);
    CHECK_INT(calls.calls[0].connection, connection);
    CHECK_STR(calls.calls[0].what, what);
    CHECK(calls.calls[0].recipient == NULL);

    if (absent) {
        CHECK_STR(calls.calls[0].absent, absent);

    } else {
        CHECK(calls.calls[0].absent == NULL);
    }

    signalr_rest_calls_free(&calls);
}


static void
test_exists(void)
{
    EXPECT_ONE("{\"action\":\"exists\",\"connectionId\":\"c 1\"}",
               SIGNALR_REST_HEAD, "/api/hubs/chat/connections/c%201", V, NULL);
    EXPECT_ONE("{\"action\":\"exists\",\"userId\":\"u\"}",
               SIGNALR_REST_HEAD, "/api/hubs/chat/users/u", V, NULL);
    EXPECT_ONE("{\"action\":\"exists\",\"groupName\":\"g\"}",
               SIGNALR_REST_HEAD, "/api/hubs/chat/groups/g", V, NULL);
    EXPECT_ONE("{\"action\":\"exists\",\"userId\":\"u\",\"groupName\":\"g\"}",
               SIGNALR_REST_HEAD, "/api/hubs/chat/users/u/groups/g", V, NULL);

    check_kind("{\"action\":\"exists\",\"connectionId\":\"c\"}",
               SIGNALR_CALL_EXISTS, 1, "connection exists",
               "Warning.Connection.NotExisted");
    check_kind("{\"action\":\"exists\",\"userId\":\"u\"}",
               SIGNALR_CALL_EXISTS, 0, "user exists",
               "Warning.User.NotExisted");
    check_kind("{\"action\":\"exists\",\"groupName\":\"g\"}",
               SIGNALR_CALL_EXISTS, 0, "group exists",
               "Warning.Group.NotExisted");
    check_kind("{\"action\":\"exists\",\"userId\":\"u\",\"groupName\":\"g\"}",
               SIGNALR_CALL_EXISTS, 0, "user in group",
               "Info.User.NotInGroup");

    EXPECT_ERR("{\"action\":\"exists\"}",
               "\"exists\" needs \"connectionId\", \"userId\" or "
               "\"groupName\"");
    EXPECT_ERR("{\"action\":\"exists\",\"connectionId\":\"c\","
               "\"userId\":\"u\"}",
               "\"userId\" does not apply to \"connection exists\"");
    EXPECT_ERR("{\"action\":\"exists\",\"connectionId\":\"c\","
               "\"groupName\":\"g\"}",
               "\"groupName\" does not apply to \"connection exists\"");
    EXPECT_ERR("{\"action\":\"exists\",\"userIds\":[\"u\"]}",
               "\"userIds\" does not apply to \"user exists\"");
    EXPECT_ERR("{\"action\":\"exists\",\"userId\":\"u\",\"reason\":\"r\"}",
               "\"reason\" applies only to \"close\" and "
               "\"closeConnections\"");

    /* an answer of its own: alone */

    EXPECT_ERR("[{\"target\":\"t\"},{\"action\":\"exists\",\"userId\":\"u\"}]",
               "action 1: \"exists\" must be the only action: it has an "
               "answer of its own");
    EXPECT_ERR("[{\"action\":\"exists\",\"userId\":\"u\"},"
               "{\"action\":\"exists\",\"userId\":\"v\"}]",
               "action 0: \"exists\" must be the only action: it has an "
               "answer of its own");
}


static void
test_invoke(void)
{
    EXPECT_ONE("{\"action\":\"invoke\",\"connectionId\":\"c/1\","
               "\"target\":\"getAnswer\",\"arguments\":[1,\"x\"]}",
               SIGNALR_REST_POST, "/api/hubs/chat/connections/c%2F1/:invoke",
               "api-version=2024-12-01",
               "{\"target\":\"getAnswer\",\"arguments\":[1,\"x\"]}");
    EXPECT_ONE("{\"action\":\"invoke\",\"connectionId\":\"c\","
               "\"target\":\"t\"}",
               SIGNALR_REST_POST, "/api/hubs/chat/connections/c/:invoke",
               "api-version=2024-12-01", "{\"target\":\"t\",\"arguments\":[]}");

    check_kind("{\"action\":\"invoke\",\"connectionId\":\"c\","
               "\"target\":\"t\"}", SIGNALR_CALL_INVOKE, 1, "invoke", NULL);

    EXPECT_ERR("{\"action\":\"invoke\",\"connectionId\":\"c\"}",
               "\"invoke\" needs \"target\"");
    EXPECT_ERR("{\"action\":\"invoke\",\"userId\":\"u\",\"target\":\"t\"}",
               "\"invoke\" needs \"connectionId\"");
    EXPECT_ERR("{\"action\":\"invoke\",\"connectionId\":\"c\","
               "\"userId\":\"u\",\"target\":\"t\"}",
               "\"userId\" does not apply to \"invoke\"");
    EXPECT_ERR("{\"action\":\"invoke\",\"connectionIds\":[\"c\"],"
               "\"target\":\"t\"}",
               "\"connectionIds\" does not apply to \"invoke\"");
    EXPECT_ERR("{\"action\":\"invoke\",\"connectionId\":\"c\","
               "\"target\":\"\"}",
               "\"target\" must be a non-empty string");
    EXPECT_ERR("{\"action\":\"add\",\"connectionId\":\"c\",\"groupName\":\"g\","
               "\"target\":\"t\"}",
               "\"target\" applies only to messages and \"invoke\"");
    EXPECT_ERR("[{\"action\":\"invoke\",\"connectionId\":\"c\","
               "\"target\":\"t\"},{\"target\":\"t\"}]",
               "action 0: \"invoke\" must be the only action: it has an "
               "answer of its own");
}


static void
test_list(void)
{
    EXPECT_ONE("{\"action\":\"listConnections\",\"groupName\":\"g/1\"}",
               SIGNALR_REST_GET, "/api/hubs/chat/groups/g%2F1/connections",
               "api-version=2024-12-01&maxpagesize=200", NULL);

    check_kind("{\"action\":\"listConnections\",\"groupName\":\"g\"}",
               SIGNALR_CALL_LIST, 0, "list connections", NULL);

    EXPECT_ERR("{\"action\":\"listConnections\"}",
               "\"listConnections\" needs \"groupName\"");
    EXPECT_ERR("{\"action\":\"listConnections\",\"userId\":\"u\"}",
               "\"listConnections\" needs \"groupName\"");
    EXPECT_ERR("{\"action\":\"listConnections\",\"groupName\":\"g\","
               "\"connectionId\":\"c\"}",
               "\"connectionId\" does not apply to \"list connections\"");
    EXPECT_ERR("{\"action\":\"listConnections\",\"groupNames\":[\"g\"]}",
               "\"groupNames\" does not apply to \"list connections\"");
    EXPECT_ERR("[{\"action\":\"listConnections\",\"groupName\":\"g\"},"
               "{\"target\":\"t\"}]",
               "action 0: \"listConnections\" must be the only action: it "
               "has an answer of its own");
}


static void
test_recipients(void)
{
    char                  err[256];
    size_t                i;
    const char           *json;
    signalr_rest_calls_t  calls;

    json = "[{\"target\":\"t\",\"userIds\":[\"a\",\"b/c\"]},"
           "{\"action\":\"add\",\"connectionIds\":[\"c1\",\"c2\",\"c3\"],"
           "\"groupName\":\"g\"},"
           "{\"action\":\"remove\",\"userId\":\"u\","
           "\"groupNames\":[\"g1\",\"g2\"]},"
           "{\"target\":\"t\",\"groupNames\":[\"g\"],\"excluded\":[\"x\"]},"
           "{\"action\":\"closeConnections\",\"userIds\":[\"a\",\"b\"]}]";

    CHECK_INT(signalr_actions_parse("chat", json, strlen(json), 100, &calls,
                                    err, sizeof(err)), 0);
    CHECK_INT(calls.n, 10);
    CHECK_INT(calls.nactions, 5);

    CHECK_CALL(&calls.calls[0], SIGNALR_REST_POST,
               "/api/hubs/chat/users/a/:send", V,
               "{\"target\":\"t\",\"arguments\":[]}");
    CHECK_CALL(&calls.calls[1], SIGNALR_REST_POST,
               "/api/hubs/chat/users/b%2Fc/:send", V,
               "{\"target\":\"t\",\"arguments\":[]}");
    CHECK(calls.calls[1].body == calls.calls[0].body);
    CHECK(!calls.calls[0].body_shared && calls.calls[1].body_shared);
    CHECK_CALL(&calls.calls[2], SIGNALR_REST_PUT,
               "/api/hubs/chat/groups/g/connections/c1", V, NULL);
    CHECK_CALL(&calls.calls[4], SIGNALR_REST_PUT,
               "/api/hubs/chat/groups/g/connections/c3", V, NULL);
    CHECK_CALL(&calls.calls[5], SIGNALR_REST_DELETE,
               "/api/hubs/chat/users/u/groups/g1", V, NULL);
    CHECK_CALL(&calls.calls[6], SIGNALR_REST_DELETE,
               "/api/hubs/chat/users/u/groups/g2", V, NULL);
    CHECK_CALL(&calls.calls[7], SIGNALR_REST_POST,
               "/api/hubs/chat/groups/g/:send", V "&excluded=x",
               "{\"target\":\"t\",\"arguments\":[]}");
    CHECK_CALL(&calls.calls[9], SIGNALR_REST_POST,
               "/api/hubs/chat/users/b/:closeConnections", V, NULL);

    {
        static const size_t       action[] = { 0, 0, 1, 1, 1, 2, 2, 3, 4, 4 };
        static const char *const  member[] = {
            "userId", "userId", "connectionId", "connectionId",
            "connectionId", "groupName", "groupName", "groupName", "userId",
            "userId"
        };
        static const char *const  recipient[] = {
            "a", "b/c", "c1", "c2", "c3", "g1", "g2", "g", "a", "b"
        };

        for (i = 0; i < calls.n; i++) {
            CHECK_INT(calls.calls[i].action, action[i]);
            CHECK_STR(calls.calls[i].member, member[i]);
            CHECK_STR(calls.calls[i].recipient, recipient[i]);
        }
    }

    signalr_rest_calls_free(&calls);

    /* one recipient, singular: no recipient in the call */

    json = "{\"target\":\"t\",\"userId\":\"a\"}";
    CHECK_INT(signalr_actions_parse("chat", json, strlen(json), 100, &calls,
                                    err, sizeof(err)), 0);
    CHECK(calls.calls[0].recipient == NULL && calls.calls[0].member == NULL);
    signalr_rest_calls_free(&calls);

    EXPECT_ERR("{\"target\":\"t\",\"userIds\":[]}",
               "\"userIds\" must be an array of 1 to 100 strings");
    EXPECT_ERR("{\"target\":\"t\",\"userIds\":\"u\"}",
               "\"userIds\" must be an array of 1 to 100 strings");
    EXPECT_ERR("{\"target\":\"t\",\"userIds\":[\"a\",1]}",
               "\"userIds\" item 1 must be a string");
    EXPECT_ERR("{\"target\":\"t\",\"userIds\":[\"a\",\"\"]}",
               "empty \"userIds\" item 1");
    EXPECT_ERR("{\"target\":\"t\",\"groupNames\":[\" \"]}",
               "\"groupNames\" item 0 must not be only white space");
    EXPECT_ERR("{\"target\":\"t\",\"userIds\":[\"a\",\"b\",\"a\"]}",
               "\"userIds\" item 2 repeats item 0");
    EXPECT_ERR("{\"target\":\"t\",\"userId\":\"a\",\"userIds\":[\"b\"]}",
               "\"userId\" and \"userIds\" cannot both be given");
    EXPECT_ERR("{\"action\":\"add\",\"userIds\":[\"a\"],"
               "\"groupNames\":[\"g\"]}",
               "\"userIds\" and \"groupNames\" cannot both be given: an "
               "action has one list of recipients");
    EXPECT_ERR("{\"target\":\"t\",\"connectionId\":\"c\",\"userIds\":[\"a\"]}",
               "\"userIds\" does not apply to \"send to connection\"");
    EXPECT_ERR("{\"target\":\"t\",\"groupNames\":[\"g\"],\"userId\":\"u\"}",
               "\"groupNames\" does not apply to \"send to user\"");
    EXPECT_ERR("{\"action\":\"removeAll\",\"userId\":\"u\","
               "\"groupNames\":[\"g\"]}",
               "\"groupNames\" does not apply to "
               "\"remove user from all groups\"");

    {
        /* 101 recipients */
        char    big[2048], *p;

        p = big + sprintf(big, "{\"target\":\"t\",\"userIds\":[");

        for (i = 0; i < 101; i++) {
            p += sprintf(p, "%s\"u%zu\"", i ? "," : "", i);
        }

        strcpy(p, "]}");
        EXPECT_ERR(big, "\"userIds\" must be an array of 1 to 100 strings");

        /* 100 are fine */
        p = big + sprintf(big, "{\"target\":\"t\",\"userIds\":[");

        for (i = 0; i < 100; i++) {
            p += sprintf(p, "%s\"u%zu\"", i ? "," : "", i);
        }

        strcpy(p, "]}");
        CHECK_INT(signalr_actions_parse("chat", big, strlen(big), 99, &calls,
                                        err, sizeof(err)), -1);
        CHECK_STR(err, "more than 99 actions (each recipient counts as one)");
        CHECK(calls.calls == NULL && calls.n == 0);

        CHECK_INT(signalr_actions_parse("chat", big, strlen(big), 100, &calls,
                                        err, sizeof(err)), 0);
        CHECK_INT(calls.n, 100);
        CHECK_INT(calls.nactions, 1);
        CHECK_STR(calls.calls[99].path, "/api/hubs/chat/users/u99/:send");
        signalr_rest_calls_free(&calls);
    }
}


static void
test_array(void)
{
    char                  err[256];
    const char           *json;
    signalr_rest_calls_t  calls;

    json = "[{\"target\":\"a\",\"arguments\":[1]},"
           "{\"action\":\"add\",\"userId\":\"u\",\"groupName\":\"g\","
           "\"ttl\":60},"
           "{\"target\":\"b\",\"groupName\":\"g\",\"excluded\":[\"c\"]},"
           "{\"action\":\"close\",\"connectionId\":\"c\","
           "\"reason\":\"r\"}]";

    CHECK_INT(signalr_actions_parse("chat", json, strlen(json), 4, &calls,
                                    err, sizeof(err)), 0);
    CHECK_INT(calls.n, 4);

    if (calls.n == 4) {
        CHECK_CALL(&calls.calls[0], SIGNALR_REST_POST,
                   "/api/hubs/chat/:send", V,
                   "{\"target\":\"a\",\"arguments\":[1]}");
        CHECK_CALL(&calls.calls[1], SIGNALR_REST_PUT,
                   "/api/hubs/chat/users/u/groups/g", V "&ttl=60", NULL);
        CHECK_CALL(&calls.calls[2], SIGNALR_REST_POST,
                   "/api/hubs/chat/groups/g/:send", V "&excluded=c",
                   "{\"target\":\"b\",\"arguments\":[]}");
        CHECK_CALL(&calls.calls[3], SIGNALR_REST_DELETE,
                   "/api/hubs/chat/connections/c", V "&reason=r", NULL);
    }

    signalr_rest_calls_free(&calls);

    /* one object counts as one action */

    json = "{\"target\":\"a\"}";

    CHECK_INT(signalr_actions_parse("chat", json, strlen(json), 1, &calls,
                                    err, sizeof(err)), 0);
    CHECK_INT(calls.n, 1);
    signalr_rest_calls_free(&calls);

    CHECK_INT(signalr_actions_parse("chat", json, strlen(json), 0, &calls,
                                    err, sizeof(err)), -1);
    CHECK_STR(err, "more than 0 actions");
}


static void
test_max_actions(void)
{
    char                  err[256];
    size_t                i, n;
    signalr_rest_calls_t  calls;
    char                 *json;

    json = malloc(2 + 101 * 16);
    if (json == NULL) {
        UNIT_FAIL("%s", "out of memory");
        return;
    }

    for (n = 100; n <= 101; n++) {
        strcpy(json, "[");

        for (i = 0; i < n; i++) {
            strcat(json, i ? ",{\"target\":\"t\"}" : "{\"target\":\"t\"}");
        }

        strcat(json, "]");

        if (n == 100) {
            CHECK_INT(signalr_actions_parse("chat", json, strlen(json), 100,
                                            &calls, err, sizeof(err)), 0);
            CHECK_INT(calls.n, 100);
            signalr_rest_calls_free(&calls);

        } else {
            EXPECT_ERR(json, "more than 100 actions");
        }
    }

    free(json);
}


static void
test_precedence(void)
{
    EXPECT_ONE("{\"target\":\"t\",\"userId\":\"u\",\"connectionId\":\"c\","
               "\"groupName\":\"g\"}",
               SIGNALR_REST_POST, "/api/hubs/chat/connections/c/:send", V,
               "{\"target\":\"t\",\"arguments\":[]}");

    EXPECT_ONE("{\"target\":\"t\",\"groupName\":\"g\",\"userId\":\"u\"}",
               SIGNALR_REST_POST, "/api/hubs/chat/users/u/:send", V,
               "{\"target\":\"t\",\"arguments\":[]}");

    /* ignored members are still checked */

    EXPECT_ERR("{\"target\":\"t\",\"connectionId\":\"c\",\"userId\":1}",
               "\"userId\" must be a string");

    EXPECT_ERR("{\"target\":\"t\",\"userId\":\"..\"}",
               "\"userId\" cannot be \".\" or \"..\"");
    EXPECT_ERR("{\"target\":\"t\",\"connectionId\":\".\"}",
               "\"connectionId\" cannot be \".\" or \"..\"");
    EXPECT_ERR("{\"action\":\"add\",\"userId\":\"u\",\"groupName\":\"..\"}",
               "\"groupName\" cannot be \".\" or \"..\"");
    EXPECT_ERR("{\"target\":\"t\",\"userId\":\"u\",\"groupName\":\" \"}",
               "\"groupName\" must not be only white space");
}


static void
test_member_casing(void)
{
    EXPECT_ONE("{\"Target\":\"t\",\"USERID\":\"u\",\"Arguments\":[2]}",
               SIGNALR_REST_POST, "/api/hubs/chat/users/u/:send", V,
               "{\"target\":\"t\",\"arguments\":[2]}");

    EXPECT_ONE("{\"ACTION\":\"add\",\"connectionid\":\"c\","
               "\"GroupName\":\"g\"}",
               SIGNALR_REST_PUT, "/api/hubs/chat/groups/g/connections/c", V,
               NULL);

    /* values keep their case */

    EXPECT_ONE("{\"target\":\"NewMessage\",\"userId\":\"Bob\"}",
               SIGNALR_REST_POST, "/api/hubs/chat/users/Bob/:send", V,
               "{\"target\":\"NewMessage\",\"arguments\":[]}");
}


static void
test_null_members(void)
{
    EXPECT_ONE("{\"target\":\"t\",\"arguments\":null,\"connectionId\":null,"
               "\"userId\":null,\"groupName\":\"g\",\"excluded\":null,"
               "\"action\":null,\"ttl\":null,\"reason\":null,"
               "\"endpoints\":null}",
               SIGNALR_REST_POST, "/api/hubs/chat/groups/g/:send", V,
               "{\"target\":\"t\",\"arguments\":[]}");

    EXPECT_ONE("{\"target\":null,\"action\":\"removeAll\",\"userId\":\"u\","
               "\"groupName\":null,\"arguments\":null}",
               SIGNALR_REST_DELETE, "/api/hubs/chat/users/u/groups", V,
               NULL);

    EXPECT_ERR("{\"target\":null}",
               "an action needs \"target\" (a message) or \"action\"");

    EXPECT_ERR("{\"action\":\"add\",\"userId\":\"u\",\"groupName\":null}",
               "\"groupName\" is missing");
}


static void
test_arguments(void)
{
    EXPECT_ONE("{\"target\":\"t\",\"arguments\":[{\"a\":{\"b\":[1,2.5,null,"
               "true,false,{}]},\"z\":[]},\"\xc3\xa9\\u00e8\\ud83d\\ude00/\","
               "0.1,-9223372036854775808,-123456789012345678,1e300,1.0,"
               "\"q\\\"b\\\\s\\n\\u0001\\u0000\"]}",
               SIGNALR_REST_POST, "/api/hubs/chat/:send", V,
               "{\"target\":\"t\",\"arguments\":[{\"a\":{\"b\":[1,2.5,null,"
               "true,false,{}]},\"z\":[]},"
               "\"\xc3\xa9\xc3\xa8\xf0\x9f\x98\x80/\","
               "0.1,-9223372036854775808,-123456789012345678,1e+300,1.0,"
               "\"q\\\"b\\\\s\\n\\u0001\\u0000\"]}");

    /* the target is written as a JSON string */

    EXPECT_ONE("{\"target\":\"a\\\"b\\u00e9\"}",
               SIGNALR_REST_POST, "/api/hubs/chat/:send", V,
               "{\"target\":\"a\\\"b\xc3\xa9\",\"arguments\":[]}");
}


static void
test_errors_body(void)
{
    EXPECT_ERR("{\"target\":",
               "invalid JSON at line 1, column 10: "
               "unexpected token near end of file");
    EXPECT_ERR("{\"target\":\"t\"} x",
               "invalid JSON at line 1, column 16: end of file expected "
               "near 'x'");
    EXPECT_ERR("", "invalid JSON at line 1, column 0: "
               "unexpected token near end of file");
    EXPECT_ERR("\"hello\"",
               "the body must be a JSON object or an array of objects");
    EXPECT_ERR("5", "the body must be a JSON object or an array of objects");
    EXPECT_ERR("null",
               "the body must be a JSON object or an array of objects");
    EXPECT_ERR("[]", "no actions");
    EXPECT_ERR(" [ ] ", "no actions");
    EXPECT_ERR("[1]", "action 0: an action must be a JSON object");
    EXPECT_ERR("[{\"target\":\"t\"},[]]",
               "action 1: an action must be a JSON object");
    EXPECT_ERR("[{\"target\":\"t\"},null]",
               "action 1: an action must be a JSON object");
    EXPECT_ERR("[{\"target\":\"t\"},{\"target\":\"t\"},"
               "{\"action\":\"add\",\"userId\":\"u\"}]",
               "action 2: \"groupName\" is missing");
    EXPECT_ERR("{\"target\":\"t\",\"target\":\"u\"}",
               "invalid JSON at line 1, column 22: duplicate object key "
               "near '\"target\"'");
}


static void
test_errors_members(void)
{
    EXPECT_ERR("{\"target\":\"t\",\"foo\":1}", "unknown member \"foo\"");
    EXPECT_ERR("{\"target\":\"t\",\"foo\":null}", "unknown member \"foo\"");
    EXPECT_ERR("{\"target\":\"t\",\"user_id\":\"u\"}",
               "unknown member \"user_id\"");
    EXPECT_ERR("{\"target\":\"t\",\"a\\\"\\\\\\n\xc3\xa9\":1}",
               "unknown member \"a?????\"");
    EXPECT_ERR("{\"target\":\"t\",\"0123456789012345678901234567890123456789"
               "0123456789012345678901234567890123456789\":1}",
               "unknown member \"012345678901234567890123456789012345678901"
               "234567890123456789...\"");
    EXPECT_ERR("{\"target\":\"t\",\"Target\":\"u\"}",
               "\"target\" and \"Target\" name the same member");
    EXPECT_ERR("{\"userId\":\"u\",\"target\":\"t\",\"USERID\":null}",
               "\"userId\" and \"USERID\" name the same member");
    EXPECT_ERR("{}", "an action needs \"target\" (a message) or \"action\"");
    EXPECT_ERR("{\"userId\":\"u\"}",
               "an action needs \"target\" (a message) or \"action\"");
    EXPECT_ERR("{\"target\":\"t\",\"action\":\"add\"}",
               "\"target\" applies only to messages and \"invoke\"");
}


static void
test_errors_message(void)
{
    EXPECT_ERR("{\"target\":\"\"}", "\"target\" must be a non-empty string");
    EXPECT_ERR("{\"target\":1}", "\"target\" must be a non-empty string");
    EXPECT_ERR("{\"target\":[\"t\"]}",
               "\"target\" must be a non-empty string");
    EXPECT_ERR("{\"target\":\"t\",\"arguments\":{}}",
               "\"arguments\" must be an array");
    EXPECT_ERR("{\"target\":\"t\",\"arguments\":\"x\"}",
               "\"arguments\" must be an array");
    EXPECT_ERR("{\"target\":\"t\",\"userId\":\"u\",\"excluded\":[\"c\"]}",
               "\"excluded\" applies only to broadcasts, group sends and "
               "\"closeConnections\"");
    EXPECT_ERR("{\"target\":\"t\",\"connectionId\":\"c\",\"excluded\":[]}",
               "\"excluded\" applies only to broadcasts, group sends and "
               "\"closeConnections\"");
    EXPECT_ERR("{\"target\":\"t\",\"excluded\":\"c\"}",
               "\"excluded\" must be an array of strings");
    EXPECT_ERR("{\"target\":\"t\",\"excluded\":[\"c\",2]}",
               "\"excluded\" item 1 must be a string");
    EXPECT_ERR("{\"target\":\"t\",\"excluded\":[\"c\",\"\"]}",
               "empty \"excluded\" item 1");
    EXPECT_ERR("{\"target\":\"t\",\"excluded\":[\"c\\u0000\"]}",
               "\"excluded\" item 0 contains a NUL byte");
    EXPECT_ERR("{\"target\":\"t\",\"ttl\":1}",
               "\"ttl\" applies only when adding a user to a group");
    EXPECT_ERR("{\"target\":\"t\",\"reason\":\"r\"}",
               "\"reason\" applies only to \"close\" and "
               "\"closeConnections\"");
}


static void
test_errors_ids(void)
{
    char  json[2048], path[2048];

    EXPECT_ERR("{\"target\":\"t\",\"userId\":5}",
               "\"userId\" must be a string");
    EXPECT_ERR("{\"target\":\"t\",\"connectionId\":true}",
               "\"connectionId\" must be a string");
    EXPECT_ERR("{\"target\":\"t\",\"groupName\":[\"g\"]}",
               "\"groupName\" must be a string");
    EXPECT_ERR("{\"target\":\"t\",\"userId\":\"\"}", "empty \"userId\"");
    EXPECT_ERR("{\"action\":\"add\",\"connectionId\":\"\",\"groupName\":\"g\"}",
               "empty \"connectionId\"");
    EXPECT_ERR("{\"target\":\"t\",\"groupName\":\"\"}",
               "empty \"groupName\"");
    EXPECT_ERR("{\"target\":\"t\",\"userId\":\"a\\u0000b\"}",
               "\"userId\" contains a NUL byte");
    EXPECT_ERR("{\"target\":\"t\",\"groupName\":\" \\t\\r\\n\"}",
               "\"groupName\" must not be only white space");
    EXPECT_ERR("{\"action\":\"add\",\"userId\":\"u\",\"groupName\":\"  \"}",
               "\"groupName\" must not be only white space");

    /* 1024 bytes are fine, 1025 are not */

    strcpy(json, "{\"target\":\"t\",\"groupName\":\"");
    memset(json + strlen(json), 'g', 1024);
    strcpy(json + 27 + 1024, "\"}");

    strcpy(path, "/api/hubs/chat/groups/");
    memset(path + 22, 'g', 1024);
    strcpy(path + 22 + 1024, "/:send");

    EXPECT_ONE(json, SIGNALR_REST_POST, path, V,
               "{\"target\":\"t\",\"arguments\":[]}");

    strcpy(json, "{\"target\":\"t\",\"groupName\":\"");
    memset(json + strlen(json), 'g', 1025);
    strcpy(json + 27 + 1025, "\"}");

    EXPECT_ERR(json, "\"groupName\" is longer than 1024 bytes");

    strcpy(json, "{\"target\":\"t\",\"userId\":\"");
    memset(json + strlen(json), 'u', 1025);
    strcpy(json + 24 + 1025, "\"}");

    EXPECT_ERR(json, "\"userId\" is longer than 1024 bytes");
}


static void
test_errors_group_actions(void)
{
    EXPECT_ERR("{\"action\":5,\"userId\":\"u\"}",
               "\"action\" must be a string");
    EXPECT_ERR("{\"action\":\"delete\",\"userId\":\"u\",\"groupName\":\"g\"}",
               "unknown action \"delete\" (expected \"add\", \"remove\", "
               "\"removeAll\", \"close\", \"closeConnections\", "
               "\"exists\", \"invoke\" or \"listConnections\")");
    EXPECT_ERR("{\"action\":\"\",\"userId\":\"u\"}",
               "unknown action \"\" (expected \"add\", \"remove\", "
               "\"removeAll\", \"close\", \"closeConnections\", "
               "\"exists\", \"invoke\" or \"listConnections\")");
    EXPECT_ERR("{\"action\":\"add\\u0000\",\"userId\":\"u\"}",
               "unknown action \"add?\" (expected \"add\", \"remove\", "
               "\"removeAll\", \"close\", \"closeConnections\", "
               "\"exists\", \"invoke\" or \"listConnections\")");
    EXPECT_ERR("{\"action\":\"add\",\"groupName\":\"g\"}",
               "\"connectionId\" and \"userId\" cannot both be empty");
    EXPECT_ERR("{\"action\":\"removeAll\"}",
               "\"connectionId\" and \"userId\" cannot both be empty");
    EXPECT_ERR("{\"action\":\"add\",\"userId\":\"u\"}",
               "\"groupName\" is missing");
    EXPECT_ERR("{\"action\":\"remove\",\"connectionId\":\"c\"}",
               "\"groupName\" is missing");
    EXPECT_ERR("{\"action\":\"close\",\"userId\":\"u\"}",
               "\"close\" needs \"connectionId\"");
    EXPECT_ERR("{\"action\":\"close\"}", "\"close\" needs \"connectionId\"");
    EXPECT_ERR("{\"action\":\"close\",\"connectionId\":\"c\","
               "\"groupName\":\"g\"}",
               "\"groupName\" does not apply to \"close connection\"");
    EXPECT_ERR("{\"action\":\"close\",\"connectionId\":\"c\",\"reason\":1}",
               "\"reason\" must be a string");
    EXPECT_ERR("{\"action\":\"add\",\"userId\":\"u\",\"groupName\":\"g\","
               "\"reason\":\"r\"}",
               "\"reason\" applies only to \"close\" and "
               "\"closeConnections\"");
    EXPECT_ERR("{\"action\":\"add\",\"userId\":\"u\",\"groupName\":\"g\","
               "\"arguments\":[]}",
               "\"arguments\" applies only to messages and \"invoke\"");
    EXPECT_ERR("{\"action\":\"add\",\"groupName\":\"g\",\"userId\":\"u\","
               "\"excluded\":[\"c\"]}",
               "\"excluded\" applies only to broadcasts, group sends and "
               "\"closeConnections\"");
}


static void
test_errors_ttl(void)
{
    EXPECT_ERR("{\"action\":\"add\",\"userId\":\"u\",\"groupName\":\"g\","
               "\"ttl\":-1}",
               "\"ttl\" must be an integer from 0 to 2147483647");
    EXPECT_ERR("{\"action\":\"add\",\"userId\":\"u\",\"groupName\":\"g\","
               "\"ttl\":1.5}",
               "\"ttl\" must be an integer from 0 to 2147483647");
    EXPECT_ERR("{\"action\":\"add\",\"userId\":\"u\",\"groupName\":\"g\","
               "\"ttl\":1.0}",
               "\"ttl\" must be an integer from 0 to 2147483647");
    EXPECT_ERR("{\"action\":\"add\",\"userId\":\"u\",\"groupName\":\"g\","
               "\"ttl\":\"5\"}",
               "\"ttl\" must be an integer from 0 to 2147483647");
    EXPECT_ERR("{\"action\":\"add\",\"userId\":\"u\",\"groupName\":\"g\","
               "\"ttl\":2147483648}",
               "\"ttl\" must be an integer from 0 to 2147483647");
    EXPECT_ERR("{\"action\":\"add\",\"userId\":\"u\",\"groupName\":\"g\","
               "\"ttl\":-9223372036854775808}",
               "\"ttl\" must be an integer from 0 to 2147483647");
    EXPECT_ERR("{\"action\":\"add\",\"connectionId\":\"c\","
               "\"groupName\":\"g\",\"ttl\":5}",
               "\"ttl\" applies only when adding a user to a group");
    EXPECT_ERR("{\"action\":\"add\",\"connectionId\":\"c\",\"userId\":\"u\","
               "\"groupName\":\"g\",\"ttl\":5}",
               "\"ttl\" applies only when adding a user to a group");
    EXPECT_ERR("{\"action\":\"remove\",\"userId\":\"u\",\"groupName\":\"g\","
               "\"ttl\":5}",
               "\"ttl\" applies only when adding a user to a group");
}


static void
test_error_buffer(void)
{
    char                  err[12];
    const char           *json;
    signalr_rest_calls_t  calls;

    json = "[{\"target\":\"t\"},{\"target\":\"t\",\"foo\":1}]";

    CHECK_INT(signalr_actions_parse("chat", json, strlen(json), 100, &calls,
                                    err, sizeof(err)), -1);
    CHECK_STR(err, "action 1: u");

    CHECK_INT(signalr_actions_parse("chat", json, strlen(json), 100, &calls,
                                    err, 5), -1);
    CHECK_STR(err, "acti");

    CHECK_INT(signalr_actions_parse("chat", json, strlen(json), 100, &calls,
                                    NULL, 0), -1);
    CHECK(calls.calls == NULL);
}


static void
test_from_json(void)
{
    char                  err[256];
    json_t               *item;
    signalr_rest_calls_t  calls;

    /* an item built in code: a NUL inside the id */

    item = json_pack("{s:s, s:s%}", "target", "t", "userId", "a\0b",
                     (size_t) 3);
    CHECK(item != NULL);

    memset(&calls, 0, sizeof(calls));
    CHECK_INT(signalr_action_from_json("chat", item, &calls, err,
                                       sizeof(err)), -1);
    CHECK_STR(err, "\"userId\" contains a NUL byte");
    CHECK(calls.n == 0 && calls.nactions == 0);
    signalr_rest_calls_free(&calls);
    json_decref(item);

    item = json_pack("{s:s, s:s, s:s}", "action", "add", "userId", "u/1",
                     "groupName", "g");
    CHECK(item != NULL);

    CHECK_INT(signalr_action_from_json("chat", item, &calls, err,
                                       sizeof(err)), 0);
    CHECK_INT(calls.n, 1);
    CHECK_INT(calls.nactions, 1);
    CHECK_CALL(&calls.calls[0], SIGNALR_REST_PUT,
               "/api/hubs/chat/users/u%2F1/groups/g", V, NULL);
    CHECK_STR(calls.calls[0].what, "add user to group");
    signalr_rest_calls_free(&calls);
    CHECK(calls.calls == NULL && calls.n == 0);
    json_decref(item);

    item = json_string("x");
    CHECK_INT(signalr_action_from_json("chat", item, &calls, err,
                                       sizeof(err)), -1);
    CHECK_STR(err, "an action must be a JSON object");
    signalr_rest_calls_free(&calls);
    json_decref(item);
}


int
main(void)
{
    UNIT_RUN(test_broadcast);
    UNIT_RUN(test_what);
    UNIT_RUN(test_connection_scope);
    UNIT_RUN(test_endpoints);
    UNIT_RUN(test_endpoints_limit);
    UNIT_RUN(test_uri_limits);
    UNIT_RUN(test_send_routes);
    UNIT_RUN(test_excluded);
    UNIT_RUN(test_escaping);
    UNIT_RUN(test_group_actions);
    UNIT_RUN(test_ttl);
    UNIT_RUN(test_close);
    UNIT_RUN(test_close_connections);
    UNIT_RUN(test_exists);
    UNIT_RUN(test_invoke);
    UNIT_RUN(test_list);
    UNIT_RUN(test_recipients);
    UNIT_RUN(test_array);
    UNIT_RUN(test_max_actions);
    UNIT_RUN(test_precedence);
    UNIT_RUN(test_member_casing);
    UNIT_RUN(test_null_members);
    UNIT_RUN(test_arguments);
    UNIT_RUN(test_errors_body);
    UNIT_RUN(test_errors_members);
    UNIT_RUN(test_errors_message);
    UNIT_RUN(test_errors_ids);
    UNIT_RUN(test_errors_group_actions);
    UNIT_RUN(test_errors_ttl);
    UNIT_RUN(test_error_buffer);
    UNIT_RUN(test_from_json);

    return unit_report();
}
