/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Connection string parser, following the SDK's ConnectionStringParser:
 * ';'-separated properties split on the first '=', keys and values trimmed,
 * keys case-insensitive, duplicate keys refused, unknown keys ignored.
 *
 * URLs are normalised as .NET's Uri does (scheme and host lower-cased,
 * default ports dropped). One deliberate difference: a base URL with a path
 * always ends in exactly one '/' before "client/" or "api/" is appended;
 * the SDK concatenates without a slash ("https://gw/subclient/").
 */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signalr_connstr.h"
#include "signalr_names.h"


typedef struct {
    const char  *name;
    const char  *value;
    size_t       len;
    int          seen;
} signalr_connstr_prop_t;


enum {
    SIGNALR_CS_ENDPOINT = 0,
    SIGNALR_CS_ACCESS_KEY,
    SIGNALR_CS_VERSION,
    SIGNALR_CS_PORT,
    SIGNALR_CS_CLIENT_ENDPOINT,
    SIGNALR_CS_SERVER_ENDPOINT,
    SIGNALR_CS_AUTH_TYPE,
    SIGNALR_CS_CLIENT_ID,
    SIGNALR_CS_TENANT_ID,
    SIGNALR_CS_CLIENT_SECRET,
    SIGNALR_CS_CLIENT_CERT,
    SIGNALR_CS_NPROPS
};


static int signalr_connstr_auth(signalr_connstr_prop_t *props, int *auth,
    char *err, size_t errlen);
static int signalr_connstr_id_check(const char *name,
    signalr_connstr_prop_t *prop, char *err, size_t errlen);
static int signalr_connstr_copy(signalr_connstr_prop_t *prop, char **to,
    size_t *len);


typedef struct {
    int          https;
    char         host[256];
    int          port;         /* 0: the default port of the scheme */
    const char  *path;         /* without trailing '/' characters */
    size_t       path_len;
} signalr_connstr_url_t;


/*
 * A value is shown in messages only when it cannot hold a key: with a
 * missing ';' the next property ("...;AccessKey=...") would be part of it.
 */

static const char *
signalr_connstr_shown(const char *v, size_t len, int *shown_len)
{
    if (memchr(v, '=', len) != NULL || memchr(v, ';', len) != NULL) {
        *shown_len = (int) sizeof("(hidden: it contains \"=\", is a \";\" "
                                  "missing?)") - 1;
        return "(hidden: it contains \"=\", is a \";\" missing?)";
    }

    *shown_len = (int) (len > 200 ? 200 : len);

    return v;
}


static int
signalr_connstr_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(err, errlen, fmt, args);
    va_end(args);

    return -1;
}


static int
signalr_connstr_parse_url(const char *name, const char *s, size_t len,
    signalr_connstr_url_t *u, char *err, size_t errlen)
{
    int          shown;
    size_t       i, hlen;
    const char  *p, *end, *host;
    long         port;

    p = s;
    end = s + len;

    while (end > p && end[-1] == '/') {
        end--;
    }

    if ((size_t) (end - p) > 7
        && signalr_caseless_eq((const unsigned char *) p, 7,
                               (const unsigned char *) "http://", 7))
    {
        u->https = 0;
        p += 7;

    } else if ((size_t) (end - p) > 8
               && signalr_caseless_eq((const unsigned char *) p, 8,
                                      (const unsigned char *) "https://", 8))
    {
        u->https = 1;
        p += 8;

    } else {
        goto invalid;
    }

    host = p;

    if (*p == '[') {
        while (p < end && *p != ']') {
            if (!isxdigit((unsigned char) *p) && *p != ':' && *p != '.'
                && *p != '[')
            {
                goto invalid;
            }
            p++;
        }

        if (p == end) {
            goto invalid;
        }

        p++;

    } else {
        while (p < end && (isalnum((unsigned char) *p) || *p == '-'
                           || *p == '.' || *p == '_'))
        {
            p++;
        }
    }

    hlen = p - host;

    if (hlen == 0 || hlen >= sizeof(u->host)) {
        goto invalid;
    }

    for (i = 0; i < hlen; i++) {
        u->host[i] = (char) tolower((unsigned char) host[i]);
    }

    u->host[hlen] = '\0';
    u->port = 0;

    if (p < end && *p == ':') {
        port = 0;

        for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
            port = port * 10 + (*p - '0');
            if (port > 65535) {
                goto invalid;
            }
        }

        if (port == 0 || (p < end && *p != '/')) {
            goto invalid;
        }

        u->port = (int) port;
    }

    if (p < end && *p != '/') {
        goto invalid;
    }

    for (i = 0; p + i < end; i++) {
        if ((unsigned char) p[i] <= ' ' || p[i] == '?' || p[i] == '#'
            || p[i] == '\\' || (unsigned char) p[i] >= 0x7f)
        {
            goto invalid;
        }
    }

    u->path = p;
    u->path_len = end - p;

    if (u->port == (u->https ? 443 : 80)) {
        u->port = 0;
    }

    return 0;

