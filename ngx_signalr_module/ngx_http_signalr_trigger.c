/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Trigger: the SignalRTrigger binding as an nginx location. Receives the
 * service's upstream calls (X-ASRS-* headers, HMAC signature, JSON or
 * MessagePack bodies), validates them, hands them to a route as the
 * InvocationContext JSON that non-.NET Functions receive, and answers the
 * service the way it expects: a Completion message for invocations.
 */

#include "ngx_http_signalr_module.h"
#include "ngx_http_signalr_probe.h"
#include "ngx_http_signalr_entra.h"
#include "ngx_http_signalr_subrequest.h"
#include "ngx_http_signalr_trigger.h"
#include "ngx_http_signalr_util.h"
#include "signalr_json.h"
#include "signalr_msgpack.h"
#include "signalr_names.h"
#include "signalr_trigger.h"


#define NGX_HTTP_SIGNALR_MAX_RESULT      (1024 * 1024)


/* the X-ASRS-* headers the trigger reads, found in one walk */
enum {
    NGX_HTTP_SIGNALR_H_HUB = 0,
    NGX_HTTP_SIGNALR_H_CATEGORY,
    NGX_HTTP_SIGNALR_H_EVENT,
    NGX_HTTP_SIGNALR_H_CONNECTION_ID,
    NGX_HTTP_SIGNALR_H_USER_ID,
    NGX_HTTP_SIGNALR_H_SIGNATURE,
    NGX_HTTP_SIGNALR_H_CLIENT_QUERY,
    NGX_HTTP_SIGNALR_H_USER_CLAIMS,
    NGX_HTTP_SIGNALR_H_MAX
};


struct ngx_http_signalr_trigger_ctx_s {
    ngx_table_elt_t             *asrs[NGX_HTTP_SIGNALR_H_MAX];
    ngx_table_elt_t             *route_headers;
    ngx_uint_t                   nroute_headers;

    ngx_http_signalr_trigger_vars_t  v;          /* $signalr_hub, ... */
    ngx_str_t                    route;
    ngx_http_signalr_capture_t  *capture;
    ngx_msec_t                   route_start;
    ngx_msec_t                   route_time;

    unsigned                     messages:1;
    unsigned                     connected:1;
    unsigned                     msgpack:1;
    unsigned                     has_invocation_id:1;
    unsigned                     has_error:1;
    unsigned                     verified:1;
    unsigned                     routed:1;
    unsigned                     route_failed:1;
};


/*
 * in the order of NGX_HTTP_SIGNALR_H_*, after "x-asrs-", in lower case:
 * they are compared with the lower-case names nginx keeps of the headers
 */
static ngx_str_t  ngx_http_signalr_asrs_names[] = {
    ngx_string("hub"),
    ngx_string("category"),
    ngx_string("event"),
    ngx_string("connection-id"),
    ngx_string("user-id"),
    ngx_string("signature"),
    ngx_string("client-query"),
    ngx_string("user-claims")
};


/*
 * the content headers: .NET keeps them in HttpContentHeaders, not among a
 * request's headers (HttpHeaderType.Content in KnownHeaders.cs of
 * dotnet/runtime), and the InvocationContext's Headers are the request's
 * only (GetHeaderDictionary of SignalRTriggerUtils.cs)
 */
static ngx_str_t  ngx_http_signalr_content_headers[] = {
    ngx_string("Allow"),
    ngx_string("Content-Disposition"),
    ngx_string("Content-Encoding"),
    ngx_string("Content-Language"),
    ngx_string("Content-Length"),
    ngx_string("Content-Location"),
    ngx_string("Content-MD5"),
    ngx_string("Content-Range"),
    ngx_string("Content-Type"),
    ngx_string("Expires"),
    ngx_string("Last-Modified"),
    ngx_null_string
};


/*
 * an X-ASRS-* header; one that another module added without a lower-case
 * name is none
 */

#define ngx_http_signalr_is_asrs(h)                                          \
    ((h)->key.len > 7 && (h)->lowcase_key != NULL                            \
     && ngx_memcmp((h)->lowcase_key, "x-asrs-", 7) == 0)


static ngx_int_t ngx_http_signalr_trigger_handler(ngx_http_request_t *r);
static void ngx_http_signalr_trigger_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_signalr_trigger_start(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t, ngx_http_signalr_error_t *err);
static void ngx_http_signalr_trigger_find(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t);
static ngx_int_t ngx_http_signalr_trigger_bearer(ngx_http_request_t *r,
    ngx_http_signalr_loc_conf_t *slcf);
static ngx_uint_t ngx_http_signalr_trigger_keys(ngx_http_request_t *r);
static void ngx_http_signalr_jwks_cleanup(void *data);
static ngx_int_t ngx_http_signalr_trigger_verify(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t);
static ngx_int_t ngx_http_signalr_trigger_content_type(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t, ngx_http_signalr_error_t *err);
static ngx_int_t ngx_http_signalr_trigger_names(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t, ngx_http_signalr_error_t *err);
static ngx_int_t ngx_http_signalr_trigger_route(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t, ngx_http_signalr_subrequest_t *s,
    ngx_http_signalr_error_t *err);
static ngx_int_t ngx_http_signalr_trigger_parse(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t, u_char *body, size_t len,
    ngx_str_t *context, ngx_http_signalr_error_t *err);
static ngx_int_t ngx_http_signalr_trigger_copy(ngx_pool_t *pool,
    ngx_str_t *dst, json_t *string);
static ngx_int_t ngx_http_signalr_trigger_context(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t, ngx_str_t *out);
static ngx_int_t ngx_http_signalr_trigger_lists(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t, signalr_pairs_t *headers,
    signalr_pairs_t *query, signalr_pairs_t *claims);
static ngx_uint_t ngx_http_signalr_content_header(ngx_str_t *name);
static void ngx_http_signalr_trigger_pairs(signalr_jw_t *w,
    signalr_pairs_t *pairs, ngx_table_elt_t *h);
