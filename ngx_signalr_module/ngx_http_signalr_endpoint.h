/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * ngx_signalr_module: signalr_endpoint: connection strings, the endpoint for
 * a request, access tokens.
 */

#ifndef NGX_HTTP_SIGNALR_ENDPOINT_H
#define NGX_HTTP_SIGNALR_ENDPOINT_H

#include "ngx_http_signalr_module.h"


char *ngx_http_signalr_endpoint(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_http_signalr_endpoint_t *ngx_http_signalr_pick_endpoint(
    ngx_http_request_t *r);
ngx_uint_t ngx_http_signalr_endpoint_usable(ngx_http_signalr_endpoint_t *ep);
ngx_http_signalr_endpoint_t *ngx_http_signalr_endpoint_named(
    ngx_http_signalr_main_conf_t *smcf, ngx_str_t *name);
ngx_int_t ngx_http_signalr_token(ngx_http_request_t *r,
    ngx_http_signalr_endpoint_t *ep, signalr_jwt_claim_t *claims,
    ngx_uint_t nclaims, ngx_str_t *aud, time_t lifetime, ngx_str_t *token);
void ngx_http_signalr_rest_tokens_free(ngx_http_signalr_endpoint_t *ep);
ngx_int_t ngx_http_signalr_rest_headers(ngx_http_request_t *r,
    ngx_http_signalr_endpoint_t *ep, ngx_str_t *path, ngx_str_t *version,
    ngx_uint_t body, ngx_http_signalr_subrequest_t *s);
ngx_msec_t ngx_http_signalr_offline_time(ngx_http_signalr_endpoint_t *ep,
    ngx_http_signalr_loc_conf_t *slcf);
ngx_int_t ngx_http_signalr_rest_token(ngx_http_request_t *r,
    ngx_http_signalr_endpoint_t *ep, ngx_str_t *aud, time_t lifetime,
    ngx_str_t *bearer);


#endif /* NGX_HTTP_SIGNALR_ENDPOINT_H */