invalid:

    s = signalr_connstr_shown(s, len, &shown);

    return signalr_connstr_error(err, errlen,
                                 "%s \"%.*s\" is not an absolute http or "
                                 "https URL without user, query or fragment",
                                 name, shown, s);
}


static char *
signalr_connstr_base(const signalr_connstr_url_t *u, int with_path)
{
    int     n;
    char   *b;
    size_t  size;

    size = sizeof("https://:65535//") + strlen(u->host) + u->path_len;

    b = malloc(size);
    if (b == NULL) {
        return NULL;
    }

    if (with_path < 0) {
        snprintf(b, size, "%s", u->host);
        return b;
    }

    n = snprintf(b, size, "%s://%s", u->https ? "https" : "http", u->host);

    if (with_path) {
        if (u->port) {
            n += snprintf(b + n, size - n, ":%d", u->port);
        }

        n += snprintf(b + n, size - n, "%.*s", (int) u->path_len, u->path);
    }

    snprintf(b + n, size - n, "/");

    return b;
}


static int
signalr_connstr_version_valid(const char *v, size_t len)
{
    size_t  i;

    /* ^1\.\d+(?:[\w-.]+)?$ */

    if (len < 3 || v[0] != '1' || v[1] != '.' || !isdigit((unsigned char) v[2]))
    {
        return 0;
    }

    for (i = 3; i < len; i++) {
        if (!isalnum((unsigned char) v[i]) && v[i] != '_' && v[i] != '-'
            && v[i] != '.')
        {
            return 0;
        }
    }

    return 1;
}


/* the pieces "Name=value" of a connection string, into props */

static int
signalr_connstr_split(const char *s, size_t len,
    signalr_connstr_prop_t *props, char *err, size_t errlen)
{
    int          i, pieces;
    size_t       klen, vlen;
    const char  *p, *end, *piece, *eq, *k, *v;

    p = s;
    end = s + len;
    pieces = 0;

    while (p < end) {
        piece = p;

        while (p < end && *p != ';') {
            p++;
        }

        if (p == piece) {
            p++;
            continue;
        }

        pieces++;

        eq = memchr(piece, '=', p - piece);

        if (eq != NULL) {
            k = piece;
            klen = eq - piece;
            v = eq + 1;
            vlen = p - v;

            while (klen && isspace((unsigned char) *k)) { k++; klen--; }
            while (klen && isspace((unsigned char) k[klen - 1])) { klen--; }
            while (vlen && isspace((unsigned char) *v)) { v++; vlen--; }
            while (vlen && isspace((unsigned char) v[vlen - 1])) { vlen--; }

            for (i = 0; i < SIGNALR_CS_NPROPS; i++) {
                if (signalr_caseless_eq(
                        (const unsigned char *) props[i].name,
                        strlen(props[i].name), (const unsigned char *) k,
                        klen))
                {
                    break;
                }
            }

            if (i < SIGNALR_CS_NPROPS) {
                if (props[i].seen) {
                    return signalr_connstr_error(err, errlen,
                                                 "duplicate property \"%s\"",
                                                 props[i].name);
                }

                props[i].seen = 1;
                props[i].value = v;
                props[i].len = vlen;
            }
        }

        if (p < end) {
            p++;
        }
    }

    if (pieces < 2) {
        return signalr_connstr_error(err, errlen,
                                     "fewer than two properties: Endpoint "
                                     "and AccessKey (or AuthType) are "
                                     "required");
    }

    return 0;
}