static void ngx_http_signalr_trigger_resume(ngx_http_request_t *r);
static ngx_int_t ngx_http_signalr_trigger_answer(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t);
static ngx_int_t ngx_http_signalr_trigger_completion(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t, json_t *result, const char *error);
static ngx_int_t ngx_http_signalr_safe_token(ngx_str_t *s);
static void ngx_http_signalr_media_type(ngx_str_t *value, ngx_str_t *media);


char *
ngx_http_signalr_trigger(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_signalr_loc_conf_t *slcf = conf;

    ngx_str_t                         *value;
    ngx_http_compile_complex_value_t   ccv;

    if (slcf->trigger_uri) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_trigger\" needs a URI starting with "
                           "\"/\", not \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    slcf->trigger_uri = ngx_palloc(cf->pool,
                                   sizeof(ngx_http_complex_value_t));
    if (slcf->trigger_uri == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = slcf->trigger_uri;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_signalr_conf_handler(cf, slcf,
                                         ngx_http_signalr_trigger_handler);
}


char *
ngx_http_signalr_trigger_check(ngx_conf_t *cf,
    ngx_http_signalr_loc_conf_t *slcf)
{
    ngx_uint_t                     i;
    ngx_http_signalr_endpoint_t   *eps;
    ngx_http_signalr_main_conf_t  *smcf;

    if (slcf->trigger_verify == NGX_HTTP_SIGNALR_VERIFY_ENTRA) {
        if (slcf->trigger_jwks == NULL && slcf->trigger_source == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"signalr_trigger_verify entra\" needs "
                               "\"signalr_trigger_entra\": the issuer, the "
                               "audience and the signing keys of the "
                               "upstream calls' bearer tokens");
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (slcf->trigger_verify == NGX_HTTP_SIGNALR_VERIFY_OFF) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"signalr_trigger_verify\" is off: upstream "
                           "calls are not authenticated, use this for "
                           "local development only");
        return NGX_CONF_OK;
    }

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_signalr_module);

    if (smcf->endpoints.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_trigger\" verifies signatures with the "
                           "keys of \"signalr_endpoint\", and none is "
                           "configured");
        return NGX_CONF_ERROR;
    }

    eps = smcf->endpoints.elts;

    for (i = 0; i < smcf->endpoints.nelts; i++) {
        if (eps[i].hmac) {
            return NGX_CONF_OK;
        }
    }

    /*
     * Microsoft Entra ID endpoints have no key the service signs upstream
     * calls with (the Functions extension stops verifying for them)
     */

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"signalr_trigger\" verifies signatures with the "
                       "AccessKey of a \"signalr_endpoint\", and every "
                       "endpoint uses Microsoft Entra ID (AuthType), which "
                       "has none: use \"signalr_trigger_verify entra\" "
                       "(docs/keyless.md)");
    return NGX_CONF_ERROR;
}


/*
 * signalr_trigger_entra issuer=<iss> audience=<aud> jwks=file:<path>: the
 * bearer tokens the service sends upstream calls with when its upstream
 * authentication uses a managed identity (RS256, signed by the tenant's
 * keys, the JWKS of https://login.microsoftonline.com/<tenant>/discovery/
 * v2.0/keys, read from a file when the configuration loads)
 */

char *
ngx_http_signalr_trigger_entra(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_signalr_loc_conf_t *slcf = conf;

    char                 err[256];
    u_char              *buf;
    ssize_t              n;
    ngx_fd_t             fd;
    ngx_str_t           *value, path, uri;
    ngx_uint_t           i;
    ngx_file_t           file;
    signalr_jwks_t      *jwks;
    ngx_pool_cleanup_t  *cln;

    if (slcf->trigger_jwks || slcf->trigger_source) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ngx_str_null(&path);
    ngx_str_null(&uri);

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "issuer=", 7) == 0
            && value[i].len > 7)
        {
            slcf->trigger_issuer = value[i].data + 7;
            continue;
        }

        if (ngx_strncmp(value[i].data, "audience=", 9) == 0
            && value[i].len > 9)
        {
            slcf->trigger_audience = value[i].data + 9;
            continue;
        }

        if (ngx_strncmp(value[i].data, "jwks=file:", 10) == 0
            && value[i].len > 10)
        {
            path.data = value[i].data + 10;
            path.len = value[i].len - 10;
            continue;
        }

        /* a location that answers the JWKS: fetched into the zone */

        if (ngx_strncmp(value[i].data, "jwks=/", 6) == 0) {
            uri.data = value[i].data + 5;
            uri.len = value[i].len - 5;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in "
                           "\"signalr_trigger_entra\": issuer=, audience= "
                           "and jwks= expected", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (slcf->trigger_issuer == NULL || slcf->trigger_audience == NULL
        || (path.len == 0) == (uri.len == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_trigger_entra\" needs issuer=, "
                           "audience= and one jwks=, a location URI or "
                           "file:");
        return NGX_CONF_ERROR;
    }

    if (uri.len) {
        slcf->trigger_source = ngx_http_signalr_jwks_source(cf, &uri);
        return slcf->trigger_source ? NGX_CONF_OK : NGX_CONF_ERROR;
    }

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"signalr_trigger_entra\": "
                           ngx_open_file_n " \"%V\" failed", &path);
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = path;
    file.log = cf->log;

    buf = ngx_pnalloc(cf->temp_pool, 65536 + 1);
    n = buf ? ngx_read_file(&file, buf, 65536 + 1, 0) : NGX_ERROR;

    (void) ngx_close_file(fd);

    if (n == NGX_ERROR || n > 65536) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_trigger_entra\": \"%V\" cannot be "
                           "read, or is larger than 64 KB", &path);
        return NGX_CONF_ERROR;
    }

    jwks = signalr_jwks_parse((char *) buf, (size_t) n, err, sizeof(err));

    if (jwks == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_trigger_entra\": \"%V\": %s", &path,
                           err);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        signalr_jwks_free(jwks);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_signalr_jwks_cleanup;
    cln->data = jwks;

    slcf->trigger_jwks = jwks;

    return NGX_CONF_OK;
}


