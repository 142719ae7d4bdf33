/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * ngx_signalr_module: signalr_negotiate, signalr_claim and the negotiate
 * switches: the negotiate answer.
 */

#ifndef NGX_HTTP_SIGNALR_NEGOTIATE_H
#define NGX_HTTP_SIGNALR_NEGOTIATE_H

#include "ngx_http_signalr_module.h"


char *ngx_http_signalr_negotiate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_signalr_negotiate_check(ngx_conf_t *cf,
    ngx_http_signalr_loc_conf_t *slcf);
char *ngx_http_signalr_claim(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_signalr_negotiate_switch(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_signalr_negotiate_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
ngx_int_t ngx_http_signalr_endpoint_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


#endif /* NGX_HTTP_SIGNALR_NEGOTIATE_H */
