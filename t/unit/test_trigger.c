/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * The trigger's protocol: X-ASRS-Signature items, connection event and
 * invocation bodies (JSON, MessagePack), the client query and the claims.
 */

#include <stdlib.h>

#include "unit.h"
#include "signalr_crypto.h"
#include "signalr_json.h"
#include "signalr_names.h"
#include "signalr_trigger.h"


#define U(s)  (const unsigned char *) (s), strlen(s)

/* HMAC-SHA256 of the connection id 0f9c97a2f0bf4706afe87a14e0797b11 */
#define MAC1  "7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561"
#define MAC2  "00000000000000000000000000000000000000000000000000000000000000ff"


static void
macs(unsigned char *out)
{
    CHECK(signalr_hex_decode(out, (const unsigned char *) MAC1, 32) == 0);
    CHECK(signalr_hex_decode(out + 32, (const unsigned char *) MAC2, 32)
          == 0);
}


static void
test_signature(void)
{
    unsigned char  m[64];
    char           many[40 * 72 + 80];
    int            i;

    macs(m);

    CHECK(signalr_signature_match(U("sha256=" MAC1), m, 2));
    CHECK(signalr_signature_match(U("SHA256=" MAC1), m, 2));
    CHECK(signalr_signature_match(U("sha256=" MAC2), m, 2));
    /* which key: the number of the mac, from 1 */
    CHECK_INT(signalr_signature_match(U("sha256=" MAC1), m, 2), 1);
    CHECK_INT(signalr_signature_match(U("sha256=" MAC2), m, 2), 2);
    CHECK_INT(signalr_signature_match(U("sha256=" MAC2 ",sha256=" MAC1), m,
                                      2), 2);
    /* the second endpoint's key only counts when it is given */
    CHECK(!signalr_signature_match(U("sha256=" MAC2), m, 1));
    /* several items, spaces and tabs around them, empty ones */
    CHECK(signalr_signature_match(U("sha256=abc, ,\tsha256=" MAC1 " ,"), m,
                                  1));
    CHECK(signalr_signature_match(U(",,sha256=" MAC1), m, 1));
    /* upper-case hex */
    {
        char  up[80];

        strcpy(up, "sha256=" MAC1);
        for (i = 7; up[i]; i++) {
            if (up[i] >= 'a' && up[i] <= 'f') {
                up[i] -= 32;
            }
        }
        CHECK(signalr_signature_match(U(up), m, 1));
    }

    CHECK(!signalr_signature_match(U(""), m, 2));
    CHECK(!signalr_signature_match(U(","), m, 2));
    CHECK(!signalr_signature_match(U(MAC1), m, 2));             /* no prefix */
    CHECK(!signalr_signature_match(U("sha1=" MAC1), m, 2));
    CHECK(!signalr_signature_match(U("sha256=" MAC1 "00"), m, 2));
    CHECK(!signalr_signature_match(U("sha256=7767"), m, 2));
    CHECK(!signalr_signature_match(U("sha256= " MAC1), m, 2));
    CHECK(!signalr_signature_match(U("sha256=" MAC1), m, 0));
    /* a bad hex digit in a right-sized item */
    CHECK(!signalr_signature_match(
              U("sha256=g767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f"
                "41b3b727ab561"), m, 2));

    /* past SIGNALR_TRIGGER_MAX_SIGNATURES items nothing is looked at */
    many[0] = '\0';
    for (i = 0; i < SIGNALR_TRIGGER_MAX_SIGNATURES; i++) {
        strcat(many, "sha256=" MAC2 ",");
    }
    strcat(many, "sha256=" MAC1);
    CHECK(!signalr_signature_match(U(many), m, 1));
    CHECK(signalr_signature_match(U(many), m, 2));
}