static void
ngx_http_signalr_jwks_cleanup(void *data)
{
    signalr_jwks_free(data);
}


/* the signing keys' fetch has ended (a waiting upstream call goes on) */

static ngx_uint_t
ngx_http_signalr_trigger_keys(ngx_http_request_t *r)
{
    ngx_http_signalr_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_signalr_module);

    return slcf->trigger_source == NULL
           || !ngx_http_signalr_jwks_pending(slcf->trigger_source);
}


/* the upstream call's bearer token: RS256, the issuer's, for the audience */

static ngx_int_t
ngx_http_signalr_trigger_bearer(ngx_http_request_t *r,
    ngx_http_signalr_loc_conf_t *slcf)
{
    int                              rc;
    char                             err[128];
    signalr_jwks_t                  *jwks;
    ngx_table_elt_t                 *h;
    ngx_http_signalr_ctx_t          *ctx;
    ngx_http_signalr_jwks_source_t  *src;

    ctx = ngx_http_get_module_ctx(r, ngx_http_signalr_module);
    src = slcf->trigger_source;

    h = r->headers_in.authorization;

    if (h == NULL || h->value.len <= sizeof("Bearer ") - 1
        || ngx_strncasecmp(h->value.data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1) != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "signalr: upstream call without a bearer token "
                      "refused");
        return NGX_DECLINED;
    }

    /* keys from a location: fetched when due, waited for once */

    if (src) {
        jwks = ngx_http_signalr_jwks_current(src);

        if (ngx_http_signalr_jwks_fetch(r, src, 0) && jwks == NULL
            && !ctx->jwks_waited)
        {
            return NGX_AGAIN;
        }

        if (jwks == NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "signalr: upstream call not checked: no signing "
                          "keys from \"%V\" yet (their fetch's errors say "
                          "why)", &src->uri);
            return NGX_BUSY;
        }

    } else {
        jwks = slcf->trigger_jwks;
    }

    rc = signalr_entra_jwt_verify(jwks, (char *) h->value.data + 7,
                                  h->value.len - 7,
                                  (char *) slcf->trigger_issuer,
                                  (char *) slcf->trigger_audience,
                                  (long long) ngx_time(), err, sizeof(err));

    /*
     * a key id none has: the keys may have changed, fetched again (once
     * per 5 minutes), or being fetched: waited for, once
     */

    if (rc == -2 && src && !ctx->jwks_waited
        && ngx_http_signalr_jwks_fetch(r, src, 1))
    {
        return NGX_AGAIN;
    }

    if (rc != 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "signalr: upstream call refused: its bearer token: "
                      "%s", err);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_signalr_trigger_handler(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_http_signalr_ctx_t  *ctx;

    ctx = ngx_http_signalr_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->trigger_called = 1;

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_signalr_not_allowed(r, "POST",
                                            "upstream calls are POST");
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_signalr_trigger_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_signalr_trigger_body(ngx_http_request_t *r)
{
    ngx_int_t                        rc;
    ngx_http_signalr_ctx_t          *ctx;
    ngx_http_signalr_trigger_ctx_t  *t;
    ngx_http_signalr_error_t         err;

    ctx = ngx_http_signalr_get_ctx(r);
    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* the probes and Entra ID refreshes due, beside this request */
    ngx_http_signalr_probe(r);
    ngx_http_signalr_entra_refresh(r);

    t = ngx_pcalloc(r->pool, sizeof(ngx_http_signalr_trigger_ctx_t));
    if (t == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->trigger = t;

    err.status = NGX_HTTP_INTERNAL_SERVER_ERROR;
    err.message = "internal error";

    rc = ngx_http_signalr_trigger_start(r, t, &err);

    if (rc == NGX_OK) {
        /* the route subrequest runs; the answer comes in the resume */
        return;
    }

    /* the signing keys are being fetched: waited for, once (5 s at most) */

    if (rc == NGX_AGAIN) {
        ctx->jwks_waited = 1;

        rc = ngx_http_signalr_entra_wait(r, ngx_http_signalr_trigger_keys,
                                         ngx_http_signalr_trigger_body,
                                         NGX_HTTP_SIGNALR_ENTRA_WAIT);
        if (rc == NGX_AGAIN) {
            return;
        }

        if (rc != NGX_ERROR) {
            ngx_http_signalr_trigger_body(r);
            return;
        }

        err.status = NGX_HTTP_INTERNAL_SERVER_ERROR;
        err.message = "internal error";
    }

    ngx_http_finalize_request(r, ngx_http_signalr_send_error(r, err.status,
                                                             err.message));
}


static ngx_int_t
ngx_http_signalr_trigger_start(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t, ngx_http_signalr_error_t *err)
{
    ngx_int_t                      rc;
    ngx_str_t                      body;
    ngx_http_signalr_loc_conf_t   *slcf;
    ngx_http_signalr_subrequest_t  s;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_signalr_module);

    ngx_http_signalr_trigger_find(r, t);

    /*
     * The refusals come in the order of the Functions extension's (Azure/
     * azure-sdk-for-net, ExecuteAsync of SignalRTriggerDispatcher.cs, the
     * executors' ExecuteAsync, ExecuteWithAuthAsync of
     * SignalRMethodExecutor.cs): the content type, the X-ASRS-* headers
     * that name the event and the connection, the signature; but the body
     * is parsed after the signature is checked, never before (the
     * extension parses it first). docs/trigger.md lists them.
     */

    /* 1. the content type, 2. the X-ASRS-* headers */

    if (ngx_http_signalr_trigger_content_type(r, t, err) != NGX_OK
        || ngx_http_signalr_trigger_names(r, t, err) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* 3. the signature, or the bearer token */

    if (slcf->trigger_verify == NGX_HTTP_SIGNALR_VERIFY_ENTRA) {
        rc = ngx_http_signalr_trigger_bearer(r, slcf);

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (rc == NGX_BUSY) {
            return ngx_http_signalr_fail(err, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "the signing keys of upstream calls "
                                         "are not available");
        }

        if (rc != NGX_OK) {
            return ngx_http_signalr_fail(err, NGX_HTTP_UNAUTHORIZED,
                                         "invalid or missing bearer token");
        }

    } else if (slcf->trigger_verify == NGX_HTTP_SIGNALR_VERIFY_ON
               && ngx_http_signalr_trigger_verify(r, t) != NGX_OK)
    {
        return ngx_http_signalr_fail(err, NGX_HTTP_UNAUTHORIZED,
                                     "invalid or missing X-ASRS-Signature");
    }

    t->verified = 1;

    /* 4. the body */

    if (ngx_http_signalr_read_body(r, NGX_MAX_SIZE_T_VALUE, &body)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_memzero(&s, sizeof(ngx_http_signalr_subrequest_t));

    if (ngx_http_signalr_trigger_parse(r, t, body.data, body.len, &s.body,
                                       err)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* 5. the route: the InvocationContext and the X-ASRS-* headers */

    return ngx_http_signalr_trigger_route(r, t, &s, err);
}


/* the X-ASRS-* headers the trigger reads: the first of each name */

static void
ngx_http_signalr_trigger_find(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t)
{
    ngx_uint_t        i, k;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    i = 0;

    while ((h = ngx_http_signalr_list_next(&part, &i)) != NULL) {

        if (!ngx_http_signalr_is_asrs(h)) {
            continue;
        }

        for (k = 0; k < NGX_HTTP_SIGNALR_H_MAX; k++) {
            if (t->asrs[k] == NULL
                && h->key.len - 7 == ngx_http_signalr_asrs_names[k].len
                && ngx_memcmp(h->lowcase_key + 7,
                              ngx_http_signalr_asrs_names[k].data,
                              h->key.len - 7)
                   == 0)
            {
                t->asrs[k] = h;
                break;
            }
        }
    }
}


static ngx_int_t
ngx_http_signalr_trigger_content_type(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t, ngx_http_signalr_error_t *err)
{
    ngx_str_t  media;

    if (r->headers_in.content_type) {
        ngx_http_signalr_media_type(&r->headers_in.content_type->value,
                                    &media);

        if (ngx_http_signalr_str_is(&media, "application/x-msgpack")) {
            t->msgpack = 1;
            return NGX_OK;
        }

        if (ngx_http_signalr_str_is(&media, "application/json")) {
            return NGX_OK;
        }
    }

    return ngx_http_signalr_fail(err, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                 "Content-Type must be application/json or "
                                 "application/x-msgpack");
}


/* X-ASRS-Hub, -Category, -Event, -Connection-Id and -User-Id, checked */

static ngx_int_t
ngx_http_signalr_trigger_names(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t, ngx_http_signalr_error_t *err)
{
    u_char           *p;
    ngx_uint_t        i;
    ngx_table_elt_t  *h;
    ngx_str_t        *fields[4];

    fields[0] = &t->v.hub;
    fields[1] = &t->v.category;
    fields[2] = &t->v.event;
    fields[3] = &t->v.connection_id;

    for (i = 0; i < 4; i++) {
        h = t->asrs[i];

        if (h == NULL || h->value.len == 0) {
            return ngx_http_signalr_fail(err, NGX_HTTP_BAD_REQUEST,
                                         "an X-ASRS-Hub, X-ASRS-Category, "
                                         "X-ASRS-Event or "
                                         "X-ASRS-Connection-Id header is "
                                         "missing or empty");
        }

        *fields[i] = h->value;
    }

    h = t->asrs[NGX_HTTP_SIGNALR_H_USER_ID];
    if (h) {
        t->v.user_id = h->value;
    }

    if (!signalr_hub_valid(t->v.hub.data, t->v.hub.len)) {
        return ngx_http_signalr_fail(err, NGX_HTTP_BAD_REQUEST,
                                     "invalid X-ASRS-Hub");
    }

    p = ngx_pnalloc(r->pool, t->v.hub.len);
    if (p == NULL) {
        return ngx_http_signalr_fail(err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     "internal error");
    }

    ngx_strlow(p, t->v.hub.data, t->v.hub.len);
    t->v.hub.data = p;

    if (ngx_http_signalr_safe_token(&t->v.connection_id) != NGX_OK
        || !signalr_utf8_valid(t->v.user_id.data, t->v.user_id.len))
    {
        return ngx_http_signalr_fail(err, NGX_HTTP_BAD_REQUEST,
                                     "invalid X-ASRS-Connection-Id or "
                                     "X-ASRS-User-Id");
    }

    if (ngx_http_signalr_str_is(&t->v.category, "connections")) {
        ngx_str_set(&t->v.category, "connections");

        if (ngx_http_signalr_str_is(&t->v.event, "connected")) {
            ngx_str_set(&t->v.event, "connected");
            t->connected = 1;
            return NGX_OK;
        }

        if (ngx_http_signalr_str_is(&t->v.event, "disconnected")) {
            ngx_str_set(&t->v.event, "disconnected");
            return NGX_OK;
        }

        return ngx_http_signalr_fail(err, NGX_HTTP_BAD_REQUEST,
                                     "X-ASRS-Event of the connections "
                                     "category must be connected or "
                                     "disconnected");
    }

    if (ngx_http_signalr_str_is(&t->v.category, "messages")) {
        ngx_str_set(&t->v.category, "messages");
        t->messages = 1;

        if (ngx_http_signalr_safe_token(&t->v.event) != NGX_OK) {
            return ngx_http_signalr_fail(err, NGX_HTTP_BAD_REQUEST,
                                         "invalid X-ASRS-Event");
        }

        return NGX_OK;
    }

    return ngx_http_signalr_fail(err, NGX_HTTP_BAD_REQUEST,
                                 "X-ASRS-Category must be connections or "
                                 "messages");
}


static ngx_int_t
ngx_http_signalr_trigger_route(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t, ngx_http_signalr_subrequest_t *s,
    ngx_http_signalr_error_t *err)
{
    ngx_str_t                     uri, args;
    ngx_uint_t                    flags;
    ngx_http_signalr_loc_conf_t  *slcf;

    /* what any failure below that is not the caller's answers */
    (void) ngx_http_signalr_fail(err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                 "internal error");

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_signalr_module);

    if (ngx_http_complex_value(r, slcf->trigger_uri, &uri) != NGX_OK) {
        return NGX_ERROR;
    }

    t->route = uri;
    ngx_str_null(&args);
    flags = NGX_HTTP_LOG_UNSAFE;

    if (ngx_http_parse_unsafe_uri(r, &uri, &args, &flags) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "signalr: unsafe route \"%V\" for hub \"%V\"",
                      &t->route, &t->v.hub);
        return ngx_http_signalr_fail(err, NGX_HTTP_BAD_REQUEST,
                                     "the event cannot be routed");
    }

    s->uri = uri;
    s->args = args;
    s->method = NGX_HTTP_POST;
    ngx_str_set(&s->method_name, "POST");
    s->headers = t->route_headers;
    s->nheaders = t->nroute_headers;
    s->max_response = NGX_HTTP_SIGNALR_MAX_RESULT;

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "signalr trigger: %V/%V/%V to \"%V\"",
                   &t->v.hub, &t->v.category, &t->v.event, &uri);

    r->write_event_handler = ngx_http_signalr_trigger_resume;

    t->route_start = ngx_current_msec;
    t->capture = ngx_http_signalr_subrequest(r, s);
    if (t->capture == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_signalr_trigger_verify(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t)
{
    int                            k;
    u_char                        *macs;
    ngx_uint_t                     i, j, n;
    signalr_hmac_t                *keys[2];
    ngx_table_elt_t               *h;
    ngx_http_signalr_ctx_t        *ctx;
    ngx_http_signalr_endpoint_t   *eps;
    ngx_http_signalr_main_conf_t  *smcf;
    u_char                         owner[2 * NGX_HTTP_SIGNALR_MAX_ENDPOINTS];

    h = t->asrs[NGX_HTTP_SIGNALR_H_SIGNATURE];

    if (h == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "signalr: upstream call without X-ASRS-Signature "
                      "refused");
        return NGX_DECLINED;
    }

    /*
     * HMAC-SHA256(key, connection id) for every key: each endpoint's, and
     * its second one when it has one (rotation)
     */

    smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);
    eps = smcf->endpoints.elts;

    macs = ngx_pnalloc(r->pool,
                       2 * smcf->endpoints.nelts * SIGNALR_SHA256_LEN);
    if (macs == NULL) {
        return NGX_ERROR;
    }

    n = 0;

    for (i = 0; i < smcf->endpoints.nelts; i++) {
        keys[0] = eps[i].hmac;
        keys[1] = eps[i].hmac2;

        for (j = 0; j < 2 && keys[j]; j++) {
            if (signalr_hmac_sha256(keys[j], t->v.connection_id.data,
                                    t->v.connection_id.len,
                                    macs + n * SIGNALR_SHA256_LEN)
                != 0)
            {
                return NGX_ERROR;
            }

            owner[n++] = (u_char) i;
        }
    }

    k = signalr_signature_match(h->value.data, h->value.len, macs, n);

    if (k) {
        /* the endpoint whose key signed the call, for $signalr_endpoint */
        ctx = ngx_http_get_module_ctx(r, ngx_http_signalr_module);
        ctx->endpoint = &eps[owner[k - 1]];
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "signalr: upstream call with an X-ASRS-Signature that "
                  "matches no signalr_endpoint key refused: check that "
                  "the service's access keys are the configured ones");

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_signalr_trigger_parse(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t, u_char *body, size_t len,
    ngx_str_t *context, ngx_http_signalr_error_t *err)
{
    int                 prc;
    char                detail[128];
    ngx_int_t           rc;
    const char         *why;
    signalr_jw_t        w;
    signalr_str_t       text;
    signalr_message_t   m;

    detail[0] = '\0';
    why = "internal error";

    if (!t->messages && t->msgpack) {
        return ngx_http_signalr_fail(err, NGX_HTTP_BAD_REQUEST,
                                     "connection events carry JSON bodies");
    }

    if (!t->messages) {
        prc = signalr_parse_event(body, len, t->connected, &m, &why);

    } else if (t->msgpack) {
        prc = signalr_parse_invocation_msgpack(body, len, t->v.event.data,
                                               t->v.event.len, &m, &why,
                                               detail, sizeof(detail));
    } else {
        prc = signalr_parse_invocation_json(body, len, t->v.event.data,
                                            t->v.event.len, &m, &why,
                                            detail, sizeof(detail));
    }

    if (prc == SIGNALR_TRIGGER_INVALID) {
        if (detail[0]) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "signalr: %s: %s", why, detail);
        }

        signalr_message_free(&m);
        return ngx_http_signalr_fail(err, NGX_HTTP_BAD_REQUEST, why);
    }

    rc = NGX_ERROR;

    if (prc != SIGNALR_TRIGGER_OK) {
        goto failed;
    }

    if (ngx_http_signalr_trigger_copy(r->pool, &t->v.error, m.error)
        != NGX_OK
        || ngx_http_signalr_trigger_copy(r->pool, &t->v.invocation_id,
                                         m.invocation_id)
           != NGX_OK)
    {
        goto failed;
    }

    t->has_error = (m.error != NULL);
    t->has_invocation_id = (m.invocation_id != NULL);

    if (m.arguments) {
        ngx_http_signalr_jw_init(r, &w, &text);
        signalr_jw_json(&w, m.arguments);

        if (signalr_jw_done(&w) != 0) {
            goto failed;
        }

        t->v.arguments.data = (u_char *) text.data;
        t->v.arguments.len = text.len;
    }

    rc = ngx_http_signalr_trigger_context(r, t, context);

    if (rc == NGX_DECLINED) {
        rc = ngx_http_signalr_fail(err, NGX_HTTP_BAD_REQUEST,
                                   "X-ASRS-* values that are not UTF-8, or "
                                   "too many headers, query parameters or "
                                   "claims");
        goto done;
    }

    if (rc == NGX_OK) {
        goto done;
    }

failed:

    rc = ngx_http_signalr_fail(err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                               "internal error");

done:

    signalr_message_free(&m);

    return rc;
}


