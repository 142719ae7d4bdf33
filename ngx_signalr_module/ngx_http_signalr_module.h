/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * ngx_signalr_module: Azure SignalR Service (serverless mode) in nginx.
 * Types shared by the module's files; each feature's functions are declared
 * in its own header (ngx_http_signalr_<feature>.h), the shared helpers in
 * ngx_http_signalr_util.h.
 */

#ifndef NGX_HTTP_SIGNALR_MODULE_H
#define NGX_HTTP_SIGNALR_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "signalr_crypto.h"
#include "signalr_jwt.h"
#include "signalr_entra.h"
#include "ngx_http_signalr_version.h"


/* sent with every REST call, as the service SDKs send theirs */
#define NGX_HTTP_SIGNALR_USER_AGENT                                          \
    "ngx_signalr_module/" NGX_HTTP_SIGNALR_VERSION " (nginx/" NGINX_VERSION ")"


#define NGX_HTTP_SIGNALR_PRIMARY    0
#define NGX_HTTP_SIGNALR_SECONDARY  1

/* each has its state in the shared zone (ngx_http_signalr_shm.c) */
#define NGX_HTTP_SIGNALR_MAX_ENDPOINTS  64

/* the longest x-ms-error-code (or Retry-After) of the service kept */
#define NGX_HTTP_SIGNALR_MAX_ERROR_CODE  128


typedef struct ngx_http_signalr_rest_token_s  ngx_http_signalr_rest_token_t;
typedef struct ngx_http_signalr_entra_s       ngx_http_signalr_entra_t;
typedef struct ngx_http_signalr_entra_wait_s  ngx_http_signalr_entra_wait_t;
typedef struct ngx_http_signalr_jwks_zone_s   ngx_http_signalr_jwks_zone_t;


/*
 * the signing keys of signalr_trigger_entra jwks=<uri>: fetched through
 * that location into the shared zone (ngx_http_signalr_entra.c), and this
 * worker's parsed copy
 */
typedef struct {
    ngx_str_t                       uri;
    uint32_t                        crc;
    void                           *server;         /* whose location */
    ngx_http_signalr_jwks_zone_t   *zone;
    ngx_atomic_uint_t               seen;
    signalr_jwks_t                 *jwks;
    u_char                         *copy;           /* of the zone's JSON */
} ngx_http_signalr_jwks_source_t;
typedef struct ngx_http_signalr_state_s       ngx_http_signalr_state_t;
typedef struct ngx_http_signalr_shm_s         ngx_http_signalr_shm_t;


typedef struct {
    ngx_str_t                   name;
    ngx_uint_t                  type;            /* PRIMARY or SECONDARY */
    ngx_str_t                   rest;            /* rest= location prefix */
    ngx_str_t                   rest_uri;        /* <rest>/api/hubs */
    ngx_str_t                   host;
    ngx_str_t                   client_base;     /* "https://host/" */
    ngx_str_t                   audience_base;   /* no port, no path */

    /* keyed with the AccessKey once; the key itself is not kept */
    signalr_hmac_t             *hmac;

    /*
     * Microsoft Entra ID instead of an AccessKey (ngx_http_signalr_entra.c):
     * its token request, and this worker's copy of the credentials; entra=,
     * entra_wait=, entra_refresh=; the crc of the service and the identity
     */
    ngx_http_signalr_entra_t   *entra;
    ngx_str_t                   entra_prefix;
    ngx_msec_t                  entra_wait;
    ngx_msec_t                  entra_refresh;
    uint32_t                    credential;

    /*
     * the service's other key, from a second signalr_endpoint for the same
     * service (rotation): it verifies upstream signatures, signs nothing
     */
    signalr_hmac_t             *hmac2;
    ngx_str_t                   service;         /* "scheme://host:port/" */
    ngx_str_t                   url;             /* of Endpoint, with Port */

    /* offline_time=, probe=, check= (0: off); the time unset: the location's */
    ngx_msec_t                  offline_time;
    ngx_msec_t                  probe;
    ngx_msec_t                  check;

    /* online or not, for every worker (ngx_http_signalr_shm.c) */
    ngx_http_signalr_state_t   *state;

    /* this worker's REST tokens, by audience (ngx_http_signalr_rest_token) */
    ngx_http_signalr_rest_token_t  *tokens;
    ngx_uint_t                  next_token;
} ngx_http_signalr_endpoint_t;


