/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Unit tests for signalr_msgpack.c, the MessagePack codec of the SignalR
 * hub protocol.  Build and run (see t/unit/unit.h):
 *
 * gcc -std=c99 -g -Wall -Wextra -Werror -fsanitize=address,undefined
 *     -I ngx_signalr_module -o /tmp/test_msgpack t/unit/test_msgpack.c
 *     ngx_signalr_module/signalr_msgpack.c -ljansson && /tmp/test_msgpack
 */


#include <stdint.h>
#include <stdlib.h>

#include "unit.h"
#include "signalr_msgpack.h"


#define TEST_ERRLEN  128

#define TEST_INVOCATION                                                       \
    "960180a130a962726f61646361737491a568656c6c6f90"

#define CHECK_HEX(p, n, hex)                                                  \
    do {                                                                      \
        unsigned char  hb_[512];                                              \
        int            hn_ = unit_unhex(hex, hb_, sizeof(hb_));               \
        if (hn_ < 0) {                                                        \
            UNIT_FAIL("bad test hex %s", hex);                                \
        } else {                                                              \
            CHECK_MEM(p, n, hb_, (size_t) hn_);                               \
        }                                                                     \
    } while (0)

#define CHECK_DECODE_ERROR(hex, msg)                                          \
    do {                                                                      \
        char     e_[TEST_ERRLEN];                                             \
        json_t  *j_ = test_decode(hex, e_);                                   \
        if (j_ != NULL) {                                                     \
            UNIT_FAIL("%s decoded, expected \"%s\"", hex, msg);               \
            json_decref(j_);                                                  \
        } else {                                                              \
            CHECK_STR(e_, msg);                                               \
        }                                                                     \
    } while (0)


static size_t  test_allocs;


/* decodes hex holding exactly one value; NULL on error, with err set */

static json_t *
test_decode(const char *hex, char *err)
{
    int             n;
    size_t          used;
    json_t         *json;
    unsigned char   buf[512];

    n = unit_unhex(hex, buf, sizeof(buf));
    if (n < 0) {
        snprintf(err, TEST_ERRLEN, "bad test hex");
        return NULL;
    }

    json = (json_t *) 1;
    err[0] = '\0';

    if (signalr_msgpack_decode(buf, n, &used, &json, err, TEST_ERRLEN) != 0) {
        if (json != NULL) {
            snprintf(err, TEST_ERRLEN, "json not NULL after an error");
        }

        return NULL;
    }

    if (used != (size_t) n) {
        snprintf(err, TEST_ERRLEN, "used %zu of %d bytes", used, n);
        json_decref(json);
        return NULL;
    }

    return json;
}


static int
test_parse(const char *hex, signalr_msgpack_invocation_t *inv, char *err)
{
    int            n;
    unsigned char  buf[512];

    n = unit_unhex(hex, buf, sizeof(buf));
    if (n < 0) {
        snprintf(err, TEST_ERRLEN, "bad test hex");
        return -1;
    }

    err[0] = '\0';

    return signalr_msgpack_parse_invocation(buf, n, inv, err, TEST_ERRLEN);
}


static void *
test_counting_malloc(size_t size)
{
    test_allocs++;
    return malloc(size);
}


/* n levels of nested arrays or maps ({"a": {"a": ... {}}}) */

static size_t
test_nest(unsigned char *buf, unsigned n, int map)
{
    size_t    len;
    unsigned  i;

    len = 0;

    for (i = 1; i < n; i++) {
        if (map) {
            buf[len++] = 0x81;
            buf[len++] = 0xa1;
            buf[len++] = 'a';

        } else {
            buf[len++] = 0x91;
        }
    }

    buf[len++] = map ? 0x80 : 0x90;

    return len;
}


static void
test_completion_vectors(void)
{
    json_t           *ok, *boom;
    signalr_str_t     b = { 0 };

    ok = json_string("ok");
    boom = json_string("boom");

    CHECK_INT(signalr_msgpack_completion(&b, "0", 1,
                  SIGNALR_MSGPACK_COMPLETION_RESULT, ok), 0);
    CHECK_HEX(b.data, b.len, "09950380a13003a26f6b");
    signalr_str_free(&b);

    CHECK_INT(signalr_msgpack_completion(&b, "0", 1,
                  SIGNALR_MSGPACK_COMPLETION_ERROR, boom), 0);
    CHECK_HEX(b.data, b.len, "0b950380a13001a4626f6f6d");
    signalr_str_free(&b);

    CHECK_INT(signalr_msgpack_completion(&b, "0", 1,
                  SIGNALR_MSGPACK_COMPLETION_VOID, NULL), 0);
    CHECK_HEX(b.data, b.len, "06940380a13002");
    signalr_str_free(&b);

    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);

    json_decref(ok);
    json_decref(boom);
}


