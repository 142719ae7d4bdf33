/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Output: the SignalR output binding of Azure Functions as an nginx
 * location. The actions POSTed to it (one JSON object or an array), or the
 * single action its templated directives describe, become calls of the
 * SignalR Service REST API. The calls are validated as a whole, then sent
 * action after action (the calls of an action's recipients at once), each
 * to every endpoint, as subrequests to the endpoints' rest= locations, and
 * the caller learns exactly what was delivered.
 */

#include "ngx_http_signalr_module.h"
#include "ngx_http_signalr_endpoint.h"
#include "ngx_http_signalr_output.h"
#include "ngx_http_signalr_probe.h"
#include "ngx_http_signalr_entra.h"
#include "ngx_http_signalr_shm.h"
#include "ngx_http_signalr_status.h"
#include "ngx_http_signalr_subrequest.h"
#include "ngx_http_signalr_util.h"
#include "signalr_action.h"
#include "signalr_json.h"
#include "signalr_names.h"


#define NGX_HTTP_SIGNALR_REST_MAX_RESPONSE    16384
#define NGX_HTTP_SIGNALR_REST_MAX_RESULT      (1024 * 1024)  /* invoke, */
                                                       /* a page of a list */
#define NGX_HTTP_SIGNALR_REST_BACKOFF         100      /* ms, then doubled */
#define NGX_HTTP_SIGNALR_REST_BACKOFF_MAX     3200
#define NGX_HTTP_SIGNALR_LIST_MAX             10000    /* connections */
#define NGX_HTTP_SIGNALR_LIST_MAX_PAGES       1000     /* per endpoint */
#define NGX_HTTP_SIGNALR_MAX_DETAIL           1024     /* the service's */
                                                       /* message, bytes */


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
    const char                     *name;          /* as a metric label */
    const char                     *absent;        /* 404 code that is done */
    const char                     *member;        /* "userId", ... and */
    ngx_str_t                       recipient;     /* of several, or empty */
    ngx_uint_t                      action;        /* it comes from */
    ngx_uint_t                      kind;          /* SIGNALR_CALL_* */
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
    ngx_str_t                       detail;        /* invoke: the message */
                                                   /* of the service */
    ngx_uint_t                      attempts;
    unsigned                        no_response:1;
    unsigned                        no_credentials:1;  /* not sent */
    unsigned                        bad_answer:1;  /* a 2xx not understood */
} ngx_http_signalr_failure_t;


typedef struct ngx_http_signalr_output_run_s  ngx_http_signalr_output_run_t;


/* a call of a run's action: under way, waiting for a retry, or paging */

typedef struct {
    ngx_http_signalr_output_run_t  *run;
    ngx_uint_t                      call;
    ngx_uint_t                      attempt;       /* 0: the first one */
    ngx_msec_t                      sent;          /* ngx_current_msec */
    ngx_http_signalr_capture_t     *cap;           /* its answer */
    ngx_event_t                     retry;
    ngx_str_t                       page;          /* the next page's */
    ngx_uint_t                      pages;         /* path and query */
    unsigned                        busy:1;
} ngx_http_signalr_output_lane_t;


/*
 * The calls sent to one endpoint: action after action, the calls of an
 * action (one per recipient) at once, each retried as the location says.
 * The endpoints' runs go on in parallel.
 */

struct ngx_http_signalr_output_run_s {
    ngx_http_signalr_endpoint_t    *ep;
    ngx_uint_t                      index;         /* in the configuration */
    ngx_http_request_t             *request;
    ngx_uint_t                      call;          /* the last call of the */
                                                   /* action under way */
    ngx_http_signalr_output_lane_t *lanes;
    ngx_uint_t                      busy;          /* lanes under way */
    ngx_uint_t                      completed;     /* calls it took */
    ngx_array_t                    *failures;      /* of failure_t */
    ngx_uint_t                      stop;          /* 1 + the index of the */
                                                   /* failure that ends it */
    unsigned                        skipped:1;     /* offline: not sent */
    unsigned                        running:1;
    unsigned                        failed:1;      /* a call of the action */
    unsigned                        stopped:1;     /* by a failure */
};


struct ngx_http_signalr_output_ctx_s {
    ngx_http_signalr_call_t        *calls;
    ngx_uint_t                      ncalls;
    ngx_uint_t                      nactions;
    ngx_uint_t                      width;         /* calls of the largest */
                                                   /* action */

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

    ngx_str_t                       result;        /* invoke: its JSON */
    json_t                         *list;          /* listConnections */