/*
 * AuthType, as the SDK reads it (its value in any case): azure.msi with an
 * optional ClientId (a user-assigned identity); azure.app with ClientId,
 * TenantId and ClientSecret, checked in that order, with the SDK's
 * messages; azure, DefaultAzureCredential, which takes nothing from the
 * string; aad, the SDK's older form: azure.app when a ClientSecret is
 * given, azure.msi when only a ClientId or nothing is. Unlike the SDK,
 * which falls back to DefaultAzureCredential, an unknown AuthType is
 * refused, and so is an AccessKey beside an AuthType (which of the two the
 * SDK uses has changed between its versions). Client certificates are not
 * supported.
 */

static int
signalr_connstr_auth(signalr_connstr_prop_t *props, int *auth, char *err,
    size_t errlen)
{
    int                      shown, i;
    const char              *v;
    size_t                   len;
    signalr_connstr_prop_t  *id, *tenant, *secret, *cert;
    static const struct {
        const char          *name;
        int                  auth;
    } types[] = {
        { "azure.msi", SIGNALR_AUTH_MSI },
        { "azure.app", SIGNALR_AUTH_APP },
        { "azure", SIGNALR_AUTH_AZURE },
        { "aad", -1 },
    };

    v = props[SIGNALR_CS_AUTH_TYPE].value;
    len = props[SIGNALR_CS_AUTH_TYPE].len;

    for (i = 0; i < (int) (sizeof(types) / sizeof(types[0])); i++) {
        if (signalr_caseless_eq((const unsigned char *) v, len,
                                (const unsigned char *) types[i].name,
                                strlen(types[i].name)))
        {
            break;
        }
    }

    if (i == (int) (sizeof(types) / sizeof(types[0]))) {
        v = signalr_connstr_shown(v, len, &shown);
        return signalr_connstr_error(err, errlen,
                                     "AuthType \"%.*s\" is not supported: "
                                     "azure.msi, azure.app, azure or aad "
                                     "expected", shown, v);
    }

    if (props[SIGNALR_CS_ACCESS_KEY].seen) {
        return signalr_connstr_error(err, errlen,
                                     "AccessKey and AuthType together: give "
                                     "an AccessKey or an AuthType (Microsoft "
                                     "Entra ID), not both");
    }

    id = &props[SIGNALR_CS_CLIENT_ID];
    tenant = &props[SIGNALR_CS_TENANT_ID];
    secret = &props[SIGNALR_CS_CLIENT_SECRET];
    cert = &props[SIGNALR_CS_CLIENT_CERT];

    *auth = types[i].auth;

    if (*auth == -1) {
        *auth = (id->seen && tenant->seen) ? SIGNALR_AUTH_APP
                                           : SIGNALR_AUTH_MSI;
    }

    if (*auth == SIGNALR_AUTH_AZURE) {
        /* DefaultAzureCredential takes its settings from the environment */
        return 0;
    }

    if (*auth == SIGNALR_AUTH_APP) {

        if (!id->seen || id->len == 0) {
            return signalr_connstr_error(err, errlen,
                                         "Connection string missing required "
                                         "properties clientId.");
        }

        if (!tenant->seen || tenant->len == 0) {
            return signalr_connstr_error(err, errlen,
                                         "Connection string missing required "
                                         "properties tenantId.");
        }

        if (cert->seen && !secret->seen) {
            return signalr_connstr_error(err, errlen,
                                         "ClientCert is not supported: use a "
                                         "ClientSecret, a managed identity "
                                         "(AuthType=azure.msi) or workload "
                                         "identity (AuthType=azure)");
        }

        if (!secret->seen || secret->len == 0) {
            return signalr_connstr_error(err, errlen,
                                         "Connection string missing required "
                                         "properties clientSecret or "
                                         "clientCert.");
        }

        if (secret->len > SIGNALR_CONNSTR_MAX_SECRET) {
            return signalr_connstr_error(err, errlen,
                                         "ClientSecret is longer than %d "
                                         "bytes", SIGNALR_CONNSTR_MAX_SECRET);
        }

        for (i = 0; i < (int) secret->len; i++) {
            if ((unsigned char) secret->value[i] < 0x20
                || secret->value[i] == 0x7f)
            {
                return signalr_connstr_error(err, errlen,
                                             "ClientSecret holds a control "
                                             "character");
            }
        }
    }

    if (id->seen
        && signalr_connstr_id_check("ClientId", id, err, errlen) != 0)
    {
        return -1;
    }

    if (tenant->seen
        && signalr_connstr_id_check("TenantId", tenant, err, errlen) != 0)
    {
        return -1;
    }

    return 0;
}


