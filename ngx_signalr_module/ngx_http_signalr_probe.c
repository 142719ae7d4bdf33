/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Probes. An endpoint offline for every worker is probed every probe=
 * interval, an online one every check= interval, through its rest=
 * location: a HEAD of a connection that cannot exist, with a token signed
 * with the endpoint's key. The service answers it 404 with
 * x-ms-error-code Warning.Connection.NotExisted only when the token is
 * valid, so a probe fails on a wrong key, where the SDK's HEAD /api/health
 * would pass (Azure/azure-signalr issue #1662). A probe that passes brings
 * an offline endpoint back at once; one that fails takes an online one
 * offline.
 *
 * nginx gives a module no request of its own to make subrequests from, so
 * probes ride on traffic: a request of a negotiate, trigger or output
 * location starts the probes that are due, as background subrequests that
 * it does not wait for. The shared zone makes one worker in all take each
 * probe (ngx_http_signalr_probe_due()).
 */

#include "ngx_http_signalr_module.h"
#include "ngx_http_signalr_endpoint.h"
#include "ngx_http_signalr_probe.h"
#include "ngx_http_signalr_entra.h"
#include "ngx_http_signalr_shm.h"
#include "ngx_http_signalr_subrequest.h"
#include "signalr_action.h"
#include "signalr_json.h"
#include "signalr_names.h"


/* a hub and a connection id that the service never gives out */
#define NGX_HTTP_SIGNALR_PROBE_PATH                                          \
    "/api/hubs/ngx_signalr_probe/connections/ngx-signalr-probe"

#define NGX_HTTP_SIGNALR_PROBE_ABSENT  "Warning.Connection.NotExisted"


typedef struct {
    ngx_http_signalr_endpoint_t    *ep;
    ngx_msec_t                      mark;          /* its own, in the zone */
    unsigned                        seen:1;
} ngx_http_signalr_probe_t;


static ngx_int_t ngx_http_signalr_probe_send(ngx_http_request_t *r,
    ngx_http_signalr_endpoint_t *ep, ngx_msec_t mark);
static void ngx_http_signalr_probe_done(ngx_http_request_t *sr,
    ngx_http_signalr_capture_t *cap, void *data);
static void ngx_http_signalr_probe_cleanup(void *data);


void
ngx_http_signalr_probe(ngx_http_request_t *r)
{
    ngx_uint_t                     i;
    ngx_msec_t                     mark;
    ngx_http_signalr_endpoint_t   *eps;
    ngx_http_signalr_main_conf_t  *smcf;

    if (r != r->main) {
        return;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);
    eps = smcf->endpoints.elts;

    for (i = 0; i < smcf->endpoints.nelts; i++) {

        /* only an endpoint with a REST location can be probed */

        if (eps[i].rest.len == 0) {
            continue;
        }

        /* nor one with Entra ID before it has its token */

        if (eps[i].entra && !ngx_http_signalr_entra_ready(&eps[i])) {
            continue;
        }

        mark = ngx_http_signalr_probe_due(&eps[i]);

        if (mark == 0) {
            continue;
        }

        if (ngx_http_signalr_probe_send(r, &eps[i], mark) != NGX_OK) {
            ngx_http_signalr_probe_lost(&eps[i], mark);
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "signalr: the probe of endpoint \"%V\" could not "
                          "be started", &eps[i].name);
            continue;
        }

        /*
         * the request's connection is not kept alive: its next request
         * would wait for the probe, which it holds
         */

        r->keepalive = 0;
    }
}