    unsigned                        found:1;       /* exists: somewhere */
    unsigned                        no_body:1;     /* not read */
    unsigned                        truncated:1;   /* the list */
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
    ngx_http_signalr_call_t *calls, signalr_rest_call_t *src, ngx_uint_t n,
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
static ngx_int_t ngx_http_signalr_output_action(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_run_t *run,
    ngx_uint_t first);
static ngx_int_t ngx_http_signalr_output_send(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx,
    ngx_http_signalr_output_lane_t *lane);
static void ngx_http_signalr_output_lane_done(
    ngx_http_signalr_output_lane_t *lane);
static void ngx_http_signalr_output_resume(ngx_http_request_t *r);
static void ngx_http_signalr_output_finish(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_int_t rc);
static ngx_int_t ngx_http_signalr_output_next(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_lane_t *lane,
    ngx_http_signalr_capture_t *cap);
static ngx_int_t ngx_http_signalr_output_advance(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_run_t *run);
static ngx_int_t ngx_http_signalr_output_result(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_lane_t *lane,
    ngx_http_signalr_call_t *call, ngx_http_signalr_capture_t *cap);
static ngx_int_t ngx_http_signalr_output_page(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_lane_t *lane,
    ngx_http_signalr_call_t *call, json_t *root);
static ngx_uint_t ngx_http_signalr_output_answered(ngx_http_request_t *r,
    ngx_http_signalr_output_run_t *run, ngx_http_signalr_call_t *call,
    ngx_http_signalr_capture_t *cap);
static ngx_uint_t ngx_http_signalr_output_retryable(
    ngx_http_signalr_call_t *call, ngx_http_signalr_capture_t *cap);
static ngx_http_signalr_failure_t *ngx_http_signalr_output_failure(
    ngx_http_request_t *r, ngx_http_signalr_output_lane_t *lane,
    ngx_http_signalr_call_t *call, ngx_http_signalr_capture_t *cap);
static void ngx_http_signalr_output_retry_handler(ngx_event_t *ev);
static void ngx_http_signalr_output_cleanup(void *data);
static ngx_int_t ngx_http_signalr_output_done(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx);
static ngx_uint_t ngx_http_signalr_output_ok(
    ngx_http_signalr_output_ctx_t *octx, ngx_uint_t k);
static ngx_int_t ngx_http_signalr_output_answer(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx);
static void ngx_http_signalr_output_recipients(
    ngx_http_signalr_output_ctx_t *octx, signalr_jw_t *w);
static ngx_http_signalr_failure_t *ngx_http_signalr_output_why(
    ngx_http_signalr_output_ctx_t *octx, ngx_uint_t call,
    ngx_http_signalr_output_run_t **run);
static const char *ngx_http_signalr_output_classify(
    ngx_http_signalr_failure_t *f, ngx_http_signalr_call_t *call,
    ngx_uint_t *status);
static void ngx_http_signalr_output_endpoints(
    ngx_http_signalr_output_ctx_t *octx, signalr_jw_t *w);
static void ngx_http_signalr_output_log_failure(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_run_t *run,
    ngx_http_signalr_failure_t *f, ngx_uint_t went_on);


static ngx_str_t  ngx_http_signalr_rest_methods[] = {
    ngx_null_string,
    ngx_string("POST"),                    /* SIGNALR_REST_POST */
    ngx_string("PUT"),                     /* SIGNALR_REST_PUT */
    ngx_string("DELETE"),                  /* SIGNALR_REST_DELETE */
    ngx_string("HEAD"),                    /* SIGNALR_REST_HEAD */
    ngx_string("GET")                      /* SIGNALR_REST_GET */
};


static ngx_uint_t  ngx_http_signalr_rest_method_ids[] = {
    0,
    NGX_HTTP_POST,
    NGX_HTTP_PUT,
    NGX_HTTP_DELETE,
    NGX_HTTP_HEAD,
    NGX_HTTP_GET
};


/* the "action" of each templated one, and its directive's name */

static const char  *ngx_http_signalr_group_action_names[] = {
    NULL, "add", "remove", "removeAll", "close", "closeConnections",
    "exists", "invoke", "listConnections"
};

static const char  *ngx_http_signalr_action_names[] = {
    NULL, "add", "remove", "remove_all", "close", "close_connections",
    "exists", "invoke", "list_connections"
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

    return ngx_http_signalr_conf_handler(cf, slcf,
                                         ngx_http_signalr_output_handler);
}


char *
ngx_http_signalr_output_check(ngx_conf_t *cf,
    ngx_http_signalr_loc_conf_t *slcf)
{
    ngx_uint_t                     i, a;
    const char                    *need, *unused;
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

    a = slcf->group_action;

    if (slcf->target && a && a != NGX_HTTP_SIGNALR_ACTION_INVOKE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_target\" and \"%s %s\" cannot be "
                           "used together: a location sends a message or "
                           "makes an action (only \"invoke\" takes a "
                           "target)",
                           a <= NGX_HTTP_SIGNALR_GROUP_REMOVE_ALL
                           ? "signalr_group_action" : "signalr_action",
                           ngx_http_signalr_action_names[a]);
        return NGX_CONF_ERROR;
    }

    if (slcf->arguments && slcf->target == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_arguments\" needs \"signalr_target\"");
        return NGX_CONF_ERROR;
    }

    switch (a) {

    case NGX_HTTP_SIGNALR_GROUP_ADD:
    case NGX_HTTP_SIGNALR_GROUP_REMOVE:
        if (slcf->group == NULL) {
            need = "\"signalr_group\"";
            break;
        }

        /* fall through */

    case NGX_HTTP_SIGNALR_GROUP_REMOVE_ALL:
        if (slcf->recipient == NULL && slcf->connection_id == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"signalr_group_action\" needs "
                               "\"signalr_user_id\" or "
                               "\"signalr_connection_id\"");
            return NGX_CONF_ERROR;
        }

        need = NULL;
        break;

    case NGX_HTTP_SIGNALR_ACTION_CLOSE:
        need = slcf->connection_id ? NULL : "\"signalr_connection_id\"";
        break;

    case NGX_HTTP_SIGNALR_ACTION_EXISTS:
        need = (slcf->recipient == NULL && slcf->connection_id == NULL
                && slcf->group == NULL)
               ? "\"signalr_connection_id\", \"signalr_user_id\" or "
                 "\"signalr_group\""
               : NULL;
        break;

    case NGX_HTTP_SIGNALR_ACTION_INVOKE:
        need = (slcf->target == NULL || slcf->connection_id == NULL)
               ? "\"signalr_target\" and \"signalr_connection_id\""
               : NULL;
        break;

    case NGX_HTTP_SIGNALR_ACTION_LIST:
        need = slcf->group ? NULL : "\"signalr_group\"";
        break;

    default: /* none, close_connections */
        need = NULL;
    }

    /* a directive the action would not use: refused, as in JSON */

    unused = NULL;

    switch (a) {

    case NGX_HTTP_SIGNALR_ACTION_CLOSE_ALL:
        unused = slcf->connection_id ? "signalr_connection_id"
                 : (slcf->recipient && slcf->group) ? "signalr_group" : NULL;
        break;

    case NGX_HTTP_SIGNALR_ACTION_EXISTS:
        unused = !slcf->connection_id ? NULL
                 : slcf->recipient ? "signalr_user_id"
                 : slcf->group ? "signalr_group" : NULL;
        break;

    case NGX_HTTP_SIGNALR_ACTION_INVOKE:
        unused = slcf->recipient ? "signalr_user_id"
                 : slcf->group ? "signalr_group" : NULL;
        break;

    case NGX_HTTP_SIGNALR_ACTION_LIST:
        unused = slcf->recipient ? "signalr_user_id"
                 : slcf->connection_id ? "signalr_connection_id" : NULL;
        break;
    }

    if (need == NULL && unused) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_action %s\" does not use \"%s\"",
                           ngx_http_signalr_action_names[a], unused);
        return NGX_CONF_ERROR;
    }

    if (need == NULL) {
        return NGX_CONF_OK;
    }

    /* the group actions named as signalr_group_action, their first one */

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%s %s\" needs %s",
                       a <= NGX_HTTP_SIGNALR_GROUP_REMOVE_ALL
                       ? "signalr_group_action" : "signalr_action",
                       ngx_http_signalr_action_names[a], need);

    return NGX_CONF_ERROR;
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


/* $signalr_exists: "true" or "false" once an exists action is answered */

