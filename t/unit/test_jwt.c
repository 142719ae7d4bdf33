/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * HS256 tokens, base64url, HMAC and hex: byte-exact against the vectors of
 * fixed vectors (their HMACs checked with openssl dgst -sha256 -hmac).
 */

#include <stdlib.h>

#include <openssl/evp.h>


#include "unit.h"
#include "signalr_crypto.h"
#include "signalr_json.h"
#include "signalr_jwt.h"


#define KEY_A   "Xb2Qy7mN4pLr8sTv1wZk6dHf3jGc9aEu5oIqRtYvBnM="
#define KEY_EMU "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"
#define B(s)    { (const unsigned char *) (s), sizeof(s) - 1 }


static void
check_token(const char *key, signalr_jwt_claim_t *claims, size_t n,
    const char *aud, const char *expected)
{
    size_t                  len;
    unsigned char          *out;
    signalr_hmac_t         *h;
    signalr_jwt_payload_t   p;

    h = signalr_hmac_new((const unsigned char *) key, strlen(key));
    CHECK(h != NULL);

    p.claims = claims;
    p.nclaims = n;
    p.iat = 1700000000;
    p.exp = 1700003600;
    p.aud.data = (const unsigned char *) aud;
    p.aud.len = strlen(aud);
    p.header.len = 0;

    out = malloc(signalr_jwt_size(&p));
    len = signalr_jwt_build(h, &p, out);

    CHECK_MEM(out, len, expected, strlen(expected));

    free(out);
    signalr_hmac_free(h);
}


static void
test_client_user(void)
{
    signalr_bytes_t      uid[] = { B("alice") };
    signalr_jwt_claim_t  c[] = { { B("asrs.s.uid"), uid, 1 } };

    check_token(KEY_A, c, 1, "https://contoso.service.signalr.net/client/?hub=chat",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhc3JzLnMudWlkIjoiYWxpY2UiLCJu"
        "YmYiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMCwiaWF0IjoxNzAwMDAwMDAwLCJhd"
        "WQiOiJodHRwczovL2NvbnRvc28uc2VydmljZS5zaWduYWxyLm5ldC9jbGllbnQvP2h1Yj"
        "1jaGF0In0.pYxAZb7lZOUiSvbvwVgj-YaqbEUxkSJ8YJF72hvOBIg");
}


static void
test_client_anonymous_emulator(void)
{
    check_token(KEY_EMU, NULL, 0, "http://localhost/client/?hub=chat",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJuYmYiOjE3MDAwMDAwMDAsImV4cCI6"
        "MTcwMDAwMzYwMCwiaWF0IjoxNzAwMDAwMDAwLCJhdWQiOiJodHRwOi8vbG9jYWxob3N0L"
        "2NsaWVudC8_aHViPWNoYXQifQ.IPoaKsg8bXpK_klTLGZvwTuwCjZpI_ulGXkBULpUWRY");
}


static void
test_rest_broadcast(void)
{
    signalr_bytes_t      id[] = { B("nginx") };
    signalr_jwt_claim_t  c[] = { { B("nameid"), id, 1 } };

    check_token(KEY_A, c, 1, "https://contoso.service.signalr.net/api/hubs/"
        "chat/:send?api-version=2022-06-01",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJuYW1laWQiOiJuZ2lueCIsIm5iZiI6"
        "MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3MDAwMDAwMDAsImF1ZCI6I"
        "mh0dHBzOi8vY29udG9zby5zZXJ2aWNlLnNpZ25hbHIubmV0L2FwaS9odWJzL2NoYXQvOn"
        "NlbmQ_YXBpLXZlcnNpb249MjAyMi0wNi0wMSJ9.gBKt4PbmCaevw-omMyXmsyWciooAHd"
        "R8-OTIhkZgD70");
}


static void
test_client_custom_claims(void)
{
    signalr_bytes_t      uid[] = { B("bob") };
    signalr_bytes_t      roles[] = { B("admin"), B("ops") };
    signalr_bytes_t      exp[] = { B("1800000000") };
    signalr_bytes_t      none[] = { B("") };
    signalr_jwt_claim_t  c[] = {
        { B("asrs.s.uid"), uid, 1 },
        { B("role"), roles, 2 },
        { B("omitted"), none, 0 },
        { B("asrs.u.exp"), exp, 1 },
    };

    check_token(KEY_A, c, 4, "https://contoso.service.signalr.net/client/?hub=chat",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhc3JzLnMudWlkIjoiYm9iIiwicm9s"
        "ZSI6WyJhZG1pbiIsIm9wcyJdLCJhc3JzLnUuZXhwIjoiMTgwMDAwMDAwMCIsIm5iZiI6M"
        "TcwMDAwMDAwMCwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3MDAwMDAwMDAsImF1ZCI6Im"
        "h0dHBzOi8vY29udG9zby5zZXJ2aWNlLnNpZ25hbHIubmV0L2NsaWVudC8_aHViPWNoYXQ"
        "ifQ.Ax-M2Gz8aBmHaFpSOWZigtu9wFuirvsLVIWogobh6Ao");
}


