/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * The answers of the Microsoft Entra token services and of the service's
 * key exchange. Everything in them is checked before it is kept: a token
 * goes into an Authorization header, a key id into every client token's
 * header, so neither may hold anything but the characters their formats
 * use.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "signalr_crypto.h"
#include "signalr_entra.h"


static int signalr_entra_error(char *err, size_t errlen, const char *msg);
static int signalr_entra_seconds(json_t *v, long long *out);
static int signalr_entra_jwt_chars(const char *s, size_t len);


static int
signalr_entra_error(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -1;
}


/* a number of seconds: an integer, or a string of 1 to 12 digits */

static int
signalr_entra_seconds(json_t *v, long long *out)
{
    size_t       i, len;
    long long    n;
    const char  *s;

    if (json_is_integer(v)) {
        n = json_integer_value(v);

        if (n < 0 || n > 999999999999LL) {
            return -1;
        }

        *out = n;
        return 0;
    }

    if (!json_is_string(v)) {
        return -1;
    }

    s = json_string_value(v);
    len = json_string_length(v);

    if (len == 0 || len > 12) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        n = n * 10 + (s[i] - '0');
    }

    *out = n;
    return 0;
}


/* a JWT: base64url segments and dots */

static int
signalr_entra_jwt_chars(const char *s, size_t len)
{
    size_t         i;
    unsigned char  c;

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
        {
            return 0;
        }
    }

    return 1;
}


int
signalr_entra_token_parse(const char *body, size_t len, long long now,
    char *token, size_t max, size_t *token_len, long long *expires,
    char *err, size_t errlen)
{
    int           rc;
    json_t       *root, *t, *on, *in;
    size_t        tlen;
    long long     n;
    json_error_t  jerr;

    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);

    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return signalr_entra_error(err, errlen,
                                   "the answer is not a JSON object");
    }

    rc = -1;

    t = json_object_get(root, "access_token");

    if (!json_is_string(t) || json_string_length(t) == 0) {
        signalr_entra_error(err, errlen, "the answer has no \"access_token\"");
        goto done;
    }

    tlen = json_string_length(t);

    if (tlen > max) {
        snprintf(err, errlen, "the \"access_token\" is longer than %zu "
                 "bytes", max);
        goto done;
    }

    if (!signalr_entra_jwt_chars(json_string_value(t), tlen)) {
        signalr_entra_error(err, errlen,
                            "the \"access_token\" is not a JSON Web Token");
        goto done;
    }

    on = json_object_get(root, "expires_on");
    in = json_object_get(root, "expires_in");

    if (on != NULL && signalr_entra_seconds(on, &n) == 0) {
        *expires = n;

    } else if (in != NULL && signalr_entra_seconds(in, &n) == 0) {
        *expires = now + n;

    } else {
        signalr_entra_error(err, errlen,
                            "the answer has no valid \"expires_on\" or "
                            "\"expires_in\"");
        goto done;
    }

    if (*expires <= now) {
        signalr_entra_error(err, errlen, "the token has expired already");
        goto done;
    }

    memcpy(token, json_string_value(t), tlen);
    *token_len = tlen;
    rc = 0;

done:

    /* the token's copy in jansson's memory */

    if (json_is_string(t)) {
        memset((char *) json_string_value(t), 0, json_string_length(t));
    }

    json_decref(root);

    return rc;
}


int
signalr_entra_key_parse(const char *body, size_t len, char *kid,
    size_t *kid_len, char *key, size_t *key_len, char *err, size_t errlen)
{
    int            rc;
    json_t        *root, *k, *v;
    size_t         i, n;
    const char    *s;
    json_error_t   jerr;
    unsigned char  c;

    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);

    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return signalr_entra_error(err, errlen,
                                   "the answer is not a JSON object");
    }

    rc = -1;

    /* the members as the SDK reads them: this case exactly */

    k = json_object_get(root, "KeyId");
    v = json_object_get(root, "AccessKey");

    if (!json_is_string(k) || json_string_length(k) == 0) {
        signalr_entra_error(err, errlen, "Missing required <KeyId> field.");
        goto done;
    }

    if (!json_is_string(v) || json_string_length(v) == 0) {
        signalr_entra_error(err, errlen,
                            "Missing required <AccessKey> field.");
        goto done;
    }

    s = json_string_value(k);
    n = json_string_length(k);

    if (n > SIGNALR_ENTRA_MAX_KID) {
        snprintf(err, errlen, "the KeyId is longer than %d bytes",
                 SIGNALR_ENTRA_MAX_KID);
        goto done;
    }

    /* a JWT's characters: base64url's and "." */

    if (!signalr_entra_jwt_chars(s, n)) {
        signalr_entra_error(err, errlen, "the KeyId holds a character "
                            "other than letters, digits, \"-\", \"_\" "
                            "and \".\"");
        goto done;
    }

    memcpy(kid, s, n);
    *kid_len = n;

    s = json_string_value(v);
    n = json_string_length(v);

    if (n > SIGNALR_ENTRA_MAX_KEY) {
        snprintf(err, errlen, "the AccessKey is longer than %d bytes",
                 SIGNALR_ENTRA_MAX_KEY);
        goto done;
    }

    for (i = 0; i < n; i++) {
        c = (unsigned char) s[i];

        if (c < 0x21 || c > 0x7e) {
            signalr_entra_error(err, errlen, "the AccessKey holds a "
                                "character that is not printable ASCII");
            goto done;
        }
    }

    memcpy(key, s, n);
    *key_len = n;
    rc = 0;

