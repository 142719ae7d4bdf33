/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * UTF-8 validation, JSON escaping and serialization, hub and group names,
 * RFC 3986 escaping.
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "signalr_json.h"
#include "signalr_names.h"


#define U(s)  (const unsigned char *) (s), strlen(s)


static void
test_utf8(void)
{
    CHECK(signalr_utf8_valid(U("")));
    CHECK(signalr_utf8_valid(U("plain ascii")));
    CHECK(signalr_utf8_valid(U("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80")));
    CHECK(!signalr_utf8_valid(U("\xc3")));
    CHECK(!signalr_utf8_valid(U("\xc0\xaf")));            /* overlong */
    CHECK(!signalr_utf8_valid(U("\xe0\x80\xaf")));        /* overlong */
    CHECK(!signalr_utf8_valid(U("\xed\xa0\x80")));        /* surrogate */
    CHECK(!signalr_utf8_valid(U("\xf4\x90\x80\x80")));    /* > U+10FFFF */
    CHECK(!signalr_utf8_valid(U("\xff")));
    CHECK(!signalr_utf8_valid(U("a\x80")));
    CHECK(!signalr_utf8_valid(U("\xe2\x82")));
}


static void
test_escape(void)
{
    unsigned char  out[64], *end;
    const char    *in = "q\"b\\/\x01\x1f\b\f\n\r\t\xc3\xa9";
    const char    *expected = "q\\\"b\\\\/\\u0001\\u001f\\b\\f\\n\\r\\t\xc3\xa9";

    end = signalr_json_escape(out, U(in));
    CHECK_MEM(out, (size_t) (end - out), expected, strlen(expected));
}


/* the escape of one byte, written plainly, to check the fast paths by */

static size_t
ref_escape(unsigned char *d, unsigned char c)
{
    switch (c) {
    case '"':  memcpy(d, "\\\"", 2); return 2;
    case '\\': memcpy(d, "\\\\", 2); return 2;
    case '\b': memcpy(d, "\\b", 2); return 2;
    case '\f': memcpy(d, "\\f", 2); return 2;
    case '\n': memcpy(d, "\\n", 2); return 2;
    case '\r': memcpy(d, "\\r", 2); return 2;
    case '\t': memcpy(d, "\\t", 2); return 2;
    default:
        if (c < 0x20) {
            sprintf((char *) d, "\\u%04x", c);
            return 6;
        }
        *d = c;
        return 1;
    }
}


/*
 * every byte value at every offset of a 40-byte run of plain text (the
 * eight-byte steps and the tail), through both escapers; and UTF-8
 * validation of the same run with a bad byte at every offset
 */

static void
test_escape_every_byte(void)
{
    int            c;
    size_t         at, i, n;
    unsigned char  in[40], out[256], ref[256], *end;
    signalr_str_t  s = { 0 };

    for (c = 0; c < 256; c++) {
        for (at = 0; at < sizeof(in); at++) {
            for (i = 0; i < sizeof(in); i++) {
                in[i] = (unsigned char) ('a' + i % 26);
            }

            in[at] = (unsigned char) c;

            n = 0;
            for (i = 0; i < sizeof(in); i++) {
                n += ref_escape(ref + n, in[i]);
            }

            end = signalr_json_escape(out, in, sizeof(in));
            CHECK_MEM(out, (size_t) (end - out), ref, n);

            s.len = 0;
            CHECK_INT(signalr_str_append_escaped(&s, in, sizeof(in)), 0);
            CHECK_MEM(s.data, s.len, ref, n);

            CHECK_INT(signalr_utf8_valid(in, sizeof(in)), c < 0x80);
        }
    }

    signalr_str_free(&s);
}