static void
test_escaping_in_payload(void)
{
    size_t                  len, i;
    unsigned char          *out;
    signalr_hmac_t         *h;
    signalr_bytes_t         uid[] = { B("a\"b\\c\x01\n/\xc3\xa9") };
    signalr_jwt_claim_t     c[] = { { B("asrs.s.uid"), uid, 1 } };
    signalr_jwt_payload_t   p;

    h = signalr_hmac_new((const unsigned char *) "k", 1);
    p.claims = c;
    p.nclaims = 1;
    p.iat = 0;
    p.exp = 1;
    p.aud.data = (const unsigned char *) "x";
    p.aud.len = 1;
    p.header.len = 0;

    out = malloc(signalr_jwt_size(&p));
    len = signalr_jwt_build(h, &p, out);

    /* the payload segment of the token, checked through its base64url */
    {
        const char  *expected_json = "{\"asrs.s.uid\":\"a\\\"b\\\\c\\u0001"
                                     "\\n/\xc3\xa9\",\"nbf\":0,\"exp\":1,"
                                     "\"iat\":0,\"aud\":\"x\"}";
        unsigned char  enc[256];
        size_t         n;

        n = signalr_base64url_encode(enc, (const unsigned char *)
                                     expected_json, strlen(expected_json));
        CHECK(len > 37 + n);
        CHECK_MEM(out + 37, n, enc, n);
        CHECK(out[37 + n] == '.');
        for (i = 0; i < len; i++) {
            CHECK(out[i] != '=' && out[i] != '+' && out[i] != '/');
        }
    }

    free(out);
    signalr_hmac_free(h);
}


static void
test_base64url(void)
{
    unsigned char  out[16];

    CHECK_INT(signalr_base64url_encode(out, (const unsigned char *) "", 0), 0);
    CHECK_INT(signalr_base64url_encode(out, (const unsigned char *) "f", 1), 2);
    CHECK_MEM(out, 2, "Zg", 2);
    CHECK_INT(signalr_base64url_encode(out, (const unsigned char *) "fo", 2), 3);
    CHECK_MEM(out, 3, "Zm8", 3);
    CHECK_INT(signalr_base64url_encode(out, (const unsigned char *) "foo", 3), 4);
    CHECK_MEM(out, 4, "Zm9v", 4);
    CHECK_INT(signalr_base64url_encode(out, (const unsigned char *) "\xfb\xff",
                                       2), 3);
    CHECK_MEM(out, 3, "-_8", 3);
    CHECK_INT(signalr_base64url_len(0), 0);
    CHECK_INT(signalr_base64url_len(1), 2);
    CHECK_INT(signalr_base64url_len(2), 3);
    CHECK_INT(signalr_base64url_len(3), 4);
    CHECK_INT(signalr_base64url_len(32), 43);
}


static void
test_upstream_signatures(void)
{
    static const char  *v[][2] = {
        { "7aab239577fd4f24bc919802fb629f5f",
          "7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561" },
        { "a5f2815d0d0c4b00bd27e832432f91ab",
          "d4aefb65547a00a9881fa8ac8bd03d0faf77af9da5205d45c6e57cbda4377760" },
        { KEY_EMU,
          "8805D739A12D46F22BCB15382A8C1C2BF38AE8F04566017BD613D5EF47CAFE2C" },
    };
    const char      *cid = "0f9c97a2f0bf4706afe87a14e0797b11";
    int              c, valid, value;
    size_t           i, round;
    unsigned char    mac[32], expected[32], hex[4];
    signalr_hmac_t  *h;

    for (i = 0; i < 3; i++) {
        h = signalr_hmac_new((const unsigned char *) v[i][0], strlen(v[i][0]));
        CHECK(h != NULL);
        CHECK_INT(signalr_hex_decode(expected, (const unsigned char *) v[i][1],
                                     32), 0);

        /* the pre-keyed context gives the same MAC every time it is reused */
        for (round = 0; round < 3; round++) {
            CHECK_INT(signalr_hmac_sha256(h, (const unsigned char *) cid,
                                          strlen(cid), mac), 0);
            CHECK(signalr_ct_equal(mac, expected, 32));
        }

        mac[31] ^= 1;
        CHECK(!signalr_ct_equal(mac, expected, 32));
        signalr_hmac_free(h);
    }

    CHECK_INT(signalr_hex_decode(mac, (const unsigned char *) "0g", 1), -1);
    CHECK_INT(signalr_hex_decode(mac, (const unsigned char *) "aF", 1), 0);
    CHECK_INT(mac[0], 0xaf);

    /* every byte, as the high and as the low digit */
    for (c = 0; c < 256; c++) {
        hex[0] = (unsigned char) c;
        hex[1] = '7';
        hex[2] = '7';
        hex[3] = (unsigned char) c;
        valid = strchr("0123456789abcdefABCDEF", c) != NULL && c != 0;
        value = (c <= '9') ? c - '0' : (c | 0x20) - 'a' + 10;

        CHECK_INT(signalr_hex_decode(mac, hex, 1), valid ? 0 : -1);
        if (valid) {
            CHECK_INT(mac[0], value << 4 | 7);
        }

        CHECK_INT(signalr_hex_decode(mac, hex + 2, 1), valid ? 0 : -1);
        if (valid) {
            CHECK_INT(mac[0], 7 << 4 | value);
        }
    }
}


