/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Output: the SignalR output binding of Azure Functions as an nginx
 * location. The actions POSTed to it (one JSON object or an array), or the
 * single action its templated directives describe, become calls of the
 * SignalR Service REST API. The calls are validated as a whole, then sent
 * one at a time, each to every endpoint, as subrequests to the endpoints'
 * rest= locations, and the caller learns exactly what was delivered.
 */

#include "ngx_http_signalr_module.h"
#include "ngx_http_signalr_endpoint.h"
#include "ngx_http_signalr_output.h"
#include "ngx_http_signalr_probe.h"
#include "ngx_http_signalr_entra.h"
#include "ngx_http_signalr_shm.h"
#include "ngx_http_signalr_subrequest.h"
#include "ngx_http_signalr_util.h"
#include "signalr_action.h"
#include "signalr_json.h"
#include "signalr_names.h"


#define NGX_HTTP_SIGNALR_REST_MAX_RESPONSE    16384
#define NGX_HTTP_SIGNALR_REST_BACKOFF         100      /* ms, then doubled */
#define NGX_HTTP_SIGNALR_REST_BACKOFF_MAX     3200


/* the endpoints of a call are bits of a uint64_t, counted in a u_char */
#if (NGX_HTTP_SIGNALR_MAX_ENDPOINTS > 64)
#error "NGX_HTTP_SIGNALR_MAX_ENDPOINTS must be at most 64"
#endif


/* a REST call, copied into the request's pool */

typedef struct {
    ngx_uint_t                      method;
    ngx_str_t                       method_name;
    ngx_str_t                       path;          /* "/api/hubs/...", */
    ngx_str_t                       query;         /* escaped */
    ngx_str_t                       body;
    const char                     *what;          /* "broadcast", ... */
    const char                     *absent;        /* 404 code that is done */
    uint64_t                        endpoints;     /* the ones it goes to */
    unsigned                        message:1;
    unsigned                        connection:1;
} ngx_http_signalr_call_t;


/* a call an endpoint did not take, and why */

typedef struct {
    ngx_uint_t                      call;
    ngx_uint_t                      status;        /* 502: no answer */
    ngx_str_t                       code;          /* x-ms-error-code */
    ngx_str_t                       retry_after;
    unsigned                        no_response:1;
    unsigned                        no_credentials:1;  /* not sent */
} ngx_http_signalr_failure_t;


/*
 * The calls sent to one endpoint: in order, one at a time, each retried as
 * the location says. The endpoints' runs go on in parallel.
 */

typedef struct {
    ngx_http_signalr_endpoint_t    *ep;
    ngx_uint_t                      index;         /* in the configuration */
    ngx_http_request_t             *request;
    ngx_uint_t                      call;          /* under way, or next */
    ngx_uint_t                      attempt;       /* 0: the first one */
    ngx_http_signalr_capture_t     *cap;           /* its answer */
    ngx_event_t                     retry;
    ngx_uint_t                      completed;     /* calls it took */
    ngx_array_t                    *failures;      /* of failure_t */
    unsigned                        skipped:1;     /* offline: not sent */
    unsigned                        running:1;
    unsigned                        stopped:1;     /* by a failure */
} ngx_http_signalr_output_run_t;


struct ngx_http_signalr_output_ctx_s {
    ngx_http_signalr_call_t        *calls;
    ngx_uint_t                      ncalls;

    ngx_http_signalr_output_run_t  *runs;          /* one per endpoint */
    ngx_uint_t                      nruns;
    ngx_uint_t                      running;
    uint64_t                        online;        /* when it started */
    uint64_t                        ready;         /* with credentials */

    u_char                         *taken;         /* per call: the */
                                                   /* endpoints that took it, */
    u_char                         *targets;       /* of those it was sent to */
                                                   /* (u_char: at most 64) */

    ngx_http_signalr_output_vars_t  v;            /* $signalr_rest_status */

    unsigned                        finished:1;
};


static ngx_int_t ngx_http_signalr_output_handler(ngx_http_request_t *r);
static void ngx_http_signalr_output_body(ngx_http_request_t *r);
static ngx_uint_t ngx_http_signalr_output_ready(ngx_http_request_t *r);
static ngx_int_t ngx_http_signalr_output_calls(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_str_t *hub, ngx_str_t *body,
    char *err, size_t errlen);
static ngx_int_t ngx_http_signalr_output_start(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_error_t *err);
static ngx_int_t ngx_http_signalr_output_arguments(ngx_http_request_t *r,
    ngx_http_signalr_loc_conf_t *slcf, ngx_str_t *body, json_t **out,
    char *err, size_t errlen);
static ngx_int_t ngx_http_signalr_output_template(ngx_http_request_t *r,
    ngx_str_t *body, json_t **item, char *err, size_t errlen);
static ngx_int_t ngx_http_signalr_output_set_id(ngx_http_request_t *r,
    json_t *item, const char *key, ngx_http_complex_value_t *cv,
    const char *directive, char *err, size_t errlen);
static void ngx_http_signalr_output_error_text(char *err, size_t errlen,
    const char *fmt, ...);
static ngx_int_t ngx_http_signalr_output_copy(ngx_http_request_t *r,
    ngx_http_signalr_call_t *dst, signalr_rest_call_t *src, ngx_uint_t n,
    char *err, size_t errlen);
static ngx_int_t ngx_http_signalr_output_select(ngx_http_request_t *r,
    ngx_http_signalr_call_t *dst, signalr_rest_call_t *src, ngx_uint_t n,
    char *err, size_t errlen);
static ngx_uint_t ngx_http_signalr_output_for(
    ngx_http_signalr_output_ctx_t *octx, ngx_uint_t run, ngx_uint_t call);
static ngx_uint_t ngx_http_signalr_output_first(
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_run_t *run,
    ngx_uint_t call);
static ngx_int_t ngx_http_signalr_output_runs(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx);
static ngx_int_t ngx_http_signalr_output_send(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_run_t *run);
static void ngx_http_signalr_output_resume(ngx_http_request_t *r);
static void ngx_http_signalr_output_finish(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_int_t rc);
static ngx_int_t ngx_http_signalr_output_next(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_run_t *run,
    ngx_http_signalr_capture_t *cap);
static ngx_int_t ngx_http_signalr_output_advance(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_run_t *run);
static ngx_uint_t ngx_http_signalr_output_answered(ngx_http_request_t *r,
    ngx_http_signalr_output_run_t *run, ngx_http_signalr_call_t *call,
    ngx_http_signalr_capture_t *cap);
static ngx_uint_t ngx_http_signalr_output_retryable(
    ngx_http_signalr_call_t *call, ngx_http_signalr_capture_t *cap);
static ngx_http_signalr_failure_t *ngx_http_signalr_output_failure(
    ngx_http_request_t *r, ngx_http_signalr_output_run_t *run,
    ngx_http_signalr_capture_t *cap);
static void ngx_http_signalr_output_retry_handler(ngx_event_t *ev);
static void ngx_http_signalr_output_cleanup(void *data);
static ngx_int_t ngx_http_signalr_output_done(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx);
static ngx_http_signalr_failure_t *ngx_http_signalr_output_why(
    ngx_http_signalr_output_ctx_t *octx, ngx_uint_t call,
    ngx_http_signalr_output_run_t **run);
static const char *ngx_http_signalr_output_classify(
    ngx_http_signalr_failure_t *f, ngx_uint_t *status);