static void
test_completion_values(void)
{
    json_t           *value;
    signalr_str_t     b = { 0 };

    value = json_pack("{s:i}", "a", 1);
    CHECK_INT(signalr_msgpack_completion(&b, "0", 1,
                  SIGNALR_MSGPACK_COMPLETION_RESULT, value), 0);
    CHECK_HEX(b.data, b.len, "0a950380a1300381a16101");
    json_decref(value);
    signalr_str_free(&b);

    value = json_null();
    CHECK_INT(signalr_msgpack_completion(&b, "42", 2,
                  SIGNALR_MSGPACK_COMPLETION_RESULT, value), 0);
    CHECK_HEX(b.data, b.len, "08950380a2343203c0");
    signalr_str_free(&b);

    /* a void completion ignores the value */
    value = json_true();
    CHECK_INT(signalr_msgpack_completion(&b, "0", 1,
                  SIGNALR_MSGPACK_COMPLETION_VOID, value), 0);
    CHECK_HEX(b.data, b.len, "06940380a13002");
    signalr_str_free(&b);
}


static void
test_completion_long(void)
{
    char             *s;
    size_t            used;
    json_t           *value, *decoded, *str;
    signalr_str_t     b = { 0 };

    s = malloc(20000);
    memset(s, 'x', 20000);

    /* body 95 03 80 a1 30 03 d9 c8 + 200 bytes = 208 bytes: VarInt d0 01 */
    value = json_stringn(s, 200);
    CHECK_INT(signalr_msgpack_completion(&b, "0", 1,
                  SIGNALR_MSGPACK_COMPLETION_RESULT, value), 0);
    CHECK_INT(b.len, 2 + 208);
    CHECK_HEX(b.data, 10, "d001950380a13003d9c8");
    CHECK(memcmp(b.data + 10, s, 200) == 0);
    json_decref(value);
    signalr_str_free(&b);

    /* body 95 03 80 a1 30 03 da 4e 20 + 20000 = 20009 bytes: a9 9c 01 */
    value = json_stringn(s, 20000);
    CHECK_INT(signalr_msgpack_completion(&b, "0", 1,
                  SIGNALR_MSGPACK_COMPLETION_RESULT, value), 0);
    CHECK_INT(b.len, 3 + 20009);
    CHECK_HEX(b.data, 12, "a99c01950380a13003da4e20");

    decoded = NULL;
    CHECK_INT(signalr_msgpack_decode((unsigned char *) b.data + 3,
                                     b.len - 3, &used, &decoded,
                                     NULL, 0), 0);
    CHECK_INT(used, 20009);
    str = json_array_get(decoded, 4);
    CHECK(json_equal(str, value));

    json_decref(decoded);
    json_decref(value);
    signalr_str_free(&b);
    free(s);
}


static void
test_completion_errors(void)
{
    size_t            i;
    json_t           *ok, *deep, *inner;
    signalr_str_t     b = { 0 };

    ok = json_string("ok");

    /* completions append; a failure leaves what is there untouched */
    CHECK_INT(signalr_msgpack_completion(&b, "0", 1,
                  SIGNALR_MSGPACK_COMPLETION_VOID, NULL), 0);
    CHECK_INT(signalr_msgpack_completion(&b, "1", 1,
                  SIGNALR_MSGPACK_COMPLETION_RESULT, ok), 0);
    CHECK_HEX(b.data, b.len, "06940380a1300209950380a13103a26f6b");

    CHECK_INT(signalr_msgpack_completion(&b, "0", 1, 0, ok), -1);
    CHECK_INT(signalr_msgpack_completion(&b, "0", 1, 4, ok), -1);
    CHECK_INT(signalr_msgpack_completion(&b, "0", 1,
                  SIGNALR_MSGPACK_COMPLETION_ERROR, NULL), -1);
    CHECK_INT(signalr_msgpack_completion(&b, "0", 1,
                  SIGNALR_MSGPACK_COMPLETION_ERROR, json_true()), -1);
    CHECK_INT(signalr_msgpack_completion(&b, "0", 1,
                  SIGNALR_MSGPACK_COMPLETION_RESULT, NULL), -1);
    CHECK_INT(signalr_msgpack_completion(&b, NULL, 0,
                  SIGNALR_MSGPACK_COMPLETION_VOID, NULL), -1);
    CHECK_INT(signalr_msgpack_completion(&b, "\xff", 1,
                  SIGNALR_MSGPACK_COMPLETION_VOID, NULL), -1);

    /* 65 nested arrays cannot be encoded */
    deep = json_array();
    for (i = 1; i < 65; i++) {
        inner = json_array();
        json_array_append_new(inner, deep);
        deep = inner;
    }

    CHECK_INT(signalr_msgpack_completion(&b, "0", 1,
                  SIGNALR_MSGPACK_COMPLETION_RESULT, deep), -1);

    CHECK_HEX(b.data, b.len, "06940380a1300209950380a13103a26f6b");

    json_decref(deep);
    json_decref(ok);
    signalr_str_free(&b);
}