/* RFC 4648 section 10's vectors, padded and in the URL form */

static void
test_base64(void)
{
    size_t         i, n;
    unsigned char  out[16];
    const char    *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    const char    *std[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==",
                             "Zm9vYmE=", "Zm9vYmFy" };
    const char    *url[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE",
                             "Zm9vYmFy" };

    for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        n = signalr_base64_encode(out, (const unsigned char *) in[i],
                                  strlen(in[i]));
        CHECK_MEM(out, n, std[i], strlen(std[i]));

        n = signalr_base64url_encode(out, (const unsigned char *) in[i],
                                     strlen(in[i]));
        CHECK_MEM(out, n, url[i], strlen(url[i]));
        CHECK_INT(n, signalr_base64url_len(strlen(in[i])));
    }

    /* the two alphabets differ in their last two letters */
    n = signalr_base64_encode(out, (const unsigned char *) "\xfb\xff", 2);
    CHECK_MEM(out, n, "+/8=", 4);
    n = signalr_base64url_encode(out, (const unsigned char *) "\xfb\xff", 2);
    CHECK_MEM(out, n, "-_8", 3);
}


/*
 * RFC 4231 test cases 2 and 6 (a key longer than a block is hashed
 * first), and keys of exactly one block and one byte more, over an empty
 * message and over one of several blocks (openssl dgst -sha256 -hmac)
 */