typedef struct {
    ngx_array_t                 endpoints;       /* of endpoint_t */
    ngx_uint_t                  entra;           /* endpoints with Entra */
    ngx_array_t                 jwks_sources;    /* of jwks_source_t * */
    ngx_shm_zone_t             *shm_zone;
    ngx_http_signalr_shm_t     *sh;              /* in the zone */

    /* the status page's counters (ngx_http_signalr_status.c) */
    ngx_uint_t                  status_used;     /* signalr_status is */
    size_t                      status_size;     /* signalr_status_zone */
    ngx_uint_t                  status_hubs;
    ngx_uint_t                  status_events;
    ngx_shm_zone_t             *status_zone;
    void                       *status;          /* in the zone; NULL: */
                                                 /* nothing is counted */
    void                       *status_cache;    /* each worker's */
} ngx_http_signalr_main_conf_t;


typedef struct {
    ngx_str_t                   name;            /* as written in the token */
    ngx_array_t                 values;          /* of complex_value_t */
} ngx_http_signalr_claim_t;


/*
 * an on/off switch of negotiate (signalr_negotiate_detailed_errors,
 * signalr_negotiate_diagnostic_client): a constant is checked and decided
 * when the configuration loads; a value with variables is decided for each
 * request
 */
typedef struct {
    ngx_http_complex_value_t   *value;           /* NULL: the constant's */
    ngx_flag_t                  on;              /* the constant */
} ngx_http_signalr_switch_t;


/*
 * each action is a REST call per endpoint (and one more per retry), and
 * each call keeps about 9 KB of the request's pool (nginx's subrequest and
 * upstream) until the request ends: docs/output.md
 */
#define NGX_HTTP_SIGNALR_MAX_ACTIONS       1000


#define NGX_HTTP_SIGNALR_VERIFY_OFF        0
#define NGX_HTTP_SIGNALR_VERIFY_ON         1     /* X-ASRS-Signature */
#define NGX_HTTP_SIGNALR_VERIFY_ENTRA      2     /* a bearer token */


/* the action of a templated output location */
#define NGX_HTTP_SIGNALR_GROUP_ADD         1
#define NGX_HTTP_SIGNALR_GROUP_REMOVE      2
#define NGX_HTTP_SIGNALR_GROUP_REMOVE_ALL  3
#define NGX_HTTP_SIGNALR_ACTION_CLOSE      4
#define NGX_HTTP_SIGNALR_ACTION_CLOSE_ALL  5     /* closeConnections */
#define NGX_HTTP_SIGNALR_ACTION_EXISTS     6
#define NGX_HTTP_SIGNALR_ACTION_INVOKE     7
#define NGX_HTTP_SIGNALR_ACTION_LIST       8