ngx_int_t
ngx_http_signalr_exists_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_signalr_ctx_t         *ctx;
    ngx_http_signalr_output_ctx_t  *octx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_signalr_module);
    octx = ctx ? ctx->output : NULL;

    if (octx == NULL || octx->v.exists == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (octx->v.exists == 2) {
        return ngx_http_signalr_variable_set(v, (u_char *) "true", 4);
    }

    return ngx_http_signalr_variable_set(v, (u_char *) "false", 5);
}


static ngx_int_t
ngx_http_signalr_output_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_pool_cleanup_t             *cln;
    ngx_http_signalr_ctx_t         *ctx;
    ngx_http_signalr_loc_conf_t    *slcf;
    ngx_http_signalr_output_ctx_t  *octx;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_signalr_module);

    /*
     * a templated check or list reads only: GET and HEAD too, as
     * auth_request's subrequests are
     */

    if (slcf->group_action == NGX_HTTP_SIGNALR_ACTION_EXISTS
        || slcf->group_action == NGX_HTTP_SIGNALR_ACTION_LIST)
    {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST))) {
            return ngx_http_signalr_not_allowed(r, "GET, HEAD, POST",
                                                "this signalr_output takes "
                                                "GET, HEAD or POST");
        }

    } else if (r->method != NGX_HTTP_POST) {
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

    /*
     * a templated check or list reads no body, whatever its size: as an
     * auth_request subrequest, the body is the main request's, for its
     * upstream, and is left alone
     */

    if (slcf->group_action == NGX_HTTP_SIGNALR_ACTION_EXISTS
        || slcf->group_action == NGX_HTTP_SIGNALR_ACTION_LIST)
    {
        if (r == r->main) {
            rc = ngx_http_discard_request_body(r);
            if (rc != NGX_OK) {
                return rc;
            }
        }

        octx->no_body = 1;
        r->main->count++;

        ngx_http_signalr_output_body(r);

        return NGX_DONE;
    }

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
    ngx_uint_t                    i, width;
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
    ngx_memzero(&calls, sizeof(signalr_rest_calls_t));

    if (slcf->target || slcf->group_action) {

        /* templated: one action made of the location's directives */

        item = NULL;

        n = ngx_http_signalr_output_template(r, body, &item, err, errlen);

        if (n == NGX_OK) {
            rc = signalr_action_from_json((char *) hubz, item, &calls, err,
                                          errlen);
            n = (rc == 0) ? NGX_OK : NGX_DECLINED;
        }

        if (item) {
            json_decref(item);
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
        n = NGX_ERROR;
    }

    if (n != NGX_OK) {
        signalr_rest_calls_free(&calls);
        return n;
    }

    octx->calls = ngx_pcalloc(r->pool,
                              calls.n * sizeof(ngx_http_signalr_call_t));
    n = (octx->calls == NULL) ? NGX_ERROR : NGX_OK;

    for (i = 0; n == NGX_OK && i < calls.n; i++) {
        n = ngx_http_signalr_output_copy(r, octx->calls, &calls.calls[i],
                                         i, err, errlen);
    }

    octx->ncalls = calls.n;
    octx->nactions = calls.nactions;

    for (i = 0; n == NGX_OK && i < calls.n; i++) {
        ngx_http_signalr_status_action(r, calls.calls[i].name);
    }

    /* the calls of an action are in a row */

    for (i = 0, width = 0; n == NGX_OK && i < calls.n; i++) {
        width = (i && calls.calls[i].action == calls.calls[i - 1].action)
                ? width + 1 : 1;
        octx->width = ngx_max(octx->width, width);
    }

    signalr_rest_calls_free(&calls);

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

    if (octx->no_body) {
        ngx_str_null(&body);
        n = NGX_OK;

    } else {
        n = ngx_http_signalr_read_body(r, slcf->output_max_body, &body);
    }

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

    if (slcf->group_action) {
        v = json_string(
                  ngx_http_signalr_group_action_names[slcf->group_action]);

        if (v == NULL || json_object_set_new(obj, "action", v) != 0) {
            return NGX_ERROR;
        }
    }

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
    ngx_http_signalr_call_t *calls, signalr_rest_call_t *src, ngx_uint_t n,
    char *err, size_t errlen)
{
    ngx_http_signalr_call_t  *dst;

    dst = &calls[n];

    dst->method = ngx_http_signalr_rest_method_ids[src->method];
    dst->method_name = ngx_http_signalr_rest_methods[src->method];
    dst->what = src->what;
    dst->name = src->name;
    dst->absent = src->absent;
    dst->member = src->member;
    dst->action = src->action;
    dst->kind = src->kind;
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

    if (src->recipient) {
        dst->recipient.len = ngx_strlen(src->recipient);
        dst->recipient.data = ngx_pnalloc(r->pool, dst->recipient.len);
        if (dst->recipient.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(dst->recipient.data, src->recipient, dst->recipient.len);
    }

    if (src->body_shared) {

        /* the recipients of an action share its message */

        dst->body = calls[n - 1].body;

    } else if (src->body_len) {
        dst->body.data = ngx_pnalloc(r->pool, src->body_len);
        if (dst->body.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(dst->body.data, src->body, src->body_len);
    }

    return ngx_http_signalr_output_select(r, dst, src, src->action, err,
                                          errlen);
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
    ngx_uint_t                       i, j, k;
    ngx_http_signalr_endpoint_t     *eps;
    ngx_http_signalr_main_conf_t    *smcf;
    ngx_http_signalr_output_run_t   *run;
    ngx_http_signalr_output_lane_t  *lane;

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

        /* as many lanes as the widest action has calls */

        run->lanes = ngx_pcalloc(r->pool, octx->width
                                 * sizeof(ngx_http_signalr_output_lane_t));
        if (run->lanes == NULL) {
            return NGX_ERROR;
        }

        for (j = 0; j < octx->width; j++) {
            lane = &run->lanes[j];
            lane->run = run;
            lane->retry.handler = ngx_http_signalr_output_retry_handler;
            lane->retry.data = lane;
            lane->retry.log = r->connection->log;
        }

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
                          "signalr: output: no endpoint of action %ui has "
                          "its Microsoft Entra ID credentials yet (the "
                          "refresh's errors say why)", octx->calls[k].action);
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

        k = ngx_http_signalr_output_first(octx, run, 0);

        if (k == octx->ncalls) {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "signalr output: nothing for endpoint \"%V\"",
                           &run->ep->name);
            continue;
        }

        run->running = 1;
        octx->running++;

        if (ngx_http_signalr_output_action(r, octx, run, k) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the calls of the action of call first that go to the run's endpoint */

static ngx_int_t
ngx_http_signalr_output_action(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_run_t *run,
    ngx_uint_t first)
{
    ngx_uint_t                       k, n, action;
    ngx_http_signalr_output_lane_t  *lane;

    action = octx->calls[first].action;
    n = 0;

    for (k = first;
         k < octx->ncalls && octx->calls[k].action == action;
         k++)
    {
        run->call = k;

        if (!ngx_http_signalr_output_for(octx, run->index, k)) {
            continue;
        }

        lane = &run->lanes[n++];
        lane->call = k;
        lane->attempt = 0;
        lane->pages = 0;
        lane->page.len = 0;
        lane->busy = 1;
        run->busy++;

        if (ngx_http_signalr_output_send(r, octx, lane) != NGX_OK) {
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

    /*
     * a check or a list goes to every endpoint, offline or without its
     * Entra ID credentials (then failed as not sent, a 503): one left out
     * may be the one that holds the connection (a "false" would be a guess)
     */

    if (octx->calls[call].kind == SIGNALR_CALL_EXISTS
        || octx->calls[call].kind == SIGNALR_CALL_LIST)
    {
        return (to & bit) != 0;
    }

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
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_lane_t *lane)
{
    u_char                         *p;
    ngx_str_t                       version;
    ngx_http_signalr_ctx_t         *ctx;
    ngx_http_signalr_call_t        *call;
    ngx_http_signalr_failure_t     *f;
    ngx_http_signalr_capture_t     *cap;
    ngx_http_signalr_endpoint_t    *ep;
    ngx_http_signalr_output_run_t  *run;
    ngx_http_signalr_subrequest_t   s;

    run = lane->run;
    call = &octx->calls[lane->call];
    ep = run->ep;

    /*
     * an Entra ID token that ended during the request (a retry, a later
     * call): this endpoint's run stops after this action, as after a
     * failure, and the request goes on with the others
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
        f->call = lane->call;
        f->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        f->no_credentials = 1;

        run->failed = 1;
        run->stop = run->failures->nelts;
        ngx_http_signalr_output_lane_done(lane);

        r->write_event_handler = ngx_http_signalr_output_resume;

        return ngx_http_post_request(r, NULL);
    }

    /* the endpoint of the last call, for $signalr_endpoint */
    ctx = ngx_http_get_module_ctx(r, ngx_http_signalr_module);
    ctx->endpoint = ep;

    ngx_memzero(&s, sizeof(ngx_http_signalr_subrequest_t));

    /* the token's audience has the call's api-version, its query's first */

    version.data = call->query.data;
    p = ngx_strlchr(call->query.data, call->query.data + call->query.len, '&');
    version.len = (p ? p : call->query.data + call->query.len)
                  - call->query.data;

    if (ngx_http_signalr_rest_headers(r, ep, &call->path, &version,
                                      call->body.len != 0, &s)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * the location: the endpoint's REST prefix and a constant, made when
     * the configuration was read; what proxy_pass (with no URI part)
     * sends: the call's path and query as they are, escaped already, or
     * the next page's, checked
     */

    s.uri = ep->rest_uri;

    if (lane->page.len) {
        s.unparsed_uri = lane->page;

        p = ngx_strlchr(lane->page.data, lane->page.data + lane->page.len,
                        '?');
        if (p) {
            s.args.data = p + 1;
            s.args.len = lane->page.data + lane->page.len - (p + 1);
        }

    } else {
        s.args = call->query;

        s.unparsed_uri.len = call->path.len + sizeof("?") - 1
                             + call->query.len;
        s.unparsed_uri.data = ngx_pnalloc(r->pool, s.unparsed_uri.len);
        if (s.unparsed_uri.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(s.unparsed_uri.data, call->path.data, call->path.len);
        *p++ = '?';
        ngx_memcpy(p, call->query.data, call->query.len);
    }

    s.method = call->method;
    s.method_name = call->method_name;
    s.body = call->body;
    s.max_response = (call->kind == SIGNALR_CALL_INVOKE
                      || call->kind == SIGNALR_CALL_LIST)
                     ? NGX_HTTP_SIGNALR_REST_MAX_RESULT
                     : NGX_HTTP_SIGNALR_REST_MAX_RESPONSE;

    ngx_log_debug6(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "signalr output: call %ui \"%s\" to endpoint \"%V\", "
                   "attempt %ui, %uz body bytes, token of %uz bytes",
                   lane->call, call->what, &ep->name, lane->attempt + 1,
                   call->body.len,
                   s.headers[0].value.len - (sizeof("Bearer ") - 1));

    cap = ngx_http_signalr_subrequest(r, &s);
    if (cap == NULL) {
        return NGX_ERROR;
    }

    lane->cap = cap;
    lane->sent = ngx_current_msec;
    r->write_event_handler = ngx_http_signalr_output_resume;

    return NGX_OK;
}


static void
ngx_http_signalr_output_lane_done(ngx_http_signalr_output_lane_t *lane)
{
    lane->busy = 0;
    lane->run->busy--;
}


/*
 * The parent is posted when a subrequest ends: each run whose call has
 * its answer goes on; other wake-ups find none. The answer is sent when
 * every run has ended.
 */

static void
ngx_http_signalr_output_resume(ngx_http_request_t *r)
{
    ngx_uint_t                       i, j;
    ngx_http_signalr_ctx_t          *ctx;
    ngx_http_signalr_capture_t      *cap;
    ngx_http_signalr_output_ctx_t   *octx;
    ngx_http_signalr_output_run_t   *run;
    ngx_http_signalr_output_lane_t  *lane;

    ctx = ngx_http_get_module_ctx(r, ngx_http_signalr_module);
    octx = ctx ? ctx->output : NULL;

    if (octx == NULL || octx->finished || octx->runs == NULL) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "signalr output: nothing to resume");
        return;
    }

    for (i = 0; i < octx->nruns; i++) {
        run = &octx->runs[i];

        for (j = 0; j < octx->width; j++) {
            lane = &run->lanes[j];

            if (lane->cap == NULL
                || !ngx_http_signalr_capture_done(lane->cap))
            {
                continue;
            }

            cap = lane->cap;
            lane->cap = NULL;

            if (ngx_http_signalr_output_next(r, octx, lane, cap) != NGX_OK) {
                ngx_http_signalr_output_finish(r, octx,
                                               NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }
        }

        /* the run's action has ended: the next one, or the run */

        if (run->running && run->busy == 0
            && ngx_http_signalr_output_advance(r, octx, run) != NGX_OK)
        {
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
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_lane_t *lane,
    ngx_http_signalr_capture_t *cap)
{
    ngx_int_t                       rc;
    ngx_msec_t                      delay;
    ngx_uint_t                      rest_status, no_response;
    ngx_http_signalr_call_t        *call;
    ngx_http_signalr_failure_t     *f;
    ngx_http_signalr_loc_conf_t    *slcf;
    ngx_http_signalr_output_run_t  *run;

    run = lane->run;

    rest_status = ngx_http_signalr_capture_status(cap);
    no_response = ngx_http_signalr_capture_failed(cap);

    call = &octx->calls[lane->call];

    /* $signalr_rest_status: what the service said, cut short or not */

    octx->v.rest_status = rest_status;

    if (no_response && ngx_http_signalr_capture_header_status(cap) / 100 == 2)
    {
        octx->v.rest_status = ngx_http_signalr_capture_header_status(cap);
    }

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "signalr output: call %ui \"%s\" to endpoint \"%V\": "
                   "status %ui%s", lane->call, call->what, &run->ep->name,
                   rest_status, no_response ? " (no response)" : "");

    ngx_http_signalr_status_rest(r, run->ep, octx->v.rest_status,
                                 no_response
                                 && octx->v.rest_status / 100 != 2,
                                 ngx_http_signalr_capture_header(cap,
                                                          "x-ms-error-code"),
                                 ngx_current_msec - lane->sent);

    if (ngx_http_signalr_output_answered(r, run, call, cap)) {

        rc = ngx_http_signalr_output_result(r, octx, lane, call, cap);

        if (rc == NGX_AGAIN) {

            /* the next page of a list */

            ngx_http_signalr_capture_release(r, cap);
            lane->attempt = 0;

            return ngx_http_signalr_output_send(r, octx, lane);
        }

        if (rc == NGX_OK) {
            ngx_http_signalr_capture_release(r, cap);

            run->completed++;
            octx->taken[lane->call]++;
            ngx_http_signalr_output_lane_done(lane);

            return NGX_OK;
        }

        if (rc != NGX_DECLINED) {
            ngx_http_signalr_capture_release(r, cap);
            return NGX_ERROR;
        }

        /*
         * a 2xx whose body is not what the operation answers, or was cut
         * short: the service answered, with the status of its status line
         * (no "no response", which would take the endpoint offline)
         */

        f = ngx_http_signalr_output_failure(r, lane, call, cap);

        if (f != NULL && f->no_response) {
            f->status = ngx_http_signalr_capture_header_status(cap);
            f->no_response = 0;
        }

        ngx_http_signalr_capture_release(r, cap);

        if (f == NULL) {
            return NGX_ERROR;
        }

        f->bad_answer = 1;

        goto failed;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_signalr_module);

    if (lane->attempt < slcf->rest_retries
        && ngx_http_signalr_output_retryable(call, cap))
    {
        delay = NGX_HTTP_SIGNALR_REST_BACKOFF << ngx_min(lane->attempt, 5);
        delay = ngx_min(delay, NGX_HTTP_SIGNALR_REST_BACKOFF_MAX);

        lane->attempt++;

        ngx_http_signalr_status_retry(r, run->ep);

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "signalr: REST call \"%s\" to endpoint \"%V\" got "
                      "status %ui%s, retry %ui of %ui in %Mms",
                      call->what, &run->ep->name, rest_status,
                      no_response ? " (no response)" : "",
                      lane->attempt, slcf->rest_retries, delay);

        ngx_http_signalr_capture_release(r, cap);
        ngx_add_timer(&lane->retry, delay);

        return NGX_OK;
    }

    f = ngx_http_signalr_output_failure(r, lane, call, cap);

    ngx_http_signalr_capture_release(r, cap);

    if (f == NULL) {
        return NGX_ERROR;
    }

    /*
     * a connection lives on one endpoint: where it does not, a 404 stops
     * nothing, and the next calls still go to this endpoint
     */

    if (rest_status == NGX_HTTP_NOT_FOUND && !no_response
        && call->connection && octx->targets[lane->call] > 1)
    {
        ngx_http_signalr_output_log_failure(r, octx, run, f, 1);
        ngx_http_signalr_output_lane_done(lane);
        return NGX_OK;
    }

failed:

    ngx_http_signalr_output_log_failure(r, octx, run, f, 0);

    /* the other calls of the action go on; the run ends after them */

    run->failed = 1;
    run->stop = run->failures->nelts;
    ngx_http_signalr_output_lane_done(lane);

    return NGX_OK;
}


/* the run's action has ended */

static ngx_int_t
ngx_http_signalr_output_advance(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_run_t *run)
{
    ngx_uint_t  k;

    if (run->failed) {
        run->stopped = 1;
        run->running = 0;
        octx->running--;
        return NGX_OK;
    }

    k = ngx_http_signalr_output_first(octx, run, run->call + 1);

    if (k == octx->ncalls) {
        run->running = 0;
        octx->running--;
        return NGX_OK;
    }

    return ngx_http_signalr_output_action(r, octx, run, k);
}


/*
 * What a call the endpoint took answers, kept for the caller: exists, the
 * result of an invoke, a page of a list. NGX_AGAIN: the list's next page
 * is to be asked for; NGX_DECLINED: an answer not understood.
 */

static ngx_int_t
ngx_http_signalr_output_result(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_lane_t *lane,
    ngx_http_signalr_call_t *call, ngx_http_signalr_capture_t *cap)
{
    json_t        *root, *v;
    ngx_int_t      rc;
    ngx_str_t      body;
    signalr_jw_t   w;
    signalr_str_t  text;
    json_error_t   error;

    switch (call->kind) {

    case SIGNALR_CALL_EXISTS:

        /* a 2xx, whole or cut short after its status line */

        if ((ngx_http_signalr_capture_failed(cap)
             ? ngx_http_signalr_capture_header_status(cap)
             : ngx_http_signalr_capture_status(cap)) / 100 == 2)
        {
            octx->found = 1;
        }

        return NGX_OK;

    case SIGNALR_CALL_INVOKE:
    case SIGNALR_CALL_LIST:
        break;

    default:
        return NGX_OK;
    }

    /* a body cut short, or larger than kept, is not understood */

    if (ngx_http_signalr_capture_failed(cap)
        || ngx_http_signalr_capture_body(cap, &body) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "signalr: the answer of endpoint \"%V\" to REST call "
                      "\"%s\" was cut short or is larger than %uz bytes",
                      &lane->run->ep->name, call->what,
                      (size_t) NGX_HTTP_SIGNALR_REST_MAX_RESULT);
        return NGX_DECLINED;
    }

    root = json_loadb((char *) body.data, body.len, JSON_REJECT_DUPLICATES,
                      &error);

    if (root == NULL || !json_is_object(root)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "signalr: endpoint \"%V\" answered REST call \"%s\" "
                      "with a body that is not a JSON object",
                      &lane->run->ep->name, call->what);
        rc = NGX_DECLINED;
        goto done;
    }

    if (call->kind == SIGNALR_CALL_LIST) {
        rc = ngx_http_signalr_output_page(r, octx, lane, call, root);
        goto done;
    }

    /* invoke: ClientInvocationResponse of v20241201.json, "result" */

    if (octx->result.data) {
        rc = NGX_OK;
        goto done;
    }

    v = json_object_get(root, "result");

    ngx_http_signalr_jw_init(r, &w, &text);

    if (v) {
        signalr_jw_json(&w, v);

    } else {
        signalr_jw_null(&w);
    }

    if (signalr_jw_done(&w) != 0) {
        rc = NGX_ERROR;
        goto done;
    }

    octx->result.data = (u_char *) text.data;
    octx->result.len = text.len;

    rc = NGX_OK;

done:

    if (root) {
        json_decref(root);
    }

    return rc;
}


/*
 * A page of GroupMemberPagedValues (v20241201.json): its members are kept,
 * and its nextLink, an absolute URL of the same path, is followed through
 * the endpoint's REST location.
 */

static ngx_int_t
ngx_http_signalr_output_page(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx, ngx_http_signalr_output_lane_t *lane,
    ngx_http_signalr_call_t *call, json_t *root)
{
    u_char       *p, *last, *path;
    size_t        i, len;
    json_t       *value, *item, *id, *user, *member;
    ngx_str_t     link;

    value = json_object_get(root, "value");

    if (!json_is_array(value)) {
        goto invalid;
    }

    if (octx->list == NULL) {
        octx->list = json_array();
        if (octx->list == NULL) {
            return NGX_ERROR;
        }
    }

    json_array_foreach(value, i, item) {
        id = json_object_get(item, "connectionId");
        user = json_object_get(item, "userId");

        if (!json_is_string(id) || json_string_length(id) == 0
            || (user && !json_is_string(user) && !json_is_null(user)))
        {
            goto invalid;
        }

        if (json_array_size(octx->list) == NGX_HTTP_SIGNALR_LIST_MAX) {
            octx->truncated = 1;
            return NGX_OK;
        }

        member = json_pack("{sOsO}", "connectionId", id, "userId",
                           user ? user : json_null());

        if (member == NULL || json_array_append_new(octx->list, member) != 0)
        {
            return NGX_ERROR;
        }
    }

    item = json_object_get(root, "nextLink");

    if (item == NULL || json_is_null(item)) {
        return NGX_OK;
    }

    if (!json_is_string(item)) {
        goto invalid;
    }

    /* "https://host/api/hubs/.../connections?...": the path must be ours */

    link.data = (u_char *) json_string_value(item);
    link.len = json_string_length(item);

    if (lane->pages + 1 >= NGX_HTTP_SIGNALR_LIST_MAX_PAGES) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "signalr: the list of endpoint \"%V\" stopped after "
                      "%d pages: the answer says \"truncated\"",
                      &lane->run->ep->name, NGX_HTTP_SIGNALR_LIST_MAX_PAGES);
        octx->truncated = 1;
        return NGX_OK;
    }

    if (link.len > 4096) {
        goto invalid;
    }

    if (link.len > 8 && ngx_strncasecmp(link.data, (u_char *) "https://", 8)
                        == 0)
    {
        p = link.data + 8;

    } else if (link.len > 7
               && ngx_strncasecmp(link.data, (u_char *) "http://", 7) == 0)
    {
        p = link.data + 7;

    } else {
        goto invalid;
    }

    last = link.data + link.len;
    path = ngx_strlchr(p, last, '/');

    if (path == NULL) {
        goto invalid;
    }

    p = ngx_strlchr(path, last, '?');

    if (p == NULL || (size_t) (p - path) != call->path.len
        || ngx_memcmp(path, call->path.data, call->path.len) != 0)
    {
        goto invalid;
    }

    /* a query that goes out as it is: printable, no fragment */

    for (p++; p < last; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '#') {
            goto invalid;
        }
    }

    len = last - path;

    lane->page.data = ngx_pnalloc(r->pool, len);
    if (lane->page.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(lane->page.data, path, len);
    lane->page.len = len;
    lane->pages++;

    return NGX_AGAIN;

invalid:

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "signalr: endpoint \"%V\" answered REST call \"%s\" with "
                  "a page that is not a list of connections, or a nextLink "
                  "that is not a URL of the same path (page %ui)",
                  &lane->run->ep->name,
                  call->what, lane->pages + 1);

    return NGX_DECLINED;
}


/*
 * Done on this endpoint: a 2xx, or, as the SDK counts them, a 404 whose
 * x-ms-error-code says that the connection the call is about is not there
 * (add to a group, close), or, for an existence check, that what it asks
 * about is not there (the answer "false"). An endpoint that answers so, or
 * refuses the
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
         * delivered twice); an invoke's or a list's answer is its result,
         * which is lost: ngx_http_signalr_output_result() tells
         */

        if (call->kind != SIGNALR_CALL_INVOKE
            && call->kind != SIGNALR_CALL_LIST)
        {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "signalr: endpoint \"%V\" answered REST call "
                          "\"%s\" with status %ui, and its answer was cut "
                          "short: counted as done, not sent again",
                          &run->ep->name, call->what, rest_status);
        }

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
 * above 500 or when nothing answered; group actions, close, existence
 * checks and lists are idempotent and are retried on 500 and 408 too; an
 * invoke is never retried
 */

