/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * ngx_signalr_module: subrequests whose responses the module keeps (captures).
 */

#ifndef NGX_HTTP_SIGNALR_SUBREQUEST_H
#define NGX_HTTP_SIGNALR_SUBREQUEST_H

#include "ngx_http_signalr_module.h"


ngx_http_signalr_capture_t *ngx_http_signalr_subrequest(
    ngx_http_request_t *r, ngx_http_signalr_subrequest_t *s);
void ngx_http_signalr_capture_release(ngx_http_request_t *r,
    ngx_http_signalr_capture_t *cap);
ngx_uint_t ngx_http_signalr_capture_done(ngx_http_signalr_capture_t *cap);
ngx_uint_t ngx_http_signalr_capture_status(ngx_http_signalr_capture_t *cap);
ngx_uint_t ngx_http_signalr_capture_failed(ngx_http_signalr_capture_t *cap);
ngx_uint_t ngx_http_signalr_capture_header_status(
    ngx_http_signalr_capture_t *cap);
ngx_int_t ngx_http_signalr_capture_body(ngx_http_signalr_capture_t *cap,
    ngx_str_t *body);
ngx_str_t *ngx_http_signalr_capture_header(ngx_http_signalr_capture_t *cap,
    const char *name);
ngx_str_t *ngx_http_signalr_capture_content_type(
    ngx_http_signalr_capture_t *cap);
ngx_int_t ngx_http_signalr_filter_init(ngx_conf_t *cf);


#endif /* NGX_HTTP_SIGNALR_SUBREQUEST_H */