static void
test_invocation_vector(void)
{
    char                          err[TEST_ERRLEN];
    json_t                       *args;
    signalr_msgpack_invocation_t  inv;

    CHECK_INT(test_parse(TEST_INVOCATION, &inv, err), 0);
    CHECK_STR(err, "");
    CHECK_STR(json_string_value(inv.invocation_id), "0");
    CHECK_STR(inv.target, "broadcast");

    args = json_pack("[s]", "hello");
    CHECK(json_equal(inv.arguments, args));
    json_decref(args);

    signalr_msgpack_invocation_free(&inv);
    CHECK(inv.invocation_id == NULL && inv.target == NULL
          && inv.arguments == NULL);

    /* freeing twice is harmless */
    signalr_msgpack_invocation_free(&inv);
}


static void
test_invocation_variants(void)
{
    char                          err[TEST_ERRLEN];
    json_t                       *args;
    signalr_msgpack_invocation_t  inv;

    /* nil id, 7 elements (streamIds and one more are ignored) */
    CHECK_INT(test_parse("970180c0a16292" "01a178" "91a131" "c0", &inv, err),
              0);
    CHECK(inv.invocation_id == NULL);
    CHECK_STR(inv.target, "b");
    args = json_pack("[is]", 1, "x");
    CHECK(json_equal(inv.arguments, args));
    json_decref(args);
    signalr_msgpack_invocation_free(&inv);

    /* 5 elements, no streamIds */
    CHECK_INT(test_parse("950180a130a16290", &inv, err), 0);
    CHECK_STR(json_string_value(inv.invocation_id), "0");
    CHECK_INT(json_array_size(inv.arguments), 0);
    signalr_msgpack_invocation_free(&inv);

    /* headers present, array16 outer array, str8 id */
    CHECK_INT(test_parse("dc0005" "01" "81a16ba176" "d9023132" "a162" "90",
                         &inv, err), 0);
    CHECK_STR(json_string_value(inv.invocation_id), "12");
    CHECK_STR(inv.target, "b");
    signalr_msgpack_invocation_free(&inv);

    /* invocation type as uint8 */
    CHECK_INT(test_parse("95cc0180a130a16290", &inv, err), 0);
    signalr_msgpack_invocation_free(&inv);
}


static void
test_invocation_rejected(void)
{
    size_t                        i;
    char                          err[TEST_ERRLEN];
    signalr_msgpack_invocation_t  inv;

    static const struct {
        const char  *hex;
        const char  *err;
    } tests[] = {
        { "960280a130a962726f61646361737491a568656c6c6f90",
          "only Invocation messages (type 1) are supported" },
        { "95cb3ff000000000000080a130a16290",
          "only Invocation messages (type 1) are supported" },
        { "960180a130a091a568656c6c6f90",
          "invocation target must not be empty" },
        { "950180a130a2620090",
          "invocation target must not contain NUL bytes" },
        { "950180a130c090", "invocation target must be a string" },
        { "950180a130c4016290", "invocation target must be a string" },
        { "950180a130059090", "invocation target must be a string" },
        { "95018005a16290", "invocation id must be a string or nil" },
        { "950180c40130a16290", "invocation id must be a string or nil" },
        { "9501c0a130a16290", "invocation headers must be a map" },
        { "95018101c0a130a16290", "map keys must be strings" },
        { "950180a130a16280", "invocation arguments must be an array" },
        { "940180a130a962726f616463617374",
          "invocation must be an array of at least 5 elements" },
        { "90", "invocation must be an array of at least 5 elements" },
        { "81a161c0", "invocation must be a MessagePack array" },
        { "c0", "invocation must be a MessagePack array" },
        { TEST_INVOCATION "00", "trailing bytes after MessagePack message" },
        { TEST_INVOCATION TEST_INVOCATION,
          "trailing bytes after MessagePack message" },
        { "960180a130a16290d40100", "MessagePack ext types are not supported" },
        { "960180a130a16290", "truncated MessagePack input" },
        { "dd00000005", "truncated MessagePack input" },
        { "ddffffffff", "truncated MessagePack input" },
        { "", "truncated MessagePack input" },
    };

    for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        inv.target = (char *) 1;

        if (test_parse(tests[i].hex, &inv, err) == 0) {
            UNIT_FAIL("%s parsed", tests[i].hex);
            signalr_msgpack_invocation_free(&inv);
            continue;
        }

        CHECK_STR(err, tests[i].err);
        CHECK(inv.invocation_id == NULL && inv.target == NULL
              && inv.arguments == NULL);
    }
}


