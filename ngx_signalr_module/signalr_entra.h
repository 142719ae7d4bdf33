/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Microsoft Entra ID without nginx types: the answers of the token
 * services (the Azure Instance Metadata Service, App Service's identity
 * endpoint, the Entra v2 token endpoint) and of the service's key exchange
 * (GET /api/auth/accessKey: {"KeyId","AccessKey"}, Auth_GetAccessKey of
 * Azure/azure-signalr docs/swagger/v20241201.json), and the JWT header that
 * names the exchanged key.
 */

#ifndef SIGNALR_ENTRA_H
#define SIGNALR_ENTRA_H

#include <stddef.h>


/* the resource and scope of Azure SignalR Service (the SDK's Constants) */
#define SIGNALR_ENTRA_RESOURCE  "https://signalr.azure.com"
#define SIGNALR_ENTRA_SCOPE     SIGNALR_ENTRA_RESOURCE "/.default"

/* the longest Entra token, key id and key taken */
#define SIGNALR_ENTRA_MAX_TOKEN  16384
#define SIGNALR_ENTRA_MAX_KID    128
#define SIGNALR_ENTRA_MAX_KEY    512

/* base64url of {"alg":"HS256","kid":"<kid>","typ":"JWT"} */
#define SIGNALR_ENTRA_HEADER_MAX                                             \
    (((sizeof("{\"alg\":\"HS256\",\"kid\":\"\",\"typ\":\"JWT\"}") - 1        \
       + SIGNALR_ENTRA_MAX_KID) + 2) / 3 * 4)


/*
 * A token service's answer: access_token, and its end, expires_on (seconds
 * since the epoch, a number or a string of digits, as IMDS and App Service
 * give it), else now + expires_in. The token is copied to token (max
 * bytes). 0, or -1 with what is wrong in err (never the token).
 */
int signalr_entra_token_parse(const char *body, size_t len, long long now,
    char *token, size_t max, size_t *token_len, long long *expires,
    char *err, size_t errlen);

/* the key exchange's answer into kid and key (the max sizes above) */
int signalr_entra_key_parse(const char *body, size_t len, char *kid,
    size_t *kid_len, char *key, size_t *key_len, char *err, size_t errlen);

/*
 * what an error answer of a token service says, for the log: its "error"
 * and "error_description" (Entra's AADSTS code and text), printable ASCII,
 * cut to outlen; "" when it has none
 */
void signalr_entra_error_text(const char *body, size_t len, char *out,
    size_t outlen);

/*
 * The signing keys of a tenant (a JWKS: {"keys":[{"kty":"RSA","kid","n",
 * "e"},...]}, as https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys
 * gives them), for RS256 tokens: the bearer tokens of upstream calls that
 * the service makes with a managed identity.
 */

#define SIGNALR_JWKS_MAX_KEYS    32
#define SIGNALR_ENTRA_CLOCK_SKEW 300     /* seconds, as Microsoft's libraries */

typedef struct signalr_jwks_s  signalr_jwks_t;

signalr_jwks_t *signalr_jwks_parse(const char *json, size_t len, char *err,
    size_t errlen);
void signalr_jwks_free(signalr_jwks_t *jwks);
size_t signalr_jwks_count(const signalr_jwks_t *jwks);

/*
 * An RS256 token signed by one of the keys (by its "kid"), of that issuer
 * (exactly), for that audience ("aud" the string or an array holding it),
 * within exp and nbf (with SIGNALR_ENTRA_CLOCK_SKEW): 0; else -1 with the
 * reason in err (never the token), -2 when no key has its "kid" (the keys
 * may have changed since they were read).
 */
int signalr_entra_jwt_verify(const signalr_jwks_t *jwks, const char *token,
    size_t len, const char *issuer, const char *audience, long long now,
    char *err, size_t errlen);

/* the base64url JWT header naming kid (checked by _key_parse); its length */
size_t signalr_entra_jwt_header(unsigned char *dst, const char *kid,
    size_t kid_len);

#endif /* SIGNALR_ENTRA_H */