static ngx_uint_t
ngx_http_signalr_output_retryable(ngx_http_signalr_call_t *call,
    ngx_http_signalr_capture_t *cap)
{
    ngx_uint_t  rest_status;

    /* an invoke runs the client's method: never twice */

    if (call->kind == SIGNALR_CALL_INVOKE) {
        return 0;
    }

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
    ngx_http_signalr_output_lane_t *lane, ngx_http_signalr_call_t *call,
    ngx_http_signalr_capture_t *cap)
{
    json_t                         *root, *m;
    ngx_str_t                      *code, *retry_after, body;
    json_error_t                    error;
    ngx_http_signalr_failure_t     *f;
    ngx_http_signalr_output_run_t  *run;

    run = lane->run;

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

    f->call = lane->call;
    f->attempts = lane->attempt + 1;
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

    /*
     * an invoke's failure: the "message" of the service's ErrorDetail
     * tells what the client answered (the error its method threw)
     */

    if (f->status / 100 == 2 || call->kind != SIGNALR_CALL_INVOKE
        || ngx_http_signalr_capture_body(cap, &body) != NGX_OK)
    {
        return f;
    }

    root = json_loadb((char *) body.data, body.len, 0, &error);
    m = json_is_object(root) ? json_object_get(root, "message") : NULL;

    if (json_is_string(m) && json_string_length(m) > 0) {
        f->detail.len = ngx_min(json_string_length(m),
                                NGX_HTTP_SIGNALR_MAX_DETAIL);

        /* cut at a character's start: the answer stays UTF-8 */

        while (f->detail.len < json_string_length(m)
               && (json_string_value(m)[f->detail.len] & 0xc0) == 0x80)
        {
            f->detail.len--;
        }

        f->detail.data = ngx_pnalloc(r->pool, f->detail.len);
        if (f->detail.data == NULL) {
            json_decref(root);
            return NULL;
        }

        ngx_memcpy(f->detail.data, json_string_value(m), f->detail.len);
    }

    if (root) {
        json_decref(root);
    }

    return f;
}


