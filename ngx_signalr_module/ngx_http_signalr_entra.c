/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Microsoft Entra ID (AuthType in the connection string) in place of an
 * AccessKey, as Azure/azure-signalr's MicrosoftEntraAccessKey does it:
 *
 *   1. a token for https://signalr.azure.com from the credential's token
 *      service, asked through the endpoint's entra= location: the Azure
 *      Instance Metadata Service or App Service's identity endpoint (a
 *      managed identity), or the Entra v2 token endpoint (an app with a
 *      client secret, or workload identity's client assertion);
 *   2. the key exchange: GET /api/auth/accessKey with that token as its
 *      Bearer, through the rest= location, answered {"KeyId","AccessKey"}.
 *
 * REST calls carry the Entra token itself; client tokens are signed with
 * the exchanged key, its KeyId as their "kid". Both live in the shared
 * zone (ngx_http_signalr_shm.h): one worker at a time refreshes them, every
 * entra_refresh= (55 minutes, the SDK's interval; sooner when the token
 * ends first), and after a failure again in 3 s, doubled up to a minute
 * (five minutes while a valid key is kept). A key is taken for twice the
 * interval, as the SDK did. Each worker copies them when they changed.
 *
 * As probes do, refreshes ride on traffic: a request of a negotiate,
 * trigger or output location starts the one that is due, as background
 * subrequests it does not wait for. Negotiate and output requests that
 * come before the first credentials wait for them, up to entra_wait=, and
 * are then answered 503 with Retry-After.
 */

#include "ngx_http_signalr_module.h"
#include "ngx_http_signalr_endpoint.h"
#include "ngx_http_signalr_entra.h"
#include "ngx_http_signalr_shm.h"
#include "ngx_http_signalr_subrequest.h"
#include "ngx_http_signalr_util.h"
#include "signalr_entra.h"
#include "signalr_names.h"


#define NGX_HTTP_SIGNALR_ENTRA_IMDS         0
#define NGX_HTTP_SIGNALR_ENTRA_APP_SERVICE  1
#define NGX_HTTP_SIGNALR_ENTRA_SECRET       2
#define NGX_HTTP_SIGNALR_ENTRA_WORKLOAD     3

/* the key exchange of the 2024-12-01 REST API */
#define NGX_HTTP_SIGNALR_ENTRA_EXCHANGE_PATH   "/api/auth/accessKey"
#define NGX_HTTP_SIGNALR_ENTRA_EXCHANGE_QUERY  "api-version=2024-12-01"

/* a refresh that has not ended by then no longer holds the next one back */
#define NGX_HTTP_SIGNALR_ENTRA_MAX_TIME     (180 * 1000)

/* after a failure: 3 s, doubled, up to these */
#define NGX_HTTP_SIGNALR_ENTRA_RETRY        3000
#define NGX_HTTP_SIGNALR_ENTRA_RETRY_MAX    (60 * 1000)
#define NGX_HTTP_SIGNALR_ENTRA_RETRY_KEPT   (5 * 60 * 1000)

/* a token is renewed this long before it ends, and used until 30 s before */
#define NGX_HTTP_SIGNALR_ENTRA_RENEW        300
#define NGX_HTTP_SIGNALR_ENTRA_MARGIN       30

/* how often a waiting request looks again */
#define NGX_HTTP_SIGNALR_ENTRA_POLL         50

/* the longest answer of a token service or of the exchange read */
#define NGX_HTTP_SIGNALR_ENTRA_MAX_ANSWER   (64 * 1024)

/* the longest federated token file read (a projected service account token) */
#define NGX_HTTP_SIGNALR_ENTRA_MAX_ASSERTION  16384


struct ngx_http_signalr_entra_s {
    ngx_uint_t                  kind;
    ngx_str_t                   identity;       /* for messages */

    /* the token request: the location's URI, what proxy_pass sends */
    ngx_str_t                   uri;
    ngx_str_t                   args;
    ngx_str_t                   unparsed;
    ngx_uint_t                  method;
    ngx_str_t                   header_key;     /* and its value: none, */
    ngx_str_t                   header_lowcase; /* Metadata, */
    ngx_str_t                   header_value;   /* X-IDENTITY-HEADER */
    ngx_str_t                   body;           /* the form; workload: */
                                                /* all but the assertion */
    ngx_str_t                   token_file;     /* workload, 0-terminated */

    /* this worker's copy of the zone's credentials */
    ngx_atomic_uint_t           seen;           /* the zone's seq copied */
    signalr_hmac_t             *hmac;
    u_char                      header[SIGNALR_ENTRA_HEADER_MAX];
    size_t                      header_len;
    u_char                     *token;          /* "Bearer <token>" */
    size_t                      token_len;
    time_t                      token_expires;
    time_t                      key_expires;
};


struct ngx_http_signalr_entra_wait_s {
    ngx_event_t                          ev;
    ngx_msec_t                           deadline;
    ngx_http_signalr_entra_ready_pt      ready;
    ngx_http_signalr_entra_resume_pt     resume;
};


typedef struct {
    ngx_http_signalr_endpoint_t        *ep;
    ngx_msec_t                          mark;
    ngx_str_t                           token;
    ngx_str_t                           bearer;        /* the exchange's */
    ngx_str_t                           form;          /* the assertion's */
    time_t                              token_expires;
    unsigned                            over:1;
} ngx_http_signalr_entra_refresh_t;


static ngx_int_t ngx_http_signalr_entra_getenv(ngx_conf_t *cf,
    const char *name, ngx_str_t *value);
static char *ngx_http_signalr_entra_request(ngx_conf_t *cf,
    ngx_http_signalr_endpoint_t *ep, ngx_http_signalr_entra_t *e,
    ngx_str_t *path, ngx_str_t *args);
static ngx_int_t ngx_http_signalr_entra_form(ngx_conf_t *cf, ngx_str_t *form,
    ngx_str_t *client_id, ngx_str_t *secret, ngx_uint_t assertion);
static void ngx_http_signalr_entra_conf_cleanup(void *data);
static void ngx_http_signalr_entra_load(ngx_http_signalr_endpoint_t *ep,
    ngx_http_signalr_entra_t *e, ngx_http_signalr_keys_t *k);
static void ngx_http_signalr_entra_forget(ngx_http_signalr_entra_t *e);
static ngx_msec_t ngx_http_signalr_entra_due(ngx_http_signalr_endpoint_t *ep,
    ngx_http_signalr_keys_t *k);
static ngx_int_t ngx_http_signalr_entra_token_request(ngx_http_request_t *r,
    ngx_http_signalr_entra_refresh_t *rf);
static void ngx_http_signalr_entra_token_done(ngx_http_request_t *sr,
    ngx_http_signalr_capture_t *cap, void *data);
static ngx_int_t ngx_http_signalr_entra_exchange(ngx_http_request_t *r,
    ngx_http_signalr_entra_refresh_t *rf);
static void ngx_http_signalr_entra_exchange_done(ngx_http_request_t *sr,
    ngx_http_signalr_capture_t *cap, void *data);
static ngx_int_t ngx_http_signalr_entra_store(
    ngx_http_signalr_entra_refresh_t *rf, u_char *kid, size_t kid_len,
    u_char *key, size_t key_len);
static void ngx_http_signalr_entra_failed(ngx_http_signalr_entra_refresh_t *rf,
    ngx_uint_t status);
static void ngx_http_signalr_entra_refresh_cleanup(void *data);
static void ngx_http_signalr_entra_wait_handler(ngx_event_t *ev);
static void ngx_http_signalr_entra_wait_cleanup(void *data);
static ngx_msec_t ngx_http_signalr_entra_longest_wait(
    ngx_http_signalr_main_conf_t *smcf);


/* ---- configuration -------------------------------------------------- */


char *
ngx_http_signalr_entra_conf(ngx_conf_t *cf, ngx_http_signalr_endpoint_t *ep,
    signalr_connstr_t *cs)
{
    u_char                    *p, *q;
    ngx_str_t                  path, args, client_id, tenant, secret, value;
    ngx_str_t                  header;
    ngx_uint_t                 kind;
    ngx_pool_cleanup_t            *cln;
    ngx_http_signalr_entra_t      *e;
    ngx_http_signalr_main_conf_t  *smcf;

    if (ep->entra_prefix.len == 0 || ep->rest.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_endpoint\" with Microsoft Entra ID "
                           "(AuthType) needs \"entra=\", the location that "
                           "proxies its token requests, and \"rest=\", "
                           "through which the key is exchanged");
        return NGX_CONF_ERROR;
    }

    e = ngx_pcalloc(cf->pool, sizeof(ngx_http_signalr_entra_t));
    cln = ngx_pool_cleanup_add(cf->pool, 0);

    if (e == NULL || cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_signalr_entra_conf_cleanup;
    cln->data = e;

    ngx_str_null(&client_id);
    ngx_str_null(&tenant);
    ngx_str_null(&secret);
    ngx_str_null(&header);

    if (cs->client_id) {
        client_id.data = (u_char *) cs->client_id;
        client_id.len = ngx_strlen(cs->client_id);
    }

    if (cs->auth == SIGNALR_AUTH_APP) {
        kind = NGX_HTTP_SIGNALR_ENTRA_SECRET;
        tenant.data = (u_char *) cs->tenant_id;
        tenant.len = ngx_strlen(cs->tenant_id);
        secret.data = (u_char *) cs->client_secret;
        secret.len = cs->client_secret_len;

    } else if (cs->auth == SIGNALR_AUTH_MSI) {
        kind = NGX_HTTP_SIGNALR_ENTRA_IMDS;

    } else {

        /*
         * AuthType=azure, DefaultAzureCredential: the environment's
         * client secret, else workload identity, else a managed identity
         * (AZURE_CLIENT_ID naming a user-assigned one)
         */

        (void) ngx_http_signalr_entra_getenv(cf, "AZURE_CLIENT_ID",
                                             &client_id);
        (void) ngx_http_signalr_entra_getenv(cf, "AZURE_TENANT_ID", &tenant);

        if (ngx_http_signalr_entra_getenv(cf, "AZURE_CLIENT_SECRET", &secret)
            == NGX_OK)
        {
            kind = NGX_HTTP_SIGNALR_ENTRA_SECRET;

        } else if (ngx_http_signalr_entra_getenv(cf,
                       "AZURE_FEDERATED_TOKEN_FILE", &e->token_file)
                   == NGX_OK)
        {
            kind = NGX_HTTP_SIGNALR_ENTRA_WORKLOAD;

        } else {
            kind = NGX_HTTP_SIGNALR_ENTRA_IMDS;
        }

        if (kind != NGX_HTTP_SIGNALR_ENTRA_IMDS
            && (client_id.len == 0 || tenant.len == 0))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"signalr_endpoint\" with AuthType=azure "
                               "takes %s from the environment, which also "
                               "needs AZURE_CLIENT_ID and AZURE_TENANT_ID",
                               kind == NGX_HTTP_SIGNALR_ENTRA_SECRET
                               ? "AZURE_CLIENT_SECRET"
                               : "AZURE_FEDERATED_TOKEN_FILE");
            return NGX_CONF_ERROR;
        }
    }

    /* ids go into URLs and forms: what the connection string's take */

    for (p = client_id.data; p < client_id.data + client_id.len; p++) {
        if (!isalnum(*p) && *p != '-' && *p != '.' && *p != '_') {
            break;
        }
    }

    for (q = tenant.data; q < tenant.data + tenant.len; q++) {
        if (!isalnum(*q) && *q != '-' && *q != '.' && *q != '_') {
            break;
        }
    }

    if (p < client_id.data + client_id.len
        || q < tenant.data + tenant.len
        || client_id.len > SIGNALR_CONNSTR_MAX_ID
        || tenant.len > SIGNALR_CONNSTR_MAX_ID)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_endpoint\": AZURE_CLIENT_ID and "
                           "AZURE_TENANT_ID must be a GUID or a domain name");
        return NGX_CONF_ERROR;
    }

    if (kind == NGX_HTTP_SIGNALR_ENTRA_IMDS
        && ngx_http_signalr_entra_getenv(cf, "IDENTITY_ENDPOINT", &value)
           == NGX_OK
        && ngx_http_signalr_entra_getenv(cf, "IDENTITY_HEADER", &header)
           == NGX_OK)
    {
        kind = NGX_HTTP_SIGNALR_ENTRA_APP_SERVICE;
    }

    e->kind = kind;

    /* the request, and who asks, for the messages */

    switch (kind) {

    case NGX_HTTP_SIGNALR_ENTRA_IMDS:
    case NGX_HTTP_SIGNALR_ENTRA_APP_SERVICE:

        if (kind == NGX_HTTP_SIGNALR_ENTRA_IMDS) {
            ngx_str_set(&path, "/metadata/identity/oauth2/token");
            ngx_str_set(&e->header_key, "Metadata");
            ngx_str_set(&e->header_lowcase, "metadata");
            ngx_str_set(&e->header_value, "true");

        } else {

            /* the path of IDENTITY_ENDPOINT ("http://host:port/path") */

            p = ngx_strlchr(value.data, value.data + value.len, ':');
            p = (p && p + 3 <= value.data + value.len && p[1] == '/'
                 && p[2] == '/')
                ? ngx_strlchr(p + 3, value.data + value.len, '/') : NULL;

            if (p == NULL
                || ngx_strlchr(p, value.data + value.len, '?') != NULL)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"signalr_endpoint\": IDENTITY_ENDPOINT "
                                   "\"%V\" is not a URL with a path",
                                   &value);
                return NGX_CONF_ERROR;
            }

            path.data = p;
            path.len = value.data + value.len - p;

            ngx_str_set(&e->header_key, "X-IDENTITY-HEADER");
            ngx_str_set(&e->header_lowcase, "x-identity-header");
            e->header_value = header;
        }

        args.len = sizeof("api-version=2018-02-01&resource=") - 1
                   + sizeof("https%3A%2F%2Fsignalr.azure.com") - 1
                   + sizeof("&client_id=") - 1 + client_id.len;
        args.data = ngx_pnalloc(cf->pool, args.len);
        if (args.data == NULL) {
            return NGX_CONF_ERROR;
        }

        p = ngx_sprintf(args.data, "api-version=%s&resource="
                        "https%%3A%%2F%%2Fsignalr.azure.com",
                        kind == NGX_HTTP_SIGNALR_ENTRA_IMDS ? "2018-02-01"
                                                            : "2019-08-01");
        if (client_id.len) {
            p = ngx_sprintf(p, "&client_id=%V", &client_id);
        }

        args.len = p - args.data;
        e->method = NGX_HTTP_GET;

        e->identity.data = ngx_pnalloc(cf->pool, 128 + client_id.len);
        if (e->identity.data == NULL) {
            return NGX_CONF_ERROR;
        }

        p = ngx_sprintf(e->identity.data, "the %s managed identity%s%V "
                        "(%s)", client_id.len ? "user-assigned" : "system",
                        client_id.len ? " with client id " : "", &client_id,
                        kind == NGX_HTTP_SIGNALR_ENTRA_IMDS
                        ? "Azure Instance Metadata Service"
                        : "IDENTITY_ENDPOINT");
        e->identity.len = p - e->identity.data;
        break;

    default: /* SECRET, WORKLOAD */

        path.len = sizeof("//oauth2/v2.0/token") - 1 + tenant.len;
        path.data = ngx_pnalloc(cf->pool, path.len);
        if (path.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_sprintf(path.data, "/%V/oauth2/v2.0/token", &tenant);
        ngx_str_null(&args);

        if (ngx_http_signalr_entra_form(cf, &e->body, &client_id, &secret,
                                        kind == NGX_HTTP_SIGNALR_ENTRA_WORKLOAD)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        e->method = NGX_HTTP_POST;
        ngx_str_set(&e->header_key, "Content-Type");
        ngx_str_set(&e->header_lowcase, "content-type");
        ngx_str_set(&e->header_value, "application/x-www-form-urlencoded");

        e->identity.data = ngx_pnalloc(cf->pool, 128 + client_id.len
                                                 + tenant.len);
        if (e->identity.data == NULL) {
            return NGX_CONF_ERROR;
        }

        p = ngx_sprintf(e->identity.data, "the app with client id %V of "
                        "tenant %V (%s)", &client_id, &tenant,
                        kind == NGX_HTTP_SIGNALR_ENTRA_SECRET
                        ? "client secret" : "workload identity");
        e->identity.len = p - e->identity.data;
        break;
    }

    ep->entra = e;
    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_signalr_module);
    smcf->entra++;

    /* the state of another service or identity is never taken */

    ep->credential = ngx_crc32_long(ep->service.data, ep->service.len)
                     ^ ngx_crc32_long(e->identity.data, e->identity.len)
                     ^ (uint32_t) kind;

    return ngx_http_signalr_entra_request(cf, ep, e, &path, &args);
}


