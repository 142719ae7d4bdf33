/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Negotiate: the SignalRConnectionInfo input binding as an nginx location.
 * Answers the SignalR client's negotiate call with {"url","accessToken"},
 * the token an HS256 JWT minted from the endpoint's AccessKey.
 */

#include "ngx_http_signalr_module.h"
#include "ngx_http_signalr_endpoint.h"
#include "ngx_http_signalr_negotiate.h"
#include "ngx_http_signalr_probe.h"
#include "ngx_http_signalr_entra.h"
#include "ngx_http_signalr_shm.h"
#include "ngx_http_signalr_status.h"
#include "ngx_http_signalr_util.h"
#include "signalr_json.h"
#include "signalr_names.h"


static ngx_int_t ngx_http_signalr_negotiate_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_signalr_negotiate_ready(ngx_http_request_t *r);
static void ngx_http_signalr_negotiate_resume(ngx_http_request_t *r);
static ngx_int_t ngx_http_signalr_negotiate_compute(ngx_http_request_t *r,
    ngx_http_signalr_ctx_t *ctx);
static ngx_int_t ngx_http_signalr_negotiate_endpoint(ngx_http_request_t *r,
    ngx_http_signalr_loc_conf_t *slcf, ngx_http_signalr_endpoint_t **ep);
static ngx_int_t ngx_http_signalr_negotiate_too_long(ngx_http_request_t *r,
    ngx_http_signalr_error_t *err, ngx_str_t *what);
static ngx_int_t ngx_http_signalr_negotiate_token(ngx_http_request_t *r,
    ngx_http_signalr_ctx_t *ctx, ngx_http_signalr_error_t *err);
static ngx_uint_t ngx_http_signalr_claim_renamed(ngx_array_t *claims,
    ngx_str_t *name);
static ngx_int_t ngx_http_signalr_negotiate_claims(ngx_http_request_t *r,
    ngx_http_signalr_loc_conf_t *slcf, ngx_http_signalr_error_t *err,
    signalr_jwt_claim_t **out, ngx_uint_t *nout, ngx_str_t *longest,
    size_t *input_len);
static void ngx_http_signalr_negotiate_refused(ngx_http_request_t *r,
    ngx_uint_t reason);
static ngx_int_t ngx_http_signalr_eval_utf8(ngx_http_request_t *r,
    ngx_http_complex_value_t *cv, ngx_str_t *value, const char *what);
static ngx_int_t ngx_http_signalr_switch_parse(ngx_str_t *value);
static ngx_int_t ngx_http_signalr_switch_value(ngx_http_request_t *r,
    ngx_http_signalr_switch_t *sw, const char *directive, ngx_uint_t *on);
static void ngx_http_signalr_shown(ngx_str_t *value, u_char *buf,
    ngx_str_t *shown);


/*
 * claim names the SDK renames to asrs.u.<name> (ClaimsUtility.cs of
 * Azure/azure-signalr)
 */
static ngx_str_t  ngx_http_signalr_renamed_claims[] = {
    ngx_string("aud"), ngx_string("exp"), ngx_string("iat"),
    ngx_string("nbf"), ngx_string("iss"), ngx_string("actort"),
    ngx_string("acr"), ngx_string("azp"), ngx_string("c_hash"),
    ngx_string("jti"), ngx_string("nonce"),
    ngx_null_string
};


/* a value of the request shown in a log: 64 bytes of it, URL-escaped */
#define NGX_HTTP_SIGNALR_SHOWN_LEN  (64 * 3)


/* how a too long user id is named in the answer */
static ngx_str_t  ngx_http_signalr_user_id_name = ngx_string("the user id");


/*
 * the system claims of the negotiate switches, with the values the SDK
 * writes (ClaimsUtility.cs BuildJwtClaims of Azure/azure-signalr): "true"
 * for a diagnostic client, and bool.ToString(), "True", for detailed errors
 */
static signalr_bytes_t  ngx_http_signalr_true_lower =
    { (const unsigned char *) "true", sizeof("true") - 1 };
static signalr_bytes_t  ngx_http_signalr_true_upper =
    { (const unsigned char *) "True", sizeof("True") - 1 };