/* a JSON string of the message into the pool; none leaves dst empty */

static ngx_int_t
ngx_http_signalr_trigger_copy(ngx_pool_t *pool, ngx_str_t *dst,
    json_t *string)
{
    if (string == NULL) {
        return NGX_OK;
    }

    dst->len = json_string_length(string);

    dst->data = ngx_pnalloc(pool, dst->len);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, json_string_value(string), dst->len);

    return NGX_OK;
}


/*
 * The InvocationContext of non-.NET Functions (InvocationContext.cs of the
 * Functions extension, Azure/azure-sdk-for-net): PascalCase
 * members in the order JObject.FromObject writes them.
 */

static ngx_int_t
ngx_http_signalr_trigger_context(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t, ngx_str_t *out)
{
    ngx_int_t         rc;
    signalr_jw_t      w;
    signalr_str_t     text;
    signalr_pairs_t   headers, query, claims;

    rc = ngx_http_signalr_trigger_lists(r, t, &headers, &query, &claims);
    if (rc != NGX_OK) {
        return rc;
    }

    /* every value below was checked to be UTF-8 */

    ngx_http_signalr_jw_init(r, &w, &text);

    signalr_jw_object(&w);

    signalr_jw_key_lit(&w, "Arguments");

    if (t->v.arguments.data) {
        signalr_jw_raw(&w, t->v.arguments.data, t->v.arguments.len);

    } else {
        signalr_jw_null(&w);
    }

    signalr_jw_key_lit(&w, "Error");
    signalr_jw_string_or_null(&w, t->v.error.data, t->v.error.len,
                              t->has_error);
    signalr_jw_key_lit(&w, "Category");
    signalr_jw_string(&w, t->v.category.data, t->v.category.len);
    signalr_jw_key_lit(&w, "Event");
    signalr_jw_string(&w, t->v.event.data, t->v.event.len);
    signalr_jw_key_lit(&w, "Hub");
    signalr_jw_string(&w, t->v.hub.data, t->v.hub.len);
    signalr_jw_key_lit(&w, "ConnectionId");
    signalr_jw_string(&w, t->v.connection_id.data, t->v.connection_id.len);

    /*
     * UserId is null without X-ASRS-User-Id, "" with an empty one; Query
     * and Claims are null when their header is absent or empty, {} when it
     * holds no pair (TryGetInvocationContext of SignalRRequestResolver.cs,
     * GetQueryDictionary and GetClaimDictionary of SignalRTriggerUtils.cs)
     */

    signalr_jw_key_lit(&w, "UserId");
    signalr_jw_string_or_null(&w, t->v.user_id.data, t->v.user_id.len,
                              t->asrs[NGX_HTTP_SIGNALR_H_USER_ID] != NULL);
    signalr_jw_key_lit(&w, "Headers");
    signalr_jw_pairs(&w, &headers);
    signalr_jw_key_lit(&w, "Query");
    ngx_http_signalr_trigger_pairs(&w, &query,
                                   t->asrs[NGX_HTTP_SIGNALR_H_CLIENT_QUERY]);
    signalr_jw_key_lit(&w, "Claims");
    ngx_http_signalr_trigger_pairs(&w, &claims,
                                   t->asrs[NGX_HTTP_SIGNALR_H_USER_CLAIMS]);

    signalr_jw_end(&w);

    if (signalr_jw_done(&w) != 0) {
        return NGX_ERROR;
    }

    out->data = (u_char *) text.data;
    out->len = text.len;

    return NGX_OK;
}