/*
 * The location's URI is the entra= prefix and the path, chosen by nothing
 * but the configuration; proxy_pass with no URI part sends the path and
 * the query.
 */

static char *
ngx_http_signalr_entra_request(ngx_conf_t *cf,
    ngx_http_signalr_endpoint_t *ep, ngx_http_signalr_entra_t *e,
    ngx_str_t *path, ngx_str_t *args)
{
    u_char  *p;
    size_t   prefix;

    prefix = (ep->entra_prefix.len > 1) ? ep->entra_prefix.len : 0;

    e->uri.len = prefix + path->len;
    e->uri.data = ngx_pnalloc(cf->pool, e->uri.len);
    e->unparsed.len = path->len + (args->len ? 1 + args->len : 0);
    e->unparsed.data = ngx_pnalloc(cf->pool, e->unparsed.len);

    if (e->uri.data == NULL || e->unparsed.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(e->uri.data, ep->entra_prefix.data, prefix);
    ngx_memcpy(p, path->data, path->len);

    p = ngx_cpymem(e->unparsed.data, path->data, path->len);

    if (args->len) {
        *p++ = '?';
        ngx_memcpy(p, args->data, args->len);
    }

    e->args = *args;

    return NGX_CONF_OK;
}


/*
 * the client-credentials form: with the client secret, or (workload
 * identity) with the client assertion's type, the assertion appended when
 * the token file is read
 */

static ngx_int_t
ngx_http_signalr_entra_form(ngx_conf_t *cf, ngx_str_t *form,
    ngx_str_t *client_id, ngx_str_t *secret, ngx_uint_t assertion)
{
    u_char  *p;

    static const char  scope[] = "&scope=https%3A%2F%2Fsignalr.azure.com"
                                 "%2F.default";
    static const char  type[] = "&client_assertion_type=urn%3Aietf%3Aparams"
                                "%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                                "&client_assertion=";

    form->len = sizeof("grant_type=client_credentials&client_id=") - 1
                + client_id->len + sizeof(scope) - 1
                + (assertion ? sizeof(type) - 1
                             : sizeof("&client_secret=") - 1
                               + signalr_uri_escaped_len(secret->data,
                                                         secret->len));

    form->data = ngx_pnalloc(cf->pool, form->len);
    if (form->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(form->data, "grant_type=client_credentials&client_id=%V",
                    client_id);
    p = ngx_cpymem(p, scope, sizeof(scope) - 1);

    if (assertion) {
        p = ngx_cpymem(p, type, sizeof(type) - 1);

    } else {
        p = ngx_cpymem(p, "&client_secret=", sizeof("&client_secret=") - 1);
        p = signalr_uri_escape(p, secret->data, secret->len);
    }

    form->len = p - form->data;

    return NGX_OK;
}


/*
 * An environment variable: as the "env" directive sets it ("NAME=value"),
 * else as nginx was started with it; NGX_DECLINED when absent or empty
 */

static ngx_int_t
ngx_http_signalr_entra_getenv(ngx_conf_t *cf, const char *name,
    ngx_str_t *value)
{
    char             *v;
    size_t            len;
    ngx_str_t        *var;
    ngx_uint_t        i;
    ngx_core_conf_t  *ccf;

    len = ngx_strlen(name);

    ccf = (ngx_core_conf_t *) ngx_get_conf(cf->cycle->conf_ctx,
                                           ngx_core_module);

    var = ccf->env.elts;

    /* "env NAME=value" is kept as "NAME", its value after the "=" */

    for (i = 0; i < ccf->env.nelts; i++) {
        if (var[i].len == len && var[i].data[len] == '='
            && ngx_strncmp(var[i].data, name, len) == 0)
        {
            value->data = var[i].data + len + 1;
            value->len = ngx_strlen(value->data);

            return value->len ? NGX_OK : NGX_DECLINED;
        }
    }

    v = getenv(name);

    if (v == NULL || *v == '\0') {
        return NGX_DECLINED;
    }

    value->len = ngx_strlen(v);
    value->data = ngx_pnalloc(cf->pool, value->len + 1);
    if (value->data == NULL) {
        return NGX_DECLINED;
    }

    ngx_memcpy(value->data, v, value->len + 1);

    return NGX_OK;
}


/* the secret in the form, and this worker's copy of the credentials */

static void
ngx_http_signalr_entra_conf_cleanup(void *data)
{
    ngx_http_signalr_entra_t *e = data;

    if (e->body.data) {
        ngx_explicit_memzero(e->body.data, e->body.len);
    }

    ngx_http_signalr_entra_forget(e);
}


/* ---- this worker's copy --------------------------------------------- */


/* the key to sign client tokens with has not expired */

ngx_uint_t
ngx_http_signalr_entra_can_sign(ngx_http_signalr_endpoint_t *ep)
{
    ngx_atomic_uint_t          seq;
    ngx_http_signalr_entra_t  *e;
    ngx_http_signalr_keys_t   *k;

    e = ep->entra;
    k = ngx_http_signalr_endpoint_keys(ep);

    if (k == NULL) {
        return 0;
    }

    seq = k->seq;

    if (seq != e->seen && !(seq & 1)) {
        ngx_http_signalr_entra_load(ep, e, k);
    }

    return e->hmac != NULL && ngx_time() < e->key_expires;
}


/* and the Entra token REST calls carry has not either */

ngx_uint_t
ngx_http_signalr_entra_ready(ngx_http_signalr_endpoint_t *ep)
{
    return ngx_http_signalr_entra_can_sign(ep)
           && ngx_time() + NGX_HTTP_SIGNALR_ENTRA_MARGIN
              < ep->entra->token_expires;
}


/*
 * worth waiting for: a refresh of the endpoint's credentials is under way,
 * or the next try after a failure comes within entra_wait= (a waiting
 * request starts it); one further away is not waited for
 */

ngx_uint_t
ngx_http_signalr_entra_pending(ngx_http_signalr_endpoint_t *ep)
{
    ngx_msec_t                now;
    ngx_atomic_uint_t         running, next;
    ngx_http_signalr_keys_t  *k;

    k = ngx_http_signalr_endpoint_keys(ep);

    if (k == NULL) {
        return 0;
    }

    if (ep->entra_wait == 0) {
        return 0;
    }

    now = ngx_current_msec;
    running = k->refreshing;
    next = k->next_refresh;

    return (running && (ngx_msec_int_t) ((ngx_msec_t) running - now) > 0)
           || next == 0
           || (ngx_msec_int_t) ((ngx_msec_t) next - now) < (ngx_msec_int_t)
                                                           ep->entra_wait;
}


/*
 * A copy made while no worker writes (seq even and unchanged across it),
 * tried a few times; credentials of another identity (a reload changed
 * it, and a running worker wrote after) are not taken.
 */

static void
ngx_http_signalr_entra_load(ngx_http_signalr_endpoint_t *ep,
    ngx_http_signalr_entra_t *e, ngx_http_signalr_keys_t *k)
{
    u_char              key[SIGNALR_ENTRA_MAX_KEY], kid[SIGNALR_ENTRA_MAX_KID];
    u_char              token[SIGNALR_ENTRA_MAX_TOKEN];
    size_t              token_len, kid_len, key_len;
    time_t              token_expires, key_time;
    uint32_t            credential;
    ngx_uint_t          tries;
    signalr_hmac_t     *hmac;
    ngx_atomic_uint_t   seq;

    if (e->token == NULL) {
        e->token = ngx_alloc(sizeof("Bearer ") - 1 + SIGNALR_ENTRA_MAX_TOKEN,
                             ngx_cycle->log);
        if (e->token == NULL) {
            return;
        }
    }

    /* copied aside: the worker's copy is replaced only by a whole one */

    for (tries = 0; tries < 4; tries++) {
        seq = k->seq;

        if (seq & 1) {
            continue;
        }

        ngx_memory_barrier();

        credential = k->credential;
        token_len = ngx_min(k->token_len, SIGNALR_ENTRA_MAX_TOKEN);
        kid_len = ngx_min(k->kid_len, SIGNALR_ENTRA_MAX_KID);
        key_len = ngx_min(k->key_len, SIGNALR_ENTRA_MAX_KEY);
        token_expires = k->token_expires;
        key_time = k->key_time;

        ngx_memcpy(token, k->token, token_len);
        ngx_memcpy(kid, k->kid, kid_len);
        ngx_memcpy(key, k->key, key_len);

        ngx_memory_barrier();

        if (k->seq == seq) {
            goto copied;
        }
    }

    /* written all the while: this copy stays, the next request tries again */

    ngx_explicit_memzero(key, sizeof(key));
    ngx_explicit_memzero(token, sizeof(token));
    return;

copied:

    /* credentials of another identity (a reload changed it) are not taken */

    if (credential != ep->credential || token_len == 0 || kid_len == 0
        || key_len == 0)
    {
        e->seen = seq;
        ngx_explicit_memzero(key, sizeof(key));
        ngx_explicit_memzero(token, sizeof(token));
        ngx_http_signalr_entra_forget(e);
        return;
    }

    hmac = signalr_hmac_new(key, key_len);
    ngx_explicit_memzero(key, sizeof(key));

    if (hmac == NULL) {
        /* tried again by the next request */
        ngx_explicit_memzero(token, sizeof(token));
        return;
    }

    e->seen = seq;

    ngx_http_signalr_entra_forget(e);

    e->hmac = hmac;
    e->header_len = signalr_entra_jwt_header(e->header, (char *) kid,
                                             kid_len);
    ngx_memcpy(e->token, "Bearer ", sizeof("Bearer ") - 1);
    ngx_memcpy(e->token + sizeof("Bearer ") - 1, token, token_len);
    ngx_explicit_memzero(token, sizeof(token));
    e->token_len = sizeof("Bearer ") - 1 + token_len;
    e->token_expires = token_expires;
    e->key_expires = key_time + 2 * (time_t) (ep->entra_refresh / 1000);
}


/* this worker's copy wiped: the token, the key's HMAC */

static void
ngx_http_signalr_entra_forget(ngx_http_signalr_entra_t *e)
{
    if (e->token) {
        ngx_explicit_memzero(e->token,
                             sizeof("Bearer ") - 1 + SIGNALR_ENTRA_MAX_TOKEN);
    }

    if (e->hmac) {
        signalr_hmac_free(e->hmac);
        e->hmac = NULL;
    }

    e->token_len = 0;
    e->token_expires = 0;
    e->key_expires = 0;
}


signalr_hmac_t *
ngx_http_signalr_entra_key(ngx_http_signalr_endpoint_t *ep, ngx_str_t *header)
{
    header->data = ep->entra->header;
    header->len = ep->entra->header_len;

    return ep->entra->hmac;
}


/* the header value in the request's pool: a refresh may replace the copy */

ngx_int_t
ngx_http_signalr_entra_bearer(ngx_http_request_t *r,
    ngx_http_signalr_endpoint_t *ep, ngx_str_t *bearer)
{
    if (!ngx_http_signalr_entra_ready(ep)) {
        return NGX_DECLINED;
    }

    bearer->len = ep->entra->token_len;
    bearer->data = ngx_pnalloc(r->pool, bearer->len);
    if (bearer->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(bearer->data, ep->entra->token, bearer->len);

    return NGX_OK;
}


/* ---- refreshes ------------------------------------------------------- */


void
ngx_http_signalr_entra_refresh(ngx_http_request_t *r)
{
    ngx_uint_t                         i;
    ngx_msec_t                         mark;
    ngx_pool_cleanup_t                *cln;
    ngx_http_signalr_keys_t           *k;
    ngx_http_signalr_endpoint_t       *eps;
    ngx_http_signalr_main_conf_t      *smcf;
    ngx_http_signalr_entra_refresh_t  *rf;

    /* a worker of an old configuration leaves refreshes to the new ones */

    if (r != r->main || ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);
    eps = smcf->endpoints.elts;

    for (i = 0; i < smcf->endpoints.nelts; i++) {

        if (eps[i].entra == NULL) {
            continue;
        }

        k = ngx_http_signalr_endpoint_keys(&eps[i]);

        if (k == NULL) {
            continue;
        }

        mark = ngx_http_signalr_entra_due(&eps[i], k);

        if (mark == 0) {
            continue;
        }

        rf = ngx_pcalloc(r->pool, sizeof(ngx_http_signalr_entra_refresh_t));
        cln = ngx_pool_cleanup_add(r->pool, 0);

        if (rf == NULL || cln == NULL) {
            (void) ngx_atomic_cmp_set(&k->refreshing, mark, 0);
            continue;
        }

        rf->ep = &eps[i];
        rf->mark = mark;

        /* a refresh whose request ends before its outcome frees the next */

        cln->handler = ngx_http_signalr_entra_refresh_cleanup;
        cln->data = rf;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "signalr entra: refresh of endpoint \"%V\" through "
                       "\"%V\"", &eps[i].name, &eps[i].entra->uri);

        if (ngx_http_signalr_entra_token_request(r, rf) != NGX_OK) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "signalr: the Microsoft Entra ID refresh of "
                          "endpoint \"%V\" could not be started",
                          &eps[i].name);
            ngx_http_signalr_entra_failed(rf, 0);
            continue;
        }

        /* as with probes: the connection's next request would wait for it */

        r->keepalive = 0;
    }
}