static void
ngx_http_signalr_output_retry_handler(ngx_event_t *ev)
{
    ngx_connection_t                *c;
    ngx_http_request_t              *r;
    ngx_http_signalr_ctx_t          *ctx;
    ngx_http_signalr_output_ctx_t   *octx;
    ngx_http_signalr_output_lane_t  *lane;

    lane = ev->data;
    r = lane->run->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "signalr output: retry to endpoint \"%V\"",
                   &lane->run->ep->name);

    ctx = ngx_http_get_module_ctx(r, ngx_http_signalr_module);
    octx = ctx->output;

    if (!octx->finished
        && ngx_http_signalr_output_send(r, octx, lane) != NGX_OK)
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

    ngx_uint_t                       i, j;
    ngx_http_signalr_output_lane_t  *lane;

    for (i = 0; octx->runs && i < octx->nruns; i++) {
        for (j = 0; octx->runs[i].lanes && j < octx->width; j++) {
            lane = &octx->runs[i].lanes[j];

            if (lane->retry.timer_set) {
                ngx_del_timer(&lane->retry);
            }
        }
    }

    if (octx->list) {
        json_decref(octx->list);
        octx->list = NULL;
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
    ngx_uint_t                      i, first, status, ok, recipients;
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
    ok = 1;
    recipients = 0;

    for (i = 0; i < octx->ncalls; i++) {
        call = &octx->calls[i];
        recipients |= (call->recipient.len != 0);

        if (!ngx_http_signalr_output_ok(octx, i)) {
            ok = 0;

            if (first == octx->ncalls) {
                first = i;
            }
        }

        /* an action took effect when each of its calls did */

        if (i + 1 == octx->ncalls || octx->calls[i + 1].action != call->action)
        {
            octx->v.actions_sent += ok;
            ok = 1;
        }
    }

    if (first == octx->ncalls && octx->calls[0].kind != SIGNALR_CALL_DO) {
        return ngx_http_signalr_output_answer(r, octx);
    }

    ngx_http_signalr_jw_init(r, &w, &text);

    signalr_jw_object(&w);

    if (first == octx->ncalls) {
        signalr_jw_key_lit(&w, "completed");
        signalr_jw_integer(&w, octx->v.actions_sent);
        signalr_jw_key_lit(&w, "total");
        signalr_jw_integer(&w, octx->nactions);

        if (recipients) {
            ngx_http_signalr_output_recipients(octx, &w);
        }

        ngx_http_signalr_output_endpoints(octx, &w);
        signalr_jw_end(&w);

        return ngx_http_signalr_send_jw(r, NGX_HTTP_ACCEPTED, &w);
    }

    f = ngx_http_signalr_output_why(octx, first, &run);

    if (f == NULL) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "signalr: output: no failure found for call %ui",
                      first);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    error = ngx_http_signalr_output_classify(f, &octx->calls[first],
                                             &status);

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

    if (f->detail.len) {
        signalr_jw_key_lit(&w, "detail");
        signalr_jw_string(&w, f->detail.data, f->detail.len);
    }

    signalr_jw_key_lit(&w, "failed");
    signalr_jw_integer(&w, octx->calls[first].action);
    signalr_jw_key_lit(&w, "endpoint");
    signalr_jw_string(&w, run->ep->name.data, run->ep->name.len);
    signalr_jw_key_lit(&w, "status");
    signalr_jw_integer(&w, f->status);
    signalr_jw_key_lit(&w, "errorCode");
    signalr_jw_string_or_null(&w, f->code.data, f->code.len, f->code.len != 0);

    signalr_jw_key_lit(&w, "completed");
    signalr_jw_integer(&w, octx->v.actions_sent);
    signalr_jw_key_lit(&w, "total");
    signalr_jw_integer(&w, octx->nactions);

    if (recipients) {
        ngx_http_signalr_output_recipients(octx, &w);
    }

    ngx_http_signalr_output_endpoints(octx, &w);
    signalr_jw_end(&w);

    /* error pages would replace the body */
    r->err_status = 0;

    return ngx_http_signalr_send_jw(r, status, &w);
}