/*
 * One walk of the request's headers: every one but the content ones for the
 * context's Headers (repeated names joined with ',', the first one's name
 * kept, as ASP.NET Core and GetHeaderDictionary do), the X-ASRS-* ones for
 * the route, after its Content-Type; then the client query and the claims.
 * NGX_DECLINED: a name or value that is not UTF-8, or too many names.
 */

static ngx_int_t
ngx_http_signalr_trigger_lists(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t, signalr_pairs_t *headers,
    signalr_pairs_t *query, signalr_pairs_t *claims)
{
    int                         rc;
    ngx_uint_t                  i, n, rehash;
    ngx_list_part_t            *part;
    ngx_table_elt_t            *h;
    ngx_http_core_srv_conf_t   *cscf;

    ngx_http_signalr_pairs_init(r, headers, 1);
    ngx_http_signalr_pairs_init(r, query, 1);
    ngx_http_signalr_pairs_init(r, claims, 0);

    n = 1;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        n += part->nelts;
    }

    t->route_headers = ngx_palloc(r->pool, n * sizeof(ngx_table_elt_t));
    if (t->route_headers == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&t->route_headers[0], sizeof(ngx_table_elt_t));
    ngx_str_set(&t->route_headers[0].key, "Content-Type");
    ngx_str_set(&t->route_headers[0].value, "application/json");
    t->route_headers[0].lowcase_key = (u_char *) "content-type";
    t->nroute_headers = 1;

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
    rehash = !cscf->ignore_invalid_headers;

    part = &r->headers_in.headers.part;
    i = 0;
    rc = SIGNALR_TRIGGER_OK;

    while ((h = ngx_http_signalr_list_next(&part, &i)) != NULL) {

        if (ngx_http_signalr_is_asrs(h)) {
            t->route_headers[t->nroute_headers] = *h;

            /*
             * nginx's hash of a name leaves out the characters that
             * "ignore_invalid_headers off" lets through (a '_'), its
             * lower-case name keeps them: the hash is made again then
             */

            if (rehash) {
                t->route_headers[t->nroute_headers].hash = 0;
            }

            t->nroute_headers++;
        }

        if (rc == SIGNALR_TRIGGER_OK
            && !ngx_http_signalr_content_header(&h->key))
        {
            rc = signalr_pairs_add(headers, h->key.data, h->key.len,
                                   h->value.data, h->value.len);
        }
    }

    h = t->asrs[NGX_HTTP_SIGNALR_H_CLIENT_QUERY];
    if (h && h->value.len && rc == SIGNALR_TRIGGER_OK) {
        rc = signalr_parse_query(query, h->value.data, h->value.len);
    }

    h = t->asrs[NGX_HTTP_SIGNALR_H_USER_CLAIMS];
    if (h && h->value.len && rc == SIGNALR_TRIGGER_OK) {
        rc = signalr_parse_claims(claims, h->value.data, h->value.len);
    }

    if (rc == SIGNALR_TRIGGER_INVALID) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "signalr: upstream headers that are not UTF-8, or too "
                      "many headers, query parameters or claims");
        return NGX_DECLINED;
    }

    return (rc == SIGNALR_TRIGGER_OK) ? NGX_OK : NGX_ERROR;
}