static void ngx_http_signalr_output_endpoints(
    ngx_http_signalr_output_ctx_t *octx, signalr_jw_t *w);
static void ngx_http_signalr_output_log_failure(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_run_t *run,
    ngx_http_signalr_failure_t *f, ngx_uint_t went_on);


static ngx_str_t  ngx_http_signalr_rest_methods[] = {
    ngx_null_string,
    ngx_string("POST"),                    /* SIGNALR_REST_POST */
    ngx_string("PUT"),                     /* SIGNALR_REST_PUT */
    ngx_string("DELETE")                   /* SIGNALR_REST_DELETE */
};


static ngx_uint_t  ngx_http_signalr_rest_method_ids[] = {
    0,
    NGX_HTTP_POST,
    NGX_HTTP_PUT,
    NGX_HTTP_DELETE
};


static const char  *ngx_http_signalr_group_action_names[] = {
    NULL, "add", "remove", "removeAll"
};


char *
ngx_http_signalr_output(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_signalr_loc_conf_t *slcf = conf;

    ngx_str_t                 *value;

    if (slcf->output_hub) {
        return "is duplicate";
    }

    value = cf->args->elts;

    slcf->output_hub = ngx_http_signalr_conf_hub(cf, &value[1]);
    if (slcf->output_hub == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_http_signalr_conf_handler(cf, slcf, ngx_http_signalr_output_handler);

    return NGX_CONF_OK;
}


char *
ngx_http_signalr_output_check(ngx_conf_t *cf,
    ngx_http_signalr_loc_conf_t *slcf)
{
    ngx_uint_t                     i;
    ngx_http_signalr_endpoint_t   *eps;
    ngx_http_signalr_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_signalr_module);

    eps = smcf->endpoints.elts;

    for (i = 0; i < smcf->endpoints.nelts; i++) {
        if (eps[i].rest.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"signalr_output\" needs \"rest=\" on "
                               "endpoint \"%V\"", &eps[i].name);
            return NGX_CONF_ERROR;
        }
    }

    if (slcf->target && slcf->group_action) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_target\" and \"signalr_group_action\" "
                           "cannot be used together: a location sends a "
                           "message or makes a group action");
        return NGX_CONF_ERROR;
    }

    if (slcf->arguments && slcf->target == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_arguments\" needs \"signalr_target\"");
        return NGX_CONF_ERROR;
    }

    if ((slcf->group_action == NGX_HTTP_SIGNALR_GROUP_ADD
         || slcf->group_action == NGX_HTTP_SIGNALR_GROUP_REMOVE)
        && slcf->group == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_group_action %s\" needs "
                           "\"signalr_group\"",
                           slcf->group_action == NGX_HTTP_SIGNALR_GROUP_ADD
                           ? "add" : "remove");
        return NGX_CONF_ERROR;
    }

    if (slcf->group_action
        && slcf->recipient == NULL && slcf->connection_id == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_group_action\" needs "
                           "\"signalr_user_id\" or "
                           "\"signalr_connection_id\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_signalr_output_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                         *p;
    ngx_uint_t                      n;
    ngx_http_signalr_ctx_t         *ctx;
    ngx_http_signalr_output_ctx_t  *octx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_signalr_module);
    octx = ctx ? ctx->output : NULL;

    if (octx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    n = *(ngx_uint_t *) ((u_char *) &octx->v + data);

    /* no REST call answered yet */

    if (n == 0 && data == offsetof(ngx_http_signalr_output_vars_t, rest_status))
    {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_signalr_variable_set(v, p, ngx_sprintf(p, "%ui", n) - p);
}


static ngx_int_t
ngx_http_signalr_output_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_pool_cleanup_t             *cln;
    ngx_http_signalr_ctx_t         *ctx;
    ngx_http_signalr_loc_conf_t    *slcf;
    ngx_http_signalr_output_ctx_t  *octx;

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_signalr_not_allowed(r, "POST",
                                            "signalr_output takes POST");
    }

    ctx = ngx_http_signalr_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    octx = ngx_pcalloc(r->pool, sizeof(ngx_http_signalr_output_ctx_t));
    if (octx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_signalr_output_cleanup;
    cln->data = octx;

    ctx->output = octx;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_signalr_module);

    if (r->headers_in.content_length_n > (off_t) slcf->output_max_body) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        octx->finished = 1;

        return ngx_http_signalr_send_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                           "the body is larger than "
                                           "signalr_output_max_body");
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_signalr_output_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/*
 * calls can go: an online endpoint has what it calls with (the first try
 * of ngx_http_signalr_output_runs()); else an Entra ID endpoint whose
 * credentials are coming is waited for
 */

static ngx_uint_t
ngx_http_signalr_output_ready(ngx_http_request_t *r)
{
    ngx_uint_t                     i, pending;
    ngx_http_signalr_endpoint_t   *eps;
    ngx_http_signalr_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);
    eps = smcf->endpoints.elts;
    pending = 0;

    for (i = 0; i < smcf->endpoints.nelts; i++) {
        if (eps[i].entra == NULL || ngx_http_signalr_entra_ready(&eps[i])) {
            if (ngx_http_signalr_endpoint_online(&eps[i])) {
                return 1;
            }

            continue;
        }

        if (ngx_http_signalr_entra_pending(&eps[i])) {
            pending = 1;
        }
    }

    return !pending;
}