/*
 * A call took effect, as the SDK counts it (MultiEndpointMessageWriter.cs
 * of Azure/azure-signalr): one about a connection when any endpoint took
 * it, any other when every endpoint it was sent to did. An existence check
 * is true when any endpoint says so, false when every one said not.
 */

static ngx_uint_t
ngx_http_signalr_output_ok(ngx_http_signalr_output_ctx_t *octx,
    ngx_uint_t k)
{
    ngx_http_signalr_call_t  *call;

    call = &octx->calls[k];

    if (call->kind == SIGNALR_CALL_EXISTS) {
        return octx->found || octx->taken[k] == octx->targets[k];
    }

    return call->connection ? octx->taken[k] > 0
                            : octx->taken[k] == octx->targets[k];
}


/* the answer of an action that has one: exists, invoke, listConnections */

static ngx_int_t
ngx_http_signalr_output_answer(ngx_http_request_t *r,
    ngx_http_signalr_output_ctx_t *octx)
{
    ngx_uint_t                    status;
    signalr_jw_t                  w;
    signalr_str_t                 text;
    ngx_http_signalr_loc_conf_t  *slcf;

    ngx_http_signalr_jw_init(r, &w, &text);

    signalr_jw_object(&w);
    status = NGX_HTTP_OK;

    switch (octx->calls[0].kind) {

    case SIGNALR_CALL_EXISTS:
        slcf = ngx_http_get_module_loc_conf(r, ngx_http_signalr_module);

        octx->v.exists = octx->found ? 2 : 1;
        status = octx->found ? NGX_HTTP_OK : slcf->exists_status;

        signalr_jw_key_lit(&w, "exists");
        signalr_jw_bool(&w, octx->found);
        break;

    case SIGNALR_CALL_INVOKE:
        signalr_jw_key_lit(&w, "result");
        signalr_jw_raw(&w, octx->result.data, octx->result.len);
        break;

    default: /* SIGNALR_CALL_LIST */
        signalr_jw_key_lit(&w, "connections");

        if (octx->list) {
            signalr_jw_json(&w, octx->list);

        } else {
            signalr_jw_raw(&w, (u_char *) "[]", 2);
        }

        if (octx->truncated) {
            signalr_jw_key_lit(&w, "truncated");
            signalr_jw_bool(&w, 1);
        }
    }

    signalr_jw_end(&w);

    /* error pages would replace the body */
    r->err_status = 0;

    return ngx_http_signalr_send_jw(r, status, &w);
}


