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

#include <stdio.h>
#include <stdlib.h>

#include "unit.h"
#include "signalr_entra.h"
#include "signalr_jwt.h"


#define NOW  1700000000LL


/* a JWKS and RS256 tokens made with Python's cryptography package */
static const char  jwks_json[] =
    "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"k1\",\"x5t\":\"k1\",\"n\":\"kHQUt"
    "5kDNTz1pPoWwLELgpES8-0MYEeLeqxQ0BKTY1ZCqfDqbWIWdcux9a2hi1tHcW2ivLE"
    "RzKPwlw-KfjZrx0zTIg54WpqAS85X8RrsQsrO_EfC2MaACHdIkp9ng5A-Q1fkjJVLd"
    "me6_ZGwpVQcik6YDa2lHKEVPLHu_oyZKGyBhWp2yChHKznXCNYSkUsy4OOFanNfUnj"
    "1cFVxs8LpqZSGceyLprMIJJqCQbrHdp5uEQhol6XSwp_mO-wjg5Xt0gIdX-jjGGZG-"
    "sjOgEhvoX8-z2qwO2pOlm2BPzbD7O43ZvifGil7kCKLACd-T3XKKnADfnYJ3chzAMh"
    "zLAdd-w\",\"e\":\"AQAB\",\"x5c\":[\"MIIB\"]},{\"kty\":\"EC\",\"kid\":\"ec\",\"crv\":\""
    "P-256\",\"x\":\"a\",\"y\":\"b\"}]}";
