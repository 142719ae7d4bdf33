/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Microsoft Entra ID: the token services' answers (IMDS and App Service
 * give expires_on and expires_in as strings, the v2 endpoint expires_in as
 * a number), the key exchange's {"KeyId","AccessKey"}, error texts, and a
 * client token naming its key (the vector computed independently with
 * Python's hmac module).
 */

#include <stdlib.h>

#include "unit.h"
#include "signalr_entra.h"
#include "signalr_jwt.h"


#define NOW  1700000000LL


static char       token[SIGNALR_ENTRA_MAX_TOKEN];
static size_t     token_len;
static long long  expires;
static char       err[256];


static int
token_parse(const char *body)
{
    err[0] = '\0';
    token_len = 0;
    expires = 0;

    return signalr_entra_token_parse(body, strlen(body), NOW, token,
                                     sizeof(token), &token_len, &expires,
                                     err, sizeof(err));
}


static void
test_token(void)
{
    /* IMDS: strings of seconds; expires_on wins */
    CHECK_INT(token_parse("{\"access_token\":\"eyJ0.eyJ1.c2ln\","
                          "\"client_id\":\"c\",\"expires_in\":\"86399\","
                          "\"expires_on\":\"1700086399\",\"ext_expires_in\":"
                          "\"86399\",\"not_before\":\"1699999999\","
                          "\"resource\":\"https://signalr.azure.com\","
                          "\"token_type\":\"Bearer\"}"), 0);
    CHECK_MEM(token, token_len, "eyJ0.eyJ1.c2ln", 14);
    CHECK_INT(expires, 1700086399LL);

    /* App Service 2019-08-01: expires_on a number */
    CHECK_INT(token_parse("{\"access_token\":\"a.b.c\",\"expires_on\":"
                          "1700003600,\"resource\":\"https://signalr.azure."
                          "com\",\"token_type\":\"Bearer\"}"), 0);
    CHECK_INT(expires, 1700003600LL);

    /* the v2 endpoint: expires_in a number */
    CHECK_INT(token_parse("{\"token_type\":\"Bearer\",\"expires_in\":3599,"
                          "\"ext_expires_in\":3599,\"access_token\":"
                          "\"x.y.z\"}"), 0);
    CHECK_INT(expires, NOW + 3599);

    CHECK_INT(token_parse("[]"), -1);
    CHECK_STR(err, "the answer is not a JSON object");
    CHECK_INT(token_parse("{\"access_token\":\"x.y.z\"}"), -1);
    CHECK_STR(err, "the answer has no valid \"expires_on\" or "
              "\"expires_in\"");
    CHECK_INT(token_parse("{\"access_token\":\"x.y.z\",\"expires_in\":"
                          "\"1h\"}"), -1);

    /* an expires_on that is not seconds (a date): expires_in then */
    CHECK_INT(token_parse("{\"access_token\":\"x.y.z\",\"expires_on\":"
                          "\"11/30/2026 10:00:00 PM +00:00\",\"expires_in\":"
                          "\"600\"}"), 0);
    CHECK_INT(expires, NOW + 600);
    CHECK_INT(token_parse("{\"access_token\":\"x.y.z\",\"expires_in\":-5}"),
              -1);
    CHECK_INT(token_parse("{\"access_token\":\"x.y.z\",\"expires_on\":"
                          "1699999999}"), -1);
    CHECK_STR(err, "the token has expired already");
    CHECK_INT(token_parse("{\"access_token\":\"x.y.z\",\"expires_in\":0}"),
              -1);
    CHECK_INT(token_parse("{\"expires_in\":60}"), -1);
    CHECK_STR(err, "the answer has no \"access_token\"");
    CHECK_INT(token_parse("{\"access_token\":\"\",\"expires_in\":60}"), -1);
    CHECK_INT(token_parse("{\"access_token\":7,\"expires_in\":60}"), -1);

    /* it goes into an Authorization header: a JWT's characters only */
    CHECK_INT(token_parse("{\"access_token\":\"x.y.z\\r\\nX-Evil: 1\","
                          "\"expires_in\":60}"), -1);
    CHECK_STR(err, "the \"access_token\" is not a JSON Web Token");
    CHECK_INT(token_parse("{\"access_token\":\"x y\",\"expires_in\":60}"), -1);
    CHECK_INT(token_parse("{\"access_token\":\"a\",\"access_token\":\"b\","
                          "\"expires_in\":60}"), -1);
    CHECK(strstr(err, "eyJ") == NULL);
}


static void
test_token_limit(void)
{
    char    *body;
    size_t   n;

    n = SIGNALR_ENTRA_MAX_TOKEN + 1;
    body = malloc(n + 64);
    CHECK(body != NULL);
    if (body == NULL) {
        return;
    }

    memcpy(body, "{\"access_token\":\"", 17);
    memset(body + 17, 'a', n);
    strcpy(body + 17 + n, "\",\"expires_in\":60}");
    CHECK_INT(token_parse(body), -1);
    CHECK_STR(err, "the \"access_token\" is longer than 16384 bytes");

    /* the longest is taken */
    memset(body + 17, 'a', n - 1);
    strcpy(body + 17 + n - 1, "\",\"expires_in\":60}");
    CHECK_INT(token_parse(body), 0);
    CHECK_INT((long long) token_len, SIGNALR_ENTRA_MAX_TOKEN);

    free(body);
}


static void
test_key(void)
{
    char    kid[SIGNALR_ENTRA_MAX_KID], key[SIGNALR_ENTRA_MAX_KEY], *body;
    size_t  kid_len, key_len;

#define KEY_PARSE(b)                                                         \
    signalr_entra_key_parse(b, strlen(b), kid, &kid_len, key, &key_len, err, \
                            sizeof(err))

    body = "{\"AccessKey\":\"K3yFromTheExchange0123\",\"KeyId\":\"t-01ab\"}";
    CHECK_INT(KEY_PARSE(body), 0);
    CHECK_MEM(kid, kid_len, "t-01ab", 6);
    CHECK_MEM(key, key_len, "K3yFromTheExchange0123", 22);

    /* the SDK reads these members with this case only */
    CHECK_INT(KEY_PARSE("{\"accessKey\":\"k\",\"keyId\":\"t\"}"), -1);
    CHECK_STR(err, "Missing required <KeyId> field.");
    CHECK_INT(KEY_PARSE("{\"KeyId\":\"t\"}"), -1);
    CHECK_STR(err, "Missing required <AccessKey> field.");
    CHECK_INT(KEY_PARSE("{\"KeyId\":\"t\",\"AccessKey\":\"\"}"), -1);
    CHECK_INT(KEY_PARSE("{\"KeyId\":\"\",\"AccessKey\":\"k\"}"), -1);
    CHECK_INT(KEY_PARSE("{\"KeyId\":1,\"AccessKey\":\"k\"}"), -1);
    CHECK_INT(KEY_PARSE("nope"), -1);
    CHECK_STR(err, "the answer is not a JSON object");

    /* the key id goes into every token's header */
    CHECK_INT(KEY_PARSE("{\"KeyId\":\"t\\\",\\\"x\",\"AccessKey\":\"k\"}"), -1);
    CHECK(strstr(err, "the KeyId holds a character") != NULL);
    CHECK_INT(KEY_PARSE("{\"KeyId\":\"t\",\"AccessKey\":\"k y\"}"), -1);
    CHECK_STR(err, "the AccessKey holds a character that is not printable "
              "ASCII");
    CHECK_INT(KEY_PARSE("{\"KeyId\":\"t\",\"AccessKey\":\"k\","
                        "\"AccessKey\":\"j\"}"), -1);

#undef KEY_PARSE
}


static void
test_error_text(void)
{
    char  out[96];

#define ERROR_TEXT(b)  signalr_entra_error_text(b, strlen(b), out, sizeof(out))

    ERROR_TEXT("{\"error\":\"invalid_client\",\"error_description\":"
               "\"AADSTS7000215: Invalid client secret provided.\","
               "\"error_codes\":[7000215]}");
    CHECK_STR(out, "invalid_client: AADSTS7000215: Invalid client secret "
              "provided.");

    ERROR_TEXT("{\"error\":{\"code\":\"UnauthorizedAccess\",\"message\":"
               "\"bad\\nheader\"}}");
    CHECK_STR(out, "UnauthorizedAccess: bad header");

    ERROR_TEXT("{\"error\":\"invalid_request\"}");
    CHECK_STR(out, "invalid_request");

    ERROR_TEXT("<html>Bad gateway</html>");
    CHECK_STR(out, "");

    /* cut to the buffer */
    ERROR_TEXT("{\"error_description\":\"0123456789012345678901234567890123"
               "456789012345678901234567890123456789012345678901234567890123"
               "456789\"}");
    CHECK_INT((int) strlen(out), (int) sizeof(out) - 1);

#undef ERROR_TEXT
}


static void
test_kid_token(void)
{
    size_t                  n;
    unsigned char           header[SIGNALR_ENTRA_HEADER_MAX], *out;
    signalr_hmac_t         *h;
    signalr_jwt_payload_t   p;
    static const char      *key = "K3yFromTheExchange0123456789abcdefghijklm"
                                  "nopqrstuvwx";

    n = signalr_entra_jwt_header(header, "t-0123abcd", 10);
    CHECK_MEM(header, n, "eyJhbGciOiJIUzI1NiIsImtpZCI6InQtMDEyM2FiY2QiLCJ0eX"
              "AiOiJKV1QifQ", 62);

    h = signalr_hmac_new((const unsigned char *) key, strlen(key));
    CHECK(h != NULL);
    if (h == NULL) {
        return;
    }

    memset(&p, 0, sizeof(p));
    p.iat = 1700000000;
    p.exp = 1700003600;
    p.aud.data = (const unsigned char *) "http://127.0.0.1/client/?hub=chat";
    p.aud.len = strlen((const char *) p.aud.data);
    p.header.data = header;
    p.header.len = n;

    out = malloc(signalr_jwt_size(&p));
    CHECK(out != NULL);

    if (out) {
        n = signalr_jwt_build(h, &p, out);
        CHECK(signalr_jwt_min_len(&p) <= n);
        CHECK_MEM(out, n,
            "eyJhbGciOiJIUzI1NiIsImtpZCI6InQtMDEyM2FiY2QiLCJ0eXAiOiJKV1QifQ."
            "eyJuYmYiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMCwiaWF0IjoxNzAwMDAw"
            "MDAwLCJhdWQiOiJodHRwOi8vMTI3LjAuMC4xL2NsaWVudC8_aHViPWNoYXQifQ."
            "LbjDLw6idaE_IcR8POHSB5DsDcHPGVB8wnWOBGUfaTI", 233);
        free(out);
    }

    /* the longest key id fits the header's buffer */
    {
        char  kid[SIGNALR_ENTRA_MAX_KID];

        memset(kid, 'k', sizeof(kid));
        n = signalr_entra_jwt_header(header, kid, sizeof(kid));
        CHECK(n > 0 && n <= SIGNALR_ENTRA_HEADER_MAX);
        CHECK_INT((int) signalr_entra_jwt_header(header, kid,
                                                 sizeof(kid) + 1), 0);
    }

    signalr_hmac_free(h);
}


int
main(void)
{
    UNIT_RUN(test_token);
    UNIT_RUN(test_token_limit);
    UNIT_RUN(test_key);
    UNIT_RUN(test_error_text);
    UNIT_RUN(test_kid_token);

    return unit_report();
}