/* with several recipients, what became of each */

static void
ngx_http_signalr_output_recipients(ngx_http_signalr_output_ctx_t *octx,
    signalr_jw_t *w)
{
    ngx_uint_t                      k, status;
    const char                     *error;
    ngx_http_signalr_call_t        *call;
    ngx_http_signalr_failure_t     *f;
    ngx_http_signalr_output_run_t  *run;

    signalr_jw_key_lit(w, "recipients");
    signalr_jw_array(w);

    for (k = 0; k < octx->ncalls; k++) {
        call = &octx->calls[k];

        if (call->recipient.len == 0) {
            continue;
        }

        signalr_jw_object(w);
        signalr_jw_key_lit(w, "action");
        signalr_jw_integer(w, call->action);
        signalr_jw_key(w, call->member, ngx_strlen(call->member));
        signalr_jw_string(w, call->recipient.data, call->recipient.len);
        signalr_jw_key_lit(w, "completed");

        if (ngx_http_signalr_output_ok(octx, k)) {
            signalr_jw_bool(w, 1);
            signalr_jw_end(w);
            continue;
        }

        signalr_jw_bool(w, 0);

        f = ngx_http_signalr_output_why(octx, k, &run);

        if (f) {
            error = ngx_http_signalr_output_classify(f, call, &status);

            signalr_jw_key_lit(w, "status");
            signalr_jw_integer(w, f->status);
            signalr_jw_key_lit(w, "errorCode");
            signalr_jw_string_or_null(w, f->code.data, f->code.len,
                                      f->code.len != 0);
            signalr_jw_key_lit(w, "error");
            signalr_jw_string(w, (u_char *) error, ngx_strlen(error));
        }

        signalr_jw_end(w);
    }

    signalr_jw_end(w);
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

        if (stop == NULL && r->stopped && r->stop && r->call < call
            && ngx_http_signalr_output_for(octx, i, call))
        {
            stop = &f[r->stop - 1];
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
    ngx_http_signalr_call_t *call, ngx_uint_t *status)
{
    if (f->no_credentials) {
        *status = NGX_HTTP_SERVICE_UNAVAILABLE;
        return "the Microsoft Entra ID credentials of the service are not "
               "available";
    }

    if (f->bad_answer) {
        *status = NGX_HTTP_BAD_GATEWAY;
        return "the service gave an unexpected answer";
    }

    if (call->kind == SIGNALR_CALL_INVOKE) {

        /*
         * the client answers through the service: no answer in time, a
         * connection not there, and an error it completed with (in the
         * service's message, "detail") are told apart
         */

        if (f->status == NGX_HTTP_GATEWAY_TIME_OUT
            || f->status == NGX_HTTP_REQUEST_TIME_OUT)
        {
            *status = NGX_HTTP_GATEWAY_TIME_OUT;
            return "the client did not answer in time";
        }

        if (f->status == NGX_HTTP_NOT_FOUND) {
            *status = NGX_HTTP_NOT_FOUND;
            return "the connection is not there";
        }

        if (f->status == NGX_HTTP_INTERNAL_SERVER_ERROR && f->detail.len) {
            *status = NGX_HTTP_BAD_GATEWAY;
            return "the invocation failed";
        }
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
 * With several endpoints, what each did: "completed", the REST calls it
 * took; "skipped", the actions not sent as it was offline; "failures",
 * each call it did not take; "notSent", the actions after the failure
 * that ended its run
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

        /* the actions for it not sent as it was offline */

        for (n = 0, k = 0; run->skipped && k < octx->ncalls; k++) {
            n += ((octx->calls[k].endpoints >> i) & 1)
                 && !ngx_http_signalr_output_for(octx, i, k)
                 && (k == 0
                     || octx->calls[k].action != octx->calls[k - 1].action);
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
                error = ngx_http_signalr_output_classify(&f[j],
                                                    &octx->calls[f[j].call],
                                                    &status);

                signalr_jw_object(w);
                signalr_jw_key_lit(w, "action");
                signalr_jw_integer(w, octx->calls[f[j].call].action);
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

        /* the actions, not the calls: an action's calls are in a row */

        for (n = 0, k = run->call + 1; run->stopped && k < octx->ncalls; k++) {
            n += ngx_http_signalr_output_for(octx, run->index, k)
                 && (k == run->call + 1
                     || octx->calls[k].action != octx->calls[k - 1].action);
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

    /*
     * an invoke's client that did not answer in time, or whose method
     * failed (the service's 500 with a message): the client's doing, not
     * the endpoint's
     */

    if (call->kind == SIGNALR_CALL_INVOKE
        && (f->status == NGX_HTTP_REQUEST_TIME_OUT
            || f->status == NGX_HTTP_GATEWAY_TIME_OUT
            || (f->status == NGX_HTTP_INTERNAL_SERVER_ERROR
                && f->detail.len)))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "signalr: invoke through endpoint \"%V\": %s "
                      "(status %ui%s, x-ms-error-code: %V)", &ep->name,
                      f->status == NGX_HTTP_INTERNAL_SERVER_ERROR
                      ? "the client's method failed"
                      : "the client did not answer in time",
                      f->status, f->no_response ? ", no response" : "",
                      code);
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
                      f->attempts, code,
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