typedef struct {
    /* negotiate */
    ngx_http_complex_value_t   *negotiate_hub;
    ngx_http_complex_value_t   *user_id;         /* output: the recipient */
    ngx_array_t                *claims;          /* of claim_t */
    time_t                      token_lifetime;
    ngx_http_complex_value_t   *negotiate_endpoint;
    ngx_http_signalr_switch_t  *detailed_errors;   /* asrs.s.derror */
    ngx_http_signalr_switch_t  *diagnostic_client; /* asrs.s.dc */

    /* output; the recipient is signalr_user_id of the location itself */
    ngx_http_complex_value_t   *output_hub;
    ngx_http_complex_value_t   *recipient;
    ngx_http_complex_value_t   *target;
    ngx_http_complex_value_t   *group;
    ngx_http_complex_value_t   *connection_id;
    ngx_http_complex_value_t   *arguments;
    ngx_uint_t                  group_action;    /* or any action */
    ngx_uint_t                  exists_status;
    ngx_uint_t                  rest_retries;
    size_t                      output_max_body;
    ngx_uint_t                  output_max_actions;
    ngx_msec_t                  offline_time;

    /* trigger */
    ngx_http_complex_value_t   *trigger_uri;
    ngx_uint_t                  trigger_verify;  /* VERIFY_* */

    /* signalr_trigger_entra: the bearer tokens of upstream calls */
    signalr_jwks_t             *trigger_jwks;    /* jwks=file: */
    ngx_http_signalr_jwks_source_t  *trigger_source;  /* jwks=<uri> */
    u_char                     *trigger_issuer;      /* 0-terminated */
    u_char                     *trigger_audience;

    /* the content handler of signalr_negotiate, _output or _trigger */
    ngx_http_handler_pt         handler;
} ngx_http_signalr_loc_conf_t;


/* the response of a subrequest: opaque, ngx_http_signalr_subrequest.h */
typedef struct ngx_http_signalr_capture_s  ngx_http_signalr_capture_t;


/* called once a subrequest has its outcome (ngx_http_signalr_subrequest.c) */
typedef void (*ngx_http_signalr_capture_pt)(ngx_http_request_t *sr,
    ngx_http_signalr_capture_t *cap, void *data);


typedef struct {
    ngx_str_t                   uri;
    ngx_str_t                   args;
    ngx_uint_t                  method;
    ngx_str_t                   method_name;
    ngx_table_elt_t            *headers;         /* sent instead of the */
    ngx_uint_t                  nheaders;        /* client's headers; */
                                                 /* lowcase_key, hash */
                                                 /* 0: made here */
    ngx_str_t                   body;
    size_t                      max_response;

    /* if set, what proxy_pass with no URI part sends, escaped as it is */
    ngx_str_t                   unparsed_uri;

    /*
     * a background subrequest: the request does not wait for it, and done
     * is told its outcome
     */
    unsigned                    background:1;
    ngx_http_signalr_capture_pt done;
    void                       *data;
} ngx_http_signalr_subrequest_t;


/*
 * What a request is refused with, the one convention of negotiate, trigger
 * and output: a step that fails fills it in (the status, and the message
 * of the JSON body) and returns NGX_ERROR; the handler answers it once,
 * with ngx_http_signalr_send_error().
 */
typedef struct {
    ngx_uint_t                  status;
    const char                 *message;
} ngx_http_signalr_error_t;


typedef struct ngx_http_signalr_trigger_ctx_s  ngx_http_signalr_trigger_ctx_t;
typedef struct ngx_http_signalr_output_ctx_s   ngx_http_signalr_output_ctx_t;


typedef struct {
    ngx_http_request_t              *request;
    ngx_http_signalr_trigger_ctx_t  *trigger;
    ngx_http_signalr_output_ctx_t   *output;

    /* the trigger's handler ran: the status page counts the call */
    unsigned                         trigger_called:1;

    /* the endpoint the request used, for $signalr_endpoint */
    ngx_http_signalr_endpoint_t     *endpoint;

    /* waiting for Microsoft Entra ID credentials, or signing keys */
    ngx_http_signalr_entra_wait_t   *entra_wait;
    unsigned                         jwks_waited:1;

    /* negotiate */
    ngx_str_t                     hub;           /* lower-cased */
    ngx_str_t                     client_url;
    ngx_str_t                     access_token;
    ngx_int_t                     negotiate_rc;
    ngx_http_signalr_error_t      negotiate_err;
    ngx_uint_t                    negotiate_refusal;  /* why not, */
                                                 /* for the status page */
    void                         *negotiated;    /* for this loc conf */
} ngx_http_signalr_ctx_t;


extern ngx_module_t  ngx_http_signalr_module;


#endif /* NGX_HTTP_SIGNALR_MODULE_H */
