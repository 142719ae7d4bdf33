/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * ngx_signalr_module: the state all workers share, in a shared memory zone
 * that a reload keeps: per endpoint whether it is online, since when, and
 * its last failure.
 */

#ifndef NGX_HTTP_SIGNALR_SHM_H
#define NGX_HTTP_SIGNALR_SHM_H

#include "ngx_http_signalr_module.h"
#include "signalr_entra.h"


/*
 * The Microsoft Entra ID credentials of an endpoint, for every worker
 * (ngx_http_signalr_entra.c): the Entra token that REST calls carry, and
 * the key the service exchanged it for, which signs client tokens. One
 * worker at a time refreshes them (refreshing); it writes them between
 * two increments of seq, odd meanwhile, and the workers copy them when
 * seq has changed, again if it changed while they copied.
 */

typedef struct {
    ngx_atomic_t                seq;
    ngx_atomic_t                refreshing;     /* ngx_current_msec: a */
                                                /* refresh runs until then */
    ngx_atomic_t                next_refresh;   /* ngx_current_msec; 0: now */
    ngx_atomic_t                failures;       /* in a row */

    /* for the status page and the messages */
    ngx_atomic_t                refreshes;
    ngx_atomic_t                refresh_failures;
    ngx_atomic_t                last_status;    /* of the last failure */
    ngx_atomic_t                last_failure;   /* ngx_time() */
    ngx_atomic_t                last_refresh;   /* ngx_time() */

    uint32_t                    credential;     /* the crc of the service */
                                                /* and the identity */
    time_t                      token_expires;
    time_t                      key_time;       /* ngx_time() it came */
    size_t                      token_len;
    size_t                      kid_len;
    size_t                      key_len;
    u_char                      kid[SIGNALR_ENTRA_MAX_KID];
    u_char                      key[SIGNALR_ENTRA_MAX_KEY];
    u_char                      token[SIGNALR_ENTRA_MAX_TOKEN];
} ngx_http_signalr_keys_t;


/* the zone, made when the configuration has endpoints */
ngx_int_t ngx_http_signalr_shm_add(ngx_conf_t *cf);

/* the endpoint is online for every worker */
ngx_uint_t ngx_http_signalr_endpoint_online(ngx_http_signalr_endpoint_t *ep);

/*
 * a failure of a REST call (no answer, 5xx) takes the endpoint offline for
 * every worker for offline_time; returns 1 when this call took it offline,
 * 0 when it was offline already
 */
ngx_uint_t ngx_http_signalr_endpoint_fail(ngx_http_signalr_endpoint_t *ep,
    ngx_uint_t status, ngx_msec_t offline_time);

/*
 * an answer of the service (a 2xx, or a refusal of the call itself) brings
 * the endpoint back online for every worker; returns 1 when this call did
 */
ngx_uint_t ngx_http_signalr_endpoint_ok(ngx_http_signalr_endpoint_t *ep);

/* probes: one is to be made now by this worker; what one found */
ngx_msec_t ngx_http_signalr_probe_due(ngx_http_signalr_endpoint_t *ep);
void ngx_http_signalr_probe_seen(ngx_http_signalr_endpoint_t *ep,
    ngx_msec_t mark, ngx_uint_t status, ngx_uint_t works);
void ngx_http_signalr_probe_lost(ngx_http_signalr_endpoint_t *ep,
    ngx_msec_t mark);

/*
 * The signing keys of a signalr_trigger_entra jwks=<uri> (a JWKS as its
 * location answered it), for every worker: one worker at a time fetches
 * it (fetching), and writes it as the credentials are written (seq)
 */

#define NGX_HTTP_SIGNALR_JWKS_MAX  65536

struct ngx_http_signalr_jwks_zone_s {
    ngx_atomic_t                seq;
    ngx_atomic_t                fetching;       /* ngx_current_msec mark */
    ngx_atomic_t                next_fetch;     /* ngx_current_msec; 0: now */
    ngx_atomic_t                refetch;        /* an unknown kid fetches */
                                                /* again from then */
    ngx_atomic_t                fetched;        /* ngx_time() */
    ngx_atomic_t                failures;       /* in a row */
    size_t                      len;
    u_char                      json[NGX_HTTP_SIGNALR_JWKS_MAX];
};


/* the endpoint's Entra ID credentials in the zone, or NULL */
ngx_http_signalr_keys_t *ngx_http_signalr_endpoint_keys(
    ngx_http_signalr_endpoint_t *ep);

/* what the status page shows of an endpoint; times are ngx_time(), 0: never */

typedef struct {
    ngx_uint_t                  online;
    time_t                      since;          /* online or offline; 0: */
                                                /* since it was first seen */
    ngx_uint_t                  last_status;    /* of the last failure */
    time_t                      last_failure;
    time_t                      last_probe;
    ngx_uint_t                  probe_status;
    ngx_uint_t                  probes;
    ngx_uint_t                  probes_failed;

    /* Microsoft Entra ID */
    ngx_uint_t                  entra;
    time_t                      key_time;       /* the key came */
    ngx_uint_t                  refreshes;
    ngx_uint_t                  refresh_failures;
    ngx_uint_t                  refresh_status; /* of the last failure */
    time_t                      last_refresh;
    time_t                      last_refresh_failure;
} ngx_http_signalr_endpoint_report_t;

void ngx_http_signalr_endpoint_report(ngx_http_signalr_endpoint_t *ep,
    ngx_http_signalr_endpoint_report_t *rep);

/* 1 at most once a second across the workers: a warning to log now */
ngx_uint_t ngx_http_signalr_shm_warn_now(ngx_http_signalr_main_conf_t *smcf);


#endif /* NGX_HTTP_SIGNALR_SHM_H */