/*
 * ClientId and TenantId go into the token requests' URLs and forms: a GUID
 * or a domain name (a tenant), nothing that would need escaping
 */

static int
signalr_connstr_id_check(const char *name, signalr_connstr_prop_t *prop,
    char *err, size_t errlen)
{
    int          shown;
    size_t       i;
    const char  *v;

    for (i = 0; i < prop->len; i++) {
        if (!isalnum((unsigned char) prop->value[i])
            && prop->value[i] != '-' && prop->value[i] != '.'
            && prop->value[i] != '_')
        {
            break;
        }
    }

    if (prop->len == 0 || prop->len > SIGNALR_CONNSTR_MAX_ID
        || i < prop->len)
    {
        v = signalr_connstr_shown(prop->value,
                                  prop->len > 64 ? 64 : prop->len, &shown);
        return signalr_connstr_error(err, errlen,
                                     "%s \"%.*s\" is invalid: a GUID or a "
                                     "domain name expected (letters, digits, "
                                     "\"-\", \".\" and \"_\", at most %d)",
                                     name, shown, v, SIGNALR_CONNSTR_MAX_ID);
    }

    return 0;
}


/* what the properties must hold, the URLs aside */

static int
signalr_connstr_check(signalr_connstr_prop_t *props, int *auth, char *err,
    size_t errlen)
{
    int          shown;
    const char  *v;

    if (!props[SIGNALR_CS_ENDPOINT].seen) {
        return signalr_connstr_error(err, errlen, "Endpoint is missing");
    }

    if (props[SIGNALR_CS_AUTH_TYPE].seen) {
        if (signalr_connstr_auth(props, auth, err, errlen) != 0) {
            return -1;
        }

    } else {
        *auth = SIGNALR_AUTH_KEY;

        if (!props[SIGNALR_CS_ACCESS_KEY].seen) {
            return signalr_connstr_error(err, errlen, "AccessKey is missing");
        }

        if (props[SIGNALR_CS_ACCESS_KEY].len == 0) {
            return signalr_connstr_error(err, errlen, "AccessKey is empty");
        }
    }

    if (props[SIGNALR_CS_VERSION].seen
        && !signalr_connstr_version_valid(props[SIGNALR_CS_VERSION].value,
                                          props[SIGNALR_CS_VERSION].len))
    {
        v = signalr_connstr_shown(props[SIGNALR_CS_VERSION].value,
                                  props[SIGNALR_CS_VERSION].len, &shown);
        return signalr_connstr_error(err, errlen,
                                     "Version \"%.*s\" is not supported, "
                                     "1.x expected", shown, v);
    }

    return 0;
}


/* Port: 1..65535, replacing the port of Endpoint only */

static int
signalr_connstr_port(signalr_connstr_prop_t *prop,
    signalr_connstr_url_t *endpoint, char *err, size_t errlen)
{
    int          shown;
    long         port;
    size_t       i, vlen;
    const char  *v;

    if (!prop->seen) {
        return 0;
    }

    v = prop->value;
    vlen = prop->len;
    port = 0;

    for (i = 0; i < vlen; i++) {
        if (v[i] < '0' || v[i] > '9' || port > 65535) {
            port = 0;
            break;
        }
        port = port * 10 + (v[i] - '0');
    }

    if (port < 1 || port > 65535) {
        v = signalr_connstr_shown(v, vlen > 20 ? 20 : vlen, &shown);
        return signalr_connstr_error(err, errlen,
                                     "Port \"%.*s\" is invalid, "
                                     "1..65535 expected", shown, v);
    }

    endpoint->port = (port == (endpoint->https ? 443 : 80)) ? 0 : port;

    return 0;
}