/*
 * The refresh's mark when this worker is to refresh now: the time has
 * come, and no refresh runs (or one ran past its time); the worker that
 * sets the mark by compare-and-set is the one
 */

static ngx_msec_t
ngx_http_signalr_entra_due(ngx_http_signalr_endpoint_t *ep,
    ngx_http_signalr_keys_t *k)
{
    ngx_msec_t         now, mark;
    ngx_atomic_uint_t  next, running;

    now = ngx_current_msec;
    next = k->next_refresh;

    /* the zone's credentials of another identity: due now */

    if (next && (ngx_msec_int_t) ((ngx_msec_t) next - now) > 0
        && k->credential == ep->credential)
    {
        return 0;
    }

    running = k->refreshing;

    if (running && (ngx_msec_int_t) ((ngx_msec_t) running - now) > 0) {
        return 0;
    }

    mark = now + NGX_HTTP_SIGNALR_ENTRA_MAX_TIME;
    mark = mark ? mark : 1;

    if (!ngx_atomic_cmp_set(&k->refreshing, running, mark)) {
        return 0;
    }

    return mark;
}


static void
ngx_http_signalr_entra_refresh_cleanup(void *data)
{
    ngx_http_signalr_entra_refresh_t *rf = data;

    ngx_http_signalr_keys_t  *k;

    /* what held the token or the assertion, wiped with the request */

    if (rf->token.data) {
        ngx_explicit_memzero(rf->token.data, rf->token.len);
    }

    if (rf->bearer.data) {
        ngx_explicit_memzero(rf->bearer.data, rf->bearer.len);
    }

    if (rf->form.data) {
        ngx_explicit_memzero(rf->form.data, rf->form.len);
    }

    if (rf->over) {
        return;
    }

    rf->over = 1;

    k = ngx_http_signalr_endpoint_keys(rf->ep);

    if (k) {
        (void) ngx_atomic_cmp_set(&k->refreshing, rf->mark, 0);
    }
}