done:

    /* the key's copy in jansson's memory */

    if (json_is_string(v)) {
        memset((char *) json_string_value(v), 0, json_string_length(v));
    }

    json_decref(root);

    return rc;
}


void
signalr_entra_error_text(const char *body, size_t len, char *out,
    size_t outlen)
{
    json_t        *root, *e, *d;
    size_t         i, n;
    json_error_t   jerr;

    if (outlen == 0) {
        return;
    }

    out[0] = '\0';

    root = json_loadb(body, len, 0, &jerr);

    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return;
    }

    e = json_object_get(root, "error");
    d = json_object_get(root, "error_description");

    /* App Service's form: {"error":{"code":...,"message":...}} */

    if (json_is_object(e)) {
        d = json_object_get(e, "message");
        e = json_object_get(e, "code");
    }

    snprintf(out, outlen, "%s%s%s",
             json_is_string(e) ? json_string_value(e) : "",
             json_is_string(e) && json_is_string(d) ? ": " : "",
             json_is_string(d) ? json_string_value(d) : "");

    json_decref(root);

    /* for a log line: one line of printable ASCII */

    n = strlen(out);

    for (i = 0; i < n; i++) {
        if ((unsigned char) out[i] < 0x20 || (unsigned char) out[i] > 0x7e) {
            out[i] = ' ';
        }
    }
}


size_t
signalr_entra_jwt_header(unsigned char *dst, const char *kid, size_t kid_len)
{
    size_t         n;
    unsigned char  json[sizeof("{\"alg\":\"HS256\",\"kid\":\"\","
                               "\"typ\":\"JWT\"}") + SIGNALR_ENTRA_MAX_KID];

    if (kid_len > SIGNALR_ENTRA_MAX_KID) {
        return 0;
    }

    n = 0;
    memcpy(json, "{\"alg\":\"HS256\",\"kid\":\"", 22);
    n += 22;
    memcpy(json + n, kid, kid_len);
    n += kid_len;
    memcpy(json + n, "\",\"typ\":\"JWT\"}", 14);
    n += 14;

    return signalr_base64url_encode(dst, json, n);
}


/* ---- JWKS and RS256 ------------------------------------------------- */


struct signalr_jwks_s {
    size_t      n;
    struct {
        char        kid[SIGNALR_ENTRA_MAX_KID + 1];
        EVP_PKEY   *pkey;
    }           keys[SIGNALR_JWKS_MAX_KEYS];
};


/* a base64url member of a JWK as bytes, at most max */

static long
signalr_jwk_bytes(json_t *jwk, const char *name, unsigned char *out,
    size_t max)
{
    json_t  *v;
    size_t   len;

    v = json_object_get(jwk, name);

    if (!json_is_string(v)) {
        return -1;
    }

    len = json_string_length(v);

    /* the decoded length, exactly */

    if (len == 0 || len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > max) {
        return -1;
    }

    return signalr_base64url_decode(out, (const unsigned char *)
                                         json_string_value(v), len);
}


static unsigned long long
signalr_jwk_exponent(const unsigned char *e, long len)
{
    long                i;
    unsigned long long  v;

    v = 0;

    for (i = 0; i < len; i++) {
        v = v << 8 | e[i];
    }

    return v;
}