/* one of ngx_http_signalr_content_headers, in any case */

static ngx_uint_t
ngx_http_signalr_content_header(ngx_str_t *name)
{
    ngx_str_t  *c;

    for (c = ngx_http_signalr_content_headers; c->len; c++) {
        if (name->len == c->len
            && signalr_caseless_eq(name->data, name->len, c->data, c->len))
        {
            return 1;
        }
    }

    return 0;
}


/* the pairs of a header, or null when the header is absent or empty */

static void
ngx_http_signalr_trigger_pairs(signalr_jw_t *w, signalr_pairs_t *pairs,
    ngx_table_elt_t *h)
{
    if (h == NULL || h->value.len == 0) {
        signalr_jw_null(w);
        return;
    }

    signalr_jw_pairs(w, pairs);
}


static void
ngx_http_signalr_trigger_resume(ngx_http_request_t *r)
{
    ngx_http_signalr_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_signalr_module);

    if (ctx == NULL || ctx->trigger == NULL || ctx->trigger->capture == NULL
        || !ngx_http_signalr_capture_done(ctx->trigger->capture))
    {
        return;
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    ctx->trigger->routed = 1;
    ctx->trigger->route_time = ngx_current_msec - ctx->trigger->route_start;

    ngx_http_finalize_request(r,
                              ngx_http_signalr_trigger_answer(r, ctx->trigger));
}