static ngx_int_t
ngx_http_signalr_entra_token_request(ngx_http_request_t *r,
    ngx_http_signalr_entra_refresh_t *rf)
{
    u_char                         *p;
    ssize_t                         n;
    ngx_fd_t                        fd;
    ngx_file_t                      file;
    ngx_table_elt_t                *h;
    ngx_http_signalr_entra_t       *e;
    ngx_http_signalr_subrequest_t   s;

    e = rf->ep->entra;

    ngx_memzero(&s, sizeof(ngx_http_signalr_subrequest_t));

    h = ngx_pcalloc(r->pool, sizeof(ngx_table_elt_t));
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->key = e->header_key;
    h->value = e->header_value;
    h->lowcase_key = e->header_lowcase.data;

    s.headers = h;
    s.nheaders = 1;
    s.uri = e->uri;
    s.args = e->args;
    s.unparsed_uri = e->unparsed;
    s.method = e->method;

    if (e->method == NGX_HTTP_POST) {
        ngx_str_set(&s.method_name, "POST");
        s.body = e->body;

    } else {
        ngx_str_set(&s.method_name, "GET");
    }

    if (e->kind == NGX_HTTP_SIGNALR_ENTRA_WORKLOAD) {

        /*
         * the projected service account token, read each time: Kubernetes
         * rotates it (a small local file, as nginx reads its own)
         */

        fd = ngx_open_file(e->token_file.data, NGX_FILE_RDONLY,
                           NGX_FILE_OPEN, 0);

        if (fd == NGX_INVALID_FILE) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, ngx_errno,
                          "signalr: endpoint \"%V\": the federated token "
                          "file \"%V\" (AZURE_FEDERATED_TOKEN_FILE) cannot "
                          "be opened", &rf->ep->name, &e->token_file);
            return NGX_ERROR;
        }

        ngx_memzero(&file, sizeof(ngx_file_t));
        file.fd = fd;
        file.name = e->token_file;
        file.log = r->connection->log;

        s.body.data = ngx_pnalloc(r->pool, e->body.len
                                  + 3 * NGX_HTTP_SIGNALR_ENTRA_MAX_ASSERTION);
        p = ngx_pnalloc(r->pool, NGX_HTTP_SIGNALR_ENTRA_MAX_ASSERTION + 1);

        n = (s.body.data && p)
            ? ngx_read_file(&file, p, NGX_HTTP_SIGNALR_ENTRA_MAX_ASSERTION + 1,
                            0)
            : NGX_ERROR;

        (void) ngx_close_file(fd);

        while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r')) {
            n--;
        }

        if (n <= 0 || n > NGX_HTTP_SIGNALR_ENTRA_MAX_ASSERTION) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "signalr: endpoint \"%V\": the federated token "
                          "file \"%V\" is empty, unreadable or longer than "
                          "%d bytes", &rf->ep->name, &e->token_file,
                          NGX_HTTP_SIGNALR_ENTRA_MAX_ASSERTION);
            return NGX_ERROR;
        }

        s.body.len = signalr_uri_escape(ngx_cpymem(s.body.data, e->body.data,
                                                   e->body.len),
                                        p, n)
                     - s.body.data;

        ngx_explicit_memzero(p, n);
        rf->form = s.body;
    }

    s.max_response = NGX_HTTP_SIGNALR_ENTRA_MAX_ANSWER;
    s.background = 1;
    s.done = ngx_http_signalr_entra_token_done;
    s.data = rf;

    if (ngx_http_signalr_subrequest(r, &s) == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_signalr_entra_token_done(ngx_http_request_t *sr,
    ngx_http_signalr_capture_t *cap, void *data)
{
    ngx_http_signalr_entra_refresh_t *rf = data;

    char                          err[256], text[256];
    size_t                        len;
    long long                     expires;
    ngx_str_t                     body;
    ngx_uint_t                    status, failed;
    ngx_http_signalr_endpoint_t  *ep;

    ep = rf->ep;

    if (rf->over) {
        return;
    }

    status = ngx_http_signalr_capture_status(cap);
    failed = ngx_http_signalr_capture_failed(cap);

    if (ngx_http_signalr_capture_body(cap, &body) != NGX_OK) {
        ngx_str_null(&body);
    }

    if (failed || status != NGX_HTTP_OK || body.len == 0) {
        text[0] = '\0';

        if (!failed && body.len) {
            signalr_entra_error_text((char *) body.data, body.len, text,
                                     sizeof(text));
        }

        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "signalr: endpoint \"%V\": the Microsoft Entra token "
                      "request of %V through \"%V\" %s%ui%s%s%s",
                      &ep->name, &ep->entra->identity, &ep->entra->uri,
                      failed ? "got no answer (check the location's "
                               "proxy_pass and the network), status "
                             : "was answered with status ",
                      status, text[0] ? " (" : "", text,
                      text[0] ? ")" : "");

        ngx_http_signalr_entra_failed(rf, failed ? 0 : status);
        goto wipe;
    }

    rf->token.data = ngx_pnalloc(sr->main->pool, SIGNALR_ENTRA_MAX_TOKEN);
    if (rf->token.data == NULL) {
        ngx_http_signalr_entra_failed(rf, 0);
        goto wipe;
    }

    if (signalr_entra_token_parse((char *) body.data, body.len, ngx_time(),
                                  (char *) rf->token.data,
                                  SIGNALR_ENTRA_MAX_TOKEN, &len, &expires,
                                  err, sizeof(err))
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "signalr: endpoint \"%V\": the answer to the "
                      "Microsoft Entra token request through \"%V\" is "
                      "refused: %s", &ep->name, &ep->entra->uri, err);
        ngx_http_signalr_entra_failed(rf, NGX_HTTP_BAD_GATEWAY);
        goto wipe;
    }

    rf->token.len = len;

    /* a year at most: no time a 32-bit time_t cannot hold */

    if (expires > (long long) ngx_time() + 365 * 24 * 3600) {
        expires = (long long) ngx_time() + 365 * 24 * 3600;
    }

    rf->token_expires = (time_t) expires;

    if (ngx_http_signalr_entra_exchange(sr->main, rf) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, sr->connection->log, 0,
                      "signalr: the key exchange of endpoint \"%V\" could "
                      "not be started", &ep->name);
        ngx_http_signalr_entra_failed(rf, 0);
    }