static void
test_int_boundaries(void)
{
    size_t            i;
    char              err[TEST_ERRLEN];
    json_t           *value, *decoded;
    signalr_str_t     b = { 0 };

    static const struct {
        json_int_t   value;
        const char  *hex;
    } tests[] = {
        { 0, "00" },
        { 1, "01" },
        { 127, "7f" },
        { 128, "cc80" },
        { 255, "ccff" },
        { 256, "cd0100" },
        { 65535, "cdffff" },
        { 65536, "ce00010000" },
        { 4294967295LL, "ceffffffff" },
        { 4294967296LL, "cf0000000100000000" },
        { INT64_MAX, "cf7fffffffffffffff" },
        { -1, "ff" },
        { -32, "e0" },
        { -33, "d0df" },
        { -128, "d080" },
        { -129, "d1ff7f" },
        { -32768, "d18000" },
        { -32769, "d2ffff7fff" },
        { -2147483647LL - 1, "d280000000" },
        { -2147483649LL, "d3ffffffff7fffffff" },
        { INT64_MIN, "d38000000000000000" },
    };

    for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        value = json_integer(tests[i].value);

        CHECK_INT(signalr_msgpack_encode(&b, value), 0);
        CHECK_HEX(b.data, b.len, tests[i].hex);
        b.len = 0;

        decoded = test_decode(tests[i].hex, err);
        CHECK_STR(err, "");
        CHECK(json_is_integer(decoded));
        CHECK_INT(json_integer_value(decoded), tests[i].value);

        json_decref(decoded);
        json_decref(value);
    }

    signalr_str_free(&b);
}


static void
test_int_wide_forms(void)
{
    size_t   i;
    char     err[TEST_ERRLEN];
    json_t  *decoded;

    /* decoders must accept every width, not just the smallest one */
    static const struct {
        const char  *hex;
        json_int_t   value;
    } tests[] = {
        { "cc05", 5 },
        { "cd0005", 5 },
        { "ce00000005", 5 },
        { "cf0000000000000005", 5 },
        { "d005", 5 },
        { "d0ff", -1 },
        { "d1ffff", -1 },
        { "d17fff", 32767 },
        { "d2ffffffff", -1 },
        { "d27fffffff", 2147483647 },
        { "d3ffffffffffffffff", -1 },
        { "d37fffffffffffffff", INT64_MAX },
        { "d00a", 10 },
    };

    for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        decoded = test_decode(tests[i].hex, err);
        CHECK_STR(err, "");
        CHECK(json_is_integer(decoded));
        CHECK_INT(json_integer_value(decoded), tests[i].value);
        json_decref(decoded);
    }

    /* uint64 above INT64_MAX becomes a real */
    decoded = test_decode("cf8000000000000000", err);
    CHECK(json_is_real(decoded));
    CHECK(json_real_value(decoded) == 9223372036854775808.0);
    json_decref(decoded);

    decoded = test_decode("cfffffffffffffffff", err);
    CHECK(json_is_real(decoded));
    CHECK(json_real_value(decoded) == 18446744073709551615.0);
    json_decref(decoded);
}


static void
test_floats(void)
{
    char              err[TEST_ERRLEN];
    json_t           *value;
    signalr_str_t     b = { 0 };

    value = test_decode("ca3fc00000", err);
    CHECK(json_is_real(value) && json_real_value(value) == 1.5);
    json_decref(value);

    value = test_decode("ca40490fdb", err);
    CHECK(json_is_real(value)
          && json_real_value(value) == (double) 3.14159265f);
    json_decref(value);

    value = test_decode("cb3ff8000000000000", err);
    CHECK(json_is_real(value) && json_real_value(value) == 1.5);
    json_decref(value);

    value = test_decode("cbc00921fb54442d18", err);
    CHECK(json_is_real(value)
          && json_real_value(value) == -3.141592653589793);
    json_decref(value);

    CHECK_DECODE_ERROR("ca7fc00000", "NaN and Infinity are not valid JSON");
    CHECK_DECODE_ERROR("ca7f800000", "NaN and Infinity are not valid JSON");
    CHECK_DECODE_ERROR("caff800000", "NaN and Infinity are not valid JSON");
    CHECK_DECODE_ERROR("cb7ff8000000000000",
                       "NaN and Infinity are not valid JSON");
    CHECK_DECODE_ERROR("cbfff0000000000000",
                       "NaN and Infinity are not valid JSON");
    CHECK_DECODE_ERROR("ca3fc000", "truncated MessagePack input");

    /* reals always encode as float64, even integral ones */
    value = json_real(1.5);
    CHECK_INT(signalr_msgpack_encode(&b, value), 0);
    json_decref(value);

    value = json_real(2.0);
    CHECK_INT(signalr_msgpack_encode(&b, value), 0);
    json_decref(value);

    value = json_real(-0.0);
    CHECK_INT(signalr_msgpack_encode(&b, value), 0);
    json_decref(value);

    CHECK_HEX(b.data, b.len,
              "cb3ff8000000000000cb4000000000000000cb8000000000000000");

    signalr_str_free(&b);
}