/*
 * what the service expects (HttpServerlessMessageHandler.cs of the emulator
 * in Azure/azure-signalr; docs/trigger.md)
 */

static ngx_int_t
ngx_http_signalr_trigger_answer(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t)
{
    json_t                      *result;
    ngx_int_t                    rc, whole;
    ngx_str_t                    empty, media, body;
    ngx_uint_t                   status;
    json_error_t                 jerr;
    ngx_http_signalr_capture_t  *cap;

    cap = t->capture;
    status = ngx_http_signalr_capture_status(cap);
    whole = ngx_http_signalr_capture_body(cap, &body);

    /* for the status page: whatever the service is answered */
    t->route_failed = (status >= NGX_HTTP_INTERNAL_SERVER_ERROR
                       || ngx_http_signalr_capture_failed(cap));

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "signalr trigger: route answered %ui, %uz bytes",
                   status, body.len);

    ngx_str_null(&empty);

    if (status == NGX_HTTP_NOT_FOUND) {
        return ngx_http_signalr_send_error(r, NGX_HTTP_NOT_FOUND,
                                           "no route for this event");
    }

    if (!t->messages) {

        if (t->connected && (status < 200 || status > 299)) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "signalr: route \"%V\" refused connection \"%V\" "
                          "with %ui", &t->route, &t->v.connection_id,
                          status);
            return ngx_http_signalr_send_error(r, NGX_HTTP_FORBIDDEN,
                                               "connection refused");
        }

        if (status < 200 || status > 299) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "signalr: route \"%V\" answered %ui to a "
                          "disconnected event", &t->route, status);
        }

        return ngx_http_signalr_send_json(r, NGX_HTTP_OK, &empty);
    }

    if (!t->has_invocation_id) {
        if (status < 200 || status > 299) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "signalr: route \"%V\" answered %ui to \"%V\"",
                          &t->route, status, &t->v.event);
        }

        return ngx_http_signalr_send_json(r, NGX_HTTP_OK, &empty);
    }

    if (status < 200 || status > 299) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "signalr: route \"%V\" answered %ui to invocation "
                      "\"%V\" of \"%V\"%s", &t->route, status,
                      &t->v.invocation_id, &t->v.event,
                      ngx_http_signalr_capture_failed(cap)
                      ? " (no response)" : "");
        return ngx_http_signalr_trigger_completion(r, t, NULL,
                                                   "Invocation failed.");
    }

    if (whole != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "signalr: the result of route \"%V\" is larger than "
                      "%uz bytes", &t->route,
                      (size_t) NGX_HTTP_SIGNALR_MAX_RESULT);
        return ngx_http_signalr_trigger_completion(r, t, NULL,
                                                   "Invocation failed.");
    }

    if (status == NGX_HTTP_NO_CONTENT || body.len == 0) {
        return ngx_http_signalr_trigger_completion(r, t, json_null(), NULL);
    }

    /* a JSON body is the result value; any other body a string result */

    ngx_http_signalr_media_type(ngx_http_signalr_capture_content_type(cap),
                               &media);

    if (ngx_http_signalr_str_is(&media, "application/json")
        || (media.len > sizeof("application/+json") - 1
            && ngx_strncasecmp(media.data, (u_char *) "application/", 12) == 0
            && ngx_strncasecmp(media.data + media.len - 5, (u_char *) "+json",
                               5) == 0))
    {
        result = json_loadb((char *) body.data, body.len,
                            JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);

        if (result == NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "signalr: route \"%V\" answered invalid JSON: %s",
                          &t->route, jerr.text);
            return ngx_http_signalr_trigger_completion(r, t, NULL,
                                                       "Invocation failed.");
        }

    } else {
        if (!signalr_utf8_valid(body.data, body.len)) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "signalr: route \"%V\" answered a body that is "
                          "neither JSON nor UTF-8 text", &t->route);
            return ngx_http_signalr_trigger_completion(r, t, NULL,
                                                       "Invocation failed.");
        }

        result = json_stringn((char *) body.data, body.len);
    }

    rc = ngx_http_signalr_trigger_completion(r, t, result, NULL);

    json_decref(result);

    return rc;
}