static void
test_hmac_keys(void)
{
    size_t           i;
    unsigned char    mac[32], expected[32], key[131], x[200];
    signalr_hmac_t  *h;
    struct {
        size_t       key_len;
        int          key_byte;         /* 0: the key is "Jefe" */
        const char  *data;             /* NULL: 200 times 'x' */
        const char  *mac;
    } v[] = {
        { 4, 0, "what do ya want for nothing?",
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
        { 131, 0xaa, "Test Using Larger Than Block-Size Key - Hash Key First",
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
        { 64, 'k', NULL,
          "3c469482eb841790ea999241b8c6238f7a2df12b5bf79eb6d7ab592729ed9954" },
        { 65, 'k', NULL,
          "f21efe1ab8581cb729f0daa95d5be8a9215cb01b164e877913770c9d0bf74bb5" },
        { 64, 'k', "",
          "83026a325aaee70e36cfe607536aa1054104ad1077c36134810d4ccded1ccd3b" },
    };

    memset(x, 'x', sizeof(x));

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        if (v[i].key_byte) {
            memset(key, v[i].key_byte, v[i].key_len);

        } else {
            memcpy(key, "Jefe", 4);
        }

        h = signalr_hmac_new(key, v[i].key_len);
        CHECK(h != NULL);
        CHECK_INT(signalr_hex_decode(expected,
                                     (const unsigned char *) v[i].mac, 32),
                  0);

        if (v[i].data) {
            CHECK_INT(signalr_hmac_sha256(h, (const unsigned char *) v[i].data,
                                          strlen(v[i].data), mac), 0);
        } else {
            CHECK_INT(signalr_hmac_sha256(h, x, sizeof(x), mac), 0);
        }

        CHECK_MEM(mac, 32, expected, 32);
        signalr_hmac_free(h);
    }
}


/*
 * every length of input from 0 to 200 bytes: the padded form as OpenSSL's
 * own encoder writes it, and the length of the URL form
 */

static void
test_base64_lengths(void)
{
    int            m;
    size_t         len, n, k;
    unsigned char  in[200], out[300], ref[300];

    for (len = 0; len < sizeof(in); len++) {
        in[len] = (unsigned char) (len * 37 + 11);
    }

    for (len = 0; len <= sizeof(in); len++) {
        n = signalr_base64_encode(out, in, len);
        m = EVP_EncodeBlock(ref, in, (int) len);
        CHECK_MEM(out, n, ref, (size_t) m);

        /* the URL form: the same, '-' and '_' for '+' and '/', no '=' */
        for (k = 0; k < (size_t) m; k++) {
            ref[k] = (ref[k] == '+') ? '-' : (ref[k] == '/') ? '_' : ref[k];
        }
        while (m > 0 && ref[m - 1] == '=') {
            m--;
        }

        n = signalr_base64url_encode(out, in, len);
        CHECK_INT(n, signalr_base64url_len(len));
        CHECK_MEM(out, n, ref, (size_t) m);
    }
}


/*
 * the buffer's bound at its worst (every byte escaped as \u00XX, with an
 * array of values) and signalr_jwt_min_len(): the exact length when
 * nothing needs escaping, less otherwise; ASan watches the buffer
 */

static void
test_payload_bounds(void)
{
    size_t                  len, n, k;
    unsigned char          *out, ctl[300], enc[8192];
    signalr_str_t           json = { 0 };
    signalr_hmac_t         *h;
    signalr_bytes_t         values[2], plain[1];
    signalr_jwt_claim_t     c[3];
    signalr_jwt_payload_t   p;
    const char             *middle = "\"],\"asrs.s.uid\":\"alice\","
                                     "\"nbf\":-1700000000,"
                                     "\"exp\":9223372036854775807,"
                                     "\"iat\":-1700000000,\"aud\":\"";

    h = signalr_hmac_new((const unsigned char *) "k", 1);
    memset(ctl, 0x01, sizeof(ctl));

    values[0].data = ctl;
    values[0].len = sizeof(ctl);
    values[1].data = ctl;
    values[1].len = 7;
    plain[0].data = (const unsigned char *) "alice";
    plain[0].len = 5;

    c[0].name.data = ctl;
    c[0].name.len = 3;
    c[0].values = values;
    c[0].nvalues = 2;
    c[1].name.data = (const unsigned char *) "empty";
    c[1].name.len = 5;
    c[1].values = NULL;
    c[1].nvalues = 0;
    c[2].name.data = (const unsigned char *) "asrs.s.uid";
    c[2].name.len = 10;
    c[2].values = plain;
    c[2].nvalues = 1;

    p.iat = -1700000000;
    p.exp = 9223372036854775807LL;

    /* no escapes (an empty claim left out): the least length is the length */

    p.claims = &c[1];
    p.nclaims = 2;
    p.aud.data = (const unsigned char *) "https://a.example.net/client/?hub=h";
    p.aud.len = strlen((const char *) p.aud.data);
    p.header.len = 0;
    out = malloc(signalr_jwt_size(&p));
    len = signalr_jwt_build(h, &p, out);
    CHECK_INT(signalr_jwt_min_len(&p), len);
    free(out);

    /* every byte escaped: longer than the least length, and as expected */

    p.claims = c;
    p.nclaims = 3;
    p.aud.data = ctl;
    p.aud.len = 20;
    out = malloc(signalr_jwt_size(&p));
    len = signalr_jwt_build(h, &p, out);
    CHECK(len > signalr_jwt_min_len(&p));

    (void) signalr_str_append(&json, "{\"", 2);
    for (k = 0; k < 3; k++) {
        (void) signalr_str_append(&json, "\\u0001", 6);
    }
    (void) signalr_str_append(&json, "\":[\"", 4);
    for (k = 0; k < sizeof(ctl); k++) {
        (void) signalr_str_append(&json, "\\u0001", 6);
    }
    (void) signalr_str_append(&json, "\",\"", 3);
    for (k = 0; k < 7; k++) {
        (void) signalr_str_append(&json, "\\u0001", 6);
    }
    (void) signalr_str_append(&json, middle, strlen(middle));
    for (k = 0; k < 20; k++) {
        (void) signalr_str_append(&json, "\\u0001", 6);
    }
    (void) signalr_str_append(&json, "\"}", 2);

    n = signalr_base64url_encode(enc, (const unsigned char *) json.data,
                                 json.len);
    CHECK_INT(len, 37 + n + 1 + 43);
    CHECK_MEM(out + 37, n, enc, n);

    free(out);
    signalr_str_free(&json);
    signalr_hmac_free(h);
}


int
main(void)
{
    UNIT_RUN(test_client_user);
    UNIT_RUN(test_base64);
    UNIT_RUN(test_client_anonymous_emulator);
    UNIT_RUN(test_rest_broadcast);
    UNIT_RUN(test_client_custom_claims);
    UNIT_RUN(test_escaping_in_payload);
    UNIT_RUN(test_base64url);
    UNIT_RUN(test_upstream_signatures);
    UNIT_RUN(test_hmac_keys);
    UNIT_RUN(test_base64_lengths);
    UNIT_RUN(test_payload_bounds);

    return unit_report();
}