static void
test_nil_bool(void)
{
    char              err[TEST_ERRLEN];
    json_t           *value;
    signalr_str_t     b = { 0 };

    value = test_decode("c0", err);
    CHECK(json_is_null(value));
    json_decref(value);

    value = test_decode("c2", err);
    CHECK(json_is_false(value));
    json_decref(value);

    value = test_decode("c3", err);
    CHECK(json_is_true(value));
    json_decref(value);

    CHECK_INT(signalr_msgpack_encode(&b, json_null()), 0);
    CHECK_INT(signalr_msgpack_encode(&b, json_false()), 0);
    CHECK_INT(signalr_msgpack_encode(&b, json_true()), 0);
    CHECK_INT(signalr_msgpack_encode(&b, NULL), -1);
    CHECK_HEX(b.data, b.len, "c0c2c3");

    signalr_str_free(&b);
}


static void
test_string_sizes(void)
{
    char              err[TEST_ERRLEN], *s;
    size_t            i, used, hlen;
    json_t           *value, *decoded;
    signalr_str_t     b = { 0 };

    static const struct {
        size_t       len;
        const char  *hex;
    } tests[] = {
        { 0, "a0" },
        { 1, "a1" },
        { 31, "bf" },
        { 32, "d920" },
        { 255, "d9ff" },
        { 256, "da0100" },
        { 65535, "daffff" },
        { 65536, "db00010000" },
        { 70000, "db00011170" },
    };

    s = malloc(70000);
    for (i = 0; i < 70000; i++) {
        s[i] = 'a' + i % 26;
    }

    for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        value = json_stringn(s, tests[i].len);
        hlen = strlen(tests[i].hex) / 2;

        CHECK_INT(signalr_msgpack_encode(&b, value), 0);
        CHECK_INT(b.len, hlen + tests[i].len);
        CHECK_HEX(b.data, hlen, tests[i].hex);

        decoded = NULL;
        CHECK_INT(signalr_msgpack_decode((unsigned char *) b.data, b.len,
                                         &used, &decoded, err, sizeof(err)),
                  0);
        CHECK_INT(used, b.len);
        CHECK(json_equal(decoded, value));

        json_decref(decoded);
        json_decref(value);
        b.len = 0;
    }

    /* str8 holding a short string is accepted */
    value = test_decode("d903616263", err);
    CHECK_STR(json_string_value(value), "abc");
    json_decref(value);

    /* strings may hold NUL bytes */
    value = test_decode("a3610062", err);
    CHECK_INT(json_string_length(value), 3);
    CHECK(memcmp(json_string_value(value), "a\0b", 3) == 0);
    CHECK_INT(signalr_msgpack_encode(&b, value), 0);
    CHECK_HEX(b.data, b.len, "a3610062");
    json_decref(value);

    signalr_str_free(&b);
    free(s);
}


static void
test_unicode(void)
{
    char              err[TEST_ERRLEN];
    json_t           *value;
    const char       *s;
    signalr_str_t     b = { 0 };

    /* "h\u00e9llo \u20ac \U0001d11e" */
    s = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e";

    value = json_string(s);
    CHECK_INT(signalr_msgpack_encode(&b, value), 0);
    CHECK_HEX(b.data, b.len, "af68c3a96c6c6f20e282ac20f09d849e");
    json_decref(value);

    value = test_decode("af68c3a96c6c6f20e282ac20f09d849e", err);
    CHECK_STR(json_string_value(value), s);
    json_decref(value);

    /* the edges of the valid ranges */
    value = test_decode("a2c280", err);
    CHECK_STR(json_string_value(value), "\xc2\x80");
    json_decref(value);

    value = test_decode("a3ed9fbf", err);
    CHECK_STR(json_string_value(value), "\xed\x9f\xbf");
    json_decref(value);

    value = test_decode("a3ee8080", err);
    CHECK_STR(json_string_value(value), "\xee\x80\x80");
    json_decref(value);

    value = test_decode("a3efbfbf", err);
    CHECK_STR(json_string_value(value), "\xef\xbf\xbf");
    json_decref(value);

    value = test_decode("a4f48fbfbf", err);
    CHECK_STR(json_string_value(value), "\xf4\x8f\xbf\xbf");
    json_decref(value);

    signalr_str_free(&b);
}