wipe:

    if (body.len) {
        ngx_explicit_memzero(body.data, body.len);
    }
}


static ngx_int_t
ngx_http_signalr_entra_exchange(ngx_http_request_t *r,
    ngx_http_signalr_entra_refresh_t *rf)
{
    u_char                         *p;
    ngx_table_elt_t                *h;
    ngx_http_signalr_subrequest_t   s;

    ngx_memzero(&s, sizeof(ngx_http_signalr_subrequest_t));

    h = ngx_pcalloc(r->pool, 2 * sizeof(ngx_table_elt_t));
    if (h == NULL) {
        return NGX_ERROR;
    }

    ngx_str_set(&h[0].key, "Authorization");
    h[0].lowcase_key = (u_char *) "authorization";
    h[0].value.len = sizeof("Bearer ") - 1 + rf->token.len;
    h[0].value.data = ngx_pnalloc(r->pool, h[0].value.len);
    if (h[0].value.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(h[0].value.data, "Bearer ", sizeof("Bearer ") - 1);
    ngx_memcpy(p, rf->token.data, rf->token.len);
    rf->bearer = h[0].value;

    ngx_str_set(&h[1].key, "Asrs-User-Agent");
    ngx_str_set(&h[1].value, NGX_HTTP_SIGNALR_USER_AGENT);
    h[1].lowcase_key = (u_char *) "asrs-user-agent";

    s.headers = h;
    s.nheaders = 2;
    s.uri = rf->ep->rest_uri;
    ngx_str_set(&s.args, NGX_HTTP_SIGNALR_ENTRA_EXCHANGE_QUERY);
    ngx_str_set(&s.unparsed_uri, NGX_HTTP_SIGNALR_ENTRA_EXCHANGE_PATH "?"
                                 NGX_HTTP_SIGNALR_ENTRA_EXCHANGE_QUERY);
    s.method = NGX_HTTP_GET;
    ngx_str_set(&s.method_name, "GET");
    s.max_response = NGX_HTTP_SIGNALR_ENTRA_MAX_ANSWER;
    s.background = 1;
    s.done = ngx_http_signalr_entra_exchange_done;
    s.data = rf;

    if (ngx_http_signalr_subrequest(r, &s) == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_signalr_entra_exchange_done(ngx_http_request_t *sr,
    ngx_http_signalr_capture_t *cap, void *data)
{
    ngx_http_signalr_entra_refresh_t *rf = data;

    char                          err[256];
    u_char                        kid[SIGNALR_ENTRA_MAX_KID];
    u_char                        key[SIGNALR_ENTRA_MAX_KEY];
    size_t                        kid_len, key_len;
    ngx_str_t                     body, *code, none = ngx_string("none");
    ngx_uint_t                    status, failed;
    const char                   *hint;
    ngx_http_signalr_endpoint_t  *ep;

    ep = rf->ep;

    if (rf->over) {
        return;
    }

    status = ngx_http_signalr_capture_status(cap);
    failed = ngx_http_signalr_capture_failed(cap);

    if (ngx_http_signalr_capture_body(cap, &body) != NGX_OK) {
        ngx_str_null(&body);
    }

    if (failed || status != NGX_HTTP_OK) {
        code = failed ? NULL
                      : ngx_http_signalr_capture_header(cap,
                                                        "x-ms-error-code");

        if (code == NULL || code->len > NGX_HTTP_SIGNALR_MAX_ERROR_CODE
            || !signalr_utf8_valid(code->data, code->len))
        {
            code = &none;
        }

        if (failed) {
            hint = "got no answer: check the \"rest=\" location and the "
                   "network";

        } else if (status == NGX_HTTP_FORBIDDEN) {
            hint = "was refused: give the identity the role \"SignalR App "
                   "Server\" on the SignalR resource (Access control (IAM)), "
                   "then wait a few minutes for it to apply";

        } else if (status == NGX_HTTP_UNAUTHORIZED) {
            hint = "was refused: the service took the Entra token for "
                   "invalid (a token of another tenant or authority host?)";

        } else if (status == NGX_HTTP_NOT_FOUND) {
            hint = "was not found: check the Endpoint (or ServerEndpoint) of "
                   "the connection string";

        } else {
            hint = "failed";
        }

        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "signalr: endpoint \"%V\": the key exchange for %V "
                      "%s (status %ui, x-ms-error-code: %V)", &ep->name,
                      &ep->entra->identity, hint, status, code);

        ngx_http_signalr_entra_failed(rf, failed ? 0 : status);
        goto wipe;
    }

    if (signalr_entra_key_parse((char *) body.data, body.len, (char *) kid,
                                &kid_len, (char *) key, &key_len, err,
                                sizeof(err))
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "signalr: endpoint \"%V\": the answer of the key "
                      "exchange is refused: %s", &ep->name, err);
        ngx_http_signalr_entra_failed(rf, NGX_HTTP_BAD_GATEWAY);
        goto wipe;
    }

    if (ngx_http_signalr_entra_store(rf, kid, kid_len, key, key_len)
        == NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, sr->connection->log, 0,
                      "signalr: endpoint \"%V\": Microsoft Entra ID key "
                      "\"%*s\" obtained for %V", &ep->name, kid_len, kid,
                      &ep->entra->identity);
    }

    ngx_explicit_memzero(key, sizeof(key));

wipe:

    if (body.len) {
        ngx_explicit_memzero(body.data, body.len);
    }

    if (rf->token.data) {
        ngx_explicit_memzero(rf->token.data, rf->token.len);
    }
}


