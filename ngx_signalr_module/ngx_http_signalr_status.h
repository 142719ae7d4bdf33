/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * ngx_signalr_module: the status page (signalr_status) and the counters it
 * shows, kept in a shared memory zone of their own (signalr_status_zone)
 * that every worker writes without locks and a reload keeps.
 */

#ifndef NGX_HTTP_SIGNALR_STATUS_H
#define NGX_HTTP_SIGNALR_STATUS_H

#include "ngx_http_signalr_module.h"


/* why negotiate gave no token: the "reason" label (docs/status.md) */
enum {
    NGX_HTTP_SIGNALR_REFUSED_ERROR = 0,          /* internal: a 500 */
    NGX_HTTP_SIGNALR_REFUSED_BAD_HUB,
    NGX_HTTP_SIGNALR_REFUSED_INVALID_USER_ID,
    NGX_HTTP_SIGNALR_REFUSED_INVALID_CLAIM,
    NGX_HTTP_SIGNALR_REFUSED_TOKEN_TOO_LONG,
    NGX_HTTP_SIGNALR_REFUSED_NO_ENDPOINT,
    NGX_HTTP_SIGNALR_REFUSED_NOT_READY,          /* Entra ID: no key yet */
    NGX_HTTP_SIGNALR_REFUSED_N
};


char *ngx_http_signalr_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_signalr_status_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* the zone and the log phase handler, when the configuration has them */
ngx_int_t ngx_http_signalr_status_init(ngx_conf_t *cf);

/* the outputs' counters: an action's call accepted; a REST call answered */
void ngx_http_signalr_status_action(ngx_http_request_t *r, const char *name);
void ngx_http_signalr_status_rest(ngx_http_request_t *r,
    ngx_http_signalr_endpoint_t *ep, ngx_uint_t status,
    ngx_uint_t no_response, ngx_str_t *code, ngx_msec_t time);
void ngx_http_signalr_status_retry(ngx_http_request_t *r,
    ngx_http_signalr_endpoint_t *ep);


#endif /* NGX_HTTP_SIGNALR_STATUS_H */