static void
test_event(void)
{
    const char         *why;
    signalr_message_t   m;

    CHECK_INT(signalr_parse_event(U("{\"type\":10}"), 1, &m, &why),
              SIGNALR_TRIGGER_OK);
    CHECK(m.arguments == NULL && m.error == NULL);
    signalr_message_free(&m);

    CHECK_INT(signalr_parse_event(U("{\"Type\":11,\"Error\":\"gone\"}"), 0,
                                  &m, &why), SIGNALR_TRIGGER_OK);
    CHECK(m.error != NULL);
    CHECK_STR(json_string_value(m.error), "gone");
    signalr_message_free(&m);

    CHECK_INT(signalr_parse_event(U("{\"type\":11,\"error\":null}"), 0, &m,
                                  &why), SIGNALR_TRIGGER_OK);
    CHECK(m.error == NULL);
    signalr_message_free(&m);

    CHECK_INT(signalr_parse_event(U("{\"type\":11}"), 1, &m, &why),
              SIGNALR_TRIGGER_INVALID);
    CHECK_STR(why, "a connected event needs the body {\"type\":10}");
    CHECK_INT(signalr_parse_event(U("{\"type\":10}"), 0, &m, &why),
              SIGNALR_TRIGGER_INVALID);
    CHECK_STR(why, "a disconnected event needs the body {\"type\":11}");
    CHECK_INT(signalr_parse_event(U("{\"type\":\"10\"}"), 1, &m, &why),
              SIGNALR_TRIGGER_INVALID);
    CHECK_INT(signalr_parse_event(U("[10]"), 1, &m, &why),
              SIGNALR_TRIGGER_INVALID);
    CHECK_INT(signalr_parse_event(U(""), 1, &m, &why),
              SIGNALR_TRIGGER_INVALID);
    CHECK_INT(signalr_parse_event(U("{\"type\":11,\"error\":5}"), 0, &m,
                                  &why), SIGNALR_TRIGGER_INVALID);
    CHECK_STR(why, "the error of a disconnected event must be a string");
}


static void
test_invocation_json(void)
{
    char                detail[128];
    const char         *why;
    signalr_message_t   m;
    signalr_str_t       s = { 0 };

    CHECK_INT(signalr_parse_invocation_json(
                  U("{\"type\":1,\"invocationId\":\"7\",\"target\":\"Send\","
                    "\"arguments\":[\"a\",1.5]}"), U("send"), &m, &why,
                  detail, sizeof(detail)), SIGNALR_TRIGGER_OK);
    CHECK_STR(json_string_value(m.invocation_id), "7");
    CHECK(signalr_json_dump(&s, m.arguments) == 0);
    CHECK_MEM(s.data, s.len, "[\"a\",1.5]", 9);
    signalr_str_free(&s);
    signalr_message_free(&m);

    /* a non-blocking invocation: no id, or a null one */
    CHECK_INT(signalr_parse_invocation_json(
                  U("{\"type\":1,\"target\":\"send\",\"arguments\":[]}"),
                  U("send"), &m, &why, NULL, 0), SIGNALR_TRIGGER_OK);
    CHECK(m.invocation_id == NULL && json_array_size(m.arguments) == 0);
    signalr_message_free(&m);
    CHECK_INT(signalr_parse_invocation_json(
                  U("{\"type\":1,\"invocationId\":null,\"target\":\"send\","
                    "\"arguments\":[]}"), U("send"), &m, &why, NULL, 0),
              SIGNALR_TRIGGER_OK);
    CHECK(m.invocation_id == NULL);
    signalr_message_free(&m);

    detail[0] = '\0';
    CHECK_INT(signalr_parse_invocation_json(U("{\"type\":1,"), U("send"), &m,
                                            &why, detail, sizeof(detail)),
              SIGNALR_TRIGGER_INVALID);
    CHECK_STR(why, "invalid JSON invocation");
    CHECK(detail[0] != '\0');
    CHECK_INT(signalr_parse_invocation_json(U("[1]"), U("send"), &m, &why,
                                            detail, sizeof(detail)),
              SIGNALR_TRIGGER_INVALID);
    CHECK_STR(detail, "not an object");
    CHECK_INT(signalr_parse_invocation_json(
                  U("{\"type\":1,\"type\":1,\"target\":\"send\","
                    "\"arguments\":[]}"), U("send"), &m, &why, NULL, 0),
              SIGNALR_TRIGGER_INVALID);                   /* duplicates */
    CHECK_INT(signalr_parse_invocation_json(
                  U("{\"type\":3,\"target\":\"send\",\"arguments\":[]}"),
                  U("send"), &m, &why, NULL, 0), SIGNALR_TRIGGER_INVALID);
    CHECK_STR(why, "the message is not an invocation (type 1)");
    CHECK_INT(signalr_parse_invocation_json(
                  U("{\"type\":1,\"target\":\"other\",\"arguments\":[]}"),
                  U("send"), &m, &why, NULL, 0), SIGNALR_TRIGGER_INVALID);
    CHECK_STR(why, "the invocation target differs from X-ASRS-Event");
    CHECK_INT(signalr_parse_invocation_json(
                  U("{\"type\":1,\"target\":\"sen\",\"arguments\":[]}"),
                  U("send"), &m, &why, NULL, 0), SIGNALR_TRIGGER_INVALID);
    CHECK_INT(signalr_parse_invocation_json(
                  U("{\"type\":1,\"target\":\"send\",\"arguments\":{}}"),
                  U("send"), &m, &why, NULL, 0), SIGNALR_TRIGGER_INVALID);
    CHECK_STR(why, "the invocation arguments must be an array");
    CHECK_INT(signalr_parse_invocation_json(
                  U("{\"type\":1,\"invocationId\":7,\"target\":\"send\","
                    "\"arguments\":[]}"), U("send"), &m, &why, NULL, 0),
              SIGNALR_TRIGGER_INVALID);
    CHECK_STR(why, "the invocationId must be a string");
}