/*
 * Into the zone, as its one writer (seq odd meanwhile); the next refresh
 * an interval on, or 5 minutes before the token ends if that is sooner
 */

static ngx_int_t
ngx_http_signalr_entra_store(ngx_http_signalr_entra_refresh_t *rf,
    u_char *kid, size_t kid_len, u_char *key, size_t key_len)
{
    time_t                    now, left;
    ngx_msec_t                interval, next;
    ngx_atomic_uint_t         seq;
    ngx_http_signalr_keys_t  *k;

    k = ngx_http_signalr_endpoint_keys(rf->ep);
    now = ngx_time();

    if (k == NULL) {
        rf->over = 1;
        return NGX_DECLINED;
    }

    /*
     * the zone is another identity's: a reload changed it, and a worker of
     * the configuration it replaced, shutting down, drops what it got; the
     * new configuration's workers write theirs over
     */

    if (k->credential != rf->ep->credential && ngx_exiting) {
        rf->over = 1;
        (void) ngx_atomic_cmp_set(&k->refreshing, rf->mark, 0);
        return NGX_DECLINED;
    }

    seq = k->seq;

    if ((seq & 1) || !ngx_atomic_cmp_set(&k->seq, seq, seq + 1)) {
        ngx_http_signalr_entra_failed(rf, 0);
        return NGX_DECLINED;
    }

    ngx_memory_barrier();

    ngx_explicit_memzero(k->kid, sizeof(k->kid) + sizeof(k->key)
                                 + sizeof(k->token));

    ngx_memcpy(k->token, rf->token.data, rf->token.len);
    ngx_memcpy(k->kid, kid, kid_len);
    ngx_memcpy(k->key, key, key_len);
    k->token_len = rf->token.len;
    k->kid_len = kid_len;
    k->key_len = key_len;
    k->token_expires = rf->token_expires;
    k->key_time = now;
    k->credential = rf->ep->credential;

    ngx_memory_barrier();

    (void) ngx_atomic_fetch_add(&k->seq, 1);

    interval = rf->ep->entra_refresh;
    left = rf->token_expires - now - NGX_HTTP_SIGNALR_ENTRA_RENEW;

    if (left < 30) {
        left = 30;
    }

    /* compared in seconds: no product that a 32-bit clock cannot hold */

    if ((ngx_msec_t) left < interval / 1000) {
        interval = (ngx_msec_t) left * 1000;
    }

    next = ngx_current_msec + interval;
    k->next_refresh = next ? next : 1;
    k->failures = 0;
    k->last_refresh = now;
    (void) ngx_atomic_fetch_add(&k->refreshes, 1);

    rf->over = 1;
    (void) ngx_atomic_cmp_set(&k->refreshing, rf->mark, 0);

    return NGX_OK;
}


/* the next try: 3 s after the first failure, doubled, up to a limit */

static void
ngx_http_signalr_entra_failed(ngx_http_signalr_entra_refresh_t *rf,
    ngx_uint_t status)
{
    ngx_uint_t                failures;
    ngx_msec_t                delay, limit, next;
    ngx_http_signalr_keys_t  *k;

    if (rf->over) {
        return;
    }

    rf->over = 1;

    k = ngx_http_signalr_endpoint_keys(rf->ep);

    if (k == NULL) {
        return;
    }

    failures = ngx_atomic_fetch_add(&k->failures, 1);
    (void) ngx_atomic_fetch_add(&k->refresh_failures, 1);
    k->last_status = status;
    k->last_failure = ngx_time();

    limit = ngx_http_signalr_entra_ready(rf->ep)
            ? NGX_HTTP_SIGNALR_ENTRA_RETRY_KEPT
            : NGX_HTTP_SIGNALR_ENTRA_RETRY_MAX;

    delay = NGX_HTTP_SIGNALR_ENTRA_RETRY;

    while (failures-- && delay < limit) {
        delay *= 2;
    }

    delay = ngx_min(delay, limit);

    next = ngx_current_msec + delay;
    k->next_refresh = next ? next : 1;

    (void) ngx_atomic_cmp_set(&k->refreshing, rf->mark, 0);
}


/* ---- requests that wait --------------------------------------------- */


/* the longest entra_wait= of the endpoints */

static ngx_msec_t
ngx_http_signalr_entra_longest_wait(ngx_http_signalr_main_conf_t *smcf)
{
    ngx_uint_t                    i;
    ngx_msec_t                    wait;
    ngx_http_signalr_endpoint_t  *eps;

    eps = smcf->endpoints.elts;
    wait = 0;

    for (i = 0; i < smcf->endpoints.nelts; i++) {
        if (eps[i].entra && eps[i].entra_wait > wait) {
            wait = eps[i].entra_wait;
        }
    }

    return wait;
}


