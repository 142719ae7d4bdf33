/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * ngx_signalr_module: signalr_trigger: upstream calls of the service,
 * routes, completions.
 */

#ifndef NGX_HTTP_SIGNALR_TRIGGER_H
#define NGX_HTTP_SIGNALR_TRIGGER_H

#include "ngx_http_signalr_module.h"


/* the values of the trigger variables: offsetof() in their data */
typedef struct {
    ngx_str_t                    hub;
    ngx_str_t                    category;
    ngx_str_t                    event;
    ngx_str_t                    connection_id;
    ngx_str_t                    user_id;
    ngx_str_t                    invocation_id;
    ngx_str_t                    arguments;      /* JSON array text */
    ngx_str_t                    error;          /* disconnected error */
} ngx_http_signalr_trigger_vars_t;


/* what the status page counts of an upstream call, when its request ends */
typedef struct {
    ngx_str_t                    hub;
    ngx_str_t                    category;
    ngx_str_t                    event;
    ngx_msec_t                   route_time;
    unsigned                     verified:1;     /* the names are the */
                                                 /* service's */
    unsigned                     routed:1;       /* the route answered */
    unsigned                     route_failed:1; /* with 5xx, or not */
} ngx_http_signalr_trigger_report_t;


void ngx_http_signalr_trigger_report(ngx_http_signalr_ctx_t *ctx,
    ngx_http_signalr_trigger_report_t *rep);

char *ngx_http_signalr_trigger(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_signalr_trigger_entra(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_signalr_trigger_check(ngx_conf_t *cf,
    ngx_http_signalr_loc_conf_t *slcf);
ngx_int_t ngx_http_signalr_trigger_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


#endif /* NGX_HTTP_SIGNALR_TRIGGER_H */