static EVP_PKEY *
signalr_jwk_rsa(const unsigned char *n, size_t nlen, const unsigned char *e,
    size_t elen)
{
    BIGNUM          *bn, *be;
    EVP_PKEY        *pkey;
    OSSL_PARAM      *params;
    EVP_PKEY_CTX    *ctx;
    OSSL_PARAM_BLD  *bld;

    pkey = NULL;
    params = NULL;
    ctx = NULL;

    bn = BN_bin2bn(n, (int) nlen, NULL);
    be = BN_bin2bn(e, (int) elen, NULL);
    bld = OSSL_PARAM_BLD_new();

    if (bn == NULL || be == NULL || bld == NULL
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
    {
        goto done;
    }

    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);

    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    {
        pkey = NULL;
    }

done:

    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);

    return pkey;
}


signalr_jwks_t *
signalr_jwks_parse(const char *json, size_t len, char *err, size_t errlen)
{
    long             nlen, elen;
    size_t           i;
    json_t          *root, *keys, *jwk, *v;
    const char      *kid;
    json_error_t     jerr;
    signalr_jwks_t  *jwks;
    unsigned char    n[520], e[16];

    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    keys = json_object_get(root, "keys");

    if (!json_is_array(keys)) {
        json_decref(root);
        signalr_entra_error(err, errlen, "not a JWKS: no \"keys\" array");
        return NULL;
    }

    jwks = calloc(1, sizeof(signalr_jwks_t));
    if (jwks == NULL) {
        json_decref(root);
        signalr_entra_error(err, errlen, "out of memory");
        return NULL;
    }

    json_array_foreach(keys, i, jwk) {

        /* RSA signing keys; others (and encryption keys) are left out */

        v = json_object_get(jwk, "kty");
        if (!json_is_string(v) || strcmp(json_string_value(v), "RSA") != 0) {
            continue;
        }

        v = json_object_get(jwk, "use");
        if (v && (!json_is_string(v)
                  || strcmp(json_string_value(v), "sig") != 0))
        {
            continue;
        }

        v = json_object_get(jwk, "alg");
        if (v && (!json_is_string(v)
                  || strcmp(json_string_value(v), "RS256") != 0))
        {
            continue;
        }

        v = json_object_get(jwk, "kid");
        kid = json_string_value(v);

        nlen = signalr_jwk_bytes(jwk, "n", n, sizeof(n));
        elen = signalr_jwk_bytes(jwk, "e", e, sizeof(e));

        /* n and e odd, e at least 3: no key that anyone could sign for */

        if (kid == NULL || json_string_length(v) == 0
            || json_string_length(v) > SIGNALR_ENTRA_MAX_KID
            || nlen < 256 || nlen > 512 || elen < 1 || elen > 8
            || !(n[nlen - 1] & 1) || n[0] == 0
            || signalr_jwk_exponent(e, elen) < 3
            || !(signalr_jwk_exponent(e, elen) & 1))
        {
            signalr_jwks_free(jwks);
            json_decref(root);
            signalr_entra_error(err, errlen, "an RSA key without a kid, or "
                                "with an n of other than 2048 to 4096 bits, "
                                "or an invalid n or e");
            return NULL;
        }

        if (jwks->n == SIGNALR_JWKS_MAX_KEYS) {
            signalr_jwks_free(jwks);
            json_decref(root);
            snprintf(err, errlen, "more than %d RSA keys",
                     SIGNALR_JWKS_MAX_KEYS);
            return NULL;
        }

        jwks->keys[jwks->n].pkey = signalr_jwk_rsa(n, nlen, e, elen);

        if (jwks->keys[jwks->n].pkey == NULL) {
            signalr_jwks_free(jwks);
            json_decref(root);
            signalr_entra_error(err, errlen, "an RSA key OpenSSL refuses");
            return NULL;
        }

        memcpy(jwks->keys[jwks->n].kid, kid, json_string_length(v));
        jwks->n++;
    }

    json_decref(root);

    if (jwks->n == 0) {
        signalr_jwks_free(jwks);
        signalr_entra_error(err, errlen, "no RSA signing key");
        return NULL;
    }

    return jwks;
}


void
signalr_jwks_free(signalr_jwks_t *jwks)
{
    size_t  i;

    if (jwks == NULL) {
        return;
    }

    for (i = 0; i < jwks->n; i++) {
        EVP_PKEY_free(jwks->keys[i].pkey);
    }

    free(jwks);
}


size_t
signalr_jwks_count(const signalr_jwks_t *jwks)
{
    return jwks->n;
}


/* a JWT segment as a JSON object */