ngx_int_t
ngx_http_signalr_entra_wait(ngx_http_request_t *r,
    ngx_http_signalr_entra_ready_pt ready,
    ngx_http_signalr_entra_resume_pt resume, ngx_msec_t wait)
{
    ngx_pool_cleanup_t             *cln;
    ngx_http_signalr_ctx_t         *ctx;
    ngx_http_signalr_main_conf_t   *smcf;
    ngx_http_signalr_entra_wait_t  *w;

    if (ready(r)) {
        return NGX_OK;
    }

    ctx = ngx_http_signalr_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    w = ctx->entra_wait;

    if (w == NULL) {

        /* the time given, else the longest entra_wait= of the endpoints */

        smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);

        if (wait == 0) {
            wait = ngx_http_signalr_entra_longest_wait(smcf);
        }

        if (wait == 0) {
            return NGX_DECLINED;
        }

        w = ngx_pcalloc(r->pool, sizeof(ngx_http_signalr_entra_wait_t));
        cln = ngx_pool_cleanup_add(r->pool, 0);

        if (w == NULL || cln == NULL) {
            return NGX_ERROR;
        }

        w->deadline = ngx_current_msec + wait;
        w->ev.handler = ngx_http_signalr_entra_wait_handler;
        w->ev.data = r;
        w->ev.log = r->connection->log;

        cln->handler = ngx_http_signalr_entra_wait_cleanup;
        cln->data = w;

        ctx->entra_wait = w;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "signalr entra: waiting up to %M ms for credentials",
                       wait);

    } else if ((ngx_msec_int_t) (w->deadline - ngx_current_msec) <= 0) {
        return NGX_DECLINED;
    }

    w->ready = ready;
    w->resume = resume;

    ngx_add_timer(&w->ev, NGX_HTTP_SIGNALR_ENTRA_POLL);

    return NGX_AGAIN;
}


static void
ngx_http_signalr_entra_wait_handler(ngx_event_t *ev)
{
    ngx_connection_t               *c;
    ngx_http_request_t             *r;
    ngx_http_signalr_ctx_t         *ctx;
    ngx_http_signalr_entra_wait_t  *w;

    r = ev->data;
    c = r->connection;

    ctx = ngx_http_get_module_ctx(r, ngx_http_signalr_module);
    w = ctx->entra_wait;

    /* a refresh that came due meanwhile (the next try after a failure) */
    ngx_http_signalr_entra_refresh(r);

    if (!w->ready(r)
        && (ngx_msec_int_t) (w->deadline - ngx_current_msec) > 0)
    {
        ngx_add_timer(&w->ev, NGX_HTTP_SIGNALR_ENTRA_POLL);

        /* the refresh just started runs now, not at the deadline */
        ngx_http_run_posted_requests(c);
        return;
    }

    w->resume(r);

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_signalr_entra_wait_cleanup(void *data)
{
    ngx_http_signalr_entra_wait_t *w = data;

    if (w->ev.timer_set) {
        ngx_del_timer(&w->ev);
    }
}


ngx_int_t
ngx_http_signalr_entra_unavailable(ngx_http_request_t *r,
    const char *message)
{
    ngx_str_t                      value;
    ngx_uint_t                     i;
    ngx_msec_t                     wait, left;
    ngx_http_signalr_keys_t       *k;
    ngx_http_signalr_endpoint_t   *eps;
    ngx_http_signalr_main_conf_t  *smcf;

    /* the soonest next try of the endpoints that have none */

    smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);
    eps = smcf->endpoints.elts;
    wait = 60000;

    for (i = 0; i < smcf->endpoints.nelts; i++) {
        k = eps[i].entra ? ngx_http_signalr_endpoint_keys(&eps[i]) : NULL;

        if (k == NULL || ngx_http_signalr_entra_ready(&eps[i])) {
            continue;
        }

        left = (ngx_msec_t) k->next_refresh - ngx_current_msec;

        if ((ngx_msec_int_t) left < 0) {
            left = 0;
        }

        wait = ngx_min(wait, left);
    }

    value.data = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    value.len = ngx_sprintf(value.data, "%M", ngx_max(wait / 1000, 1))
                - value.data;

    if (ngx_http_signalr_add_header(r, "Retry-After", &value) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_signalr_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       message);
}


/* ---- the signing keys of upstream calls' bearer tokens -------------- */


#define NGX_HTTP_SIGNALR_JWKS_REFRESH   (24 * 3600 * 1000)
#define NGX_HTTP_SIGNALR_JWKS_RETRY     (60 * 1000)
#define NGX_HTTP_SIGNALR_JWKS_REFETCH   (5 * 60 * 1000)


typedef struct {
    ngx_http_signalr_jwks_source_t     *src;
    ngx_msec_t                          mark;
    unsigned                            over:1;
} ngx_http_signalr_jwks_fetch_t;


static void ngx_http_signalr_jwks_done(ngx_http_request_t *sr,
    ngx_http_signalr_capture_t *cap, void *data);
static void ngx_http_signalr_jwks_over(ngx_http_signalr_jwks_fetch_t *jf,
    ngx_uint_t ok);
static void ngx_http_signalr_jwks_cleanup(void *data);


/* one source per URI, however many locations name it */

ngx_http_signalr_jwks_source_t *
ngx_http_signalr_jwks_source(ngx_conf_t *cf, ngx_str_t *uri)
{
    void                              *server;
    uint32_t                           crc;
    ngx_uint_t                         i;
    ngx_http_signalr_main_conf_t      *smcf;
    ngx_http_signalr_jwks_source_t   **src, *s;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_signalr_module);

    /*
     * the location is looked up in the server of the upstream call: a URI
     * is one server's, so that no server takes another's keys
     */

    if (cf->cmd_type & NGX_HTTP_MAIN_CONF) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_trigger_entra\" with \"jwks=\" a "
                           "location belongs in a server or location block: "
                           "the location is looked up in its server");
        return NULL;
    }

    server = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);

    crc = ngx_crc32_long(uri->data, uri->len) | 1;
    src = smcf->jwks_sources.elts;

    for (i = 0; i < smcf->jwks_sources.nelts; i++) {
        if (src[i]->crc == crc && src[i]->uri.len == uri->len
            && ngx_memcmp(src[i]->uri.data, uri->data, uri->len) == 0)
        {
            if (src[i]->server != server) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"signalr_trigger_entra\": \"jwks=%V\" "
                                   "is in two servers: give each server's "
                                   "keys a URI of their own", uri);
                return NULL;
            }

            return src[i];
        }
    }

    s = ngx_pcalloc(cf->pool, sizeof(ngx_http_signalr_jwks_source_t));
    src = ngx_array_push(&smcf->jwks_sources);

    if (s == NULL || src == NULL) {
        return NULL;
    }

    s->uri = *uri;
    s->crc = crc;
    s->server = server;
    *src = s;

    return s;
}


/* this worker's keys, parsed again when the zone's JSON changed */

signalr_jwks_t *
ngx_http_signalr_jwks_current(ngx_http_signalr_jwks_source_t *src)
{
    char                           err[128];
    size_t                         len;
    ngx_uint_t                     tries;
    signalr_jwks_t                *jwks;
    ngx_atomic_uint_t              seq;
    ngx_http_signalr_jwks_zone_t  *z;

    z = src->zone;

    if (z == NULL) {
        return NULL;
    }

    seq = z->seq;

    if (seq == src->seen || (seq & 1)) {
        return src->jwks;
    }

    if (src->copy == NULL) {
        src->copy = ngx_alloc(NGX_HTTP_SIGNALR_JWKS_MAX, ngx_cycle->log);
        if (src->copy == NULL) {
            return src->jwks;
        }
    }

    for (tries = 0; tries < 4; tries++) {
        seq = z->seq;

        if (seq & 1) {
            continue;
        }

        ngx_memory_barrier();

        len = ngx_min(z->len, NGX_HTTP_SIGNALR_JWKS_MAX);
        ngx_memcpy(src->copy, z->json, len);

        ngx_memory_barrier();

        if (z->seq == seq) {
            goto copied;
        }
    }

    return src->jwks;

copied:

    src->seen = seq;

    if (len == 0) {
        return src->jwks;
    }

    jwks = signalr_jwks_parse((char *) src->copy, len, err, sizeof(err));

    if (jwks == NULL) {
        /* checked before it was stored: cannot happen */
        return src->jwks;
    }

    signalr_jwks_free(src->jwks);
    src->jwks = jwks;

    return jwks;
}


