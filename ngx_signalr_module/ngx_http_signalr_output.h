/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * ngx_signalr_module: signalr_output: actions sent as SignalR REST calls.
 */

#ifndef NGX_HTTP_SIGNALR_OUTPUT_H
#define NGX_HTTP_SIGNALR_OUTPUT_H

#include "ngx_http_signalr_module.h"


/* the values of the output variables: offsetof() in their data */
typedef struct {
    ngx_uint_t                   rest_status;    /* of the last call */
    ngx_uint_t                   actions_sent;   /* actions completed */
    ngx_uint_t                   exists;         /* 0: none, 1: no, 2: yes */
} ngx_http_signalr_output_vars_t;


char *ngx_http_signalr_output(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_signalr_output_check(ngx_conf_t *cf,
    ngx_http_signalr_loc_conf_t *slcf);
ngx_int_t ngx_http_signalr_output_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
ngx_int_t ngx_http_signalr_exists_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


#endif /* NGX_HTTP_SIGNALR_OUTPUT_H */