static void
test_invalid_utf8(void)
{
    size_t  i;

    static const char  *tests[] = {
        "a1ff",             /* never valid */
        "a180",             /* lone continuation byte */
        "a1c3",             /* truncated sequence */
        "a2e282",           /* truncated sequence */
        "a2c328",           /* bad continuation byte */
        "a2c080",           /* overlong NUL */
        "a2c1bf",           /* overlong */
        "a3e08080",         /* overlong */
        "a4f0808080",       /* overlong */
        "a3eda080",         /* surrogate */
        "a3edbfbf",         /* surrogate */
        "a4f4908080",       /* above U+10FFFF */
        "a4f8888080",       /* 5-byte form */
        "d902c328",         /* str8 */
        "da0001ff",         /* str16 */
        "81a1ff01",         /* map key */
        "92a161a1ff",       /* inside an array */
    };

    for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        CHECK_DECODE_ERROR(tests[i], "invalid UTF-8 in MessagePack string");
    }
}


static void
test_bin_base64(void)
{
    size_t   i;
    char     err[TEST_ERRLEN];
    json_t  *value;

    static const struct {
        const char  *hex;
        const char  *base64;
    } tests[] = {
        { "c400", "" },
        { "c40166", "Zg==" },
        { "c402666f", "Zm8=" },
        { "c403666f6f", "Zm9v" },
        { "c404666f6f62", "Zm9vYg==" },
        { "c405666f6f6261", "Zm9vYmE=" },
        { "c406666f6f626172", "Zm9vYmFy" },
        { "c403fbfffe", "+//+" },
        { "c40100", "AA==" },
        { "c50003666f6f", "Zm9v" },
        { "c600000003666f6f", "Zm9v" },
    };

    for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        value = test_decode(tests[i].hex, err);
        CHECK_STR(err, "");
        CHECK_STR(json_string_value(value), tests[i].base64);
        json_decref(value);
    }
}


static void
test_container_sizes(void)
{
    char              err[TEST_ERRLEN], key[32];
    size_t            i, j, used, hlen;
    json_t           *value, *decoded;
    signalr_str_t     b = { 0 };

    static const struct {
        int          map;
        size_t       size;
        const char  *hex;
    } tests[] = {
        { 0, 0, "90" },
        { 0, 15, "9f" },
        { 0, 16, "dc0010" },
        { 0, 65535, "dcffff" },
        { 0, 65536, "dd00010000" },
        { 1, 0, "80" },
        { 1, 15, "8f" },
        { 1, 16, "de0010" },
        { 1, 65535, "deffff" },
        { 1, 65536, "df00010000" },
    };

    for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        value = tests[i].map ? json_object() : json_array();

        for (j = 0; j < tests[i].size; j++) {
            if (tests[i].map) {
                snprintf(key, sizeof(key), "k%zu", j);
                json_object_set_new(value, key, json_integer(j));

            } else {
                json_array_append_new(value, json_integer(j));
            }
        }

        hlen = strlen(tests[i].hex) / 2;

        CHECK_INT(signalr_msgpack_encode(&b, value), 0);
        CHECK_HEX(b.data, hlen, tests[i].hex);

        decoded = NULL;
        CHECK_INT(signalr_msgpack_decode((unsigned char *) b.data, b.len,
                                         &used, &decoded, err, sizeof(err)),
                  0);
        CHECK_INT(used, b.len);
        CHECK(json_equal(decoded, value));

        json_decref(decoded);
        json_decref(value);
        b.len = 0;
    }

    /* wide headers holding few elements are accepted */
    value = test_decode("dc0001c0", err);
    CHECK_INT(json_array_size(value), 1);
    json_decref(value);

    value = test_decode("dd00000001c0", err);
    CHECK_INT(json_array_size(value), 1);
    json_decref(value);

    value = test_decode("de0001a161c0", err);
    CHECK(json_is_null(json_object_get(value, "a")));
    json_decref(value);

    value = test_decode("df00000001a161c0", err);
    CHECK(json_is_null(json_object_get(value, "a")));
    json_decref(value);

    signalr_str_free(&b);
}


static void
test_nested(void)
{
    char              err[TEST_ERRLEN];
    json_t           *value, *decoded;
    signalr_str_t     b = { 0 };

    value = json_pack("{s:[i,{s:n}],s:b,s:{s:[]}}", "a", 1, "b", "c", 1,
                      "d", "e");

    CHECK_INT(signalr_msgpack_encode(&b, value), 0);
    CHECK_HEX(b.data, b.len, "83a1619201" "81a162c0" "a163c3" "a16481a16590");

    decoded = test_decode("83a1619201" "81a162c0" "a163c3" "a16481a16590",
                          err);
    CHECK_STR(err, "");
    CHECK(json_equal(decoded, value));

    json_decref(decoded);
    json_decref(value);
    signalr_str_free(&b);
}