static ngx_int_t
ngx_http_signalr_trigger_completion(ngx_http_request_t *r,
    ngx_http_signalr_trigger_ctx_t *t, json_t *result, const char *error)
{
    int               written;
    json_t           *value;
    ngx_int_t         rc;
    ngx_str_t         body;
    signalr_jw_t      w;
    signalr_str_t     text;

    ngx_http_signalr_pool_str(r->pool, &text);
    value = NULL;
    rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    if (t->msgpack) {
        if (error) {
            value = json_string(error);
            if (value == NULL) {
                goto done;
            }
        }

        written = signalr_msgpack_completion(&text,
                      (char *) t->v.invocation_id.data, t->v.invocation_id.len,
                      error ? SIGNALR_MSGPACK_COMPLETION_ERROR
                            : SIGNALR_MSGPACK_COMPLETION_RESULT,
                      error ? value : result);

        ngx_str_set(&r->headers_out.content_type, "application/x-msgpack");

    } else {
        ngx_http_signalr_jw_init(r, &w, &text);

        signalr_jw_object(&w);
        signalr_jw_key_lit(&w, "type");
        signalr_jw_integer(&w, 3);
        signalr_jw_key_lit(&w, "invocationId");
        signalr_jw_string(&w, t->v.invocation_id.data, t->v.invocation_id.len);

        if (error) {
            signalr_jw_key_lit(&w, "error");
            signalr_jw_string(&w, error, ngx_strlen(error));

        } else {
            signalr_jw_key_lit(&w, "result");
            signalr_jw_json(&w, result);
        }

        signalr_jw_end(&w);

        /* the hub protocol's record separator ends the message */

        written = signalr_jw_done(&w);

        if (written == 0 && signalr_str_append(&text, "\x1e", 1) != 0) {
            goto done;
        }

        ngx_str_set(&r->headers_out.content_type, "application/json");
    }

    if (written != 0) {
        if (error) {
            goto done;
        }

        /* e.g. a result nested deeper than the protocol's encoder goes */

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "signalr: the result of route \"%V\" cannot be "
                      "written as %s", &t->route,
                      t->msgpack ? "MessagePack" : "JSON");

        rc = ngx_http_signalr_trigger_completion(r, t, NULL,
                                                 "Invocation failed.");
        goto done;
    }

    r->headers_out.content_type_len = r->headers_out.content_type.len;

    body.data = (u_char *) text.data;
    body.len = text.len;

    rc = ngx_http_signalr_send(r, NGX_HTTP_OK, &body);

done:

    if (value) {
        json_decref(value);
    }

    return rc;
}


/*
 * The status page's view of the request (ngx_http_signalr_status.c): the
 * hub, category and event are those of an authenticated call only
 */

void
ngx_http_signalr_trigger_report(ngx_http_signalr_ctx_t *ctx,
    ngx_http_signalr_trigger_report_t *rep)
{
    ngx_http_signalr_trigger_ctx_t  *t;

    ngx_memzero(rep, sizeof(ngx_http_signalr_trigger_report_t));

    if (ctx->trigger == NULL || !ctx->trigger->verified) {
        return;
    }

    t = ctx->trigger;

    rep->verified = 1;
    rep->hub = t->v.hub;
    rep->category = t->v.category;
    rep->event = t->v.event;
    rep->routed = t->routed;
    rep->route_failed = t->route_failed;
    rep->route_time = t->route_time;
}


ngx_int_t
ngx_http_signalr_trigger_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                       *s;
    ngx_http_signalr_ctx_t          *ctx;
    ngx_http_signalr_trigger_ctx_t  *t;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_signalr_module);

    if (ctx == NULL || ctx->trigger == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    t = ctx->trigger;

    s = (ngx_str_t *) ((u_char *) &t->v + data);

    if (s->data == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_signalr_variable_set(v, s->data, s->len);
}


/*
 * Values that end up in routes ($signalr_event, $signalr_connection_id):
 * printable ASCII without path, query or escape characters.
 */

static ngx_int_t
ngx_http_signalr_safe_token(ngx_str_t *s)
{
    size_t  i;
    u_char  c;

    /* printable ASCII but " # % / ? \, as the bitmaps of ngx_http_parse.c */

    static uint32_t  ngx_http_signalr_token_chars[] = {
        0x00000000, /* 0000 0000 0000 0000  0000 0000 0000 0000 */

                    /* ?>=< ;:98 7654 3210  /.-, +*)( '&%$ #"!  */
        0x7fff7fd2, /* 0111 1111 1111 1111  0111 1111 1101 0010 */

                    /* _^]\ [ZYX WVUT SRQP  ONML KJIH GFED CBA@ */
        0xefffffff, /* 1110 1111 1111 1111  1111 1111 1111 1111 */

                    /*  ~}| {zyx wvut srqp  onml kjih gfed cba` */
        0x7fffffff, /* 0111 1111 1111 1111  1111 1111 1111 1111 */

        0x00000000, 0x00000000, 0x00000000, 0x00000000
    };

    if (s->len == 0 || (s->len <= 2 && s->data[0] == '.'
                        && s->data[s->len - 1] == '.'))
    {
        return NGX_DECLINED;
    }

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if (!(ngx_http_signalr_token_chars[c >> 5] & (1U << (c & 0x1f)))) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/*
 * the media type of a Content-Type value: without its parameters and the
 * optional white space around it (RFC 9110, 8.3.1)
 */

static void
ngx_http_signalr_media_type(ngx_str_t *value, ngx_str_t *media)
{
    u_char  *p, *last;

    if (value->data == NULL) {
        ngx_str_null(media);
        return;
    }

    p = value->data;
    last = ngx_strlchr(p, p + value->len, ';');

    if (last == NULL) {
        last = p + value->len;
    }

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    media->data = p;
    media->len = last - p;
}

