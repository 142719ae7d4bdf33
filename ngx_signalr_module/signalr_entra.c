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
#include <string.h>

#include <jansson.h>

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

    for (i = 0; i < n; i++) {
        c = (unsigned char) s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
        {
            signalr_entra_error(err, errlen, "the KeyId holds a character "
                                "other than letters, digits, \"-\", \"_\" "
                                "and \".\"");
            goto done;
        }
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