#define ISS  "https://sts.windows.net/11111111-1111-4111-8111-111111111111/"
#define AUD  "api://signalr-upstream"
static const char  *rs256[] = {
    /* good */
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOiJhcG"
    "k6Ly9zaWduYWxyLXVwc3RyZWFtIiwiaXNzIjoiaHR0cHM6Ly9zdHMud2luZG93cy5u"
    "ZXQvMTExMTExMTEtMTExMS00MTExLTgxMTEtMTExMTExMTExMTExLyIsImlhdCI6MT"
    "cwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImFwcGlk"
    "IjoiMjIyMjIyMjItMjIyMi00MjIyLTgyMjItMjIyMjIyMjIyMjIyIiwib2lkIjoiby"
    "IsInRpZCI6IjExMTExMTExLTExMTEtNDExMS04MTExLTExMTExMTExMTExMSJ9.bFI"
    "jvbxkj8lHBINcOYx6vDUro3Vw1T60GPD4V1LuSV0qsgxQTttHcu_ZEVgnTlIKf1B-N"
    "KKYrGGx4bTFaSRFUlmiVl9VriYnCv0RZ6WGa2YwaHCt1T_Kh-cRJOB4aJgdxfEOjB3"
    "VqpLjZpzuoqFre7Daqb9lMlEahwObQqBSW3gAM51eCJXVJR0BIRDkJUgWQKDNh_M-K"
    "yUmuxbgUoDIqOjDTjVmSOJAEjeidW-o64uJPmgS4tgsVZfMcvsgiH8Y1_A1kzNYDIi"
    "p1JDgmNFvX0a2aJSvKgpJqEoLSiJyh9dJNzv_U-qfMc2DLgprUiMWZwPJ5LVP7K7U5"
    "nNnq3x7BA",
    /* aud_array */
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOlsieC"
    "IsImFwaTovL3NpZ25hbHItdXBzdHJlYW0iXSwiaXNzIjoiaHR0cHM6Ly9zdHMud2lu"
    "ZG93cy5uZXQvMTExMTExMTEtMTExMS00MTExLTgxMTEtMTExMTExMTExMTExLyIsIm"
    "lhdCI6MTcwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAs"
    "ImFwcGlkIjoiMjIyMjIyMjItMjIyMi00MjIyLTgyMjItMjIyMjIyMjIyMjIyIiwib2"
    "lkIjoibyIsInRpZCI6IjExMTExMTExLTExMTEtNDExMS04MTExLTExMTExMTExMTEx"
    "MSJ9.HdRN9JSJK8M7SkFIuCWjC7PTGrLS6AtbbFkkmCNg2_URtWXIQGr2Q9byKaK64"
    "CavlNM-wRpCT0_4SAPBxzOGmQn_H9Vxk97wU6rokpdt9VGwEzby8b5LZqtrXXADGsB"
    "LXkjIl6fYcucfI3zNPNCeZE1eQCCKyKF0TYFgoXmzh2CTy3wvJLYI6U8ndvGUXV4_j"
    "oiUbFO2Ie-3zAMcpoW1guSvqsAmHsT6KoY_T1qlvo_ahJVmRuZ2D0HWVQ2USJtlRXt"
    "3E5MImpMZnhG4S1g61YNldAuxaN1QWCi6Ot9CmpJVEC0PL4EBSn6B62nJotT2_XTa7"
    "VcjSkbOYmO24D-fig",
    /* wrong_aud */
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOiJhcG"
    "k6Ly9vdGhlciIsImlzcyI6Imh0dHBzOi8vc3RzLndpbmRvd3MubmV0LzExMTExMTEx"
    "LTExMTEtNDExMS04MTExLTExMTExMTExMTExMS8iLCJpYXQiOjE3MDAwMDAwMDAsIm"
    "5iZiI6MTcwMDAwMDAwMCwiZXhwIjo0MTAyNDQ0ODAwLCJhcHBpZCI6IjIyMjIyMjIy"
    "LTIyMjItNDIyMi04MjIyLTIyMjIyMjIyMjIyMiIsIm9pZCI6Im8iLCJ0aWQiOiIxMT"
    "ExMTExMS0xMTExLTQxMTEtODExMS0xMTExMTExMTExMTEifQ.JJPCbqx53Lcraakln"
    "40pOvbP1Dx4Ba_EbIfyxlqWNAcOz0Fl55CHLw4ehiHs3zHNi2k6RQYMhoSF408RRp4"
    "qZl80ZEuG5ANAZ5ekXL3dWQdzoIdw-Gyx6jhWa3gQraUJ9Wlg0JoqHbDdP50oA_Ufm"
    "cWxWxF4YGHviWN4DAGSQ2lLPuH7iePcEMyE49zkoFm62TeSr0sGcy2aZUjqQJoRgZL"
    "ur0Cg2BzyG57mRYwl8aj7j55FNaKEIR_tee9FS-5r6C22oYKEaxyZSWhzW4n8GKw7l"
    "LIhI4aGLLphu5IdeBWLiV2a6nHEodm5jP_CVitAyxw8i2FbQjU1S1L_e4PYng",
    /* wrong_iss */
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOiJhcG"
    "k6Ly9zaWduYWxyLXVwc3RyZWFtIiwiaXNzIjoiaHR0cHM6Ly9zdHMud2luZG93cy5u"
    "ZXQvZXZpbC8iLCJpYXQiOjE3MDAwMDAwMDAsIm5iZiI6MTcwMDAwMDAwMCwiZXhwIj"
    "o0MTAyNDQ0ODAwLCJhcHBpZCI6IjIyMjIyMjIyLTIyMjItNDIyMi04MjIyLTIyMjIy"
    "MjIyMjIyMiIsIm9pZCI6Im8iLCJ0aWQiOiIxMTExMTExMS0xMTExLTQxMTEtODExMS"
    "0xMTExMTExMTExMTEifQ.UstZmAP4XzarDKTIXKTXwRu4PrC-Hj9Z5XzI-w5vx_IT9"
    "CERrPG1XZUZieJeoRo8l8dZpa4WFC_TE6YM9BUesVdiTrRZfWjJQCQRm_Xsak8oZ_h"
    "Dg1BkSMcQsC6-oXVlsuaKkQhxZzEUIDqgt3iNBBHxT5Ovzl1vi_RIKR2bAnLEZe0cH"
    "bBQDPY6YUzXetpXMkQYjaYb4BttV-zslOlhUCbd5ugoGykX5FpvbX4csEz1VMkvHaA"
    "MooAGF8N8WXnAAnn0aDOYeuvUS5H_oRpSjX4s_FgP3x5zEasOwKjQnmQPCacQYne5T"
    "bAIRyHMNPAVer_yQD24XMgqlj8ol0kbHg",
    /* expired */
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOiJhcG"
    "k6Ly9zaWduYWxyLXVwc3RyZWFtIiwiaXNzIjoiaHR0cHM6Ly9zdHMud2luZG93cy5u"
    "ZXQvMTExMTExMTEtMTExMS00MTExLTgxMTEtMTExMTExMTExMTExLyIsImlhdCI6MT"
    "cwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDM2MDAsImFwcGlk"
    "IjoiMjIyMjIyMjItMjIyMi00MjIyLTgyMjItMjIyMjIyMjIyMjIyIiwib2lkIjoiby"
    "IsInRpZCI6IjExMTExMTExLTExMTEtNDExMS04MTExLTExMTExMTExMTExMSJ9.aID"
    "CiTPAz7Z4OX-tG-BnQNIw7j6xzIPSyHkEhuZQVkhztlXFhkgxbVonuS73-sE_lcSNI"
    "eFUkkoveBiIt01adGWaqdHx_aYCEs8F-2qMvS55lhDVmpbSSZfSBNNQ-FfUZYm2Br4"
    "dBaYO0NC41sS20GJZR_2y87JZcdieHrajX2P7gdoJc-toDKf4icQGcm5wQpaawoHKM"
    "2j3j0vPCgWJChWhv_2YyuUmN67DcY9bpgUkIuByYOnDBcs-EKT2CrlgGY4_x_iEzgY"
    "iQrZQ2Byq0wmjfevLOA7muIC9FAIgXnSsxLgBH7rHy_9s1pc90AaoIiBokGbkH5kZ1"
    "XjZqwLepw",
    /* not_yet */
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOiJhcG"
    "k6Ly9zaWduYWxyLXVwc3RyZWFtIiwiaXNzIjoiaHR0cHM6Ly9zdHMud2luZG93cy5u"
    "ZXQvMTExMTExMTEtMTExMS00MTExLTgxMTEtMTExMTExMTExMTExLyIsImlhdCI6MT"
    "cwMDAwMDAwMCwibmJmIjo0MTAyNDQ0MDAwLCJleHAiOjQxMDI0NDQ4MDAsImFwcGlk"
    "IjoiMjIyMjIyMjItMjIyMi00MjIyLTgyMjItMjIyMjIyMjIyMjIyIiwib2lkIjoiby"
    "IsInRpZCI6IjExMTExMTExLTExMTEtNDExMS04MTExLTExMTExMTExMTExMSJ9.YVn"
    "naF7Te4tMJTfujxwDjwL9bnR8OkeP9aIqrwUHtlAezETW3QejWEXoT3BlhvXYYXthr"
    "BEFlmaf_u1iDBQYuNBtMKnxAr6VaycGJd4Q_1akRmLgyOJu2FpD9f50WBPxFSewpyx"
    "hajrn-u219mtcUGW2s-EnssZwemw2jiYb4lJZAwvN3tQx-jzBesCtbQBh5Bp7LvkCs"
    "IO0BTspJUx2VWxlDCZe_nZ7IPmZBK4C2ciJ2NcqzwWSn9zXfiC09RGBVylyrACAtIt"
    "6OcDZT_J3osFBtBc0WoCbTGstRX_OhK8K78J-lMjEZGcbd_sA97a42Y7HOEbDFbbGy"
    "z_l3UbY3g",
    /* other_key */
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOiJhcG"
    "k6Ly9zaWduYWxyLXVwc3RyZWFtIiwiaXNzIjoiaHR0cHM6Ly9zdHMud2luZG93cy5u"
    "ZXQvMTExMTExMTEtMTExMS00MTExLTgxMTEtMTExMTExMTExMTExLyIsImlhdCI6MT"
    "cwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImFwcGlk"
    "IjoiMjIyMjIyMjItMjIyMi00MjIyLTgyMjItMjIyMjIyMjIyMjIyIiwib2lkIjoiby"
    "IsInRpZCI6IjExMTExMTExLTExMTEtNDExMS04MTExLTExMTExMTExMTExMSJ9.oV2"
    "lSc7UPmW1nxq5-FPmVpESz_EE94B5Yr3pEiSJ1u_ohgAMvw5WS4EEtYL5h285vDe4M"
    "GImBXIyEeR4aonVJiMgH44UbWF6cB88wxkyGpOhfxJHN6egtMJZUMLAgjZAeUYf3Lr"
    "5AonJlGi6qjjkra57Clwrz_1isJoyoQgJqy0E4-rUMP1rMnKHFR1y3jBjc9mJ6yvIw"
    "5ZtH-Bu7ECh27QuUtqhUIxBpaOHHX43-84mtzNGig6BHKc5ekWr51nGrYf-mrJFBQi"
    "qWiIl5m7FDXFHR4xge6TQs-cGX8Gz09X1rupht9g9E59_0-H53tG5FpQCj68LayT3V"
    "9k8spZpFw",
    /* unknown_kid */
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6Ims5In0.eyJhdWQiOiJhcG"
    "k6Ly9zaWduYWxyLXVwc3RyZWFtIiwiaXNzIjoiaHR0cHM6Ly9zdHMud2luZG93cy5u"
    "ZXQvMTExMTExMTEtMTExMS00MTExLTgxMTEtMTExMTExMTExMTExLyIsImlhdCI6MT"
    "cwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImFwcGlk"
    "IjoiMjIyMjIyMjItMjIyMi00MjIyLTgyMjItMjIyMjIyMjIyMjIyIiwib2lkIjoiby"
    "IsInRpZCI6IjExMTExMTExLTExMTEtNDExMS04MTExLTExMTExMTExMTExMSJ9.H0J"
    "TLNmRfSGEY8qjX5_WSdOOOhTNGh-kCdCIapRDEsvAfnRP1tVv6mJJiJUM83XNhSbMG"
    "aQU7L5ehcHpLVJsWXbMyjOVLeSBkNSOdzMgStY3oQH61JBPXaGvfLp-r7boq3SmWNq"
    "wJrfi3axgYrtkXBjD1XvmLWTPgnJXsWeMU1sYqJ2IrfNkf3Ndijs2e0mgjDt7SBDTJ"
    "72-aO0jeVwMc4BI2_iQNinwi5CoFNUjeCoyZCfFufkC_K8rq1KcijoG3eA3mbBIG41"
    "u1vNMWtv7BLa8hg8eIKI2NXlHDMydpLycqN5ZA6A-ueJr2XDgeVnx6sdzSu94gCCJG"
    "Sh3BjGc4A",
    /* hs256 */
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOiJhcG"
    "k6Ly9zaWduYWxyLXVwc3RyZWFtIiwiaXNzIjoiaHR0cHM6Ly9zdHMud2luZG93cy5u"
    "ZXQvMTExMTExMTEtMTExMS00MTExLTgxMTEtMTExMTExMTExMTExLyIsImlhdCI6MT"
    "cwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImFwcGlk"
    "IjoiMjIyMjIyMjItMjIyMi00MjIyLTgyMjItMjIyMjIyMjIyMjIyIiwib2lkIjoiby"
    "IsInRpZCI6IjExMTExMTExLTExMTEtNDExMS04MTExLTExMTExMTExMTExMSJ9.O13"
    "rSo92N3pRCrImQSCwauGV02k3d76XcITNXRR-j3Hv0BrPkzXEcTfREhAVNJCD0yWSX"
    "_K10NKlPJA9I3VGgnbyNFITW-JpIoT0OwWVegFnudtcqqIHFXkyBUbupJ3i_5h_d-y"
    "BN7vdjjwVuajj7gMAb1J3aM7B4uRbvnSLO3c54FtdU7dHpOSThd4-FJw14isc2F7hN"
    "M_FLJ34SYBuqbqxhSGo70g4vverHU8vBnW17JqO_HwHLb1r-zMrfN27naasZwvQcRZ"
    "hMUPLpmWO_hduVvu-M1EJ98ivQjslV550cAwYPi9PUCU0aW2ewljq0XZVO7OCQMvFL"
    "ic_g6Bibg",
    /* tampered */
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOiJhcG"
    "k6Ly9vdGhlciIsImlzcyI6Imh0dHBzOi8vc3RzLndpbmRvd3MubmV0LzExMTExMTEx"
    "LTExMTEtNDExMS04MTExLTExMTExMTExMTExMS8iLCJpYXQiOjE3MDAwMDAwMDAsIm"
    "5iZiI6MTcwMDAwMDAwMCwiZXhwIjo0MTAyNDQ0ODAwLCJhcHBpZCI6IjIyMjIyMjIy"
    "LTIyMjItNDIyMi04MjIyLTIyMjIyMjIyMjIyMiIsIm9pZCI6Im8iLCJ0aWQiOiIxMT"
    "ExMTExMS0xMTExLTQxMTEtODExMS0xMTExMTExMTExMTEifQ.bFIjvbxkj8lHBINcO"
    "Yx6vDUro3Vw1T60GPD4V1LuSV0qsgxQTttHcu_ZEVgnTlIKf1B-NKKYrGGx4bTFaSR"
    "FUlmiVl9VriYnCv0RZ6WGa2YwaHCt1T_Kh-cRJOB4aJgdxfEOjB3VqpLjZpzuoqFre"
    "7Daqb9lMlEahwObQqBSW3gAM51eCJXVJR0BIRDkJUgWQKDNh_M-KyUmuxbgUoDIqOj"
    "DTjVmSOJAEjeidW-o64uJPmgS4tgsVZfMcvsgiH8Y1_A1kzNYDIip1JDgmNFvX0a2a"
    "JSvKgpJqEoLSiJyh9dJNzv_U-qfMc2DLgprUiMWZwPJ5LVP7K7U5nNnq3x7BA",
};


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