static void
test_map_keys(void)
{
    CHECK_DECODE_ERROR("8101c0", "map keys must be strings");
    CHECK_DECODE_ERROR("81c0c0", "map keys must be strings");
    CHECK_DECODE_ERROR("81c40161c0", "map keys must be strings");
    CHECK_DECODE_ERROR("8190c0", "map keys must be strings");
    CHECK_DECODE_ERROR("82a16101a16102", "duplicate map key");
    CHECK_DECODE_ERROR("82a16101d9016102", "duplicate map key");
    CHECK_DECODE_ERROR("81a2006101", "map keys must not contain NUL bytes");
    CHECK_DECODE_ERROR("82a16101", "truncated MessagePack input");
    CHECK_DECODE_ERROR("81a161", "truncated MessagePack input");
}


static void
test_ext_rejected(void)
{
    CHECK_DECODE_ERROR("c70101ff", "MessagePack ext types are not supported");
    CHECK_DECODE_ERROR("c8000101ff",
                       "MessagePack ext types are not supported");
    CHECK_DECODE_ERROR("c90000000101ff",
                       "MessagePack ext types are not supported");
    CHECK_DECODE_ERROR("d401ff", "MessagePack ext types are not supported");
    CHECK_DECODE_ERROR("d501ffff", "MessagePack ext types are not supported");
    CHECK_DECODE_ERROR("d601ffffffff",
                       "MessagePack ext types are not supported");
    CHECK_DECODE_ERROR("d701ffffffffffffffff",
                       "MessagePack ext types are not supported");
    CHECK_DECODE_ERROR("d801" "ffffffffffffffffffffffffffffffff",
                       "MessagePack ext types are not supported");
    CHECK_DECODE_ERROR("d4ff00", "MessagePack ext types are not supported");
    CHECK_DECODE_ERROR("91c7", "MessagePack ext types are not supported");
    CHECK_DECODE_ERROR("c1", "invalid MessagePack type byte 0xc1");
    CHECK_DECODE_ERROR("92c0c1", "invalid MessagePack type byte 0xc1");
}


static void
test_truncation(void)
{
    int                           n;
    char                          err[TEST_ERRLEN];
    size_t                        i, k, used;
    json_t                       *value;
    unsigned char                 buf[512];
    signalr_msgpack_invocation_t  inv;

    static const char  *tests[] = {
        TEST_INVOCATION,
        "9c" "00" "ff" "cd012c" "d2fffeee90" "cf0000000100000000"
        "ca3fc00000" "cb3ff8000000000000" "c403010203" "81a16b92c0c3"
        "d90461626364" "dc0001c2" "de0001a161c0",
        "df00000001" "a161" "dd00000002" "da0002c3a9" "c600000001ff",
        "d3ffffffffffffffff",
    };

    for (k = 0; k < sizeof(tests) / sizeof(tests[0]); k++) {
        n = unit_unhex(tests[k], buf, sizeof(buf));
        CHECK(n > 0);

        value = NULL;
        CHECK_INT(signalr_msgpack_decode(buf, n, &used, &value, err,
                                         sizeof(err)), 0);
        CHECK_INT(used, n);
        json_decref(value);

        for (i = 0; i < (size_t) n; i++) {
            err[0] = '\0';
            value = (json_t *) 1;

            if (signalr_msgpack_decode(buf, i, &used, &value, err,
                                       sizeof(err))
                == 0)
            {
                UNIT_FAIL("prefix %zu of %s decoded", i, tests[k]);
                json_decref(value);
                continue;
            }

            CHECK(value == NULL);
            CHECK_STR(err, "truncated MessagePack input");
        }
    }

    n = unit_unhex(TEST_INVOCATION, buf, sizeof(buf));

    for (i = 0; i < (size_t) n; i++) {
        err[0] = '\0';

        if (signalr_msgpack_parse_invocation(buf, i, &inv, err, sizeof(err))
            == 0)
        {
            UNIT_FAIL("prefix %zu of the invocation parsed", i);
            signalr_msgpack_invocation_free(&inv);
            continue;
        }

        CHECK_STR(err, "truncated MessagePack input");
    }
}


static void
test_huge_lengths(void)
{
    size_t  i;

    static const char  *tests[] = {
        "ddffffffff",
        "dfffffffff",
        "dbffffffff",
        "c6ffffffff",
        "dcffff",
        "deffff",
        "daffff",
        "c5ffff",
        "d9ff",
        "c4ff",
        "dd00000004010203",       /* 4 elements need at least 4 bytes */
        "df00000002a161c0",       /* 2 entries need at least 4 bytes */
        "91ddffffffff",
        "81a161dfffffffff",
    };

    /* lengths are checked before anything is allocated */
    json_set_alloc_funcs(test_counting_malloc, free);

    for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        test_allocs = 0;
        CHECK_DECODE_ERROR(tests[i], "truncated MessagePack input");

        if (i < 12) {
            CHECK_INT(test_allocs, 0);
        }
    }

    json_set_alloc_funcs(malloc, free);
}