static void
check_dump(const char *in, const char *expected)
{
    json_t        *v;
    signalr_str_t  s = { 0 };

    v = json_loads(in, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    CHECK_INT(signalr_json_dump(&s, v), 0);
    CHECK_MEM(s.data, s.len, expected, strlen(expected));
    signalr_str_free(&s);
    json_decref(v);
}


static void
test_dump(void)
{
    check_dump("[0.1, 1.5, 100.0, 1e300, -2.5e-7, 3.141592653589793]",
               "[0.1,1.5,100.0,1e+300,-2.5e-07,3.141592653589793]");
    check_dump("{ \"b\" : [ true, false, null ], \"a\": \"x/\\u00e9\" }",
               "{\"b\":[true,false,null],\"a\":\"x/\xc3\xa9\"}");
    check_dump("[-9223372036854775808, 9223372036854775807]",
               "[-9223372036854775808,9223372036854775807]");
    check_dump("\"\\u0000\\\"\"", "\"\\u0000\\\"\"");
    check_dump("{}", "{}");
    check_dump("[[],{}]", "[[],{}]");
}


static void
test_hub_names(void)
{
    char  name[130];

    CHECK(signalr_hub_valid(U("chat")));
    CHECK(signalr_hub_valid(U("Chat_1`,.[]")));
    CHECK(!signalr_hub_valid(U("")));
    CHECK(!signalr_hub_valid(U("1chat")));
    CHECK(!signalr_hub_valid(U("_chat")));
    CHECK(!signalr_hub_valid(U("chat room")));
    CHECK(!signalr_hub_valid(U("chat/x")));
    CHECK(!signalr_hub_valid(U("chat-x")));
    CHECK(!signalr_hub_valid(U("caf\xc3\xa9")));

    memset(name, 'a', sizeof(name));
    CHECK(signalr_hub_valid((unsigned char *) name, 128));
    CHECK(!signalr_hub_valid((unsigned char *) name, 129));
}


static void
test_group_names(void)
{
    char  name[1100];

    CHECK(signalr_group_valid(U("g")));
    CHECK(signalr_group_valid(U(" a b ")));
    CHECK(signalr_group_valid(U("caf\xc3\xa9/#?%")));
    CHECK(!signalr_group_valid(U("")));
    CHECK(!signalr_group_valid(U("  \t ")));
    CHECK(!signalr_group_valid(U("\xc3")));

    memset(name, 'g', sizeof(name));
    CHECK(signalr_group_valid((unsigned char *) name, 1024));
    CHECK(!signalr_group_valid((unsigned char *) name, 1025));
}


static void
test_uri_escape(void)
{
    unsigned char  out[128], *end;
    const char    *in = "a/b %?#\xc3\xa9-._~AZaz09+&=";
    const char    *expected = "a%2Fb%20%25%3F%23%C3%A9-._~AZaz09%2B%26%3D";

    CHECK_INT(signalr_uri_escaped_len(U(in)), strlen(expected));
    end = signalr_uri_escape(out, U(in));
    CHECK_MEM(out, (size_t) (end - out), expected, strlen(expected));
}


typedef struct {
    int     n;
    char   *blocks[32];
} test_pool_t;


static void *
test_grow(void *ctx, void *data, size_t len, size_t size)
{
    char         *p;
    test_pool_t  *pool = ctx;

    /* a new block each time, as a pool gives; the old one is kept */

    if (pool->n == 32) {
        return NULL;
    }

    p = malloc(size);
    if (p != NULL && len) {
        memcpy(p, data, len);
    }

    pool->blocks[pool->n++] = p;

    return p;
}


static void
test_writer(void)
{
    int            i;
    test_pool_t    pool;
    signalr_jw_t   w;
    signalr_str_t  s = { 0 };
    const char    *expected =
        "{\"a\":[1,-2,null,true,false,\"x\\\"y\\u0001\\n\"],\"b\":{},"
        "\"c\":[],\"k\\\\\":{\"raw\":[0.1]},\"e\":\"\"}";

    signalr_jw_init(&w, &s);
    signalr_jw_object(&w);
    signalr_jw_key_lit(&w, "a");
    signalr_jw_array(&w);
    signalr_jw_integer(&w, 1);
    signalr_jw_integer(&w, -2);
    signalr_jw_null(&w);
    signalr_jw_bool(&w, 1);
    signalr_jw_bool(&w, 0);
    signalr_jw_string(&w, "x\"y\001\n", 5);
    signalr_jw_end(&w);
    signalr_jw_key_lit(&w, "b");
    signalr_jw_object(&w);
    signalr_jw_end(&w);
    signalr_jw_key_lit(&w, "c");
    signalr_jw_array(&w);
    signalr_jw_end(&w);
    signalr_jw_key(&w, "k\\", 2);
    signalr_jw_object(&w);
    signalr_jw_key_lit(&w, "raw");
    signalr_jw_raw(&w, "[0.1]", 5);
    signalr_jw_end(&w);
    signalr_jw_key_lit(&w, "e");
    signalr_jw_string(&w, "", 0);
    signalr_jw_end(&w);

    CHECK_INT(signalr_jw_done(&w), 0);
    CHECK_MEM(s.data, s.len, expected, strlen(expected));
    signalr_str_free(&s);

    /* unbalanced, a key without a value, too deep: refused */
    signalr_jw_init(&w, &s);
    signalr_jw_object(&w);
    CHECK_INT(signalr_jw_done(&w), -1);
    signalr_str_free(&s);

    signalr_jw_init(&w, &s);
    signalr_jw_end(&w);
    CHECK_INT(signalr_jw_done(&w), -1);
    signalr_str_free(&s);

    signalr_jw_init(&w, &s);
    signalr_jw_object(&w);
    signalr_jw_key_lit(&w, "k");
    CHECK_INT(signalr_jw_done(&w), -1);
    signalr_str_free(&s);

    signalr_jw_init(&w, &s);
    for (i = 0; i < SIGNALR_JW_MAX_DEPTH + 1; i++) {
        signalr_jw_array(&w);
    }
    CHECK_INT(signalr_jw_done(&w), -1);
    signalr_str_free(&s);

    /* as deep as jansson parses: written back as it came */
    {
        char    *deep;
        json_t  *v;

        deep = malloc(2 * SIGNALR_JW_MAX_DEPTH + 1);
        CHECK(deep != NULL);
        if (deep != NULL) {
            memset(deep, '[', SIGNALR_JW_MAX_DEPTH);
            memset(deep + SIGNALR_JW_MAX_DEPTH, ']', SIGNALR_JW_MAX_DEPTH);
            deep[2 * SIGNALR_JW_MAX_DEPTH] = '\0';

            v = json_loads(deep, 0, NULL);
            CHECK(v != NULL);
            CHECK_INT(signalr_json_dump(&s, v), 0);
            CHECK_MEM(s.data, s.len, deep, strlen(deep));
            json_decref(v);
            signalr_str_free(&s);
            free(deep);
        }
    }

    /* grown through a hook, not realloc(), and not freed by it */
    memset(&pool, 0, sizeof(test_pool_t));
    s.grow = test_grow;
    s.ctx = &pool;
    signalr_jw_init(&w, &s);
    signalr_jw_array(&w);
    for (i = 0; i < 200; i++) {
        signalr_jw_string(&w, "0123456789", 10);
    }
    signalr_jw_end(&w);
    CHECK_INT(signalr_jw_done(&w), 0);
    CHECK_INT(s.len, 200 * 13 + 1);
    CHECK(pool.n >= 2);
    CHECK(s.data[0] == '[' && s.data[s.len - 1] == ']');
    signalr_str_free(&s);
    CHECK(pool.n > 0 && s.data == NULL);

    for (i = 0; i < pool.n; i++) {
        free(pool.blocks[i]);
    }
}


static void
test_format_integer(void)
{
    char       buf[SIGNALR_INTEGER_LEN], ref[32];
    size_t     n;
    long long  v;

    n = signalr_format_integer(buf, 0);
    CHECK_MEM(buf, n, "0", 1);
    n = signalr_format_integer(buf, 1700000000);
    CHECK_MEM(buf, n, "1700000000", 10);
    n = signalr_format_integer(buf, -42);
    CHECK_MEM(buf, n, "-42", 3);
    n = signalr_format_integer(buf, LLONG_MAX);
    CHECK_MEM(buf, n, "9223372036854775807", 19);
    n = signalr_format_integer(buf, LLONG_MIN);
    CHECK_MEM(buf, n, "-9223372036854775808", 20);

    /* every number of one to four digits, and each power of ten */
    for (v = -10000; v <= 10000; v++) {
        n = signalr_format_integer(buf, v);
        CHECK_MEM(buf, n, ref, (size_t) sprintf(ref, "%lld", v));
    }

    for (v = 1; v <= LLONG_MAX / 10; v *= 10) {
        n = signalr_format_integer(buf, v * 10 - 1);
        CHECK_MEM(buf, n, ref, (size_t) sprintf(ref, "%lld", v * 10 - 1));
        n = signalr_format_integer(buf, v * 10);
        CHECK_MEM(buf, n, ref, (size_t) sprintf(ref, "%lld", v * 10));
    }
}


int
main(void)
{
    UNIT_RUN(test_utf8);
    UNIT_RUN(test_escape);
    UNIT_RUN(test_escape_every_byte);
    UNIT_RUN(test_writer);
    UNIT_RUN(test_format_integer);
    UNIT_RUN(test_dump);
    UNIT_RUN(test_hub_names);
    UNIT_RUN(test_group_names);
    UNIT_RUN(test_uri_escape);

    return unit_report();
}