static void
test_invocation_msgpack(void)
{
    int                 n;
    char                detail[128];
    const char         *why;
    unsigned char       body[64];
    signalr_message_t   m;

    /* [1, {}, "7", "Send", ["a"]] */
    n = unit_unhex("950180a137a453656e6491a161", body, sizeof(body));
    CHECK(n > 0);

    CHECK_INT(signalr_parse_invocation_msgpack(body, n, U("send"), &m, &why,
                                               detail, sizeof(detail)),
              SIGNALR_TRIGGER_OK);
    CHECK_STR(json_string_value(m.invocation_id), "7");
    CHECK_INT(json_array_size(m.arguments), 1);
    signalr_message_free(&m);

    CHECK_INT(signalr_parse_invocation_msgpack(body, n, U("other"), &m, &why,
                                               detail, sizeof(detail)),
              SIGNALR_TRIGGER_INVALID);
    CHECK_STR(why, "the invocation target differs from X-ASRS-Event");

    detail[0] = '\0';
    CHECK_INT(signalr_parse_invocation_msgpack(body, n - 1, U("send"), &m,
                                               &why, detail, sizeof(detail)),
              SIGNALR_TRIGGER_INVALID);
    CHECK_STR(why, "invalid MessagePack invocation");
    CHECK(detail[0] != '\0');
}


static void
check_pairs(signalr_pairs_t *p, const char *expected)
{
    signalr_jw_t   w;
    signalr_str_t  s = { 0 };

    signalr_jw_init(&w, &s);
    signalr_jw_pairs(&w, p);
    CHECK_INT(signalr_jw_done(&w), 0);
    CHECK_MEM(s.data, s.len, expected, strlen(expected));
    signalr_str_free(&s);
}