/*
 * RS256: a token of the key, issuer and audience within its times; each
 * other token refused, with why
 */

static void
test_rs256(void)
{
    size_t           i;
    signalr_jwks_t  *jwks;

    static const char  *why[] = {
        NULL, NULL, "its aud is not the audience", "its iss is not the issuer",
        "it has expired (or has no exp)", "it is not valid yet (nbf)",
        "its signature is invalid", "its kid is none of the signing keys",
        "its alg is not RS256", "its signature is invalid",
    };

    jwks = signalr_jwks_parse(jwks_json, strlen(jwks_json), err, sizeof(err));
    CHECK(jwks != NULL);
    if (jwks == NULL) {
        return;
    }

    /* the EC key is left out */
    CHECK_INT((int) signalr_jwks_count(jwks), 1);

    for (i = 0; i < sizeof(rs256) / sizeof(rs256[0]); i++) {
        err[0] = '\0';

        CHECK_INT(signalr_entra_jwt_verify(jwks, rs256[i], strlen(rs256[i]),
                                           ISS, AUD, 1800000000LL, err,
                                           sizeof(err)),
                  why[i] == NULL ? 0 : i == 7 ? -2 : -1);

        if (why[i]) {
            CHECK_STR(err, why[i]);
        }
    }

    /* the clock skew: 300 s either side */
    CHECK_INT(signalr_entra_jwt_verify(jwks, rs256[5], strlen(rs256[5]), ISS,
                                       AUD, 4102444000LL - 299, err,
                                       sizeof(err)), 0);
    CHECK_INT(signalr_entra_jwt_verify(jwks, rs256[4], strlen(rs256[4]), ISS,
                                       AUD, 1700003600LL + 299, err,
                                       sizeof(err)), 0);
    CHECK_INT(signalr_entra_jwt_verify(jwks, rs256[4], strlen(rs256[4]), ISS,
                                       AUD, 1700003600LL + 300, err,
                                       sizeof(err)), -1);

    /* not a token */
    CHECK_INT(signalr_entra_jwt_verify(jwks, "a.b", 3, ISS, AUD, NOW, err,
                                       sizeof(err)), -1);
    CHECK_STR(err, "not a JSON Web Token");
    CHECK_INT(signalr_entra_jwt_verify(jwks, "a.b.c.d", 7, ISS, AUD, NOW, err,
                                       sizeof(err)), -1);
    CHECK_INT(signalr_entra_jwt_verify(jwks, "!!.b.c", 6, ISS, AUD, NOW, err,
                                       sizeof(err)), -1);
    CHECK_STR(err, "its header is not JSON");

    signalr_jwks_free(jwks);

    /* JWKS refused */
    CHECK(signalr_jwks_parse("{}", 2, err, sizeof(err)) == NULL);
    CHECK_STR(err, "not a JWKS: no \"keys\" array");
    CHECK(signalr_jwks_parse("{\"keys\":[]}", 11, err, sizeof(err)) == NULL);
    CHECK_STR(err, "no RSA signing key");
    CHECK(signalr_jwks_parse("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\","
                             "\"n\":\"AQAB\",\"e\":\"AQAB\"}]}", 56, err,
                             sizeof(err)) == NULL);
    CHECK(strstr(err, "2048 to 4096 bits") != NULL);
}


