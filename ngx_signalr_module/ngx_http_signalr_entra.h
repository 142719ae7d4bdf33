/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * ngx_signalr_module: Microsoft Entra ID instead of an AccessKey: the
 * credential's token requests through the entra= location, the key
 * exchange through the rest= location, the credentials shared by the
 * workers, and requests that wait for the first ones.
 */

#ifndef NGX_HTTP_SIGNALR_ENTRA_H
#define NGX_HTTP_SIGNALR_ENTRA_H

#include "ngx_http_signalr_module.h"
#include "signalr_connstr.h"


/* entra_wait= and entra_refresh= unless given */
#define NGX_HTTP_SIGNALR_ENTRA_WAIT     5000
#define NGX_HTTP_SIGNALR_ENTRA_REFRESH  (55 * 60 * 1000)


typedef ngx_uint_t (*ngx_http_signalr_entra_ready_pt)(ngx_http_request_t *r);
typedef void (*ngx_http_signalr_entra_resume_pt)(ngx_http_request_t *r);


/* the endpoint's credential, from its connection string and environment */
char *ngx_http_signalr_entra_conf(ngx_conf_t *cf,
    ngx_http_signalr_endpoint_t *ep, signalr_connstr_t *cs);

/*
 * the endpoint signs and calls with Entra ID credentials that have not
 * expired (this worker's copy taken from the zone when it changed)
 */
void ngx_http_signalr_entra_free(ngx_http_signalr_main_conf_t *smcf);
ngx_uint_t ngx_http_signalr_entra_ready(ngx_http_signalr_endpoint_t *ep);

/* the key alone (negotiate); a refresh under way, worth waiting for */
ngx_uint_t ngx_http_signalr_entra_can_sign(ngx_http_signalr_endpoint_t *ep);
ngx_uint_t ngx_http_signalr_entra_pending(ngx_http_signalr_endpoint_t *ep);

/* the key's header and HMAC, the token's "Bearer ..." (after _ready) */
signalr_hmac_t *ngx_http_signalr_entra_key(ngx_http_signalr_endpoint_t *ep,
    ngx_str_t *header);
ngx_int_t ngx_http_signalr_entra_bearer(ngx_http_request_t *r,
    ngx_http_signalr_endpoint_t *ep, ngx_str_t *bearer);

/* the refreshes due, started beside the request (as probes are) */
void ngx_http_signalr_entra_refresh(ngx_http_request_t *r);

/*
 * NGX_OK: ready(r) says the request can go on; NGX_AGAIN: it waits, and
 * resume(r) is called when it can go on or its entra_wait= is up;
 * NGX_DECLINED: that time is up; NGX_ERROR
 */
ngx_int_t ngx_http_signalr_entra_wait(ngx_http_request_t *r,
    ngx_http_signalr_entra_ready_pt ready,
    ngx_http_signalr_entra_resume_pt resume, ngx_msec_t wait);

/*
 * signalr_trigger_entra jwks=<uri>: the source registered for the zone;
 * this worker's keys (NULL before the first fetch); a fetch started when
 * due, or, unknown_kid, once per 5 minutes for a key id none has; whether
 * one is under way
 */
ngx_http_signalr_jwks_source_t *ngx_http_signalr_jwks_source(ngx_conf_t *cf,
    ngx_str_t *uri);
signalr_jwks_t *ngx_http_signalr_jwks_current(
    ngx_http_signalr_jwks_source_t *src);
ngx_uint_t ngx_http_signalr_jwks_fetch(ngx_http_request_t *r,
    ngx_http_signalr_jwks_source_t *src, ngx_uint_t unknown_kid);
ngx_uint_t ngx_http_signalr_jwks_pending(ngx_http_signalr_jwks_source_t *src);

/* 503 with Retry-After and the message as the JSON error */
ngx_int_t ngx_http_signalr_entra_unavailable(ngx_http_request_t *r,
    const char *message);


#endif /* NGX_HTTP_SIGNALR_ENTRA_H */