/* the user claims refused for a directive of their own, and which */
static struct {
    ngx_str_t   name;
    char       *hint;
} ngx_http_signalr_system_claims[] = {
    { ngx_string("asrs.s.uid"),
      " (use \"signalr_user_id\" for the user id)" },
    { ngx_string("asrs.s.derror"),
      " (use \"signalr_negotiate_detailed_errors\" for detailed errors)" },
    { ngx_string("asrs.s.dc"),
      " (use \"signalr_negotiate_diagnostic_client\" for a diagnostic "
      "client)" },
    { ngx_null_string, NULL }
};


char *
ngx_http_signalr_negotiate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_signalr_loc_conf_t *slcf = conf;

    ngx_str_t                 *value;

    if (slcf->negotiate_hub) {
        return "is duplicate";
    }

    value = cf->args->elts;

    slcf->negotiate_hub = ngx_http_signalr_conf_hub(cf, &value[1]);
    if (slcf->negotiate_hub == NULL) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_signalr_conf_handler(cf, slcf,
                                         ngx_http_signalr_negotiate_handler);
}


/* a signalr_negotiate_endpoint without variables must name an endpoint */

char *
ngx_http_signalr_negotiate_check(ngx_conf_t *cf,
    ngx_http_signalr_loc_conf_t *slcf)
{
    ngx_str_t                     *name;
    ngx_http_signalr_main_conf_t  *smcf;

    if (slcf->negotiate_endpoint == NULL
        || slcf->negotiate_endpoint->lengths != NULL)
    {
        return NGX_CONF_OK;
    }

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_signalr_module);
    name = &slcf->negotiate_endpoint->value;

    if (name->len && ngx_http_signalr_endpoint_named(smcf, name) == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_negotiate_endpoint\" names no "
                           "\"signalr_endpoint\": \"%V\"", name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_signalr_claim(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_signalr_loc_conf_t *slcf = conf;

    u_char                            *p;
    char                              *hint;
    ngx_str_t                         *value, name;
    ngx_uint_t                         i;
    ngx_http_signalr_claim_t          *claim, *claims;
    ngx_http_complex_value_t          *cv;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;
    name = value[1];

    if (name.len == 0 || !signalr_utf8_valid(name.data, name.len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid claim name \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    if (name.len >= 7 && ngx_strncasecmp(name.data, (u_char *) "asrs.s.", 7)
                         == 0)
    {
        hint = "";

        for (i = 0; ngx_http_signalr_system_claims[i].name.len; i++) {
            if (ngx_http_signalr_system_claims[i].name.len == name.len
                && ngx_strncasecmp(ngx_http_signalr_system_claims[i].name.data,
                                   name.data, name.len)
                   == 0)
            {
                hint = ngx_http_signalr_system_claims[i].hint;
                break;
            }
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "claim \"%V\" is refused: \"asrs.s.*\" claims are "
                           "reserved for the service%s", &name, hint);
        return NGX_CONF_ERROR;
    }

    if (slcf->claims == NGX_CONF_UNSET_PTR) {
        slcf->claims = ngx_array_create(cf->pool, 4,
                                        sizeof(ngx_http_signalr_claim_t));
        if (slcf->claims == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_signalr_claim_renamed(slcf->claims, &name)) {
        p = ngx_pnalloc(cf->pool, sizeof("asrs.u.") - 1 + name.len);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        name.len = ngx_sprintf(p, "asrs.u.%V", &value[1]) - p;
        name.data = p;
    }

    claim = NULL;
    claims = slcf->claims->elts;

    for (i = 0; i < slcf->claims->nelts; i++) {
        if (claims[i].name.len == name.len
            && ngx_strncmp(claims[i].name.data, name.data, name.len) == 0)
        {
            claim = &claims[i];
            break;
        }
    }

    if (claim == NULL) {
        claim = ngx_array_push(slcf->claims);
        if (claim == NULL) {
            return NGX_CONF_ERROR;
        }

        claim->name = name;

        if (ngx_array_init(&claim->values, cf->pool, 1,
                           sizeof(ngx_http_complex_value_t))
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    cv = ngx_array_push(&claim->values);
    if (cv == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = cv;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * signalr_negotiate_detailed_errors, signalr_negotiate_diagnostic_client:
 * a value without variables is decided now, and a bad one fails the
 * configuration; one with variables is decided for each request
 */

char *
ngx_http_signalr_negotiate_switch(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    ngx_int_t                          on;
    ngx_str_t                         *value;
    ngx_http_signalr_switch_t         *sw, **swp;
    ngx_http_compile_complex_value_t   ccv;

    swp = (ngx_http_signalr_switch_t **) (p + cmd->offset);

    if (*swp != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    sw = ngx_pcalloc(cf->pool, sizeof(ngx_http_signalr_switch_t));
    if (sw == NULL) {
        return NGX_CONF_ERROR;
    }

    sw->value = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (sw->value == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = sw->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (sw->value->lengths == NULL) {
        on = ngx_http_signalr_switch_parse(&value[1]);

        if (on == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\" in \"%V\" directive, "
                               "it must be \"on\" or \"off\" (or \"true\", "
                               "\"1\", \"false\", \"0\", \"\")",
                               &value[1], &cmd->name);
            return NGX_CONF_ERROR;
        }

        sw->on = on;
        sw->value = NULL;
    }

    *swp = sw;

    return NGX_CONF_OK;
}


/*
 * a switch's value: 1 for "on", "true", "1"; 0 for "off", "false", "0" and
 * the empty value; NGX_ERROR for anything else (any case)
 */

static ngx_int_t
ngx_http_signalr_switch_parse(ngx_str_t *value)
{
    ngx_uint_t  i;

    static ngx_conf_enum_t  values[] = {
        { ngx_string("on"), 1 },
        { ngx_string("true"), 1 },
        { ngx_string("1"), 1 },
        { ngx_string("off"), 0 },
        { ngx_string("false"), 0 },
        { ngx_string("0"), 0 },
        { ngx_null_string, 0 }
    };

    if (value->len == 0) {
        return 0;
    }

    for (i = 0; values[i].name.len; i++) {
        if (values[i].name.len == value->len
            && ngx_strncasecmp(values[i].name.data, value->data, value->len)
               == 0)
        {
            return values[i].value;
        }
    }

    return NGX_ERROR;
}


/*
 * as the SDK does: reserved names become asrs.u.<name>, and so does every
 * "sub" after the first one
 */

static ngx_uint_t
ngx_http_signalr_claim_renamed(ngx_array_t *claims, ngx_str_t *name)
{
    ngx_str_t                 *r;
    ngx_uint_t                 i;
    ngx_http_signalr_claim_t  *c;

    for (r = ngx_http_signalr_renamed_claims; r->len; r++) {
        if (r->len == name->len
            && ngx_strncmp(r->data, name->data, name->len) == 0)
        {
            return 1;
        }
    }

    if (name->len != 3 || ngx_strncmp(name->data, "sub", 3) != 0) {
        return 0;
    }

    c = claims->elts;

    for (i = 0; i < claims->nelts; i++) {
        if (c[i].name.len == 3 && ngx_strncmp(c[i].name.data, "sub", 3) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* the endpoint negotiate would give has the credentials to sign with */

static ngx_uint_t
ngx_http_signalr_negotiate_ready(ngx_http_request_t *r)
{
    ngx_uint_t                     i, pending;
    ngx_http_signalr_endpoint_t   *eps;
    ngx_http_signalr_main_conf_t  *smcf;

    /*
     * an endpoint to give out: an online one that can sign (what the
     * choice of ngx_http_signalr_pick_endpoint() takes first); else one
     * whose refresh is under way is waited for, and without one the
     * answer comes now (503 when the endpoint given cannot sign)
     */

    smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);
    eps = smcf->endpoints.elts;
    pending = 0;

    for (i = 0; i < smcf->endpoints.nelts; i++) {
        if (ngx_http_signalr_endpoint_usable(&eps[i])) {
            return 1;
        }

        if (eps[i].entra && !ngx_http_signalr_entra_can_sign(&eps[i])
            && ngx_http_signalr_entra_pending(&eps[i]))
        {
            pending = 1;
        }
    }

    return !pending;
}


static void
ngx_http_signalr_negotiate_resume(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_signalr_negotiate_handler(r));
}


static ngx_int_t
ngx_http_signalr_negotiate_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_str_t                      value;
    ngx_http_signalr_main_conf_t  *smcf;
    signalr_jw_t             w;
    signalr_str_t            text;
    ngx_table_elt_t         *h;
    ngx_http_signalr_ctx_t  *ctx;
#if (nginx_version < 1023000)
    ngx_table_elt_t        **ccp;
#endif

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_POST|NGX_HTTP_OPTIONS))) {
        return ngx_http_signalr_not_allowed(r, "GET, POST, OPTIONS",
                                            "negotiate takes GET or POST");
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (r->method == NGX_HTTP_OPTIONS) {
        /* a CORS preflight: add_header supplies the Access-Control-* */
        r->headers_out.status = NGX_HTTP_NO_CONTENT;
        r->header_only = 1;
        r->headers_out.content_length_n = 0;
        return ngx_http_send_header(r);
    }

    ctx = ngx_http_signalr_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the probes and Entra ID refreshes due, beside this request */
    ngx_http_signalr_probe(r);
    ngx_http_signalr_entra_refresh(r);

    /* with Entra ID, the first key is waited for (entra_wait=) */

    smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);

    if (smcf->entra) {
        rc = ngx_http_signalr_entra_wait(r, ngx_http_signalr_negotiate_ready,
                                         ngx_http_signalr_negotiate_resume, 0);

        if (rc == NGX_AGAIN) {
            r->main->count++;
            return NGX_DONE;
        }

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_signalr_negotiate_compute(r, ctx) != NGX_OK) {

        if (ctx->negotiate_err.status == NGX_HTTP_SERVICE_UNAVAILABLE) {
            return ngx_http_signalr_entra_unavailable(r,
                                              ctx->negotiate_err.message);
        }

        return ngx_http_signalr_send_error(r, ctx->negotiate_err.status,
                                           ctx->negotiate_err.message);
    }

    ngx_http_signalr_jw_init(r, &w, &text);

    /*
     * a hint, so that the answer is written in one block: the escaped URL
     * is at most six times as long, and 64 bytes cover the rest
     */

    (void) signalr_str_reserve(&text, 64 + 6 * ctx->client_url.len
                                      + ctx->access_token.len);

    signalr_jw_object(&w);
    signalr_jw_key_lit(&w, "url");
    signalr_jw_string(&w, ctx->client_url.data, ctx->client_url.len);
    signalr_jw_key_lit(&w, "accessToken");
    /* base64url segments and dots: JSON as they are */
    signalr_jw_string_plain(&w, ctx->access_token.data,
                            ctx->access_token.len);
    signalr_jw_end(&w);

    /*
     * the answer holds a token: never stored by a cache; set as the
     * response's Cache-Control, which $sent_http_cache_control reads and
     * which "expires" would replace
     */

    ngx_str_set(&value, "no-store");

    h = ngx_http_signalr_add_header(r, "Cache-Control", &value);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

#if (nginx_version >= 1023000)
    r->headers_out.cache_control = h;
#else
    if (r->headers_out.cache_control.elts == NULL
        && ngx_array_init(&r->headers_out.cache_control, r->pool, 1,
                          sizeof(ngx_table_elt_t *))
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ccp = ngx_array_push(&r->headers_out.cache_control);
    if (ccp == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *ccp = h;
#endif

    return ngx_http_signalr_send_jw(r, NGX_HTTP_OK, &w);
}


ngx_int_t
ngx_http_signalr_negotiate_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                    *value;
    ngx_http_signalr_ctx_t       *ctx;
    ngx_http_signalr_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_signalr_module);

    if (slcf->negotiate_hub == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    ctx = ngx_http_signalr_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_signalr_negotiate_compute(r, ctx) != NGX_OK) {
        v->not_found = 1;
        return NGX_OK;
    }

    value = (ngx_str_t *) ((char *) ctx + data);

    return ngx_http_signalr_variable_set(v, value->data, value->len);
}


/*
 * $signalr_endpoint: the name of the endpoint the request used: the one a
 * negotiate location gave out with a token (made here if it is read before
 * the answer, in "return" or "add_header"; never for an answer already
 * sent, such as a preflight's); else that of the main request, as the
 * trigger's variables are seen in its route: the one whose key signed an
 * upstream call, the one of an output's last REST call
 */

ngx_int_t
ngx_http_signalr_endpoint_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_signalr_ctx_t       *ctx;
    ngx_http_signalr_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_signalr_module);

    if (slcf->negotiate_hub) {
        ctx = ngx_http_signalr_get_ctx(r);
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        if ((ctx->negotiated == slcf || !r->header_sent)
            && ngx_http_signalr_negotiate_compute(r, ctx) != NGX_OK)
        {
            v->not_found = 1;
            return NGX_OK;
        }

        if (ctx->negotiated != slcf) {
            v->not_found = 1;
            return NGX_OK;
        }

    } else {
        ctx = ngx_http_get_module_ctx(r->main, ngx_http_signalr_module);
    }

    if (ctx == NULL || ctx->endpoint == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_signalr_variable_set(v, ctx->endpoint->name.data,
                                         ctx->endpoint->name.len);
}


/*
 * the token, made once a request for the answer and the variables; again
 * only in another location (rewrite ... last keeps the module's context)
 */

static ngx_int_t
ngx_http_signalr_negotiate_compute(ngx_http_request_t *r,
    ngx_http_signalr_ctx_t *ctx)
{
    ngx_http_signalr_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_signalr_module);

    if (ctx->negotiated != slcf) {
        ngx_str_null(&ctx->access_token);
        ctx->negotiate_rc = ngx_http_signalr_negotiate_token(r, ctx,
                                                         &ctx->negotiate_err);
        ctx->negotiated = slcf;
    }

    return ctx->negotiate_rc;
}


/*
 * The endpoint signalr_negotiate_endpoint names, while it is online; the
 * usual choice when it is empty or offline. NGX_DECLINED: the value names
 * no endpoint.
 */

static ngx_int_t
ngx_http_signalr_negotiate_endpoint(ngx_http_request_t *r,
    ngx_http_signalr_loc_conf_t *slcf, ngx_http_signalr_endpoint_t **ep)
{
    ngx_str_t                      name, shown;
    ngx_http_signalr_endpoint_t   *named;
    ngx_http_signalr_main_conf_t  *smcf;
    u_char                         text[NGX_HTTP_SIGNALR_SHOWN_LEN];

    if (slcf->negotiate_endpoint == NULL) {
        *ep = ngx_http_signalr_pick_endpoint(r);
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, slcf->negotiate_endpoint, &name) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (name.len == 0) {
        *ep = ngx_http_signalr_pick_endpoint(r);
        return NGX_OK;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);

    named = ngx_http_signalr_endpoint_named(smcf, &name);

    if (named == NULL) {

        ngx_http_signalr_shown(&name, text, &shown);

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "signalr: negotiate refused: \"signalr_negotiate_"
                      "endpoint\" is \"%V\", which names no endpoint",
                      &shown);
        return NGX_DECLINED;
    }

    if (ngx_http_signalr_endpoint_usable(named)) {
        *ep = named;
        return NGX_OK;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "signalr negotiate: endpoint \"%V\" is offline, "
                   "another is chosen", &named->name);

    *ep = ngx_http_signalr_pick_endpoint(r);

    return NGX_OK;
}


static ngx_int_t
ngx_http_signalr_negotiate_token(ngx_http_request_t *r,
    ngx_http_signalr_ctx_t *ctx, ngx_http_signalr_error_t *err)
{
    u_char                       *p;
    size_t                        excess, input_len;
    ngx_int_t                      rc;
    ngx_str_t                      aud, longest;
    ngx_uint_t                     n;
    signalr_jwt_claim_t           *claims;
    ngx_http_signalr_endpoint_t   *ep;
    ngx_http_signalr_loc_conf_t   *slcf;
    ngx_http_signalr_main_conf_t  *smcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_signalr_module);

    /* what any failure below that is not the client's answers */
    (void) ngx_http_signalr_fail(err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                 "the access token could not be created");

    ctx->negotiate_refusal = NGX_HTTP_SIGNALR_REFUSED_ERROR;

    rc = ngx_http_signalr_check_hub(r, slcf->negotiate_hub, &ctx->hub);

    if (rc == NGX_DECLINED) {
        ctx->negotiate_refusal = NGX_HTTP_SIGNALR_REFUSED_BAD_HUB;
        return ngx_http_signalr_fail(err, NGX_HTTP_BAD_REQUEST,
                                     "invalid hub name");
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    /* the claims: the user id, then the configured ones in order */

    if (ngx_http_signalr_negotiate_claims(r, slcf, err, &claims, &n,
                                          &longest, &input_len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * the client URL and the audience, as DefaultServiceEndpointGenerator.cs
     * of Azure/azure-signalr makes them (docs/directives.md)
     */

    rc = ngx_http_signalr_negotiate_endpoint(r, slcf, &ep);

    if (rc == NGX_DECLINED) {
        ctx->negotiate_refusal = NGX_HTTP_SIGNALR_REFUSED_NO_ENDPOINT;
        return ngx_http_signalr_fail(err, NGX_HTTP_BAD_REQUEST,
                                     "signalr_negotiate_endpoint names no "
                                     "endpoint");
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->endpoint = ep;

    ctx->client_url.data = ngx_pnalloc(r->pool, ep->client_base.len
                                       + sizeof("client/?hub=") - 1
                                       + ctx->hub.len);
    aud.data = ngx_pnalloc(r->pool, ep->audience_base.len
                           + sizeof("client/?hub=") - 1 + ctx->hub.len);

    if (ctx->client_url.data == NULL || aud.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(ctx->client_url.data, ep->client_base.data,
                   ep->client_base.len);
    p = ngx_cpymem(p, "client/?hub=", sizeof("client/?hub=") - 1);
    p = ngx_cpymem(p, ctx->hub.data, ctx->hub.len);
    ctx->client_url.len = p - ctx->client_url.data;

    p = ngx_cpymem(aud.data, ep->audience_base.data, ep->audience_base.len);
    p = ngx_cpymem(p, "client/?hub=", sizeof("client/?hub=") - 1);
    p = ngx_cpymem(p, ctx->hub.data, ctx->hub.len);
    aud.len = p - aud.data;

    rc = ngx_http_signalr_token(r, ep, claims, n, &aud, slcf->token_lifetime,
                                &ctx->access_token);

    if (rc == NGX_AGAIN) {
        smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);

        if (ngx_http_signalr_shm_warn_now(smcf)) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "signalr: negotiate: endpoint \"%V\" has no "
                          "Microsoft Entra ID key yet (the refresh's errors "
                          "say why)", &ep->name);
        }

        ctx->negotiate_refusal = NGX_HTTP_SIGNALR_REFUSED_NOT_READY;
        return ngx_http_signalr_fail(err, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "the service's Microsoft Entra ID key "
                                     "is not available yet");
    }

    if (rc == NGX_DECLINED) {
        excess = ctx->access_token.len - SIGNALR_JWT_MAX_LEN;
        ngx_str_null(&ctx->access_token);
        ctx->negotiate_refusal = NGX_HTTP_SIGNALR_REFUSED_TOKEN_TOO_LONG;

        /*
         * the request's input is to blame when leaving its values out
         * would be enough (in base64url each takes at least 4/3 of its
         * length): together, as several may make the token too long when
         * none does alone; the longest is named. Else the configuration is
         */

        if (longest.data && input_len * 4 / 3 >= excess) {
            return ngx_http_signalr_negotiate_too_long(r, err, &longest);
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "signalr: the access token for hub \"%V\" would be at "
                      "least %uz characters long, but the service takes at "
                      "most %d: shorten the user id or the claims",
                      &ctx->hub, excess + SIGNALR_JWT_MAX_LEN,
                      SIGNALR_JWT_MAX_LEN);
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "signalr negotiate: hub \"%V\" endpoint \"%V\", "
                   "token of %uz bytes",
                   &ctx->hub, &ep->name, ctx->access_token.len);

    return NGX_OK;
}


/* why the request gets no token, for the status page */

static void
ngx_http_signalr_negotiate_refused(ngx_http_request_t *r, ngx_uint_t reason)
{
    ngx_http_signalr_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_signalr_module);

    if (ctx) {
        ctx->negotiate_refusal = reason;
    }
}


/* 400: a value of the request makes the token longer than the service takes */

static ngx_int_t
ngx_http_signalr_negotiate_too_long(ngx_http_request_t *r,
    ngx_http_signalr_error_t *err, ngx_str_t *what)
{
    u_char  *p, *last;
    size_t   len;

    len = sizeof("the claim \"\" is too long for an access token") + what->len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (what->data == ngx_http_signalr_user_id_name.data) {
        last = ngx_sprintf(p, "the user id is too long for an access token");

    } else {
        last = ngx_sprintf(p, "the claim \"%V\" is too long for an access "
                           "token", what);
    }

    *last = '\0';

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "signalr: negotiate refused: %s", p);

    return ngx_http_signalr_fail(err, NGX_HTTP_BAD_REQUEST, (char *) p);
}


/*
 * the token's claims: asrs.s.uid from signalr_user_id (when not empty),
 * then those of signalr_claim in order, their empty values left out; a
 * value that is not UTF-8 is refused with 400. longest: the name of the
 * longest value that came from a variable ("the user id", or a claim's),
 * the name's data NULL when none did; input_len: the length of all the
 * values that came from variables
 */

static ngx_int_t
ngx_http_signalr_negotiate_claims(ngx_http_request_t *r,
    ngx_http_signalr_loc_conf_t *slcf, ngx_http_signalr_error_t *err,
    signalr_jwt_claim_t **out, ngx_uint_t *nout, ngx_str_t *longest,
    size_t *input_len)
{
    size_t                     max;
    ngx_int_t                  rc;
    ngx_str_t                  user, value;
    ngx_uint_t                 i, j, n, on;
    signalr_bytes_t           *values;
    signalr_jwt_claim_t       *claims;
    ngx_http_signalr_claim_t  *conf_claims;
    ngx_http_complex_value_t  *cvs;

    ngx_str_null(longest);
    *input_len = 0;
    max = 0;

    /* the user id, the two switches' claims, then the configured ones */
    n = 3 + (slcf->claims ? slcf->claims->nelts : 0);

    claims = ngx_pcalloc(r->pool, n * sizeof(signalr_jwt_claim_t));
    if (claims == NULL) {
        return NGX_ERROR;
    }

    n = 0;

    if (slcf->user_id) {
        rc = ngx_http_signalr_eval_utf8(r, slcf->user_id, &user, "user id");

        if (rc == NGX_DECLINED) {
            ngx_http_signalr_negotiate_refused(r,
                                    NGX_HTTP_SIGNALR_REFUSED_INVALID_USER_ID);
            return ngx_http_signalr_fail(err, NGX_HTTP_BAD_REQUEST,
                                         "the user id is not valid UTF-8");
        }

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }

        if (slcf->user_id->lengths) {
            *input_len += user.len;

            if (user.len > max) {
                max = user.len;
                *longest = ngx_http_signalr_user_id_name;
            }
        }

        if (user.len) {
            values = ngx_palloc(r->pool, sizeof(signalr_bytes_t));
            if (values == NULL) {
                return NGX_ERROR;
            }

            values->data = user.data;
            values->len = user.len;

            claims[n].name.data = (u_char *) "asrs.s.uid";
            claims[n].name.len = sizeof("asrs.s.uid") - 1;
            claims[n].values = values;
            claims[n].nvalues = 1;
            n++;
        }
    }

    /* in the SDK's order: asrs.s.dc, then asrs.s.derror */

    if (ngx_http_signalr_switch_value(r, slcf->diagnostic_client,
                                      "signalr_negotiate_diagnostic_client",
                                      &on)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (on) {
        claims[n].name.data = (u_char *) "asrs.s.dc";
        claims[n].name.len = sizeof("asrs.s.dc") - 1;
        claims[n].values = &ngx_http_signalr_true_lower;
        claims[n].nvalues = 1;
        n++;
    }

    if (ngx_http_signalr_switch_value(r, slcf->detailed_errors,
                                      "signalr_negotiate_detailed_errors",
                                      &on)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (on) {
        claims[n].name.data = (u_char *) "asrs.s.derror";
        claims[n].name.len = sizeof("asrs.s.derror") - 1;
        claims[n].values = &ngx_http_signalr_true_upper;
        claims[n].nvalues = 1;
        n++;
    }

    if (slcf->claims) {
        conf_claims = slcf->claims->elts;

        for (i = 0; i < slcf->claims->nelts; i++) {
            cvs = conf_claims[i].values.elts;

            values = ngx_palloc(r->pool, conf_claims[i].values.nelts
                                         * sizeof(signalr_bytes_t));
            if (values == NULL) {
                return NGX_ERROR;
            }

            claims[n].name.data = conf_claims[i].name.data;
            claims[n].name.len = conf_claims[i].name.len;
            claims[n].values = values;

            for (j = 0; j < conf_claims[i].values.nelts; j++) {
                rc = ngx_http_signalr_eval_utf8(r, &cvs[j], &value, "claim");

                if (rc == NGX_DECLINED) {
                    ngx_http_signalr_negotiate_refused(r,
                                      NGX_HTTP_SIGNALR_REFUSED_INVALID_CLAIM);
                    return ngx_http_signalr_fail(err, NGX_HTTP_BAD_REQUEST,
                                                 "a claim value is not valid "
                                                 "UTF-8");
                }

                if (rc != NGX_OK) {
                    return NGX_ERROR;
                }

                if (cvs[j].lengths) {
                    *input_len += value.len;

                    if (value.len > max) {
                        max = value.len;
                        *longest = conf_claims[i].name;
                    }
                }

                if (value.len) {
                    values[claims[n].nvalues].data = value.data;
                    values[claims[n].nvalues].len = value.len;
                    claims[n].nvalues++;
                }
            }

            n++;
        }
    }

    *out = claims;
    *nout = n;

    return NGX_OK;
}


static ngx_int_t
ngx_http_signalr_eval_utf8(ngx_http_request_t *r,
    ngx_http_complex_value_t *cv, ngx_str_t *value, const char *what)
{
    if (ngx_http_complex_value(r, cv, value) != NGX_OK) {
        return NGX_ERROR;
    }

    if (!signalr_utf8_valid(value->data, value->len)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "signalr: the %s is not valid UTF-8", what);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * a switch for this request (NULL: off): NGX_OK and *on, or NGX_ERROR for
 * a value of its variables that is neither on nor off, logged at error: the
 * configuration is to map what it takes to on or off
 */

static ngx_int_t
ngx_http_signalr_switch_value(ngx_http_request_t *r,
    ngx_http_signalr_switch_t *sw, const char *directive, ngx_uint_t *on)
{
    ngx_int_t  rc;
    ngx_str_t  value, shown;
    u_char     text[NGX_HTTP_SIGNALR_SHOWN_LEN];

    if (sw == NULL) {
        *on = 0;
        return NGX_OK;
    }

    if (sw->value == NULL) {
        *on = sw->on;
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, sw->value, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_signalr_switch_parse(&value);

    if (rc != NGX_ERROR) {
        *on = rc;
        return NGX_OK;
    }

    ngx_http_signalr_shown(&value, text, &shown);

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "signalr: negotiate failed: \"%s\" is \"%V\", neither on "
                  "nor off: map its value to on or off", directive, &shown);

    return NGX_ERROR;
}


/*
 * a value that may come from the client, for a log line: its first 64
 * bytes, URL-escaped, in buf (NGX_HTTP_SIGNALR_SHOWN_LEN bytes)
 */

static void
ngx_http_signalr_shown(ngx_str_t *value, u_char *buf, ngx_str_t *shown)
{
    shown->data = buf;
    shown->len = (u_char *) ngx_escape_uri(buf, value->data,
                                           ngx_min(value->len, 64),
                                           NGX_ESCAPE_URI_COMPONENT)
                 - buf;
}