/* a JWKS of the vector's n and the given e (or n of the given length) */

static signalr_jwks_t *
jwks_with(const char *e, size_t nlen)
{
    char         buf[2048];
    const char  *n, *end;

    n = strstr(jwks_json, "\"n\":\"") + 5;
    end = strchr(n, '"');

    if (nlen == 0) {
        nlen = end - n;
        snprintf(buf, sizeof(buf), "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k\","
                 "\"n\":\"%.*s\",\"e\":\"%s\"}]}", (int) nlen, n, e);

    } else {
        snprintf(buf, sizeof(buf), "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k\","
                 "\"n\":\"%.*s%.*s\",\"e\":\"%s\"}]}", (int) (end - n), n,
                 (int) (nlen - (end - n)), n, e);
    }

    return signalr_jwks_parse(buf, strlen(buf), err, sizeof(err));
}


/* keys no one can be trusted with, and lengths at the buffers' edges */

static void
test_jwks_refused(void)
{
    signalr_jwks_t  *jwks;

    jwks = jwks_with("AQAB", 0);
    CHECK(jwks != NULL);
    signalr_jwks_free(jwks);

    /* e = 1: anyone signs; e even */
    CHECK(jwks_with("AQ", 0) == NULL);
    CHECK(strstr(err, "an invalid n or e") != NULL);
    CHECK(jwks_with("AAE", 0) == NULL);
    CHECK(jwks_with("AQAA", 0) == NULL);

    /* an e of 23 characters (17 bytes), an n of 695 (521): refused whole */
    CHECK(jwks_with("AQABAQABAQABAQABAQABAQA", 0) == NULL);
    CHECK(jwks_with("AQAB", 695) == NULL);
    CHECK(jwks_with("AQAB", 683) == NULL);
}