static json_t *
signalr_entra_segment(const char *s, size_t len)
{
    long            n;
    json_t         *v;
    unsigned char  *buf;
    json_error_t    jerr;

    buf = malloc(len / 4 * 3 + 3);
    if (buf == NULL) {
        return NULL;
    }

    n = signalr_base64url_decode(buf, (const unsigned char *) s, len);

    v = (n < 0) ? NULL : json_loadb((char *) buf, (size_t) n,
                                    JSON_REJECT_DUPLICATES, &jerr);
    free(buf);

    if (v && !json_is_object(v)) {
        json_decref(v);
        return NULL;
    }

    return v;
}


int
signalr_entra_jwt_verify(const signalr_jwks_t *jwks, const char *token,
    size_t len, const char *issuer, const char *audience, long long now,
    char *err, size_t errlen)
{
    int            rc, found;
    long           siglen;
    size_t         i;
    json_t        *header, *payload, *v, *a;
    EVP_PKEY      *pkey;
    const char    *dot1, *dot2, *kid;
    EVP_MD_CTX    *md;
    unsigned char  sig[512];

    header = NULL;
    payload = NULL;
    rc = -1;

    if (len > SIGNALR_ENTRA_MAX_TOKEN) {
        return signalr_entra_error(err, errlen, "the token is too long");
    }

    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (dot1 + 1 - token)) : NULL;

    if (dot2 == NULL
        || memchr(dot2 + 1, '.', len - (dot2 + 1 - token)) != NULL)
    {
        return signalr_entra_error(err, errlen, "not a JSON Web Token");
    }

    header = signalr_entra_segment(token, dot1 - token);

    if (header == NULL) {
        return signalr_entra_error(err, errlen, "its header is not JSON");
    }

    v = json_object_get(header, "alg");

    if (!json_is_string(v) || strcmp(json_string_value(v), "RS256") != 0) {
        signalr_entra_error(err, errlen, "its alg is not RS256");
        goto done;
    }

    kid = json_string_value(json_object_get(header, "kid"));
    pkey = NULL;

    for (i = 0; kid && i < jwks->n; i++) {
        if (strcmp(jwks->keys[i].kid, kid) == 0) {
            pkey = jwks->keys[i].pkey;
            break;
        }
    }

    if (pkey == NULL) {
        signalr_entra_error(err, errlen, "its kid is none of the signing "
                            "keys");
        rc = -2;
        goto done;
    }

    /* the signature, over "header.payload" */

    if ((size_t) (token + len - (dot2 + 1)) > signalr_base64url_len(512)) {
        signalr_entra_error(err, errlen, "its signature is too long");
        goto done;
    }

    siglen = signalr_base64url_decode(sig, (const unsigned char *) dot2 + 1,
                                      token + len - (dot2 + 1));

    md = EVP_MD_CTX_new();

    found = siglen > 0 && md != NULL
            && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1
            && EVP_DigestVerify(md, sig, (size_t) siglen,
                                (const unsigned char *) token,
                                dot2 - token) == 1;

    EVP_MD_CTX_free(md);

    if (!found) {
        signalr_entra_error(err, errlen, "its signature is invalid");
        goto done;
    }

    payload = signalr_entra_segment(dot1 + 1, dot2 - (dot1 + 1));

    if (payload == NULL) {
        signalr_entra_error(err, errlen, "its payload is not JSON");
        goto done;
    }

    v = json_object_get(payload, "iss");

    if (!json_is_string(v) || strcmp(json_string_value(v), issuer) != 0) {
        signalr_entra_error(err, errlen, "its iss is not the issuer");
        goto done;
    }

    v = json_object_get(payload, "aud");
    found = json_is_string(v) && strcmp(json_string_value(v), audience) == 0;

    json_array_foreach(json_is_array(v) ? v : NULL, i, a) {
        if (json_is_string(a) && strcmp(json_string_value(a), audience) == 0) {
            found = 1;
        }
    }

    if (!found) {
        signalr_entra_error(err, errlen, "its aud is not the audience");
        goto done;
    }

    v = json_object_get(payload, "exp");

    if (!json_is_integer(v)
        || json_integer_value(v) <= now - SIGNALR_ENTRA_CLOCK_SKEW)
    {
        signalr_entra_error(err, errlen, "it has expired (or has no exp)");
        goto done;
    }

    v = json_object_get(payload, "nbf");

    if (v && (!json_is_integer(v)
              || json_integer_value(v) > now + SIGNALR_ENTRA_CLOCK_SKEW))
    {
        signalr_entra_error(err, errlen, "it is not valid yet (nbf)");
        goto done;
    }

    rc = 0;

done:

    json_decref(header);
    json_decref(payload);

    return rc;
}
