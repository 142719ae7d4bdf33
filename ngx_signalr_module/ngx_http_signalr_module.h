/*
 * ngx_signalr_module: Azure SignalR Service (serverless mode) in nginx.
 * Types shared by the module's files.
 */

#ifndef NGX_HTTP_SIGNALR_MODULE_H
#define NGX_HTTP_SIGNALR_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "signalr_crypto.h"
#include "signalr_jwt.h"


#define NGX_HTTP_SIGNALR_PRIMARY    0
#define NGX_HTTP_SIGNALR_SECONDARY  1


typedef struct {
    ngx_str_t                   name;
    ngx_uint_t                  type;            /* PRIMARY or SECONDARY */
    ngx_str_t                   rest;            /* rest= location prefix */
    ngx_str_t                   host;
    ngx_str_t                   client_base;     /* "https://host/" */
    ngx_str_t                   server_base;
    ngx_str_t                   audience_base;   /* no port, no path */

    /* keyed with the AccessKey once; the key itself is not kept */
    signalr_hmac_t             *hmac;
} ngx_http_signalr_endpoint_t;


typedef struct {
    ngx_array_t                 endpoints;       /* of endpoint_t */
    ngx_uint_t                  nprimary;
} ngx_http_signalr_main_conf_t;


typedef struct {
    ngx_str_t                   name;            /* as written in the token */
    ngx_array_t                 values;          /* of complex_value_t */
} ngx_http_signalr_claim_t;


typedef struct {
    ngx_http_complex_value_t   *negotiate_hub;
    ngx_http_complex_value_t   *user_id;
    ngx_array_t                *claims;          /* of claim_t */
    time_t                      token_lifetime;
} ngx_http_signalr_loc_conf_t;


typedef struct {
    ngx_http_signalr_endpoint_t  *endpoint;
    ngx_str_t                     hub;           /* lower-cased */
    ngx_str_t                     client_url;
    ngx_str_t                     access_token;
    ngx_int_t                     negotiate_rc;  /* 0: not computed yet */
    const char                   *error;         /* for the 400 body */
} ngx_http_signalr_ctx_t;


extern ngx_module_t  ngx_http_signalr_module;


/* endpoints: ngx_http_signalr_endpoint.c */
char *ngx_http_signalr_endpoint(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_http_signalr_endpoint_t *ngx_http_signalr_pick_endpoint(
    ngx_http_request_t *r);
ngx_int_t ngx_http_signalr_token(ngx_http_request_t *r,
    ngx_http_signalr_endpoint_t *ep, signalr_jwt_claim_t *claims,
    ngx_uint_t nclaims, ngx_str_t *aud, time_t lifetime, ngx_str_t *token);

/* negotiate: ngx_http_signalr_negotiate.c */
char *ngx_http_signalr_negotiate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_signalr_claim(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_signalr_negotiate_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

/* shared helpers: ngx_http_signalr_module.c */
ngx_http_signalr_ctx_t *ngx_http_signalr_get_ctx(ngx_http_request_t *r);
ngx_int_t ngx_http_signalr_send_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body);
ngx_int_t ngx_http_signalr_send_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *message);
ngx_int_t ngx_http_signalr_check_hub(ngx_http_request_t *r,
    ngx_http_complex_value_t *cv, ngx_str_t *hub);

#endif /* NGX_HTTP_SIGNALR_MODULE_H */