static void
ngx_http_signalr_output_body(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_signalr_ctx_t         *ctx;
    ngx_http_signalr_main_conf_t   *smcf;
    ngx_http_signalr_error_t        err;
    ngx_http_signalr_output_ctx_t  *octx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_signalr_module);
    octx = ctx->output;

    /* the probes and Entra ID refreshes due, beside this request */
    ngx_http_signalr_probe(r);
    ngx_http_signalr_entra_refresh(r);

    /* with Entra ID, the first credentials are waited for (entra_wait=) */

    smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);

    if (smcf->entra) {
        rc = ngx_http_signalr_entra_wait(r, ngx_http_signalr_output_ready,
                                         ngx_http_signalr_output_body, 0);

        if (rc == NGX_AGAIN) {
            return;
        }

        if (rc == NGX_ERROR) {
            ngx_http_signalr_output_finish(r, octx,
                                           NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    rc = ngx_http_signalr_output_start(r, octx, &err);

    if (rc == NGX_ERROR) {
        rc = (err.status == NGX_HTTP_SERVICE_UNAVAILABLE)
             ? ngx_http_signalr_entra_unavailable(r, err.message)
             : ngx_http_signalr_send_error(r, err.status, err.message);
    }

    ngx_http_signalr_output_finish(r, octx, rc);
}


/*
 * The REST calls of the body's actions, or of the location's template, in
 * the request's pool, the parser's memory freed at once. NGX_DECLINED:
 * input to refuse, the reason in err.
 */

static ngx_int_t
ngx_http_signalr_output_calls(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_str_t *hub, ngx_str_t *body,
    char *err, size_t errlen)
{
    int                           rc;
    u_char                       *hubz;
    json_t                       *item;
    ngx_int_t                     n;
    ngx_uint_t                    i;
    signalr_rest_call_t           call;
    signalr_rest_calls_t          calls;
    ngx_http_signalr_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_signalr_module);

    /* the parser takes the hub as a C string */

    hubz = ngx_pnalloc(r->pool, hub->len + 1);
    if (hubz == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(hubz, hub->data, hub->len);
    hubz[hub->len] = '\0';

    err[0] = '\0';
    calls.calls = NULL;
    calls.n = 0;

    if (slcf->target || slcf->group_action) {

        /* templated: one action made of the location's directives */

        item = NULL;

        n = ngx_http_signalr_output_template(r, body, &item, err, errlen);

        if (n == NGX_OK) {
            rc = signalr_action_from_json((char *) hubz, item, &call, err,
                                          errlen);
            n = (rc == 0) ? NGX_OK : NGX_DECLINED;
        }

        if (item) {
            json_decref(item);
        }

        if (n == NGX_OK) {
            calls.calls = &call;
            calls.n = 1;
        }

    } else if (body->len == 0) {
        ngx_http_signalr_output_error_text(err, errlen, "the body is empty: "
                                           "it must be an action (a JSON "
                                           "object) or an array of actions");
        n = NGX_DECLINED;

    } else {
        rc = signalr_actions_parse((char *) hubz, (char *) body->data,
                                   body->len, slcf->output_max_actions,
                                   &calls, err, errlen);
        n = (rc == 0) ? NGX_OK : NGX_DECLINED;
    }

    if (n == NGX_DECLINED && ngx_strcmp(err, SIGNALR_ACTION_NOMEM) == 0) {
        return NGX_ERROR;
    }

    if (n != NGX_OK) {
        return n;
    }

    octx->calls = ngx_pcalloc(r->pool,
                              calls.n * sizeof(ngx_http_signalr_call_t));
    n = (octx->calls == NULL) ? NGX_ERROR : NGX_OK;

    for (i = 0; n == NGX_OK && i < calls.n; i++) {
        n = ngx_http_signalr_output_copy(r, &octx->calls[i], &calls.calls[i],
                                         i, err, errlen);
        if (n == NGX_DECLINED) {
            break;
        }
    }

    octx->ncalls = calls.n;

    if (calls.calls == &call) {
        signalr_rest_call_free(&call);

    } else {
        signalr_rest_calls_free(&calls);
    }

    return n;
}


/*
 * reads and checks everything, then sends the first call: NGX_DONE when a
 * call is under way, or NGX_ERROR with err
 */

static ngx_int_t
ngx_http_signalr_output_start(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_error_t *err)
{
    char                          text[256];
    size_t                        len;
    u_char                       *p;
    ngx_int_t                     n;
    ngx_str_t                     hub, body;
    ngx_http_signalr_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_signalr_module);

    /* what any failure below that is not the client's answers */
    (void) ngx_http_signalr_fail(err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                 "internal error");

    n = ngx_http_signalr_read_body(r, slcf->output_max_body, &body);

    if (n == NGX_DECLINED) {
        return ngx_http_signalr_fail(err, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                     "the body is larger than "
                                     "signalr_output_max_body");
    }

    if (n != NGX_OK) {
        return NGX_ERROR;
    }

    n = ngx_http_signalr_check_hub(r, slcf->output_hub, &hub);

    if (n == NGX_DECLINED) {
        return ngx_http_signalr_fail(err, NGX_HTTP_BAD_REQUEST,
                                     "invalid hub name");
    }

    if (n != NGX_OK) {
        return NGX_ERROR;
    }

    n = ngx_http_signalr_output_calls(r, octx, &hub, &body, text,
                                      sizeof(text));

    if (n == NGX_DECLINED) {

        /* jansson quotes the input ("near '...'"): printable ASCII only */

        for (p = (u_char *) text; *p; p++) {
            if (*p < 0x20 || *p > 0x7e) {
                *p = '?';
            }
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "signalr: output actions refused: %s", text);

        /* the answer is written after this function returns */

        len = ngx_strlen(text) + 1;

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(p, text, len);

        return ngx_http_signalr_fail(err, NGX_HTTP_BAD_REQUEST, (char *) p);
    }

    if (n != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "signalr output: hub \"%V\", %ui calls", &hub,
                   octx->ncalls);

    n = ngx_http_signalr_output_runs(r, octx);

    if (n == NGX_DECLINED) {
        return ngx_http_signalr_fail(err, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "the Microsoft Entra ID credentials of "
                                     "the service are not available yet");
    }

    if (n != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_DONE;
}


/*
 * the message's arguments: signalr_arguments, a JSON array, or else the
 * body, any JSON value, as the only one
 */

static ngx_int_t
ngx_http_signalr_output_arguments(ngx_http_request_t *r,
    ngx_http_signalr_loc_conf_t *slcf, ngx_str_t *body, json_t **out,
    char *err, size_t errlen)
{
    json_t        *args, *v;
    ngx_str_t      value;
    json_error_t   error;

    if (slcf->arguments) {
        if (ngx_http_complex_value(r, slcf->arguments, &value) != NGX_OK) {
            return NGX_ERROR;
        }

        args = json_loadb((char *) value.data, value.len,
                          JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);

        if (args == NULL) {
            ngx_http_signalr_output_error_text(err, errlen,
                                               "\"signalr_arguments\" is not "
                                               "valid JSON: %s", error.text);
            return NGX_DECLINED;
        }

        if (!json_is_array(args)) {
            json_decref(args);
            ngx_http_signalr_output_error_text(err, errlen,
                                               "\"signalr_arguments\" must "
                                               "be a JSON array");
            return NGX_DECLINED;
        }

    } else {

        /* the body, any JSON value, is the only argument */

        if (body->len == 0) {
            ngx_http_signalr_output_error_text(err, errlen,
                                               "the body is empty: it must "
                                               "be the JSON value sent as "
                                               "the message argument");
            return NGX_DECLINED;
        }

        v = json_loadb((char *) body->data, body->len,
                       JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);

        if (v == NULL) {
            ngx_http_signalr_output_error_text(err, errlen,
                                               "invalid JSON at line %d, "
                                               "column %d: %s", error.line,
                                               error.column, error.text);
            return NGX_DECLINED;
        }

        args = json_array();

        if (args == NULL) {
            json_decref(v);
            return NGX_ERROR;
        }

        /* json_*_set_new() and append_new() take v even on failure */

        if (json_array_append_new(args, v) != 0) {
            json_decref(args);
            return NGX_ERROR;
        }
    }

    *out = args;

    return NGX_OK;
}


/*
 * the action of a templated location, as the JSON the binding takes:
 * NGX_DECLINED with a message in err when the request cannot make it
 */

static ngx_int_t
ngx_http_signalr_output_template(ngx_http_request_t *r, ngx_str_t *body,
    json_t **item, char *err, size_t errlen)
{
    json_t                       *obj, *args, *v;
    ngx_int_t                     rc;
    ngx_str_t                     value;
    ngx_http_signalr_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_signalr_module);

    obj = json_object();
    if (obj == NULL) {
        return NGX_ERROR;
    }

    *item = obj;

    if (slcf->target) {
        if (ngx_http_complex_value(r, slcf->target, &value) != NGX_OK) {
            return NGX_ERROR;
        }

        if (value.len == 0) {
            ngx_http_signalr_output_error_text(err, errlen,
                                               "\"signalr_target\" is empty");
            return NGX_DECLINED;
        }

        v = json_stringn((char *) value.data, value.len);

        if (v == NULL) {
            ngx_http_signalr_output_error_text(err, errlen,
                                               "\"signalr_target\" is not "
                                               "valid UTF-8");
            return NGX_DECLINED;
        }

        if (json_object_set_new(obj, "target", v) != 0) {
            return NGX_ERROR;
        }

        rc = ngx_http_signalr_output_arguments(r, slcf, body, &args, err,
                                               errlen);
        if (rc != NGX_OK) {
            return rc;
        }

        if (json_object_set_new(obj, "arguments", args) != 0) {
            return NGX_ERROR;
        }

    } else {
        v = json_string(
                  ngx_http_signalr_group_action_names[slcf->group_action]);

        if (v == NULL || json_object_set_new(obj, "action", v) != 0) {
            return NGX_ERROR;
        }
    }

    rc = ngx_http_signalr_output_set_id(r, obj, "connectionId",
                                        slcf->connection_id,
                                        "signalr_connection_id", err, errlen);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_signalr_output_set_id(r, obj, "userId", slcf->recipient,
                                        "signalr_user_id", err, errlen);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_signalr_output_set_id(r, obj, "groupName", slcf->group,
                                          "signalr_group", err, errlen);
}


static ngx_int_t
ngx_http_signalr_output_set_id(ngx_http_request_t *r, json_t *item,
    const char *key, ngx_http_complex_value_t *cv, const char *directive,
    char *err, size_t errlen)
{
    json_t     *v;
    ngx_str_t   value;

    if (cv == NULL) {
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, cv, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    /* an empty id must not turn a message into a broadcast */

    if (value.len == 0) {
        ngx_http_signalr_output_error_text(err, errlen, "\"%s\" is empty",
                                           directive);
        return NGX_DECLINED;
    }

    v = json_stringn((char *) value.data, value.len);

    if (v == NULL) {
        ngx_http_signalr_output_error_text(err, errlen,
                                           "\"%s\" is not valid UTF-8",
                                           directive);
        return NGX_DECLINED;
    }

    if (json_object_set_new(item, key, v) != 0) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_signalr_output_error_text(char *err, size_t errlen,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf((u_char *) err, (u_char *) err + errlen - 1, fmt, args);
    va_end(args);

    *p = '\0';
}


static ngx_int_t
ngx_http_signalr_output_copy(ngx_http_request_t *r,
    ngx_http_signalr_call_t *dst, signalr_rest_call_t *src, ngx_uint_t n,
    char *err, size_t errlen)
{
    dst->method = ngx_http_signalr_rest_method_ids[src->method];
    dst->method_name = ngx_http_signalr_rest_methods[src->method];
    dst->what = src->what;
    dst->absent = src->absent;
    dst->message = src->message;
    dst->connection = src->connection;

    dst->path.len = src->path_len;
    dst->query.len = src->query_len;
    dst->body.len = src->body_len;

    dst->path.data = ngx_pnalloc(r->pool, src->path_len);
    dst->query.data = ngx_pnalloc(r->pool, src->query_len);

    if (dst->path.data == NULL || dst->query.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->path.data, src->path, src->path_len);
    ngx_memcpy(dst->query.data, src->query, src->query_len);

    if (src->body_len) {
        dst->body.data = ngx_pnalloc(r->pool, src->body_len);
        if (dst->body.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(dst->body.data, src->body, src->body_len);
    }

    return ngx_http_signalr_output_select(r, dst, src, n, err, errlen);
}


/*
 * The endpoints an action's "endpoints" selects, each item by its name, its
 * Endpoint URL (with Port; the case and a trailing "/" aside) and its type,
 * those it gives; every endpoint when it has none. NGX_DECLINED with the
 * reason in err when an item names no endpoint.
 */

static ngx_int_t
ngx_http_signalr_output_select(ngx_http_request_t *r,
    ngx_http_signalr_call_t *dst, signalr_rest_call_t *src, ngx_uint_t n,
    char *err, size_t errlen)
{
    size_t                         len;
    ngx_uint_t                     i, j;
    const char                    *what;
    ngx_http_signalr_endpoint_t   *eps;
    signalr_endpoint_ref_t        *ref;
    ngx_http_signalr_main_conf_t  *smcf;
    u_char                         shown[64 * 3];

    smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);

    eps = smcf->endpoints.elts;

    if (src->endpoints == NULL) {
        dst->endpoints = (smcf->endpoints.nelts == 64)
                         ? ~(uint64_t) 0
                         : ((uint64_t) 1 << smcf->endpoints.nelts) - 1;
        return NGX_OK;
    }

    dst->endpoints = 0;

    for (i = 0; i < src->nendpoints; i++) {
        ref = &src->endpoints[i];

        for (j = 0; j < smcf->endpoints.nelts; j++) {

            if (ref->name
                && (ngx_strlen(ref->name) != eps[j].name.len
                    || ngx_strncmp(ref->name, eps[j].name.data,
                                   eps[j].name.len) != 0))
            {
                continue;
            }

            if (ref->url) {
                len = ngx_strlen(ref->url);

                if (len && ref->url[len - 1] == '/') {
                    len--;
                }

                if (len != eps[j].url.len - 1
                    || ngx_strncasecmp((u_char *) ref->url, eps[j].url.data,
                                       len) != 0)
                {
                    continue;
                }
            }

            if (ref->type != -1 && (ngx_uint_t) ref->type != eps[j].type) {
                continue;
            }

            break;
        }

        if (j < smcf->endpoints.nelts) {
            dst->endpoints |= (uint64_t) 1 << j;
            continue;
        }

        /* the caller's text: so much of it, escaped */

        what = ref->name ? ref->name : ref->url;
        len = ngx_min(ngx_strlen(what), 64);
        len = (u_char *) ngx_escape_uri(shown, (u_char *) what, len,
                                        NGX_ESCAPE_URI_COMPONENT)
              - shown;

        ngx_http_signalr_output_error_text(err, errlen,
                                           "action %ui: \"endpoints\" item "
                                           "%ui (%s \"%*s\"%s) names no "
                                           "configured endpoint", n, i,
                                           ref->name ? "name" : "endpoint",
                                           len, shown,
                                           ref->type == -1 ? ""
                                           : ref->type ? ", Secondary"
                                                       : ", Primary");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * A run per endpoint, all started at once. As the SDK, every endpoint gets
 * each action (or those its "endpoints" selects), but not one offline for
 * every worker (the state in the shared zone), unless every endpoint the
 * action goes to is: then they are tried, so that the caller learns what
 * they answer.
 */

static ngx_int_t
ngx_http_signalr_output_runs(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx)
{
    ngx_uint_t                      i, k;
    ngx_http_signalr_endpoint_t    *eps;
    ngx_http_signalr_main_conf_t   *smcf;
    ngx_http_signalr_output_run_t  *run;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);

    eps = smcf->endpoints.elts;

    octx->nruns = smcf->endpoints.nelts;
    octx->runs = ngx_pcalloc(r->pool, octx->nruns
                                      * sizeof(ngx_http_signalr_output_run_t));
    octx->taken = ngx_pcalloc(r->pool, octx->ncalls);
    octx->targets = ngx_pcalloc(r->pool, octx->ncalls);

    if (octx->runs == NULL || octx->taken == NULL || octx->targets == NULL) {
        return NGX_ERROR;
    }

    octx->online = 0;
    octx->ready = 0;

    for (i = 0; i < octx->nruns; i++) {
        run = &octx->runs[i];

        run->ep = &eps[i];
        run->index = i;
        run->request = r;
        run->retry.handler = ngx_http_signalr_output_retry_handler;
        run->retry.data = run;
        run->retry.log = r->connection->log;

        /* an Entra ID endpoint without credentials is never called */

        if (run->ep->entra == NULL
            || ngx_http_signalr_entra_ready(run->ep))
        {
            octx->ready |= (uint64_t) 1 << i;
        }

        if (ngx_http_signalr_endpoint_online(run->ep)
            && (octx->ready & ((uint64_t) 1 << i)))
        {
            octx->online |= (uint64_t) 1 << i;

        } else {
            run->skipped = 1;
        }
    }

    /* nothing is sent when an action has no endpoint to go to */

    for (k = 0; k < octx->ncalls; k++) {
        if ((octx->calls[k].endpoints & octx->ready) == 0) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "signalr: output: no endpoint of call %ui has its "
                          "Microsoft Entra ID credentials yet (the "
                          "refresh's errors say why)", k);
            return NGX_DECLINED;
        }
    }

    /* a call that succeeds brings an endpoint back online */

    for (i = 0; i < octx->nruns; i++) {
        for (k = 0; k < octx->ncalls; k++) {
            octx->targets[k] += ngx_http_signalr_output_for(octx, i, k);
        }
    }

    for (i = 0; i < octx->nruns; i++) {
        run = &octx->runs[i];

        run->call = ngx_http_signalr_output_first(octx, run, 0);

        if (run->call == octx->ncalls) {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "signalr output: nothing for endpoint \"%V\"",
                           &run->ep->name);
            continue;
        }

        run->running = 1;
        octx->running++;

        if (ngx_http_signalr_output_send(r, octx, run) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the call goes to the endpoint of the run */

static ngx_uint_t
ngx_http_signalr_output_for(ngx_http_signalr_output_ctx_t *octx,
    ngx_uint_t run, ngx_uint_t call)
{
    uint64_t  bit, to;

    bit = (uint64_t) 1 << run;
    to = octx->calls[call].endpoints;

    return (to & bit)
           && ((octx->online & bit)
               || ((to & octx->online) == 0 && (octx->ready & bit)));
}


/* the first call from this one on that goes to the run's endpoint */

static ngx_uint_t
ngx_http_signalr_output_first(ngx_http_signalr_output_ctx_t *octx,
    ngx_http_signalr_output_run_t *run, ngx_uint_t call)
{
    while (call < octx->ncalls
           && !ngx_http_signalr_output_for(octx, run->index, call))
    {
        call++;
    }

    return call;
}


static ngx_int_t
ngx_http_signalr_output_send(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_run_t *run)
{
    u_char                         *p;
    ngx_http_signalr_ctx_t         *ctx;
    ngx_http_signalr_call_t        *call;
    ngx_http_signalr_failure_t     *f;
    ngx_http_signalr_capture_t     *cap;
    ngx_http_signalr_endpoint_t    *ep;
    ngx_http_signalr_subrequest_t   s;

    call = &octx->calls[run->call];
    ep = run->ep;

    /*
     * an Entra ID token that ended during the request (a retry, a later
     * call): this endpoint's run stops, as after a failure, and the request
     * goes on with the others
     */

    if (ep->entra && !ngx_http_signalr_entra_ready(ep)) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "signalr: endpoint \"%V\" has no Microsoft Entra ID "
                      "token any more: REST call \"%s\" and the next ones "
                      "are not sent to it", &ep->name, call->what);

        /* told as a 503 of this call: the service cannot be called now */

        if (run->failures == NULL) {
            run->failures = ngx_array_create(r->pool, 1,
                                        sizeof(ngx_http_signalr_failure_t));
            if (run->failures == NULL) {
                return NGX_ERROR;
            }
        }

        f = ngx_array_push(run->failures);
        if (f == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(f, sizeof(ngx_http_signalr_failure_t));
        f->call = run->call;
        f->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        f->no_credentials = 1;

        run->stopped = 1;
        run->running = 0;
        octx->running--;

        r->write_event_handler = ngx_http_signalr_output_resume;

        return ngx_http_post_request(r, NULL);
    }

    /* the endpoint of the last call, for $signalr_endpoint */
    ctx = ngx_http_get_module_ctx(r, ngx_http_signalr_module);
    ctx->endpoint = ep;

    ngx_memzero(&s, sizeof(ngx_http_signalr_subrequest_t));

    if (ngx_http_signalr_rest_headers(r, ep, &call->path, call->body.len != 0,
                                      &s)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * the location: the endpoint's REST prefix and a constant, made when
     * the configuration was read; what proxy_pass (with no URI part)
     * sends: the call's path and query as they are, escaped already
     */

    s.uri = ep->rest_uri;
    s.args = call->query;

    s.unparsed_uri.len = call->path.len + sizeof("?") - 1 + call->query.len;
    s.unparsed_uri.data = ngx_pnalloc(r->pool, s.unparsed_uri.len);
    if (s.unparsed_uri.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(s.unparsed_uri.data, call->path.data, call->path.len);
    *p++ = '?';
    ngx_memcpy(p, call->query.data, call->query.len);

    s.method = call->method;
    s.method_name = call->method_name;
    s.body = call->body;
    s.max_response = NGX_HTTP_SIGNALR_REST_MAX_RESPONSE;

    ngx_log_debug6(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "signalr output: call %ui \"%s\" to endpoint \"%V\", "
                   "attempt %ui, %uz body bytes, token of %uz bytes",
                   run->call, call->what, &ep->name, run->attempt + 1,
                   call->body.len,
                   s.headers[0].value.len - (sizeof("Bearer ") - 1));

    cap = ngx_http_signalr_subrequest(r, &s);
    if (cap == NULL) {
        return NGX_ERROR;
    }

    run->cap = cap;
    r->write_event_handler = ngx_http_signalr_output_resume;

    return NGX_OK;
}


/*
 * The parent is posted when a subrequest ends: each run whose call has
 * its answer goes on; other wake-ups find none. The answer is sent when
 * every run has ended.
 */

static void
ngx_http_signalr_output_resume(ngx_http_request_t *r)
{
    ngx_uint_t                      i;
    ngx_http_signalr_ctx_t         *ctx;
    ngx_http_signalr_capture_t     *cap;
    ngx_http_signalr_output_ctx_t  *octx;
    ngx_http_signalr_output_run_t  *run;

    ctx = ngx_http_get_module_ctx(r, ngx_http_signalr_module);
    octx = ctx ? ctx->output : NULL;

    if (octx == NULL || octx->finished || octx->runs == NULL) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "signalr output: nothing to resume");
        return;
    }

    for (i = 0; i < octx->nruns; i++) {
        run = &octx->runs[i];

        if (run->cap == NULL || !ngx_http_signalr_capture_done(run->cap)) {
            continue;
        }

        cap = run->cap;
        run->cap = NULL;

        if (ngx_http_signalr_output_next(r, octx, run, cap) != NGX_OK) {
            ngx_http_signalr_output_finish(r, octx,
                                           NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    if (octx->running == 0) {
        ngx_http_signalr_output_finish(r, octx,
                                       ngx_http_signalr_output_done(r, octx));
    }
}


/* NGX_DONE: a call is under way; anything else ends the request */

static void
ngx_http_signalr_output_finish(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_int_t rc)
{
    if (rc == NGX_DONE) {
        return;
    }

    /* a failure of the module's own, answered in JSON as every other */

    if (rc == NGX_HTTP_INTERNAL_SERVER_ERROR && !r->header_sent) {
        rc = ngx_http_signalr_send_error(r, rc, "internal error");
    }

    octx->finished = 1;
    ngx_http_finalize_request(r, rc);
}


/* a call of a run has its answer: the next call, a retry, or the end */

static ngx_int_t
ngx_http_signalr_output_next(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_run_t *run,
    ngx_http_signalr_capture_t *cap)
{
    ngx_msec_t                    delay;
    ngx_uint_t                    rest_status, no_response;
    ngx_http_signalr_call_t      *call;
    ngx_http_signalr_failure_t   *f;
    ngx_http_signalr_loc_conf_t  *slcf;

    rest_status = ngx_http_signalr_capture_status(cap);
    no_response = ngx_http_signalr_capture_failed(cap);

    call = &octx->calls[run->call];

    /* $signalr_rest_status: what the service said, cut short or not */

    octx->v.rest_status = rest_status;

    if (no_response && ngx_http_signalr_capture_header_status(cap) / 100 == 2)
    {
        octx->v.rest_status = ngx_http_signalr_capture_header_status(cap);
    }

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "signalr output: call %ui \"%s\" to endpoint \"%V\": "
                   "status %ui%s", run->call, call->what, &run->ep->name,
                   rest_status, no_response ? " (no response)" : "");

    if (ngx_http_signalr_output_answered(r, run, call, cap)) {
        ngx_http_signalr_capture_release(r, cap);

        run->completed++;
        octx->taken[run->call]++;

        return ngx_http_signalr_output_advance(r, octx, run);
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_signalr_module);

    if (run->attempt < slcf->rest_retries
        && ngx_http_signalr_output_retryable(call, cap))
    {
        delay = NGX_HTTP_SIGNALR_REST_BACKOFF << ngx_min(run->attempt, 5);
        delay = ngx_min(delay, NGX_HTTP_SIGNALR_REST_BACKOFF_MAX);

        run->attempt++;

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "signalr: REST call \"%s\" to endpoint \"%V\" got "
                      "status %ui%s, retry %ui of %ui in %Mms",
                      call->what, &run->ep->name, rest_status,
                      no_response ? " (no response)" : "",
                      run->attempt, slcf->rest_retries, delay);

        ngx_http_signalr_capture_release(r, cap);
        ngx_add_timer(&run->retry, delay);

        return NGX_OK;
    }

    f = ngx_http_signalr_output_failure(r, run, cap);

    ngx_http_signalr_capture_release(r, cap);

    if (f == NULL) {
        return NGX_ERROR;
    }

    /*
     * a connection lives on one endpoint: where it does not, a 404 stops
     * nothing, and the next calls still go to this endpoint
     */

    if (rest_status == NGX_HTTP_NOT_FOUND && !no_response
        && call->connection && octx->targets[run->call] > 1)
    {
        ngx_http_signalr_output_log_failure(r, octx, run, f, 1);
        return ngx_http_signalr_output_advance(r, octx, run);
    }

    ngx_http_signalr_output_log_failure(r, octx, run, f, 0);

    run->stopped = 1;
    run->running = 0;
    octx->running--;

    return NGX_OK;
}


static ngx_int_t
ngx_http_signalr_output_advance(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_run_t *run)
{
    run->attempt = 0;
    run->call = ngx_http_signalr_output_first(octx, run, run->call + 1);

    if (run->call == octx->ncalls) {
        run->running = 0;
        octx->running--;
        return NGX_OK;
    }

    return ngx_http_signalr_output_send(r, octx, run);
}


/*
 * Done on this endpoint: a 2xx, or, as the SDK counts them, a 404 whose
 * x-ms-error-code says that the connection the call is about is not there
 * (add to a group, close). An endpoint that answers so, or refuses the
 * call itself, works: if it was offline, it is online again.
 */

static ngx_uint_t
ngx_http_signalr_output_answered(ngx_http_request_t *r,
    ngx_http_signalr_output_run_t *run, ngx_http_signalr_call_t *call,
    ngx_http_signalr_capture_t *cap)
{
    ngx_str_t   *code;
    ngx_uint_t   rest_status, taken;

    if (ngx_http_signalr_capture_failed(cap)) {
        rest_status = ngx_http_signalr_capture_header_status(cap);

        if (rest_status < 200 || rest_status >= 300) {
            return 0;
        }

        /*
         * the status line says that the service took the call, the rest of
         * its answer was lost: done, and never sent again (a send would be
         * delivered twice)
         */

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "signalr: endpoint \"%V\" answered REST call \"%s\" "
                      "with status %ui, and its answer was cut short: "
                      "counted as done, not sent again",
                      &run->ep->name, call->what, rest_status);

        (void) ngx_http_signalr_endpoint_ok(run->ep);

        return 1;
    }

    rest_status = ngx_http_signalr_capture_status(cap);

    switch (rest_status) {

    case NGX_HTTP_BAD_REQUEST:
    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
    case NGX_HTTP_TOO_MANY_REQUESTS:
        taken = 0;
        break;

    case NGX_HTTP_NOT_FOUND:
        code = call->absent
               ? ngx_http_signalr_capture_header(cap, "x-ms-error-code")
               : NULL;

        taken = code != NULL
                && signalr_caseless_eq(code->data, code->len,
                                       (u_char *) call->absent,
                                       ngx_strlen(call->absent));
        break;

    default:
        if (rest_status < 200 || rest_status >= 300) {
            return 0;
        }

        taken = 1;
    }

    if (ngx_http_signalr_endpoint_ok(run->ep)) {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "signalr: endpoint \"%V\" answered REST call \"%s\" "
                      "with status %ui: it is online again for every "
                      "worker", &run->ep->name, call->what, rest_status);
    }

    return taken;
}


/*
 * As the Management SDK (RestClient.cs of Azure/azure-signalr): a send that
 * got 500 may have been delivered, so sends are retried only on a status
 * above 500 or when nothing answered; group actions and close are
 * idempotent and are retried on 500 and 408 too
 */

static ngx_uint_t
ngx_http_signalr_output_retryable(ngx_http_signalr_call_t *call,
    ngx_http_signalr_capture_t *cap)
{
    ngx_uint_t  rest_status;

    rest_status = ngx_http_signalr_capture_status(cap);

    if (ngx_http_signalr_capture_failed(cap) || rest_status > 500) {
        return 1;
    }

    if (call->message) {
        return 0;
    }

    return rest_status == 500 || rest_status == NGX_HTTP_REQUEST_TIME_OUT;
}


/* the failure of the run's call, kept: the answer's headers go soon */

static ngx_http_signalr_failure_t *
ngx_http_signalr_output_failure(ngx_http_request_t *r,
    ngx_http_signalr_output_run_t *run, ngx_http_signalr_capture_t *cap)
{
    ngx_str_t                   *code, *retry_after;
    ngx_http_signalr_failure_t  *f;

    if (run->failures == NULL) {
        run->failures = ngx_array_create(r->pool, 1,
                                         sizeof(ngx_http_signalr_failure_t));
        if (run->failures == NULL) {
            return NULL;
        }
    }

    f = ngx_array_push(run->failures);
    if (f == NULL) {
        return NULL;
    }

    ngx_memzero(f, sizeof(ngx_http_signalr_failure_t));

    f->call = run->call;
    f->status = ngx_http_signalr_capture_status(cap);
    f->no_response = ngx_http_signalr_capture_failed(cap);

    if (f->no_response) {
        return f;
    }

    /* the service's codes are short names: anything else is not shown */

    code = ngx_http_signalr_capture_header(cap, "x-ms-error-code");

    if (code && code->len <= NGX_HTTP_SIGNALR_MAX_ERROR_CODE
        && signalr_utf8_valid(code->data, code->len))
    {
        f->code.data = ngx_pstrdup(r->pool, code);
        if (f->code.data == NULL) {
            return NULL;
        }

        f->code.len = code->len;
    }

    retry_after = (f->status == NGX_HTTP_TOO_MANY_REQUESTS)
                  ? ngx_http_signalr_capture_header(cap, "Retry-After")
                  : NULL;

    if (retry_after && retry_after->len <= NGX_HTTP_SIGNALR_MAX_ERROR_CODE) {
        f->retry_after.data = ngx_pstrdup(r->pool, retry_after);
        if (f->retry_after.data == NULL) {
            return NULL;
        }

        f->retry_after.len = retry_after->len;
    }

    return f;
}


static void
ngx_http_signalr_output_retry_handler(ngx_event_t *ev)
{
    ngx_connection_t               *c;
    ngx_http_request_t             *r;
    ngx_http_signalr_ctx_t         *ctx;
    ngx_http_signalr_output_ctx_t  *octx;
    ngx_http_signalr_output_run_t  *run;

    run = ev->data;
    r = run->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "signalr output: retry to endpoint \"%V\"",
                   &run->ep->name);

    ctx = ngx_http_get_module_ctx(r, ngx_http_signalr_module);
    octx = ctx->output;

    if (!octx->finished
        && ngx_http_signalr_output_send(r, octx, run) != NGX_OK)
    {
        ngx_http_signalr_output_finish(r, octx,
                                       NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_signalr_output_cleanup(void *data)
{
    ngx_http_signalr_output_ctx_t  *octx = data;

    ngx_uint_t  i;

    for (i = 0; octx->runs && i < octx->nruns; i++) {
        if (octx->runs[i].retry.timer_set) {
            ngx_del_timer(&octx->runs[i].retry);
        }
    }
}


/*
 * Every run has ended: what took effect, as the SDK counts it
 * (MultiEndpointMessageWriter.cs of Azure/azure-signalr): a call about one
 * connection when any endpoint took it, any other when every endpoint sent
 * to did. 202 when all did; else the first that did not says the status.
 */

static ngx_int_t
ngx_http_signalr_output_done(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx)
{
    u_char                         *p;
    ngx_uint_t                      i, first, status;
    const char                     *error;
    signalr_jw_t                    w;
    signalr_str_t                   text;
    ngx_http_signalr_ctx_t         *ctx;
    ngx_http_signalr_call_t        *call;
    ngx_http_signalr_failure_t     *f;
    ngx_http_signalr_output_run_t  *run;
    u_char                          message[128];

    first = octx->ncalls;
    octx->v.actions_sent = 0;

    for (i = 0; i < octx->ncalls; i++) {
        call = &octx->calls[i];

        if (call->connection ? octx->taken[i] > 0
                             : octx->taken[i] == octx->targets[i])
        {
            octx->v.actions_sent++;

        } else if (first == octx->ncalls) {
            first = i;
        }
    }

    ngx_http_signalr_jw_init(r, &w, &text);

    signalr_jw_object(&w);

    if (first == octx->ncalls) {
        signalr_jw_key_lit(&w, "completed");
        signalr_jw_integer(&w, octx->v.actions_sent);
        signalr_jw_key_lit(&w, "total");
        signalr_jw_integer(&w, octx->ncalls);
        ngx_http_signalr_output_endpoints(octx, &w);
        signalr_jw_end(&w);

        return ngx_http_signalr_send_jw(r, NGX_HTTP_ACCEPTED, &w);
    }

    f = ngx_http_signalr_output_why(octx, first, &run);
    error = ngx_http_signalr_output_classify(f, &status);

    /* $signalr_rest_status and $signalr_endpoint: the failure told */

    octx->v.rest_status = f->status;
    ctx = ngx_http_get_module_ctx(r, ngx_http_signalr_module);
    ctx->endpoint = run->ep;

    if (f->retry_after.len) {
        if (ngx_http_signalr_add_header(r, "Retry-After", &f->retry_after)
            == NULL)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    p = ngx_snprintf(message, sizeof(message), "%s: %s",
                     octx->calls[first].what, error);

    signalr_jw_key_lit(&w, "error");
    signalr_jw_string(&w, message, p - message);
    signalr_jw_key_lit(&w, "failed");
    signalr_jw_integer(&w, first);
    signalr_jw_key_lit(&w, "endpoint");
    signalr_jw_string(&w, run->ep->name.data, run->ep->name.len);
    signalr_jw_key_lit(&w, "status");
    signalr_jw_integer(&w, f->status);
    signalr_jw_key_lit(&w, "errorCode");
    signalr_jw_string_or_null(&w, f->code.data, f->code.len, f->code.len != 0);

    signalr_jw_key_lit(&w, "completed");
    signalr_jw_integer(&w, octx->v.actions_sent);
    signalr_jw_key_lit(&w, "total");
    signalr_jw_integer(&w, octx->ncalls);
    ngx_http_signalr_output_endpoints(octx, &w);
    signalr_jw_end(&w);

    /* error pages would replace the body */
    r->err_status = 0;

    return ngx_http_signalr_send_jw(r, status, &w);
}


/*
 * Why a call did not take effect, in this order: the first endpoint (in the
 * order of the configuration) that failed it; else the first whose run a
 * failure of an earlier call ended before it; else, for a call about one
 * connection, the first that answered it 404 (the connection not there),
 * as an endpoint that failed may be the one that holds the connection.
 */

static ngx_http_signalr_failure_t *
ngx_http_signalr_output_why(ngx_http_signalr_output_ctx_t *octx,
    ngx_uint_t call, ngx_http_signalr_output_run_t **run)
{
    ngx_uint_t                      i, j;
    ngx_http_signalr_failure_t     *f, *stop, *absent;
    ngx_http_signalr_output_run_t  *r, *stopped, *absent_run;

    stop = NULL;
    stopped = NULL;
    absent = NULL;
    absent_run = NULL;

    for (i = 0; i < octx->nruns; i++) {
        r = &octx->runs[i];

        if (r->failures == NULL) {
            continue;
        }

        f = r->failures->elts;

        for (j = 0; j < r->failures->nelts; j++) {
            if (f[j].call != call) {
                continue;
            }

            if (octx->calls[call].connection && !f[j].no_response
                && f[j].status == NGX_HTTP_NOT_FOUND)
            {
                if (absent == NULL) {
                    absent = &f[j];
                    absent_run = r;
                }

                break;
            }

            *run = r;
            return &f[j];
        }

        if (stop == NULL && r->stopped && r->call < call
            && ngx_http_signalr_output_for(octx, i, call))
        {
            stop = &f[r->failures->nelts - 1];
            stopped = r;
        }
    }

    /* a call not taken was failed by some run, or not sent after one */

    if (stop) {
        *run = stopped;
        return stop;
    }

    *run = absent_run;

    return absent;
}


/* the status of the caller's answer, and what to tell it */

static const char *
ngx_http_signalr_output_classify(ngx_http_signalr_failure_t *f,
    ngx_uint_t *status)
{
    if (f->no_credentials) {
        *status = NGX_HTTP_SERVICE_UNAVAILABLE;
        return "the Microsoft Entra ID credentials of the service are not "
               "available";
    }

    switch (f->status) {

    case NGX_HTTP_BAD_REQUEST:
    case NGX_HTTP_NOT_FOUND:
    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        *status = f->status;
        return "the service refused it";

    case NGX_HTTP_TOO_MANY_REQUESTS:
        *status = f->status;
        return "the service is throttling calls";

    case NGX_HTTP_UNAUTHORIZED:
    case NGX_HTTP_FORBIDDEN:
        *status = NGX_HTTP_BAD_GATEWAY;
        return "the service refused the access token";

    case NGX_HTTP_GATEWAY_TIME_OUT:
        *status = NGX_HTTP_GATEWAY_TIME_OUT;
        return f->no_response ? "the service did not answer in time"
                              : "the service failed";
    }

    *status = NGX_HTTP_BAD_GATEWAY;

    if (f->no_response) {
        return "the service could not be reached";
    }

    if (f->status >= NGX_HTTP_INTERNAL_SERVER_ERROR) {
        return "the service failed";
    }

    return "the service gave an unexpected answer";
}


/*
 * With several endpoints, what each did: "completed", the calls it took;
 * "skipped" when it was offline; "failures", each call it did not take;
 * "notSent", the calls after the failure that ended its run
 */

static void
ngx_http_signalr_output_endpoints(ngx_http_signalr_output_ctx_t *octx,
    signalr_jw_t *w)
{
    ngx_uint_t                      i, j, k, n, status;
    const char                     *error;
    ngx_http_signalr_failure_t     *f;
    ngx_http_signalr_output_run_t  *run;

    if (octx->nruns < 2) {
        return;
    }

    signalr_jw_key_lit(w, "endpoints");
    signalr_jw_array(w);

    for (i = 0; i < octx->nruns; i++) {
        run = &octx->runs[i];

        signalr_jw_object(w);
        signalr_jw_key_lit(w, "name");
        signalr_jw_string(w, run->ep->name.data, run->ep->name.len);
        signalr_jw_key_lit(w, "completed");
        signalr_jw_integer(w, run->completed);

        /* the calls for it not sent as it was offline */

        for (n = 0, k = 0; run->skipped && k < octx->ncalls; k++) {
            n += ((octx->calls[k].endpoints >> i) & 1)
                 && !ngx_http_signalr_output_for(octx, i, k);
        }

        if (n) {
            signalr_jw_key_lit(w, "skipped");
            signalr_jw_integer(w, n);
        }

        if (run->failures) {
            signalr_jw_key_lit(w, "failures");
            signalr_jw_array(w);

            f = run->failures->elts;

            for (j = 0; j < run->failures->nelts; j++) {
                error = ngx_http_signalr_output_classify(&f[j], &status);

                signalr_jw_object(w);
                signalr_jw_key_lit(w, "action");
                signalr_jw_integer(w, f[j].call);
                signalr_jw_key_lit(w, "status");
                signalr_jw_integer(w, f[j].status);
                signalr_jw_key_lit(w, "errorCode");
                signalr_jw_string_or_null(w, f[j].code.data, f[j].code.len,
                                          f[j].code.len != 0);

                signalr_jw_key_lit(w, "error");
                signalr_jw_string(w, (u_char *) error, ngx_strlen(error));
                signalr_jw_end(w);
            }

            signalr_jw_end(w);
        }

        for (n = 0, k = run->call + 1; run->stopped && k < octx->ncalls; k++) {
            n += ngx_http_signalr_output_for(octx, run->index, k);
        }

        if (n) {
            signalr_jw_key_lit(w, "notSent");
            signalr_jw_integer(w, n);
        }

        signalr_jw_end(w);
    }

    signalr_jw_end(w);
}


static void
ngx_http_signalr_output_log_failure(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_run_t *run,
    ngx_http_signalr_failure_t *f, ngx_uint_t went_on)
{
    ngx_str_t                     none = ngx_string("none");
    ngx_str_t                    *code;
    ngx_msec_t                    offline_time;
    ngx_uint_t                    online, level;
    ngx_http_signalr_call_t      *call;
    ngx_http_signalr_endpoint_t  *ep;
    ngx_http_signalr_loc_conf_t  *slcf;

    call = &octx->calls[f->call];
    ep = run->ep;
    code = f->code.len ? &f->code : &none;

    if (went_on && f->code.len) {

        /* the connection is on another endpoint, or on none */

        ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "signalr output: endpoint \"%V\" answered 404 to "
                       "\"%s\" (x-ms-error-code: %V), call %ui: not there",
                       &ep->name, call->what, code, f->call);
        return;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_signalr_module);
    offline_time = ngx_http_signalr_offline_time(ep, slcf);

    if (f->no_response || f->status >= NGX_HTTP_INTERNAL_SERVER_ERROR) {

        /* negotiate and the next outputs avoid the endpoint */

        online = ngx_http_signalr_endpoint_fail(ep, f->status,
                                                offline_time);

        /* the operator hears of it once, from the worker that saw it first */
        level = online ? NGX_LOG_ERR : NGX_LOG_WARN;

        ngx_log_error(level, r->connection->log, 0,
                      "signalr: REST call \"%s\" to endpoint \"%V\" failed "
                      "with status %ui%s after %ui attempts "
                      "(x-ms-error-code: %V); the endpoint is %s offline for "
                      "every worker for %Mms",
                      call->what, &ep->name, f->status,
                      f->no_response ? " (no response: check the \"rest=\" "
                                       "location, the network and the "
                                       "endpoint's host)" : "",
                      run->attempt + 1, code,
                      online ? "marked" : "still", offline_time);
        return;
    }

    switch (f->status) {

    case NGX_HTTP_UNAUTHORIZED:
    case NGX_HTTP_FORBIDDEN:

        /*
         * a key the service does not take signs negotiate's tokens too,
         * which it refuses as well: negotiate avoids the endpoint
         */

        online = ngx_http_signalr_endpoint_fail(ep, f->status,
                                                offline_time);
        level = online ? NGX_LOG_ERR : NGX_LOG_WARN;

        ngx_log_error(level, r->connection->log, 0,
                      "signalr: endpoint \"%V\" refused the access token of "
                      "REST call \"%s\" with status %ui (x-ms-error-code: "
                      "%V): check the AccessKey of its connection string; "
                      "the endpoint is %s offline for every worker for %Mms",
                      &ep->name, call->what, f->status, code,
                      online ? "marked" : "still", offline_time);
        return;

    case NGX_HTTP_TOO_MANY_REQUESTS:
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "signalr: endpoint \"%V\" throttled REST call \"%s\" "
                      "(429): the service's message quota or rate limit is "
                      "reached", &ep->name, call->what);
        return;

    case NGX_HTTP_BAD_REQUEST:
    case NGX_HTTP_NOT_FOUND:
    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "signalr: endpoint \"%V\" refused REST call \"%s\" "
                      "with status %ui (x-ms-error-code: %V)",
                      &ep->name, call->what, f->status, code);
        return;

    default:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "signalr: REST call \"%s\" to endpoint \"%V\" got the "
                      "unexpected status %ui (x-ms-error-code: %V): check "
                      "the \"rest=\" location, whose proxy_pass must name "
                      "the service with no URI part",
                      call->what, &ep->name, f->status, code);
    }
}