static void
test_depth(void)
{
    int                           rc;
    char                          err[TEST_ERRLEN];
    size_t                        n, used, i;
    json_t                       *value, *inner;
    unsigned char                 buf[512];
    signalr_str_t                 b = { 0 };
    signalr_msgpack_invocation_t  inv;

    /* 64 levels of arrays and of maps pass, 65 do not */
    for (i = 0; i < 2; i++) {
        n = test_nest(buf, 64, i);
        value = NULL;
        CHECK_INT(signalr_msgpack_decode(buf, n, &used, &value, err,
                                         sizeof(err)), 0);
        CHECK_INT(used, n);

        /* and encode back to the same bytes */
        CHECK_INT(signalr_msgpack_encode(&b, value), 0);
        CHECK_MEM(b.data, b.len, buf, n);
        b.len = 0;
        json_decref(value);

        n = test_nest(buf, 65, i);
        value = (json_t *) 1;
        err[0] = '\0';
        CHECK_INT(signalr_msgpack_decode(buf, n, &used, &value, err,
                                         sizeof(err)), -1);
        CHECK(value == NULL);
        CHECK_STR(err, "nesting deeper than 64 levels");
    }

    /* 65 levels cannot be encoded either */
    value = json_array();
    for (i = 1; i < 65; i++) {
        inner = json_array();
        json_array_append_new(inner, value);
        value = inner;
    }

    CHECK_INT(signalr_msgpack_encode(&b, json_true()), 0);
    CHECK_INT(signalr_msgpack_encode(&b, value), -1);
    CHECK_HEX(b.data, b.len, "c3");
    json_decref(value);

    /* in an invocation the outer array is level 1, arguments level 2 */
    memcpy(buf, "\x95\x01\x80\xa1\x30\xa1\x62", 7);

    n = 7 + test_nest(buf + 7, 63, 0);
    rc = signalr_msgpack_parse_invocation(buf, n, &inv, err, sizeof(err));
    CHECK_INT(rc, 0);
    if (rc == 0) {
        signalr_msgpack_invocation_free(&inv);
    }

    n = 7 + test_nest(buf + 7, 64, 0);
    rc = signalr_msgpack_parse_invocation(buf, n, &inv, err, sizeof(err));
    CHECK_INT(rc, -1);
    CHECK_STR(err, "nesting deeper than 64 levels");

    signalr_str_free(&b);
}


static void
test_decode_used(void)
{
    char            err[4];
    size_t          used;
    json_t         *value;
    unsigned char   buf[8];

    /* decode stops after one value and reports what it used */
    memcpy(buf, "\x92\x01\x02\xc3", 4);

    value = NULL;
    CHECK_INT(signalr_msgpack_decode(buf, 4, &used, &value, NULL, 0), 0);
    CHECK_INT(used, 3);
    CHECK_INT(json_array_size(value), 2);
    json_decref(value);

    value = NULL;
    CHECK_INT(signalr_msgpack_decode(buf + 3, 1, NULL, &value, NULL, 0), 0);
    CHECK(json_is_true(value));
    json_decref(value);

    /* a short error buffer gets a truncated message */
    CHECK_INT(signalr_msgpack_decode(buf, 2, &used, &value, err,
                                     sizeof(err)), -1);
    CHECK_STR(err, "tru");
}


int
main(void)
{
    UNIT_RUN(test_completion_vectors);
    UNIT_RUN(test_completion_values);
    UNIT_RUN(test_completion_long);
    UNIT_RUN(test_completion_errors);
    UNIT_RUN(test_invocation_vector);
    UNIT_RUN(test_invocation_variants);
    UNIT_RUN(test_invocation_rejected);
    UNIT_RUN(test_int_boundaries);
    UNIT_RUN(test_int_wide_forms);
    UNIT_RUN(test_floats);
    UNIT_RUN(test_nil_bool);
    UNIT_RUN(test_string_sizes);
    UNIT_RUN(test_unicode);
    UNIT_RUN(test_invalid_utf8);
    UNIT_RUN(test_bin_base64);
    UNIT_RUN(test_container_sizes);
    UNIT_RUN(test_nested);
    UNIT_RUN(test_map_keys);
    UNIT_RUN(test_ext_rejected);
    UNIT_RUN(test_truncation);
    UNIT_RUN(test_huge_lengths);
    UNIT_RUN(test_depth);
    UNIT_RUN(test_decode_used);

    return unit_report();
}