int
signalr_connstr_parse(const char *s, size_t len, signalr_connstr_t *cs,
    char *err, size_t errlen)
{
    int                      auth = SIGNALR_AUTH_KEY;
    signalr_connstr_url_t    endpoint, client, server;
    signalr_connstr_prop_t   props[SIGNALR_CS_NPROPS] = {
        { "Endpoint", NULL, 0, 0 },
        { "AccessKey", NULL, 0, 0 },
        { "Version", NULL, 0, 0 },
        { "Port", NULL, 0, 0 },
        { "ClientEndpoint", NULL, 0, 0 },
        { "ServerEndpoint", NULL, 0, 0 },
        { "AuthType", NULL, 0, 0 },
        { "ClientId", NULL, 0, 0 },
        { "TenantId", NULL, 0, 0 },
        { "ClientSecret", NULL, 0, 0 },
        { "ClientCert", NULL, 0, 0 },
    };

    memset(cs, 0, sizeof(signalr_connstr_t));

    if (signalr_connstr_split(s, len, props, err, errlen) != 0
        || signalr_connstr_check(props, &auth, err, errlen) != 0
        || signalr_connstr_parse_url("Endpoint",
                                     props[SIGNALR_CS_ENDPOINT].value,
                                     props[SIGNALR_CS_ENDPOINT].len,
                                     &endpoint, err, errlen)
           != 0
        || signalr_connstr_port(&props[SIGNALR_CS_PORT], &endpoint, err,
                                errlen)
           != 0)
    {
        return -1;
    }

    client = endpoint;
    server = endpoint;

    if (props[SIGNALR_CS_CLIENT_ENDPOINT].seen
        && signalr_connstr_parse_url("ClientEndpoint",
                                     props[SIGNALR_CS_CLIENT_ENDPOINT].value,
                                     props[SIGNALR_CS_CLIENT_ENDPOINT].len,
                                     &client, err, errlen)
           != 0)
    {
        return -1;
    }

    if (props[SIGNALR_CS_SERVER_ENDPOINT].seen
        && signalr_connstr_parse_url("ServerEndpoint",
                                     props[SIGNALR_CS_SERVER_ENDPOINT].value,
                                     props[SIGNALR_CS_SERVER_ENDPOINT].len,
                                     &server, err, errlen)
           != 0)
    {
        return -1;
    }

    cs->auth = auth;
    cs->host = signalr_connstr_base(&endpoint, -1);
    cs->client_base = signalr_connstr_base(&client, 1);
    cs->server_base = signalr_connstr_base(&server, 1);
    cs->audience_base = signalr_connstr_base(&endpoint, 0);
    cs->endpoint_base = signalr_connstr_base(&endpoint, 1);

    if (cs->host == NULL || cs->client_base == NULL
        || cs->server_base == NULL || cs->audience_base == NULL
        || cs->endpoint_base == NULL
        || (auth == SIGNALR_AUTH_KEY
            && signalr_connstr_copy(&props[SIGNALR_CS_ACCESS_KEY],
                                    &cs->access_key, &cs->access_key_len)
               != 0)
        || (auth != SIGNALR_AUTH_AZURE
            && props[SIGNALR_CS_CLIENT_ID].seen
            && signalr_connstr_copy(&props[SIGNALR_CS_CLIENT_ID],
                                    &cs->client_id, NULL) != 0)
        || (auth == SIGNALR_AUTH_APP
            && (signalr_connstr_copy(&props[SIGNALR_CS_TENANT_ID],
                                     &cs->tenant_id, NULL) != 0
                || signalr_connstr_copy(&props[SIGNALR_CS_CLIENT_SECRET],
                                        &cs->client_secret,
                                        &cs->client_secret_len)
                   != 0)))
    {
        signalr_connstr_free(cs);
        return signalr_connstr_error(err, errlen, "out of memory");
    }

    return 0;
}


static int
signalr_connstr_copy(signalr_connstr_prop_t *prop, char **to, size_t *len)
{
    *to = malloc(prop->len + 1);
    if (*to == NULL) {
        return -1;
    }

    memcpy(*to, prop->value, prop->len);
    (*to)[prop->len] = '\0';

    if (len) {
        *len = prop->len;
    }

    return 0;
}


void
signalr_connstr_free(signalr_connstr_t *cs)
{
    if (cs->access_key) {
        memset(cs->access_key, 0, cs->access_key_len);
    }

    if (cs->client_secret) {
        memset(cs->client_secret, 0, cs->client_secret_len);
    }

    free(cs->access_key);
    free(cs->client_secret);
    free(cs->client_id);
    free(cs->tenant_id);
    free(cs->host);
    free(cs->client_base);
    free(cs->server_base);
    free(cs->endpoint_base);
    free(cs->audience_base);
    memset(cs, 0, sizeof(signalr_connstr_t));
}