ngx_uint_t
ngx_http_signalr_jwks_pending(ngx_http_signalr_jwks_source_t *src)
{
    ngx_atomic_uint_t  running;

    if (src->zone == NULL) {
        return 0;
    }

    running = src->zone->fetching;

    return running
           && (ngx_msec_int_t) ((ngx_msec_t) running - ngx_current_msec) > 0;
}


ngx_uint_t
ngx_http_signalr_jwks_fetch(ngx_http_request_t *r,
    ngx_http_signalr_jwks_source_t *src, ngx_uint_t unknown_kid)
{
    ngx_msec_t                      now, mark, next;
    ngx_atomic_uint_t               planned, running, again;
    ngx_pool_cleanup_t             *cln;
    ngx_http_signalr_jwks_zone_t   *z;
    ngx_http_signalr_subrequest_t   s;
    ngx_http_signalr_jwks_fetch_t  *jf;

    z = src->zone;

    if (z == NULL || r != r->main || ngx_exiting) {
        return 0;
    }

    now = ngx_current_msec;
    planned = z->next_fetch;
    running = z->fetching;

    if (running && (ngx_msec_int_t) ((ngx_msec_t) running - now) > 0) {
        /* one is under way: it is waited for */
        return 1;
    }

    if (unknown_kid) {

        /* a key id none has: once per 5 minutes, across the workers */

        again = z->refetch;

        if (again && (ngx_msec_int_t) ((ngx_msec_t) again - now) > 0) {
            return 0;
        }

        next = now + NGX_HTTP_SIGNALR_JWKS_REFETCH;

        if (!ngx_atomic_cmp_set(&z->refetch, again, next ? next : 1)) {
            return 0;
        }

    } else if (planned && (ngx_msec_int_t) ((ngx_msec_t) planned - now) > 0) {
        return 0;
    }

    mark = now + NGX_HTTP_SIGNALR_ENTRA_MAX_TIME;
    mark = mark ? mark : 1;

    if (!ngx_atomic_cmp_set(&z->fetching, running, mark)) {
        return 1;
    }

    jf = ngx_pcalloc(r->pool, sizeof(ngx_http_signalr_jwks_fetch_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (jf == NULL || cln == NULL) {
        (void) ngx_atomic_cmp_set(&z->fetching, mark, 0);
        return 0;
    }

    jf->src = src;
    jf->mark = mark;
    cln->handler = ngx_http_signalr_jwks_cleanup;
    cln->data = jf;

    ngx_memzero(&s, sizeof(ngx_http_signalr_subrequest_t));

    s.uri = src->uri;
    s.method = NGX_HTTP_GET;
    ngx_str_set(&s.method_name, "GET");
    s.max_response = NGX_HTTP_SIGNALR_JWKS_MAX;
    s.background = 1;
    s.done = ngx_http_signalr_jwks_done;
    s.data = jf;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "signalr entra: fetching the signing keys through \"%V\"",
                   &src->uri);

    if (ngx_http_signalr_subrequest(r, &s) == NULL) {
        ngx_http_signalr_jwks_over(jf, 0);
        return 0;
    }

    r->keepalive = 0;

    return 1;
}


static void
ngx_http_signalr_jwks_done(ngx_http_request_t *sr,
    ngx_http_signalr_capture_t *cap, void *data)
{
    ngx_http_signalr_jwks_fetch_t *jf = data;

    char                           err[128];
    ngx_str_t                      body;
    ngx_uint_t                     status, failed;
    signalr_jwks_t                *jwks;
    ngx_atomic_uint_t              seq;
    ngx_http_signalr_jwks_zone_t  *z;

    if (jf->over) {
        return;
    }

    z = jf->src->zone;

    status = ngx_http_signalr_capture_status(cap);
    failed = ngx_http_signalr_capture_failed(cap);

    if (failed || status != NGX_HTTP_OK) {
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "signalr: the signing keys of upstream calls' bearer "
                      "tokens could not be fetched through \"%V\": %s%ui",
                      &jf->src->uri, failed ? "no answer, status "
                                            : "status ", status);
        ngx_http_signalr_jwks_over(jf, 0);
        return;
    }

    if (ngx_http_signalr_capture_body(cap, &body) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "signalr: the signing keys fetched through \"%V\" are "
                      "refused: larger than %d bytes", &jf->src->uri,
                      NGX_HTTP_SIGNALR_JWKS_MAX);
        ngx_http_signalr_jwks_over(jf, 0);
        return;
    }

    /* checked before it is stored: every worker parses what is there */

    jwks = signalr_jwks_parse((char *) body.data, body.len, err, sizeof(err));

    if (jwks == NULL) {
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "signalr: the signing keys fetched through \"%V\" are "
                      "refused: %s", &jf->src->uri, err);
        ngx_http_signalr_jwks_over(jf, 0);
        return;
    }

    signalr_jwks_free(jwks);

    seq = z->seq;

    if ((seq & 1) || !ngx_atomic_cmp_set(&z->seq, seq, seq + 1)) {
        /* another writer (a fetch that ran past its time): tried again */
        ngx_http_signalr_jwks_over(jf, 0);
        return;
    }

    ngx_memory_barrier();

    ngx_memcpy(z->json, body.data, body.len);
    z->len = body.len;

    ngx_memory_barrier();

    (void) ngx_atomic_fetch_add(&z->seq, 1);

    z->fetched = ngx_time();

    ngx_log_error(NGX_LOG_INFO, sr->connection->log, 0,
                  "signalr: the signing keys of upstream calls' bearer "
                  "tokens fetched through \"%V\"", &jf->src->uri);

    ngx_http_signalr_jwks_over(jf, 1);
}


/* the next fetch: in a day, or a minute after a failure */

static void
ngx_http_signalr_jwks_over(ngx_http_signalr_jwks_fetch_t *jf, ngx_uint_t ok)
{
    ngx_msec_t                     next;
    ngx_http_signalr_jwks_zone_t  *z;

    if (jf->over) {
        return;
    }

    jf->over = 1;
    z = jf->src->zone;

    if (ok) {
        z->failures = 0;
        next = ngx_current_msec + NGX_HTTP_SIGNALR_JWKS_REFRESH;

    } else {
        (void) ngx_atomic_fetch_add(&z->failures, 1);
        next = ngx_current_msec + NGX_HTTP_SIGNALR_JWKS_RETRY;
    }

    z->next_fetch = next ? next : 1;

    (void) ngx_atomic_cmp_set(&z->fetching, jf->mark, 0);
}


/* a fetch whose request ended first (its client went away): as a failure */

static void
ngx_http_signalr_jwks_cleanup(void *data)
{
    ngx_http_signalr_jwks_fetch_t *jf = data;

    if (!jf->over) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "signalr: the fetch of the signing keys through "
                      "\"%V\" ended with the request that carried it",
                      &jf->src->uri);
        ngx_http_signalr_jwks_over(jf, 0);
    }
}


/*
 * this worker's copies, when the configuration's pool goes (a reload, the
 * worker's exit): the Entra tokens zeroed, the memory freed
 */

void
ngx_http_signalr_entra_free(ngx_http_signalr_main_conf_t *smcf)
{
    ngx_uint_t                        i;
    ngx_http_signalr_entra_t         *e;
    ngx_http_signalr_endpoint_t      *eps;
    ngx_http_signalr_jwks_source_t  **src;

    eps = smcf->endpoints.elts;

    for (i = 0; i < smcf->endpoints.nelts; i++) {
        e = eps[i].entra;

        if (e && e->token) {
            ngx_explicit_memzero(e->token,
                                 sizeof("Bearer ") - 1
                                 + SIGNALR_ENTRA_MAX_TOKEN);
            ngx_free(e->token);
            e->token = NULL;
        }
    }

    src = smcf->jwks_sources.elts;

    for (i = 0; i < smcf->jwks_sources.nelts; i++) {
        if (src[i]->copy) {
            ngx_free(src[i]->copy);
            src[i]->copy = NULL;
        }

        if (src[i]->jwks) {
            signalr_jwks_free(src[i]->jwks);
            src[i]->jwks = NULL;
        }
    }
}