static ngx_int_t
ngx_http_signalr_probe_send(ngx_http_request_t *r,
    ngx_http_signalr_endpoint_t *ep, ngx_msec_t mark)
{
    ngx_str_t                       path;
    ngx_pool_cleanup_t             *cln;
    ngx_http_signalr_probe_t       *probe;
    ngx_http_signalr_subrequest_t   s;

    probe = ngx_pcalloc(r->pool, sizeof(ngx_http_signalr_probe_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (probe == NULL || cln == NULL) {
        return NGX_ERROR;
    }

    probe->ep = ep;
    probe->mark = mark;

    ngx_memzero(&s, sizeof(ngx_http_signalr_subrequest_t));

    ngx_str_set(&path, NGX_HTTP_SIGNALR_PROBE_PATH);

    if (ngx_http_signalr_rest_headers(r, ep, &path, NULL, 0, &s) != NGX_OK) {
        return NGX_ERROR;
    }

    s.uri = ep->rest_uri;
    ngx_str_set(&s.args, SIGNALR_API_VERSION_QUERY);
    ngx_str_set(&s.unparsed_uri,
                NGX_HTTP_SIGNALR_PROBE_PATH "?" SIGNALR_API_VERSION_QUERY);
    s.method = NGX_HTTP_HEAD;
    ngx_str_set(&s.method_name, "HEAD");
    s.max_response = 0;
    s.background = 1;
    s.done = ngx_http_signalr_probe_done;
    s.data = probe;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "signalr probe: endpoint \"%V\"", &ep->name);

    if (ngx_http_signalr_subrequest(r, &s) == NULL) {
        probe->seen = 1;
        return NGX_ERROR;
    }

    /* a probe whose request ends before its outcome frees the next one */

    cln->handler = ngx_http_signalr_probe_cleanup;
    cln->data = probe;

    return NGX_OK;
}


static void
ngx_http_signalr_probe_cleanup(void *data)
{
    ngx_http_signalr_probe_t *probe = data;

    if (!probe->seen) {
        ngx_http_signalr_probe_lost(probe->ep, probe->mark);
    }
}


/*
 * The endpoint works when it answered the HEAD 404 with the code the
 * service gives a valid token (or 2xx). It fails, as a REST call fails,
 * when nothing answered (408, 444 and 499 too), or with 5xx, 401 or 403;
 * any other answer (429, a 404 of a proxy) is kept as the last probe's and
 * changes nothing.
 */

static void
ngx_http_signalr_probe_done(ngx_http_request_t *sr,
    ngx_http_signalr_capture_t *cap, void *data)
{
    ngx_http_signalr_probe_t *probe = data;

    ngx_str_t                     *code, none = ngx_string("none");
    ngx_uint_t                     status, failed, works, online, level;
    const char                    *hint;
    ngx_http_signalr_endpoint_t   *ep;
    ngx_http_signalr_loc_conf_t   *slcf;

    probe->seen = 1;
    ep = probe->ep;

    status = ngx_http_signalr_capture_status(cap);

    /* nginx's own statuses of a request ended with no answer */

    failed = ngx_http_signalr_capture_failed(cap)
             || status == NGX_HTTP_REQUEST_TIME_OUT
             || status == NGX_HTTP_CLOSE
             || status == NGX_HTTP_CLIENT_CLOSED_REQUEST;

    code = failed ? NULL
                  : ngx_http_signalr_capture_header(cap, "x-ms-error-code");

    if (code && (code->len > NGX_HTTP_SIGNALR_MAX_ERROR_CODE
                 || !signalr_utf8_valid(code->data, code->len)))
    {
        code = NULL;
    }

    works = !failed
            && ((status >= 200 && status < 300)
                || (status == NGX_HTTP_NOT_FOUND && code
                    && signalr_caseless_eq(code->data, code->len,
                        (u_char *) NGX_HTTP_SIGNALR_PROBE_ABSENT,
                        sizeof(NGX_HTTP_SIGNALR_PROBE_ABSENT) - 1)));

    ngx_http_signalr_probe_seen(ep, probe->mark, status, works);

    if (code == NULL) {
        code = &none;
    }

    if (works) {
        if (ngx_http_signalr_endpoint_ok(ep)) {
            ngx_log_error(NGX_LOG_NOTICE, sr->connection->log, 0,
                          "signalr: the probe of endpoint \"%V\" passed: it "
                          "is online again for every worker", &ep->name);
        }

        return;
    }

    if (!failed && status < NGX_HTTP_INTERNAL_SERVER_ERROR
        && status != NGX_HTTP_UNAUTHORIZED && status != NGX_HTTP_FORBIDDEN)
    {
        ngx_log_error(NGX_LOG_INFO, sr->connection->log, 0,
                      "signalr: the probe of endpoint \"%V\" got status %ui "
                      "(x-ms-error-code: %V), which tells neither that it "
                      "works nor that it fails: nothing changes",
                      &ep->name, status, code);
        return;
    }

    slcf = ngx_http_get_module_loc_conf(sr->main, ngx_http_signalr_module);

    online = ngx_http_signalr_endpoint_fail(ep, status,
                 ngx_http_signalr_offline_time(ep, slcf));

    if (failed) {
        hint = " (no response: check the \"rest=\" location, the network "
               "and the endpoint's host)";

    } else if (status == NGX_HTTP_UNAUTHORIZED
               || status == NGX_HTTP_FORBIDDEN)
    {
        hint = ep->entra ? " (check the identity's role on the SignalR "
                           "resource)"
                         : " (check the AccessKey of its connection string)";

    } else {
        hint = "";
    }

    /* a probe per interval: a failure that changes nothing is info */

    level = online ? NGX_LOG_ERR : NGX_LOG_INFO;

    ngx_log_error(level, sr->connection->log, 0,
                  "signalr: the probe of endpoint \"%V\" failed with status "
                  "%ui%s (x-ms-error-code: %V); the endpoint is %s offline "
                  "for every worker", &ep->name, status, hint, code,
                  online ? "marked" : "still");
}