static void
test_query(void)
{
    signalr_pairs_t  q = { 0 };

    signalr_pairs_init(&q, 1);
    CHECK_INT(signalr_parse_query(&q, U("?hub=chat&id=abc%2Bdef&k=v+1&k=v2"
                                        "&empty=&flag&&=x&K=v3")),
              SIGNALR_TRIGGER_OK);
    check_pairs(&q, "{\"hub\":\"chat\",\"id\":\"abc+def\",\"k\":\"v 1,v2,v3\","
                    "\"empty\":\"\",\"flag\":\"\",\"\":\"x\"}");

    /* an empty name is a name (QueryStringEnumerable of ASP.NET Core) */
    signalr_pairs_init(&q, 1);
    CHECK_INT(signalr_parse_query(&q, U("?=x&a=1&=y&=&&")),
              SIGNALR_TRIGGER_OK);
    check_pairs(&q, "{\"\":\"x,y,\",\"a\":\"1\"}");

    /* escapes: bad ones stay as they are, UTF-8 decoded, not UTF-8 refused */
    signalr_pairs_init(&q, 1);
    CHECK_INT(signalr_parse_query(&q, U("a=%zz%4&b=%&c=%C3%A9&d=%41%2b%2B"
                                        "&q=%22%5C")),
              SIGNALR_TRIGGER_OK);
    check_pairs(&q, "{\"a\":\"%zz%4\",\"b\":\"%\",\"c\":\"\xc3\xa9\","
                    "\"d\":\"A++\",\"q\":\"\\\"\\\\\"}");

    /* the pairs point into the decoded query: a second one is refused */
    CHECK_INT(signalr_parse_query(&q, U("x=1")), SIGNALR_TRIGGER_NOMEM);

    signalr_pairs_init(&q, 1);
    CHECK_INT(signalr_parse_query(&q, U("a=%ff")), SIGNALR_TRIGGER_INVALID);

    signalr_pairs_init(&q, 1);
    CHECK_INT(signalr_parse_query(&q, U("%00=1")), SIGNALR_TRIGGER_INVALID);

    signalr_pairs_init(&q, 1);
    CHECK_INT(signalr_parse_query(&q, U("")), SIGNALR_TRIGGER_OK);
    CHECK_INT(signalr_parse_query(&q, U("?")), SIGNALR_TRIGGER_OK);
    check_pairs(&q, "{}");

    signalr_pairs_free(&q);
}


static void
test_pairs_limit(void)
{
    int              i;
    char             names[SIGNALR_TRIGGER_MAX_PAIRS][16];
    signalr_pairs_t  q = { 0 };

    signalr_pairs_init(&q, 1);

    for (i = 0; i < SIGNALR_TRIGGER_MAX_PAIRS; i++) {
        snprintf(names[i], sizeof(names[i]), "k%d", i);
        CHECK_INT(signalr_pairs_add(&q, U(names[i]), U("v")),
                  SIGNALR_TRIGGER_OK);
    }

    CHECK_INT(signalr_pairs_add(&q, U("one-more"), U("v")),
              SIGNALR_TRIGGER_INVALID);
    /* full: not even a name that is there already */
    CHECK_INT(signalr_pairs_add(&q, U("K0"), U("w")),
              SIGNALR_TRIGGER_INVALID);

    /* below the limit, one name takes any number of values */
    signalr_pairs_init(&q, 1);
    for (i = 0; i < 4 * SIGNALR_TRIGGER_MAX_PAIRS; i++) {
        CHECK_INT(signalr_pairs_add(&q, U("k1"), U("v")), SIGNALR_TRIGGER_OK);
    }

    /* without join, names are compared exactly: the first value counts */
    signalr_pairs_init(&q, 0);
    CHECK_INT(signalr_pairs_add(&q, U("Name"), U("a")), SIGNALR_TRIGGER_OK);
    CHECK_INT(signalr_pairs_add(&q, U("NAME"), U("b")), SIGNALR_TRIGGER_OK);
    CHECK_INT(signalr_pairs_add(&q, U("Name"), U("c")), SIGNALR_TRIGGER_OK);
    check_pairs(&q, "{\"Name\":\"a\",\"NAME\":\"b\"}");

    signalr_pairs_init(&q, 1);
    CHECK_INT(signalr_pairs_add(&q, U("Name"), U("a")), SIGNALR_TRIGGER_OK);
    CHECK_INT(signalr_pairs_add(&q, U("x"), U("1")), SIGNALR_TRIGGER_OK);
    CHECK_INT(signalr_pairs_add(&q, U("name"), U("c")), SIGNALR_TRIGGER_OK);
    check_pairs(&q, "{\"Name\":\"a,c\",\"x\":\"1\"}");
    CHECK_INT(signalr_pairs_add(&q, U("x"), U("\xc3")),
              SIGNALR_TRIGGER_INVALID);
    CHECK_INT(signalr_pairs_add(&q, (const unsigned char *) "a\0b", 3,
                                U("v")), SIGNALR_TRIGGER_INVALID);

    signalr_pairs_free(&q);
}