static void
test_base64url_decode(void)
{
    unsigned char  out[16];

    CHECK_INT((int) signalr_base64url_decode(out, (const unsigned char *)
                                             "AQAB", 4), 3);
    CHECK_MEM(out, 3, "\x01\x00\x01", 3);
    CHECK_INT((int) signalr_base64url_decode(out, (const unsigned char *)
                                             "_-8", 3), 2);
    CHECK_MEM(out, 2, "\xff\xef", 2);
    CHECK_INT((int) signalr_base64url_decode(out, (const unsigned char *)
                                             "AQ", 2), 1);
    CHECK_INT((int) signalr_base64url_decode(out, (const unsigned char *)
                                             "A", 1), -1);
    CHECK_INT((int) signalr_base64url_decode(out, (const unsigned char *)
                                             "AQ==", 4), -1);
    CHECK_INT((int) signalr_base64url_decode(out, (const unsigned char *)
                                             "A+/B", 4), -1);

    /* bits left over must be zero: "AR" would be "AQ" again */
    CHECK_INT((int) signalr_base64url_decode(out, (const unsigned char *)
                                             "AR", 2), -1);
    CHECK_INT((int) signalr_base64url_decode(out, (const unsigned char *)
                                             "AQAC", 4), 3);
    CHECK_INT((int) signalr_base64url_decode(out, (const unsigned char *)
                                             "AQB", 3), -1);
}


int
main(void)
{
    UNIT_RUN(test_token);
    UNIT_RUN(test_token_limit);
    UNIT_RUN(test_key);
    UNIT_RUN(test_error_text);
    UNIT_RUN(test_kid_token);
    UNIT_RUN(test_rs256);
    UNIT_RUN(test_base64url_decode);
    UNIT_RUN(test_jwks_refused);

    return unit_report();
}