static void
test_claims(void)
{
    signalr_pairs_t  c = { 0 };

    signalr_pairs_init(&c, 0);
    CHECK_INT(signalr_parse_claims(&c, U("asrs.s.uid: alice, role: admin, "
                                         "role: ops, aud: http://localhost/"
                                         "client/?hub=chat, odd: a: b, "
                                         "nocolon, : empty,  sp :  x  ")),
              SIGNALR_TRIGGER_OK);
    check_pairs(&c, "{\"asrs.s.uid\":\"alice\",\"role\":\"admin\","
                    "\"aud\":\"http://localhost/client/?hub=chat\","
                    "\"\":\"empty\",\"sp\":\"x\"}");

    /*
     * as GetClaimDictionary: ": " splits, empty parts left out, two parts
     * a claim; names in their exact case; .NET's white space trimmed
     */
    signalr_pairs_init(&c, 0);
    CHECK_INT(signalr_parse_claims(&c, U("Role: a, role: b, ROLE: c, k: , "
                                         "k2: : v, k3: v: , k4: : , "
                                         ": v5, k6:v, k7: a: b, "
                                         "t: \t\x0bv\x0c\r\n, "
                                         "n: \xc2\xa0\xc2\x85w\xe3\x80\x80"
                                         "\xe2\x80\x8a, "
                                         "\xe2\x80\x80m\xe2\x81\x9f: x"
                                         "\xe2\x80\xa8\xe2\x80\xa9\xe2\x80"
                                         "\xaf\xe1\x9a\x80, "
                                         "z: \xe2\x80\x8bz\xc2\xa1")),
              SIGNALR_TRIGGER_OK);
    check_pairs(&c, "{\"Role\":\"a\",\"role\":\"b\",\"ROLE\":\"c\","
                    "\"k2\":\"v\",\"k3\":\"v\",\"\":\"v5\",\"t\":\"v\","
                    "\"n\":\"w\",\"m\":\"x\","
                    "\"z\":\"\xe2\x80\x8bz\xc2\xa1\"}");

    /* a claim type of white space only is the type "" */
    signalr_pairs_init(&c, 0);
    CHECK_INT(signalr_parse_claims(&c, U("  : v, \t: w,k:  ")),
              SIGNALR_TRIGGER_OK);
    check_pairs(&c, "{\"\":\"v\",\"k\":\"\"}");

    signalr_pairs_init(&c, 0);
    CHECK_INT(signalr_parse_claims(&c, U("k: \xff")), SIGNALR_TRIGGER_INVALID);

    signalr_pairs_free(&c);
}


static void
test_caseless(void)
{
    CHECK(signalr_caseless_eq(U("Send"), U("sEND")));
    CHECK(!signalr_caseless_eq(U("send"), U("sends")));
    CHECK(!signalr_caseless_eq(U("a\x80"), U("A\xa0")));
    CHECK(signalr_caseless_eq(U(""), U("")));
}


int
main(void)
{
    UNIT_RUN(test_signature);
    UNIT_RUN(test_event);
    UNIT_RUN(test_invocation_json);
    UNIT_RUN(test_invocation_msgpack);
    UNIT_RUN(test_query);
    UNIT_RUN(test_pairs_limit);
    UNIT_RUN(test_claims);
    UNIT_RUN(test_caseless);

    return unit_report();
}
