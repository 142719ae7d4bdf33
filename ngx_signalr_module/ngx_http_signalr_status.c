/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * The status page: the module's counters and the endpoints' state, as
 * Prometheus text (exposition format 0.0.4), JSON, or an HTML page that
 * refreshes itself (docs/status.md).
 *
 * The counters live in a shared memory zone of their own, of the size
 * signalr_status_zone gives, which a reload keeps (a zone of the same name
 * and size is handed over, as limit_req's are). They are series: a
 * metric's label values (hub, endpoint, ...) and up to
 * NGX_HTTP_SIGNALR_STATUS_VALUES counters, in an open-addressing table.
 * Workers find a series without locks and add to it with atomic
 * increments; only a series seen for the first time is made under the
 * zone's mutex, and written whole before it is marked ready. A series is
 * never removed, so that a counter never goes back.
 *
 * Bounded: the hubs and the events (hub methods) tracked are counted, and
 * further ones are shown as "other"; so are label values that are not
 * short printable ASCII. When the table is three quarters full, new series
 * are counted in the "other" series of their metric, made when the zone
 * is. No label holds a user id, a connection id, a group, or anything of
 * a token.
 */

#include "ngx_http_signalr_module.h"
#include "ngx_http_signalr_shm.h"
#include "ngx_http_signalr_status.h"
#include "ngx_http_signalr_trigger.h"
#include "ngx_http_signalr_util.h"
#include "signalr_action.h"
#include "signalr_json.h"


#define NGX_HTTP_SIGNALR_STATUS_KEY      320
#define NGX_HTTP_SIGNALR_STATUS_VALUES   16
#define NGX_HTTP_SIGNALR_STATUS_LABEL    128     /* longest value kept */
#define NGX_HTTP_SIGNALR_STATUS_BUCKETS  11
#define NGX_HTTP_SIGNALR_STATUS_REFRESH  "5"     /* the HTML page, seconds */

/*
 * a histogram's values: the buckets, above the last, the sum in ms; its
 * count is the sum of the buckets, so that it always equals the "+Inf"
 * bucket shown
 */
#define NGX_HTTP_SIGNALR_H_ABOVE         NGX_HTTP_SIGNALR_STATUS_BUCKETS
#define NGX_HTTP_SIGNALR_H_SUM           (NGX_HTTP_SIGNALR_H_ABOVE + 1)

/* an endpoint's series: the REST time histogram, and its retries */
#define NGX_HTTP_SIGNALR_EP_RETRIES      (NGX_HTTP_SIGNALR_H_SUM + 1)

#define NGX_HTTP_SIGNALR_STATUS_DEFAULT_SIZE    (1024 * 1024)
#define NGX_HTTP_SIGNALR_STATUS_DEFAULT_HUBS    32
#define NGX_HTTP_SIGNALR_STATUS_DEFAULT_EVENTS  64
#define NGX_HTTP_SIGNALR_STATUS_MAX_CODES       64


/*
 * the kinds of series; a name is a hub, event or error code tracked: the
 * hubs of upstream calls, which the service names, apart from those of
 * negotiate, which a client may name (signalr_negotiate $arg_hub)
 */
enum {
    NGX_HTTP_SIGNALR_S_FREE = 0,
    NGX_HTTP_SIGNALR_S_HUB,
    NGX_HTTP_SIGNALR_S_NEGOTIATE_HUB,
    NGX_HTTP_SIGNALR_S_EVENT,
    NGX_HTTP_SIGNALR_S_CODE,
    NGX_HTTP_SIGNALR_S_TOKENS,          /* hub, endpoint */
    NGX_HTTP_SIGNALR_S_REFUSED,         /* reason */
    NGX_HTTP_SIGNALR_S_TRIGGER,         /* hub, category, event */
    NGX_HTTP_SIGNALR_S_ROUTE,           /* hub, category */
    NGX_HTTP_SIGNALR_S_ACTION,          /* action */
    NGX_HTTP_SIGNALR_S_REST,            /* endpoint, class, code */
    NGX_HTTP_SIGNALR_S_ENDPOINT,        /* endpoint */
    NGX_HTTP_SIGNALR_S_KINDS
};


/* the outcomes of an upstream call, the values of a trigger series */
enum {
    NGX_HTTP_SIGNALR_T_ANSWERED = 0,
    NGX_HTTP_SIGNALR_T_SIGNATURE,
    NGX_HTTP_SIGNALR_T_REFUSED,
    NGX_HTTP_SIGNALR_T_NO_ROUTE,
    NGX_HTTP_SIGNALR_T_MEDIA_TYPE,
    NGX_HTTP_SIGNALR_T_CLIENT_ERROR,
    NGX_HTTP_SIGNALR_T_SERVER_ERROR,
    NGX_HTTP_SIGNALR_T_ROUTE_FAILED,
    NGX_HTTP_SIGNALR_T_N
};


typedef struct {
    ngx_atomic_t                ready;          /* the key is written */
    uint32_t                    hash;
    uint16_t                    kind;
    uint16_t                    len;
    u_char                      key[NGX_HTTP_SIGNALR_STATUS_KEY];
                                                /* label values, each */
                                                /* ended by a NUL */
    ngx_atomic_t                v[NGX_HTTP_SIGNALR_STATUS_VALUES];
} ngx_http_signalr_series_t;


typedef struct {
    ngx_uint_t                  n;              /* series in the table */
    ngx_uint_t                  max;            /* taken at most */
    ngx_atomic_t                used;
    ngx_atomic_t                names[NGX_HTTP_SIGNALR_S_CODE + 1];
    ngx_atomic_t                full;           /* series counted as */
                                                /* "other": the zone full */
    ngx_atomic_t                warned;         /* ngx_time() */
    time_t                      created;
    ngx_http_signalr_series_t  *other[NGX_HTTP_SIGNALR_S_KINDS];
    ngx_http_signalr_series_t  *series;
} ngx_http_signalr_status_sh_t;


/*
 * Each worker's last series of each kind, found again by comparing their
 * label values (series never move nor change while the zone lives): a
 * request of a hub, event and endpoint seen recently hashes nothing
 */

#define NGX_HTTP_SIGNALR_STATUS_CACHE  8

typedef struct {
    ngx_http_signalr_series_t  *s[NGX_HTTP_SIGNALR_S_KINDS]
                                 [NGX_HTTP_SIGNALR_STATUS_CACHE];
    ngx_uint_t                  next[NGX_HTTP_SIGNALR_S_KINDS];
} ngx_http_signalr_status_cache_t;


/* a metric of the page: a kind of series and how it is shown */
typedef struct {
    ngx_uint_t                  kind;
    const char                 *name;           /* Prometheus */
    const char                 *type;
    const char                 *help;
    const char                 *json;           /* its key in the JSON */
    const char                 *labels[3];
    ngx_uint_t                  nlabels;
    ngx_uint_t                  value;          /* the counter's index, */
    ngx_uint_t                  histogram;      /* or a histogram's at 0 */
    const char                **outcomes;       /* one counter each, */
    ngx_uint_t                  noutcomes;      /* the "outcome" label */
} ngx_http_signalr_metric_t;


typedef struct {
    signalr_str_t               out;
    ngx_pool_t                 *pool;
    ngx_http_signalr_status_sh_t  *sh;
    ngx_http_signalr_main_conf_t  *smcf;

    /* each kind's series, in the order of their label values */
    ngx_http_signalr_series_t **sorted[NGX_HTTP_SIGNALR_S_KINDS];
    ngx_uint_t                  nsorted[NGX_HTTP_SIGNALR_S_KINDS];
    unsigned                    listed:1;
    unsigned                    failed:1;       /* out of memory */
} ngx_http_signalr_page_t;


static ngx_int_t ngx_http_signalr_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_signalr_status_log(ngx_http_request_t *r);
static ngx_int_t ngx_http_signalr_status_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_signalr_series_t *ngx_http_signalr_series(
    ngx_http_signalr_main_conf_t *smcf, ngx_uint_t kind, ngx_str_t *labels,
    ngx_uint_t n);
static ngx_http_signalr_series_t *ngx_http_signalr_series_cached(
    ngx_http_signalr_main_conf_t *smcf, ngx_uint_t kind, ngx_str_t *labels,
    ngx_uint_t n);
static void ngx_http_signalr_series_remember(
    ngx_http_signalr_main_conf_t *smcf, ngx_uint_t kind,
    ngx_http_signalr_series_t *s);
static ngx_http_signalr_series_t *ngx_http_signalr_series_full(
    ngx_http_signalr_status_sh_t *sh, ngx_uint_t kind, ngx_uint_t name);
static ngx_http_signalr_series_t *ngx_http_signalr_series_find(
    ngx_http_signalr_status_sh_t *sh, ngx_uint_t kind, u_char *key,
    size_t len, uint32_t hash, ngx_uint_t *slot);
static ngx_http_signalr_series_t *ngx_http_signalr_series_make(
    ngx_http_signalr_main_conf_t *smcf, ngx_uint_t kind, u_char *key,
    size_t len, uint32_t hash, ngx_uint_t name);
static void ngx_http_signalr_status_name(ngx_http_signalr_main_conf_t *smcf,
    ngx_uint_t kind, ngx_str_t *value);
static ngx_uint_t ngx_http_signalr_status_label_ok(ngx_str_t *value);
static void ngx_http_signalr_status_observe(ngx_http_signalr_series_t *s,
    ngx_uint_t at, ngx_msec_t ms);
static void ngx_http_signalr_status_negotiate(ngx_http_request_t *r,
    ngx_http_signalr_main_conf_t *smcf, ngx_http_signalr_ctx_t *ctx);
static void ngx_http_signalr_status_trigger(ngx_http_request_t *r,
    ngx_http_signalr_main_conf_t *smcf, ngx_http_signalr_ctx_t *ctx);
static ngx_int_t ngx_http_signalr_status_prometheus(ngx_http_request_t *r,
    ngx_http_signalr_page_t *pg);
static ngx_int_t ngx_http_signalr_status_json(ngx_http_request_t *r,
    ngx_http_signalr_page_t *pg);
static ngx_int_t ngx_http_signalr_status_html(ngx_http_request_t *r,
    ngx_http_signalr_page_t *pg);
static void ngx_http_signalr_page_printf(ngx_http_signalr_page_t *pg,
    const char *fmt, ...);
static void ngx_http_signalr_page_text(ngx_http_signalr_page_t *pg,
    const char *s);
static void ngx_http_signalr_page_escaped(ngx_http_signalr_page_t *pg,
    u_char *s, size_t len, ngx_uint_t html);
static ngx_uint_t ngx_http_signalr_series_labels(ngx_http_signalr_series_t *s,
    ngx_str_t *labels, ngx_uint_t n);
static ngx_int_t ngx_http_signalr_status_send(ngx_http_request_t *r,
    ngx_http_signalr_page_t *pg, const char *type);


static ngx_str_t  ngx_http_signalr_status_zone_name =
    ngx_string("ngx_http_signalr_status");

static ngx_str_t  ngx_http_signalr_other = ngx_string("other");


static const char  *ngx_http_signalr_refusal_names[] = {
    "error", "bad_hub", "invalid_user_id", "invalid_claim", "token_too_long",
    "no_endpoint", "not_ready"
};


static const char  *ngx_http_signalr_trigger_outcomes[] = {
    "answered", "signature", "refused", "no_route", "unsupported_media_type",
    "client_error", "server_error", "route_failed"
};


/* Prometheus' default buckets, in milliseconds and as "le" shows them */

static ngx_msec_t  ngx_http_signalr_bucket_ms[] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000
};

static const char  *ngx_http_signalr_bucket_le[] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
    "10"
};


static ngx_http_signalr_metric_t  ngx_http_signalr_metrics[] = {

    { NGX_HTTP_SIGNALR_S_TOKENS, "signalr_negotiate_tokens_total", "counter",
      "Access tokens negotiate issued, per hub and endpoint.",
      "negotiate_tokens", { "hub", "endpoint" }, 2, 0, 0, NULL, 0 },

    { NGX_HTTP_SIGNALR_S_REFUSED, "signalr_negotiate_refused_total",
      "counter", "Negotiate calls answered without a token, per reason.",
      "negotiate_refused", { "reason" }, 1, 0, 0, NULL, 0 },

    { NGX_HTTP_SIGNALR_S_TRIGGER, "signalr_trigger_calls_total", "counter",
      "Upstream calls of the service, per hub, category, event and "
      "outcome.",
      "trigger_calls", { "hub", "category", "event" }, 3, 0, 0,
      ngx_http_signalr_trigger_outcomes, NGX_HTTP_SIGNALR_T_N },

    { NGX_HTTP_SIGNALR_S_ROUTE, "signalr_trigger_route_duration_seconds",
      "histogram", "Time the route took to answer an upstream call.",
      "trigger_route_duration", { "hub", "category" }, 2, 0, 1, NULL, 0 },

    { NGX_HTTP_SIGNALR_S_ACTION, "signalr_output_actions_total", "counter",
      "Output actions accepted, per kind; each recipient counts as one.",
      "output_actions", { "action" }, 1, 0, 0, NULL, 0 },

    { NGX_HTTP_SIGNALR_S_REST, "signalr_rest_calls_total", "counter",
      "REST calls answered or failed, per endpoint, status class and the "
      "service's x-ms-error-code.",
      "rest_calls", { "endpoint", "class", "code" }, 3, 0, 0, NULL, 0 },

    { NGX_HTTP_SIGNALR_S_ENDPOINT, "signalr_rest_retries_total", "counter",
      "REST calls sent again after a failure, per endpoint.",
      "rest_retries", { "endpoint" }, 1, NGX_HTTP_SIGNALR_EP_RETRIES, 0,
      NULL, 0 },

    { NGX_HTTP_SIGNALR_S_ENDPOINT, "signalr_rest_duration_seconds",
      "histogram", "Time a REST call took, per endpoint.",
      "rest_duration", { "endpoint" }, 1, 0, 1, NULL, 0 }
};


#define NGX_HTTP_SIGNALR_NMETRICS                                             \
    (sizeof(ngx_http_signalr_metrics) / sizeof(ngx_http_signalr_metrics[0]))


/* ---- configuration ---------------------------------------------------- */


char *
ngx_http_signalr_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_signalr_loc_conf_t *slcf = conf;

    ngx_http_signalr_main_conf_t  *smcf;

    if (slcf->handler == ngx_http_signalr_status_handler) {
        return "is duplicate";
    }

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_signalr_module);
    smcf->status_used = 1;

    return ngx_http_signalr_conf_handler(cf, slcf,
                                         ngx_http_signalr_status_handler);
}


/* signalr_status_zone size [hubs=number] [events=number] */

char *
ngx_http_signalr_status_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_signalr_main_conf_t *smcf = conf;

    ssize_t     size;
    ngx_int_t   n;
    ngx_str_t  *value, s;
    ngx_uint_t  i;

    if (smcf->status_size) {
        return "is duplicate";
    }

    value = cf->args->elts;

    size = ngx_parse_size(&value[1]);

    if (size == NGX_ERROR || size < (ssize_t) (64 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_status_zone\" size \"%V\" is invalid "
                           "or smaller than %uzk", &value[1],
                           64 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    smcf->status_size = size;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "hubs=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;
            n = ngx_atoi(s.data, s.len);

            if (n < 1 || n > 10000) {
                goto invalid;
            }

            smcf->status_hubs = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "events=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;
            n = ngx_atoi(s.data, s.len);

            if (n < 1 || n > 10000) {
                goto invalid;
            }

            smcf->status_events = n;
            continue;
        }

        goto invalid;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"signalr_status_zone\" takes \"hubs=\" and "
                       "\"events=\" from 1 to 10000, not \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


ngx_int_t
ngx_http_signalr_status_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt           *h;
    ngx_http_core_main_conf_t     *cmcf;
    ngx_http_signalr_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_signalr_module);

    if (!smcf->status_used && smcf->status_size == 0) {
        return NGX_OK;
    }

    if (smcf->status_size == 0) {
        smcf->status_size = NGX_HTTP_SIGNALR_STATUS_DEFAULT_SIZE;
    }

    if (smcf->status_hubs == 0) {
        smcf->status_hubs = NGX_HTTP_SIGNALR_STATUS_DEFAULT_HUBS;
    }

    if (smcf->status_events == 0) {
        smcf->status_events = NGX_HTTP_SIGNALR_STATUS_DEFAULT_EVENTS;
    }

    smcf->status_zone = ngx_shared_memory_add(cf,
                                          &ngx_http_signalr_status_zone_name,
                                          smcf->status_size,
                                          &ngx_http_signalr_module);
    if (smcf->status_zone == NULL) {
        return NGX_ERROR;
    }

    smcf->status_zone->init = ngx_http_signalr_status_init_zone;
    smcf->status_zone->data = smcf;

    smcf->status_cache = ngx_pcalloc(cf->pool,
                                     sizeof(ngx_http_signalr_status_cache_t));
    if (smcf->status_cache == NULL) {
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_signalr_status_log;

    return NGX_OK;
}


/*
 * The table takes what the zone holds, less the slab pool's own pages;
 * the "other" series of each metric are made first, and the refusal
 * reasons and the actions, so that they show from the start.
 */

static ngx_int_t
ngx_http_signalr_status_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_signalr_main_conf_t  *osmcf = data;

    size_t                         size;
    ngx_str_t                      labels[3], name;
    ngx_uint_t                     i, n;
    const char                    *action;
    ngx_slab_pool_t               *shpool;
    ngx_http_signalr_status_sh_t  *sh;
    ngx_http_signalr_main_conf_t  *smcf;

    smcf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (osmcf) {
        smcf->status = osmcf->status;
        return NGX_OK;
    }

    if (shm_zone->shm.exists) {
        smcf->status = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_signalr_status_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = sh;
    smcf->status = sh;

    /*
     * the largest table the pool gives: its free pages, less one for the
     * small blocks; tried smaller without the pool's "no memory" message
     */

    n = (shpool->end - shpool->start - ngx_pagesize)
        / sizeof(ngx_http_signalr_series_t);

    shpool->log_nomem = 0;

    for ( ;; ) {
        size = n * sizeof(ngx_http_signalr_series_t);
        sh->series = ngx_slab_calloc(shpool, size);

        if (sh->series || n < 64) {
            break;
        }

        n -= n / 32 + 1;
    }

    shpool->log_nomem = 1;

    if (sh->series == NULL) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "signalr: \"signalr_status_zone\" is too small");
        return NGX_ERROR;
    }

    sh->n = n;
    sh->max = n - n / 4;
    sh->created = ngx_time();

    for (i = NGX_HTTP_SIGNALR_S_TOKENS; i < NGX_HTTP_SIGNALR_S_KINDS; i++) {
        labels[0] = ngx_http_signalr_other;
        labels[1] = ngx_http_signalr_other;
        labels[2] = ngx_http_signalr_other;

        n = (i == NGX_HTTP_SIGNALR_S_REFUSED || i == NGX_HTTP_SIGNALR_S_ACTION
             || i == NGX_HTTP_SIGNALR_S_ENDPOINT) ? 1
            : (i == NGX_HTTP_SIGNALR_S_TRIGGER
               || i == NGX_HTTP_SIGNALR_S_REST) ? 3 : 2;

        sh->other[i] = ngx_http_signalr_series(smcf, i, labels, n);

        if (sh->other[i] == NULL) {
            return NGX_ERROR;
        }
    }

    for (i = 0; i < NGX_HTTP_SIGNALR_REFUSED_N; i++) {
        name.data = (u_char *) ngx_http_signalr_refusal_names[i];
        name.len = ngx_strlen(name.data);

        if (ngx_http_signalr_series(smcf, NGX_HTTP_SIGNALR_S_REFUSED, &name,
                                    1)
            == NULL)
        {
            return NGX_ERROR;
        }
    }

    for (i = 0; (action = signalr_action_name(i)) != NULL; i++) {
        name.data = (u_char *) action;
        name.len = ngx_strlen(action);

        if (ngx_http_signalr_series(smcf, NGX_HTTP_SIGNALR_S_ACTION, &name, 1)
            == NULL)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* ---- series ------------------------------------------------------------ */


/*
 * The series of kind with these label values: found, or made; the kind's
 * "other" series when the table is full (NULL only while the zone is
 * being made)
 */

static ngx_http_signalr_series_t *
ngx_http_signalr_series(ngx_http_signalr_main_conf_t *smcf, ngx_uint_t kind,
    ngx_str_t *labels, ngx_uint_t n)
{
    u_char                        *p;
    size_t                         len;
    uint32_t                       hash;
    ngx_uint_t                     i, slot;
    ngx_http_signalr_series_t     *s;
    ngx_http_signalr_status_sh_t  *sh;
    u_char                         key[NGX_HTTP_SIGNALR_STATUS_KEY];

    s = ngx_http_signalr_series_cached(smcf, kind, labels, n);

    if (s) {
        return s;
    }

    sh = smcf->status;

    for (i = 0, len = 0; i < n; i++) {
        len += labels[i].len + 1;
    }

    if (len > NGX_HTTP_SIGNALR_STATUS_KEY) {
        return sh->other[kind];
    }

    p = key;

    for (i = 0; i < n; i++) {
        p = ngx_cpymem(p, labels[i].data, labels[i].len);
        *p++ = '\0';
    }

    hash = ngx_crc32_short(key, len) ^ (uint32_t) kind;

    s = ngx_http_signalr_series_find(sh, kind, key, len, hash, &slot);

    if (s == NULL) {
        s = ngx_http_signalr_series_make(smcf, kind, key, len, hash, 0);
    }

    if (s && s != sh->other[kind]) {
        ngx_http_signalr_series_remember(smcf, kind, s);
    }

    return s;
}


static ngx_http_signalr_series_t *
ngx_http_signalr_series_cached(ngx_http_signalr_main_conf_t *smcf,
    ngx_uint_t kind, ngx_str_t *labels, ngx_uint_t n)
{
    u_char                           *p, *last;
    ngx_uint_t                        i, j;
    ngx_http_signalr_series_t        *s;
    ngx_http_signalr_status_cache_t  *cache;

    cache = smcf->status_cache;

    for (i = 0; i < NGX_HTTP_SIGNALR_STATUS_CACHE; i++) {
        s = cache->s[kind][i];

        if (s == NULL) {
            return NULL;
        }

        p = s->key;
        last = s->key + s->len;

        for (j = 0; j < n; j++) {
            if ((size_t) (last - p) <= labels[j].len
                || p[labels[j].len] != '\0'
                || ngx_memcmp(p, labels[j].data, labels[j].len) != 0)
            {
                break;
            }

            p += labels[j].len + 1;
        }

        if (j == n && p == last) {
            return s;
        }
    }

    return NULL;
}


static void
ngx_http_signalr_series_remember(ngx_http_signalr_main_conf_t *smcf,
    ngx_uint_t kind, ngx_http_signalr_series_t *s)
{
    ngx_http_signalr_status_cache_t  *cache;

    cache = smcf->status_cache;

    cache->s[kind][cache->next[kind]] = s;
    cache->next[kind] = (cache->next[kind] + 1)
                        % NGX_HTTP_SIGNALR_STATUS_CACHE;
}


/* lock-free: a series being made is not seen, and is then made again */

static ngx_http_signalr_series_t *
ngx_http_signalr_series_find(ngx_http_signalr_status_sh_t *sh,
    ngx_uint_t kind, u_char *key, size_t len, uint32_t hash,
    ngx_uint_t *slot)
{
    ngx_uint_t                  i, j;
    ngx_http_signalr_series_t  *s;

    for (i = 0, j = hash % sh->n; i < sh->n; i++, j = (j + 1) % sh->n) {
        s = &sh->series[j];

        if (!s->ready) {
            *slot = j;
            return NULL;
        }

        ngx_memory_barrier();

        if (s->hash == hash && s->kind == kind && s->len == len
            && ngx_memcmp(s->key, key, len) == 0)
        {
            return s;
        }
    }

    *slot = sh->n;

    return NULL;
}


/*
 * Made under the zone's mutex, found again first (another worker may have
 * made it meanwhile). A name (a hub, an event, an error code) is made
 * while there are fewer than its limit; a series while the table is less
 * than three quarters full.
 */

static ngx_http_signalr_series_t *
ngx_http_signalr_series_make(ngx_http_signalr_main_conf_t *smcf,
    ngx_uint_t kind, u_char *key, size_t len, uint32_t hash, ngx_uint_t name)
{
    ngx_uint_t                     slot, limit;
    ngx_slab_pool_t               *shpool;
    ngx_http_signalr_series_t     *s;
    ngx_http_signalr_status_sh_t  *sh;

    sh = smcf->status;
    shpool = (ngx_slab_pool_t *) smcf->status_zone->shm.addr;

    limit = (kind == NGX_HTTP_SIGNALR_S_HUB
             || kind == NGX_HTTP_SIGNALR_S_NEGOTIATE_HUB) ? smcf->status_hubs
            : (kind == NGX_HTTP_SIGNALR_S_EVENT) ? smcf->status_events
            : NGX_HTTP_SIGNALR_STATUS_MAX_CODES;

    /* once full, a name or series never seen takes no lock */

    if (name && sh->names[kind] >= limit) {
        return NULL;
    }

    if (sh->used >= sh->max && sh->other[kind] != NULL) {
        return ngx_http_signalr_series_full(sh, kind, name);
    }

    ngx_shmtx_lock(&shpool->mutex);

    s = ngx_http_signalr_series_find(sh, kind, key, len, hash, &slot);

    if (s) {
        goto done;
    }

    if (name && sh->names[kind] >= limit) {
        goto done;
    }

    if (slot == sh->n || sh->used >= sh->max) {
        s = ngx_http_signalr_series_full(sh, kind, name);
        goto done;
    }

    s = &sh->series[slot];

    ngx_memcpy(s->key, key, len);
    s->len = (uint16_t) len;
    s->kind = (uint16_t) kind;
    s->hash = hash;

    ngx_memory_barrier();

    s->ready = 1;
    sh->used++;

    if (name) {
        sh->names[kind]++;
    }

done:

    ngx_shmtx_unlock(&shpool->mutex);

    return s;
}


/*
 * The zone is full: what is counted goes to the "other" series of its
 * metric (a name becomes "other"), and is told once a minute at most
 */

static ngx_http_signalr_series_t *
ngx_http_signalr_series_full(ngx_http_signalr_status_sh_t *sh,
    ngx_uint_t kind, ngx_uint_t name)
{
    ngx_atomic_uint_t  last, now;

    (void) ngx_atomic_fetch_add(&sh->full, 1);

    now = (ngx_atomic_uint_t) ngx_time();
    last = sh->warned;

    if ((ngx_atomic_int_t) (now - last) >= 60
        && ngx_atomic_cmp_set(&sh->warned, last, now))
    {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "signalr: the status zone is full (%ui series): "
                      "new ones are counted as \"other\", raise the size "
                      "of \"signalr_status_zone\"", sh->max);
    }

    return name ? NULL : sh->other[kind];
}


/*
 * value stays when it is a hub, an event or an error code tracked, or can
 * be one; it becomes "other" when not
 */

static void
ngx_http_signalr_status_name(ngx_http_signalr_main_conf_t *smcf,
    ngx_uint_t kind, ngx_str_t *value)
{
    size_t                         len;
    uint32_t                       hash;
    ngx_uint_t                     slot;
    ngx_http_signalr_series_t     *s;
    ngx_http_signalr_status_sh_t  *sh;
    u_char                         key[NGX_HTTP_SIGNALR_STATUS_LABEL + 1];

    /* a name remembered was checked */

    if (ngx_http_signalr_series_cached(smcf, kind, value, 1)) {
        return;
    }

    if (!ngx_http_signalr_status_label_ok(value)) {
        *value = ngx_http_signalr_other;
        return;
    }

    sh = smcf->status;

    len = value->len + 1;
    ngx_memcpy(key, value->data, value->len);
    key[value->len] = '\0';

    hash = ngx_crc32_short(key, len) ^ (uint32_t) kind;

    s = ngx_http_signalr_series_find(sh, kind, key, len, hash, &slot);

    if (s == NULL) {
        s = ngx_http_signalr_series_make(smcf, kind, key, len, hash, 1);
    }

    if (s) {
        ngx_http_signalr_series_remember(smcf, kind, s);
        return;
    }

    *value = ngx_http_signalr_other;
}


/*
 * a label value shown as it is: 1 to NGX_HTTP_SIGNALR_STATUS_LABEL bytes of
 * printable ASCII, without the characters that Prometheus text, JSON or
 * HTML would have to escape
 */

static ngx_uint_t
ngx_http_signalr_status_label_ok(ngx_str_t *value)
{
    u_char  *p, *last;

    if (value->len == 0 || value->len > NGX_HTTP_SIGNALR_STATUS_LABEL) {
        return 0;
    }

    last = value->data + value->len;

    for (p = value->data; p < last; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\'
            || *p == '<' || *p == '>' || *p == '&' || *p == '\'')
        {
            return 0;
        }
    }

    return 1;
}


static void
ngx_http_signalr_status_observe(ngx_http_signalr_series_t *s, ngx_uint_t at,
    ngx_msec_t ms)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_SIGNALR_STATUS_BUCKETS; i++) {
        if (ms <= ngx_http_signalr_bucket_ms[i]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&s->v[at + i], 1);
    (void) ngx_atomic_fetch_add(&s->v[at + NGX_HTTP_SIGNALR_H_SUM], ms);
}


/* ---- counting ---------------------------------------------------------- */


/*
 * Negotiate and the trigger are counted when their request ends, by what
 * it was answered; the outputs as they go
 */

static ngx_int_t
ngx_http_signalr_status_log(ngx_http_request_t *r)
{
    ngx_http_signalr_ctx_t        *ctx;
    ngx_http_signalr_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);

    if (smcf->status == NULL) {
        return NGX_OK;
    }

    /*
     * the requests the negotiate and trigger handlers took, also when an
     * error_page answered them at last
     */

    ctx = ngx_http_signalr_find_ctx(r);

    if (ctx == NULL) {
        return NGX_OK;
    }

    if (ctx->negotiated) {
        ngx_http_signalr_status_negotiate(r, smcf, ctx);
    }

    if (ctx->trigger_called) {
        ngx_http_signalr_status_trigger(r, smcf, ctx);
    }

    return NGX_OK;
}


static void
ngx_http_signalr_status_negotiate(ngx_http_request_t *r,
    ngx_http_signalr_main_conf_t *smcf, ngx_http_signalr_ctx_t *ctx)
{
    ngx_str_t                   labels[2];
    ngx_http_signalr_series_t  *s;

    if (ctx->negotiate_rc != NGX_OK) {
        labels[0].data = (u_char *)
                  ngx_http_signalr_refusal_names[ctx->negotiate_refusal];
        labels[0].len = ngx_strlen(labels[0].data);

        s = ngx_http_signalr_series(smcf, NGX_HTTP_SIGNALR_S_REFUSED, labels,
                                    1);
        (void) ngx_atomic_fetch_add(&s->v[0], 1);
        return;
    }

    if (ctx->endpoint == NULL) {
        return;
    }

    labels[0] = ctx->hub;
    ngx_http_signalr_status_name(smcf, NGX_HTTP_SIGNALR_S_NEGOTIATE_HUB,
                                 &labels[0]);

    labels[1] = ctx->endpoint->name;

    s = ngx_http_signalr_series(smcf, NGX_HTTP_SIGNALR_S_TOKENS, labels, 2);
    (void) ngx_atomic_fetch_add(&s->v[0], 1);
}


static void
ngx_http_signalr_status_trigger(ngx_http_request_t *r,
    ngx_http_signalr_main_conf_t *smcf, ngx_http_signalr_ctx_t *ctx)
{
    ngx_str_t                           labels[3];
    ngx_uint_t                          status, outcome;
    ngx_http_signalr_series_t          *s;
    ngx_http_signalr_trigger_report_t   rep;

    ngx_http_signalr_trigger_report(ctx, &rep);

    status = r->headers_out.status;

    /*
     * a route that failed (5xx, no answer) is answered to the service as
     * the protocol says (an error Completion, 403 to a connect, 200 to a
     * disconnect): counted as the route's failure
     */

    if (rep.route_failed) {
        outcome = NGX_HTTP_SIGNALR_T_ROUTE_FAILED;

    } else if (status >= 200 && status < 300) {
        outcome = NGX_HTTP_SIGNALR_T_ANSWERED;

    } else if (status == NGX_HTTP_UNAUTHORIZED) {
        outcome = NGX_HTTP_SIGNALR_T_SIGNATURE;

    } else if (status == NGX_HTTP_FORBIDDEN) {
        outcome = NGX_HTTP_SIGNALR_T_REFUSED;

    } else if (status == NGX_HTTP_NOT_FOUND) {
        outcome = NGX_HTTP_SIGNALR_T_NO_ROUTE;

    } else if (status == NGX_HTTP_UNSUPPORTED_MEDIA_TYPE) {
        outcome = NGX_HTTP_SIGNALR_T_MEDIA_TYPE;

    } else if (status >= 400 && status < 500) {
        outcome = NGX_HTTP_SIGNALR_T_CLIENT_ERROR;

    } else {
        outcome = NGX_HTTP_SIGNALR_T_SERVER_ERROR;
    }

    /* what an unauthenticated call names is not taken */

    if (rep.verified) {
        labels[0] = rep.hub;
        labels[1] = rep.category;
        labels[2] = rep.event;

        ngx_http_signalr_status_name(smcf, NGX_HTTP_SIGNALR_S_HUB,
                                     &labels[0]);
        ngx_http_signalr_status_name(smcf, NGX_HTTP_SIGNALR_S_EVENT,
                                     &labels[2]);

        if (!ngx_http_signalr_status_label_ok(&labels[1])) {
            labels[1] = ngx_http_signalr_other;
        }

    } else {
        ngx_str_set(&labels[0], "unverified");
        ngx_str_set(&labels[1], "unverified");
        ngx_str_set(&labels[2], "unverified");
    }

    s = ngx_http_signalr_series(smcf, NGX_HTTP_SIGNALR_S_TRIGGER, labels, 3);
    (void) ngx_atomic_fetch_add(&s->v[outcome], 1);

    if (rep.routed) {
        s = ngx_http_signalr_series(smcf, NGX_HTTP_SIGNALR_S_ROUTE, labels,
                                    2);
        ngx_http_signalr_status_observe(s, 0, rep.route_time);
    }
}


void
ngx_http_signalr_status_action(ngx_http_request_t *r, const char *name)
{
    ngx_str_t                      label;
    ngx_http_signalr_series_t     *s;
    ngx_http_signalr_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);

    if (smcf->status == NULL) {
        return;
    }

    label.data = (u_char *) name;
    label.len = ngx_strlen(name);

    s = ngx_http_signalr_series(smcf, NGX_HTTP_SIGNALR_S_ACTION, &label, 1);
    (void) ngx_atomic_fetch_add(&s->v[0], 1);
}


/*
 * A REST call's outcome: its status class ("none" when no answer came),
 * with the service's x-ms-error-code when it failed
 */

void
ngx_http_signalr_status_rest(ngx_http_request_t *r,
    ngx_http_signalr_endpoint_t *ep, ngx_uint_t status,
    ngx_uint_t no_response, ngx_str_t *code, ngx_msec_t time)
{
    ngx_str_t                      labels[3];
    ngx_http_signalr_series_t     *s;
    ngx_http_signalr_main_conf_t  *smcf;

    static ngx_str_t  classes[] = {
        ngx_string("none"), ngx_string("1xx"), ngx_string("2xx"),
        ngx_string("3xx"), ngx_string("4xx"), ngx_string("5xx")
    };

    smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);

    if (smcf->status == NULL) {
        return;
    }

    labels[0] = ep->name;
    labels[1] = (no_response || status < 100 || status > 599)
                ? classes[0] : classes[status / 100];
    ngx_str_null(&labels[2]);

    if (code && code->len && status >= 300 && !no_response) {
        labels[2] = *code;
        ngx_http_signalr_status_name(smcf, NGX_HTTP_SIGNALR_S_CODE,
                                     &labels[2]);
    }

    s = ngx_http_signalr_series(smcf, NGX_HTTP_SIGNALR_S_REST, labels, 3);
    (void) ngx_atomic_fetch_add(&s->v[0], 1);

    s = ngx_http_signalr_series(smcf, NGX_HTTP_SIGNALR_S_ENDPOINT, labels, 1);
    ngx_http_signalr_status_observe(s, 0, time);
}


void
ngx_http_signalr_status_retry(ngx_http_request_t *r,
    ngx_http_signalr_endpoint_t *ep)
{
    ngx_http_signalr_series_t     *s;
    ngx_http_signalr_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);

    if (smcf->status == NULL) {
        return;
    }

    s = ngx_http_signalr_series(smcf, NGX_HTTP_SIGNALR_S_ENDPOINT, &ep->name,
                                1);
    (void) ngx_atomic_fetch_add(&s->v[NGX_HTTP_SIGNALR_EP_RETRIES], 1);
}


/* ---- the page ---------------------------------------------------------- */


static ngx_int_t
ngx_http_signalr_status_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_str_t                      format;
    ngx_uint_t                     html, json;
    ngx_table_elt_t               *accept;
    ngx_http_signalr_page_t        pg;
    ngx_http_signalr_main_conf_t  *smcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_signalr_not_allowed(r, "GET, HEAD",
                                            "the status page takes GET");
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);

    ngx_memzero(&pg, sizeof(ngx_http_signalr_page_t));
    ngx_http_signalr_pool_str(r->pool, &pg.out);
    pg.pool = r->pool;
    pg.sh = smcf->status;
    pg.smcf = smcf;

    if (pg.sh == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    html = 0;
    json = 0;

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK) {

        if (format.len == 4 && ngx_strncmp(format.data, "json", 4) == 0) {
            json = 1;

        } else if (format.len == 4
                   && ngx_strncmp(format.data, "html", 4) == 0)
        {
            html = 1;

        } else if (!(format.len == 10
                     && ngx_strncmp(format.data, "prometheus", 10) == 0))
        {
            return ngx_http_signalr_send_error(r, NGX_HTTP_BAD_REQUEST,
                                               "format is \"prometheus\", "
                                               "\"json\" or \"html\"");
        }

    } else {

        /*
         * by Accept: a browser asks for HTML, a program may ask for JSON;
         * Prometheus (text/plain, OpenMetrics) and anything else get text
         */

        accept = ngx_http_signalr_find_header(&r->headers_in.headers,
                                              "accept");

        if (accept) {
            if (ngx_strlcasestrn(accept->value.data,
                                 accept->value.data + accept->value.len,
                                 (u_char *) "text/html", 9 - 1)
                != NULL)
            {
                html = 1;

            } else if (ngx_strlcasestrn(accept->value.data,
                                        accept->value.data
                                        + accept->value.len,
                                        (u_char *) "application/json",
                                        16 - 1)
                       != NULL)
            {
                json = 1;
            }
        }
    }

    if (json) {
        return ngx_http_signalr_status_json(r, &pg);
    }

    if (html) {
        return ngx_http_signalr_status_html(r, &pg);
    }

    return ngx_http_signalr_status_prometheus(r, &pg);
}


static ngx_int_t
ngx_http_signalr_status_send(ngx_http_request_t *r,
    ngx_http_signalr_page_t *pg, const char *type)
{
    ngx_str_t         body, value;
    ngx_table_elt_t  *h;

    if (pg->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = (u_char *) pg->out.data;
    body.len = pg->out.len;

    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = ngx_strlen(type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    ngx_str_set(&value, "no-store");

    h = ngx_http_signalr_add_header(r, "Cache-Control", &value);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&value, "Accept");

    if (ngx_http_signalr_add_header(r, "Vary", &value) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_signalr_send(r, NGX_HTTP_OK, &body);
}


static void
ngx_http_signalr_page_printf(ngx_http_signalr_page_t *pg, const char *fmt,
    ...)
{
    u_char   *p;
    va_list   args;
    u_char    buf[512];

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    if (signalr_str_append(&pg->out, buf, p - buf) != 0) {
        pg->failed = 1;
    }
}


static void
ngx_http_signalr_page_text(ngx_http_signalr_page_t *pg, const char *s)
{
    if (signalr_str_append(&pg->out, s, ngx_strlen(s)) != 0) {
        pg->failed = 1;
    }
}


/*
 * label values are checked when counted (label_ok); endpoint names, from
 * the configuration, are escaped here
 */

static void
ngx_http_signalr_page_escaped(ngx_http_signalr_page_t *pg, u_char *s,
    size_t len, ngx_uint_t html)
{
    u_char  *p, *last;

    last = s + len;

    for (p = s; p < last; p++) {
        switch (*p) {

        case '"':
            ngx_http_signalr_page_text(pg, html ? "&quot;" : "\\\"");
            break;

        case '\\':
            ngx_http_signalr_page_text(pg, html ? "\\" : "\\\\");
            break;

        case '\n':
            ngx_http_signalr_page_text(pg, html ? " " : "\\n");
            break;

        case '<':
            ngx_http_signalr_page_text(pg, html ? "&lt;" : "<");
            break;

        case '>':
            ngx_http_signalr_page_text(pg, html ? "&gt;" : ">");
            break;

        case '&':
            ngx_http_signalr_page_text(pg, html ? "&amp;" : "&");
            break;

        default:
            if (signalr_str_append(&pg->out, p, 1) != 0) {
                pg->failed = 1;
            }
        }
    }
}


static ngx_uint_t
ngx_http_signalr_series_labels(ngx_http_signalr_series_t *s,
    ngx_str_t *labels, ngx_uint_t n)
{
    u_char      *p, *last, *nul;
    ngx_uint_t   i;

    p = s->key;
    last = s->key + s->len;

    for (i = 0; i < n; i++) {
        nul = ngx_strlchr(p, last, '\0');

        if (nul == NULL) {
            return 0;
        }

        labels[i].data = p;
        labels[i].len = nul - p;
        p = nul + 1;
    }

    return 1;
}


/* an "other" series nothing was counted in is not shown */

static ngx_uint_t
ngx_http_signalr_series_unused(ngx_http_signalr_page_t *pg,
    ngx_http_signalr_series_t *s)
{
    ngx_uint_t  i;

    if (s != pg->sh->other[s->kind]) {
        return 0;
    }

    for (i = 0; i < NGX_HTTP_SIGNALR_STATUS_VALUES; i++) {
        if (s->v[i]) {
            return 0;
        }
    }

    return 1;
}


static int ngx_libc_cdecl
ngx_http_signalr_series_cmp(const void *one, const void *two)
{
    int                         rc;
    ngx_http_signalr_series_t  *a, *b;

    a = *(ngx_http_signalr_series_t **) one;
    b = *(ngx_http_signalr_series_t **) two;

    rc = ngx_memcmp(a->key, b->key, ngx_min(a->len, b->len));

    return rc ? rc : (int) a->len - (int) b->len;
}


/*
 * the series of a metric, in the order of their label values (a page
 * written twice shows the same lines in the same order)
 */

static ngx_http_signalr_series_t *
ngx_http_signalr_series_next(ngx_http_signalr_page_t *pg,
    ngx_http_signalr_metric_t *m, ngx_uint_t *i, ngx_str_t *labels)
{
    ngx_uint_t                   j, k, n;
    ngx_uint_t                   room[NGX_HTTP_SIGNALR_S_KINDS];
    ngx_http_signalr_series_t   *s, **list;

    /*
     * one walk of the table to count each kind's series, one to list them
     * (a series made meanwhile, for which there is no room, is left for
     * the next page), then each kind sorted
     */

    if (!pg->listed) {
        pg->listed = 1;

        ngx_memzero(room, sizeof(room));

        for (j = 0, n = 0; j < pg->sh->n; j++) {
            s = &pg->sh->series[j];

            if (s->ready) {
                ngx_memory_barrier();
                room[s->kind]++;
                n++;
            }
        }

        list = ngx_palloc(pg->pool,
                          (n + 1) * sizeof(ngx_http_signalr_series_t *));
        if (list == NULL) {
            pg->failed = 1;
            return NULL;
        }

        for (k = 0; k < NGX_HTTP_SIGNALR_S_KINDS; k++) {
            pg->sorted[k] = list;
            list += room[k];
        }

        for (j = 0; j < pg->sh->n; j++) {
            s = &pg->sh->series[j];

            if (!s->ready) {
                continue;
            }

            ngx_memory_barrier();

            k = s->kind;

            if (pg->nsorted[k] < room[k]) {
                pg->sorted[k][pg->nsorted[k]++] = s;
            }
        }

        for (k = 0; k < NGX_HTTP_SIGNALR_S_KINDS; k++) {
            ngx_qsort(pg->sorted[k], pg->nsorted[k],
                      sizeof(ngx_http_signalr_series_t *),
                      ngx_http_signalr_series_cmp);
        }
    }

    list = pg->sorted[m->kind];

    while (*i < pg->nsorted[m->kind]) {
        s = list[(*i)++];

        if (ngx_http_signalr_series_labels(s, labels, m->nlabels)) {
            return s;
        }
    }

    return NULL;
}


static void
ngx_http_signalr_prom_labels(ngx_http_signalr_page_t *pg,
    ngx_http_signalr_metric_t *m, ngx_str_t *labels, const char *extra,
    const char *extra_value)
{
    ngx_uint_t  i;

    ngx_http_signalr_page_text(pg, "{");

    for (i = 0; i < m->nlabels; i++) {
        ngx_http_signalr_page_printf(pg, "%s%s=\"", i ? "," : "",
                                     m->labels[i]);
        ngx_http_signalr_page_escaped(pg, labels[i].data, labels[i].len, 0);
        ngx_http_signalr_page_text(pg, "\"");
    }

    if (extra) {
        ngx_http_signalr_page_printf(pg, "%s%s=\"%s\"",
                                     m->nlabels ? "," : "", extra,
                                     extra_value);
    }

    ngx_http_signalr_page_text(pg, "}");
}


static void
ngx_http_signalr_prom_endpoint(ngx_http_signalr_page_t *pg, const char *name,
    const char *type, const char *help, ngx_uint_t entra_only,
    ngx_uint_t what)
{
    ngx_uint_t                           i, value;
    ngx_http_signalr_endpoint_t         *eps;
    ngx_http_signalr_endpoint_report_t   rep;

    ngx_http_signalr_page_printf(pg, "# HELP %s %s\n# TYPE %s %s\n", name,
                                 help, name, type);

    eps = pg->smcf->endpoints.elts;

    for (i = 0; i < pg->smcf->endpoints.nelts; i++) {
        ngx_http_signalr_endpoint_report(&eps[i], &rep);

        if (entra_only && !rep.entra) {
            continue;
        }

        switch (what) {
        case 0:
            value = rep.online;
            break;
        case 1:
            value = rep.since;
            break;
        case 2:
            value = rep.last_failure;
            break;
        case 3:
            value = rep.last_status;
            break;
        case 4:
            value = rep.last_probe;
            break;
        case 5:
            value = rep.probe_status;
            break;
        case 6:
            value = rep.probes;
            break;
        case 7:
            value = rep.probes_failed;
            break;
        case 8:
            if (rep.key_time == 0) {
                continue;
            }

            /* another worker's clock may be a second ahead */
            value = (ngx_time() > rep.key_time)
                    ? (ngx_uint_t) (ngx_time() - rep.key_time) : 0;
            break;
        case 9:
            value = rep.refreshes;
            break;
        case 10:
            value = rep.refresh_failures;
            break;
        default:
            value = rep.last_refresh;
            break;
        }

        ngx_http_signalr_page_text(pg, name);
        ngx_http_signalr_page_text(pg, "{endpoint=\"");
        ngx_http_signalr_page_escaped(pg, eps[i].name.data, eps[i].name.len,
                                      0);

        if (what == 0) {
            ngx_http_signalr_page_printf(pg, "\",type=\"%s",
                                         eps[i].type
                                         == NGX_HTTP_SIGNALR_PRIMARY
                                         ? "primary" : "secondary");
        }

        ngx_http_signalr_page_printf(pg, "\"} %ui\n", value);
    }
}


static ngx_int_t
ngx_http_signalr_status_prometheus(ngx_http_request_t *r,
    ngx_http_signalr_page_t *pg)
{
    ngx_uint_t                  i, j, k, cumulative;
    ngx_str_t                   labels[3];
    ngx_http_signalr_metric_t  *m;
    ngx_http_signalr_series_t  *s;

    ngx_http_signalr_page_text(pg,
        "# HELP signalr_info The module's version and nginx's.\n"
        "# TYPE signalr_info gauge\n"
        "signalr_info{version=\"" NGX_HTTP_SIGNALR_VERSION
        "\",nginx_version=\"" NGINX_VERSION "\"} 1\n");

    ngx_http_signalr_page_printf(pg,
        "# HELP signalr_status_zone_created_seconds When the counters "
        "started (Unix time): a restart or a new zone size starts them "
        "again.\n"
        "# TYPE signalr_status_zone_created_seconds gauge\n"
        "signalr_status_zone_created_seconds %T\n", pg->sh->created);

    ngx_http_signalr_page_printf(pg,
        "# HELP signalr_status_zone_series Series in the zone, and how many "
        "it takes.\n"
        "# TYPE signalr_status_zone_series gauge\n"
        "signalr_status_zone_series{state=\"used\"} %uA\n"
        "signalr_status_zone_series{state=\"max\"} %ui\n",
        pg->sh->used, pg->sh->max);

    ngx_http_signalr_page_printf(pg,
        "# HELP signalr_status_zone_full_total Counts taken as \"other\" "
        "because the zone was full.\n"
        "# TYPE signalr_status_zone_full_total counter\n"
        "signalr_status_zone_full_total %uA\n", pg->sh->full);

    ngx_http_signalr_prom_endpoint(pg, "signalr_endpoint_online", "gauge",
                                   "1 when the endpoint is online.", 0, 0);
    ngx_http_signalr_prom_endpoint(pg, "signalr_endpoint_since_seconds",
                                   "gauge", "When the endpoint went online "
                                   "or offline (Unix time; 0: since it was "
                                   "first seen).", 0, 1);
    ngx_http_signalr_prom_endpoint(pg,
                                   "signalr_endpoint_last_failure_seconds",
                                   "gauge", "When its last REST failure "
                                   "was (Unix time; 0: never).", 0, 2);
    ngx_http_signalr_prom_endpoint(pg,
                                   "signalr_endpoint_last_failure_status",
                                   "gauge", "The status of its last REST "
                                   "failure (502: no answer).", 0, 3);
    ngx_http_signalr_prom_endpoint(pg, "signalr_endpoint_last_probe_seconds",
                                   "gauge", "When it was last probed (Unix "
                                   "time; 0: never).", 0, 4);
    ngx_http_signalr_prom_endpoint(pg,
                                   "signalr_endpoint_last_probe_status",
                                   "gauge", "What its last probe was "
                                   "answered (502: no answer).", 0, 5);
    ngx_http_signalr_prom_endpoint(pg, "signalr_endpoint_probes_total",
                                   "counter", "Probes of the endpoint.", 0,
                                   6);
    ngx_http_signalr_prom_endpoint(pg,
                                   "signalr_endpoint_probes_failed_total",
                                   "counter", "Probes that found it not "
                                   "working.", 0, 7);
    ngx_http_signalr_prom_endpoint(pg, "signalr_entra_key_age_seconds",
                                   "gauge", "Age of the key the service "
                                   "gave for Microsoft Entra ID.", 1, 8);
    ngx_http_signalr_prom_endpoint(pg, "signalr_entra_refreshes_total",
                                   "counter", "Microsoft Entra ID "
                                   "credentials refreshed.", 1, 9);
    ngx_http_signalr_prom_endpoint(pg,
                                   "signalr_entra_refresh_failures_total",
                                   "counter", "Microsoft Entra ID refreshes "
                                   "that failed.", 1, 10);
    ngx_http_signalr_prom_endpoint(pg,
                                   "signalr_entra_last_refresh_seconds",
                                   "gauge", "When the credentials were last "
                                   "refreshed (Unix time; 0: never).", 1,
                                   11);

    for (k = 0; k < NGX_HTTP_SIGNALR_NMETRICS; k++) {
        m = &ngx_http_signalr_metrics[k];

        ngx_http_signalr_page_printf(pg, "# HELP %s %s\n# TYPE %s %s\n",
                                     m->name, m->help, m->name, m->type);

        for (i = 0; (s = ngx_http_signalr_series_next(pg, m, &i, labels)); )
        {
            if (ngx_http_signalr_series_unused(pg, s)) {
                continue;
            }

            if (m->outcomes) {
                for (j = 0; j < m->noutcomes; j++) {
                    ngx_http_signalr_page_text(pg, m->name);
                    ngx_http_signalr_prom_labels(pg, m, labels, "outcome",
                                                 m->outcomes[j]);
                    ngx_http_signalr_page_printf(pg, " %uA\n", s->v[j]);
                }

                continue;
            }

            if (!m->histogram) {
                ngx_http_signalr_page_text(pg, m->name);
                ngx_http_signalr_prom_labels(pg, m, labels, NULL, NULL);
                ngx_http_signalr_page_printf(pg, " %uA\n", s->v[m->value]);
                continue;
            }

            cumulative = 0;

            for (j = 0; j < NGX_HTTP_SIGNALR_STATUS_BUCKETS; j++) {
                cumulative += s->v[j];
                ngx_http_signalr_page_printf(pg, "%s_bucket", m->name);
                ngx_http_signalr_prom_labels(pg, m, labels, "le",
                                             ngx_http_signalr_bucket_le[j]);
                ngx_http_signalr_page_printf(pg, " %ui\n", cumulative);
            }

            cumulative += s->v[NGX_HTTP_SIGNALR_H_ABOVE];

            ngx_http_signalr_page_printf(pg, "%s_bucket", m->name);
            ngx_http_signalr_prom_labels(pg, m, labels, "le", "+Inf");
            ngx_http_signalr_page_printf(pg, " %ui\n", cumulative);

            ngx_http_signalr_page_printf(pg, "%s_sum", m->name);
            ngx_http_signalr_prom_labels(pg, m, labels, NULL, NULL);
            ngx_http_signalr_page_printf(pg, " %uA.%03uA\n",
                                       s->v[NGX_HTTP_SIGNALR_H_SUM] / 1000,
                                       s->v[NGX_HTTP_SIGNALR_H_SUM] % 1000);

            ngx_http_signalr_page_printf(pg, "%s_count", m->name);
            ngx_http_signalr_prom_labels(pg, m, labels, NULL, NULL);
            ngx_http_signalr_page_printf(pg, " %ui\n", cumulative);
        }
    }

    return ngx_http_signalr_status_send(r, pg,
                                 "text/plain; version=0.0.4; charset=utf-8");
}


static void
ngx_http_signalr_json_endpoints(ngx_http_signalr_page_t *pg,
    signalr_jw_t *w)
{
    ngx_uint_t                           i;
    ngx_http_signalr_endpoint_t         *eps;
    ngx_http_signalr_endpoint_report_t   rep;

    eps = pg->smcf->endpoints.elts;

    signalr_jw_key_lit(w, "endpoints");
    signalr_jw_array(w);

    for (i = 0; i < pg->smcf->endpoints.nelts; i++) {
        ngx_http_signalr_endpoint_report(&eps[i], &rep);

        signalr_jw_object(w);
        signalr_jw_key_lit(w, "name");
        signalr_jw_string(w, eps[i].name.data, eps[i].name.len);
        signalr_jw_key_lit(w, "type");
        signalr_jw_string_plain(w, eps[i].type == NGX_HTTP_SIGNALR_PRIMARY
                                   ? "primary" : "secondary",
                                eps[i].type == NGX_HTTP_SIGNALR_PRIMARY
                                ? 7 : 9);
        signalr_jw_key_lit(w, "online");
        signalr_jw_bool(w, rep.online != 0);
        signalr_jw_key_lit(w, "since");
        signalr_jw_integer(w, rep.since);
        signalr_jw_key_lit(w, "last_failure");
        signalr_jw_integer(w, rep.last_failure);
        signalr_jw_key_lit(w, "last_failure_status");
        signalr_jw_integer(w, rep.last_status);
        signalr_jw_key_lit(w, "last_probe");
        signalr_jw_integer(w, rep.last_probe);
        signalr_jw_key_lit(w, "last_probe_status");
        signalr_jw_integer(w, rep.probe_status);
        signalr_jw_key_lit(w, "probes");
        signalr_jw_integer(w, rep.probes);
        signalr_jw_key_lit(w, "probes_failed");
        signalr_jw_integer(w, rep.probes_failed);
        signalr_jw_key_lit(w, "entra");

        if (!rep.entra) {
            signalr_jw_null(w);

        } else {
            signalr_jw_object(w);
            signalr_jw_key_lit(w, "key_age");

            if (rep.key_time) {
                signalr_jw_integer(w, ngx_max(ngx_time() - rep.key_time, 0));
            } else {
                signalr_jw_null(w);
            }

            signalr_jw_key_lit(w, "refreshes");
            signalr_jw_integer(w, rep.refreshes);
            signalr_jw_key_lit(w, "refresh_failures");
            signalr_jw_integer(w, rep.refresh_failures);
            signalr_jw_key_lit(w, "last_refresh");
            signalr_jw_integer(w, rep.last_refresh);
            signalr_jw_key_lit(w, "last_refresh_failure");
            signalr_jw_integer(w, rep.last_refresh_failure);
            signalr_jw_key_lit(w, "last_refresh_failure_status");
            signalr_jw_integer(w, rep.refresh_status);
            signalr_jw_end(w);
        }

        signalr_jw_end(w);
    }

    signalr_jw_end(w);
}


static ngx_int_t
ngx_http_signalr_status_json(ngx_http_request_t *r,
    ngx_http_signalr_page_t *pg)
{
    ngx_uint_t                  i, j, k, cumulative;
    ngx_str_t                   labels[3];
    signalr_jw_t                w;
    ngx_http_signalr_metric_t  *m;
    ngx_http_signalr_series_t  *s;

    signalr_jw_init(&w, &pg->out);

    signalr_jw_object(&w);
    signalr_jw_key_lit(&w, "version");
    signalr_jw_string_plain(&w, NGX_HTTP_SIGNALR_VERSION,
                            sizeof(NGX_HTTP_SIGNALR_VERSION) - 1);
    signalr_jw_key_lit(&w, "nginx_version");
    signalr_jw_string_plain(&w, NGINX_VERSION, sizeof(NGINX_VERSION) - 1);
    signalr_jw_key_lit(&w, "time");
    signalr_jw_integer(&w, ngx_time());

    signalr_jw_key_lit(&w, "zone");
    signalr_jw_object(&w);
    signalr_jw_key_lit(&w, "created");
    signalr_jw_integer(&w, pg->sh->created);
    signalr_jw_key_lit(&w, "series");
    signalr_jw_integer(&w, pg->sh->used);
    signalr_jw_key_lit(&w, "max_series");
    signalr_jw_integer(&w, pg->sh->max);
    signalr_jw_key_lit(&w, "full");
    signalr_jw_integer(&w, pg->sh->full);
    signalr_jw_end(&w);

    ngx_http_signalr_json_endpoints(pg, &w);

    for (k = 0; k < NGX_HTTP_SIGNALR_NMETRICS; k++) {
        m = &ngx_http_signalr_metrics[k];

        signalr_jw_key(&w, m->json, ngx_strlen(m->json));
        signalr_jw_array(&w);

        for (i = 0; (s = ngx_http_signalr_series_next(pg, m, &i, labels)); )
        {
            if (ngx_http_signalr_series_unused(pg, s)) {
                continue;
            }

            signalr_jw_object(&w);

            for (j = 0; j < m->nlabels; j++) {
                signalr_jw_key(&w, m->labels[j], ngx_strlen(m->labels[j]));
                signalr_jw_string(&w, labels[j].data, labels[j].len);
            }

            if (m->outcomes) {
                signalr_jw_key_lit(&w, "outcomes");
                signalr_jw_object(&w);

                for (j = 0; j < m->noutcomes; j++) {
                    signalr_jw_key(&w, m->outcomes[j],
                                   ngx_strlen(m->outcomes[j]));
                    signalr_jw_integer(&w, s->v[j]);
                }

                signalr_jw_end(&w);

            } else if (m->histogram) {
                signalr_jw_key_lit(&w, "buckets");
                signalr_jw_object(&w);

                cumulative = 0;

                for (j = 0; j < NGX_HTTP_SIGNALR_STATUS_BUCKETS; j++) {
                    cumulative += s->v[j];
                    signalr_jw_key(&w, ngx_http_signalr_bucket_le[j],
                                   ngx_strlen(ngx_http_signalr_bucket_le[j]));
                    signalr_jw_integer(&w, cumulative);
                }

                cumulative += s->v[NGX_HTTP_SIGNALR_H_ABOVE];

                signalr_jw_key_lit(&w, "+Inf");
                signalr_jw_integer(&w, cumulative);
                signalr_jw_end(&w);

                signalr_jw_key_lit(&w, "count");
                signalr_jw_integer(&w, cumulative);
                signalr_jw_key_lit(&w, "sum_ms");
                signalr_jw_integer(&w, s->v[NGX_HTTP_SIGNALR_H_SUM]);

            } else {
                signalr_jw_key_lit(&w, "value");
                signalr_jw_integer(&w, s->v[m->value]);
            }

            signalr_jw_end(&w);
        }

        signalr_jw_end(&w);
    }

    signalr_jw_end(&w);

    if (signalr_jw_done(&w) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_signalr_status_send(r, pg, "application/json");
}


/* ---- the HTML page ----------------------------------------------------- */


/* a hub's row: what its series add up to */

typedef struct {
    ngx_str_t                   name;
    ngx_atomic_uint_t           tokens;
    ngx_atomic_uint_t           outcomes[NGX_HTTP_SIGNALR_T_N];
    ngx_atomic_uint_t           routed;
    ngx_atomic_uint_t           route_ms;
} ngx_http_signalr_hub_row_t;


static ngx_http_signalr_hub_row_t *
ngx_http_signalr_hub_row(ngx_array_t *rows, ngx_str_t *name)
{
    ngx_uint_t                   i;
    ngx_http_signalr_hub_row_t  *row;

    row = rows->elts;

    for (i = 0; i < rows->nelts; i++) {
        if (row[i].name.len == name->len
            && ngx_memcmp(row[i].name.data, name->data, name->len) == 0)
        {
            return &row[i];
        }
    }

    row = ngx_array_push(rows);
    if (row == NULL) {
        return NULL;
    }

    ngx_memzero(row, sizeof(ngx_http_signalr_hub_row_t));
    row->name = *name;

    return row;
}


static void
ngx_http_signalr_html_time(ngx_http_signalr_page_t *pg, time_t t,
    ngx_uint_t cell)
{
    ngx_tm_t  tm;

    ngx_http_signalr_page_text(pg, cell ? "<td>" : "");

    if (t == 0) {
        ngx_http_signalr_page_text(pg, "-");

    } else {
        ngx_gmtime(t, &tm);

        ngx_http_signalr_page_printf(pg, "%4d-%02d-%02d %02d:%02d:%02d UTC",
                                     tm.ngx_tm_year, tm.ngx_tm_mon,
                                     tm.ngx_tm_mday, tm.ngx_tm_hour,
                                     tm.ngx_tm_min, tm.ngx_tm_sec);
    }

    ngx_http_signalr_page_text(pg, cell ? "</td>" : "");
}


static void
ngx_http_signalr_html_mean(ngx_http_signalr_page_t *pg,
    ngx_atomic_uint_t count, ngx_atomic_uint_t ms)
{
    if (count == 0) {
        ngx_http_signalr_page_text(pg, "<td>-</td>");
        return;
    }

    ngx_http_signalr_page_printf(pg, "<td>%uA ms</td>", ms / count);
}


static void
ngx_http_signalr_html_endpoints(ngx_http_signalr_page_t *pg)
{
    ngx_str_t                            labels[3];
    ngx_uint_t                           i, j, c;
    ngx_atomic_uint_t                    classes[6], retries, count, ms;
    ngx_http_signalr_metric_t            rest, ep;
    ngx_http_signalr_series_t           *s;
    ngx_http_signalr_endpoint_t         *eps;
    ngx_http_signalr_endpoint_report_t   rep;

    rest = ngx_http_signalr_metrics[5];
    ep = ngx_http_signalr_metrics[7];

    ngx_http_signalr_page_text(pg,
        "<h2>Endpoints</h2>\n<table id=\"endpoints\">\n<tr><th>Endpoint</th>"
        "<th>Type</th><th>State</th><th>Since</th><th>Last failure</th>"
        "<th>Last failure status</th><th>Probes</th><th>Failed probes</th>"
        "<th>Entra ID key age</th><th>Entra ID refresh failures</th>"
        "<th>REST 2xx</th><th>REST 4xx</th><th>REST 5xx</th>"
        "<th>REST no answer</th><th>Retries</th><th>Mean REST time</th>"
        "</tr>\n");

    eps = pg->smcf->endpoints.elts;

    for (i = 0; i < pg->smcf->endpoints.nelts; i++) {
        ngx_http_signalr_endpoint_report(&eps[i], &rep);

        ngx_memzero(classes, sizeof(classes));
        retries = 0;
        count = 0;
        ms = 0;

        for (j = 0; (s = ngx_http_signalr_series_next(pg, &rest, &j, labels));
             )
        {
            if (labels[0].len != eps[i].name.len
                || ngx_memcmp(labels[0].data, eps[i].name.data,
                              labels[0].len) != 0)
            {
                continue;
            }

            /* "none", "1xx" ... "5xx" */

            c = (labels[1].len == 3) ? (ngx_uint_t) (labels[1].data[0] - '0')
                                     : 0;

            if (c < 6) {
                classes[c] += s->v[0];
            }
        }

        for (j = 0; (s = ngx_http_signalr_series_next(pg, &ep, &j, labels)); )
        {
            if (labels[0].len == eps[i].name.len
                && ngx_memcmp(labels[0].data, eps[i].name.data,
                              labels[0].len) == 0)
            {
                retries = s->v[NGX_HTTP_SIGNALR_EP_RETRIES];
                ms = s->v[NGX_HTTP_SIGNALR_H_SUM];

                for (c = 0; c <= NGX_HTTP_SIGNALR_H_ABOVE; c++) {
                    count += s->v[c];
                }

                break;
            }
        }

        ngx_http_signalr_page_text(pg, "<tr><td>");
        ngx_http_signalr_page_escaped(pg, eps[i].name.data, eps[i].name.len,
                                      1);
        ngx_http_signalr_page_printf(pg, "</td><td class=\"t\">%s</td>"
                                     "<td class=\"t %s\">%s</td>",
                                     eps[i].type == NGX_HTTP_SIGNALR_PRIMARY
                                     ? "primary" : "secondary",
                                     rep.online ? "up" : "down",
                                     rep.online ? "online" : "offline");
        ngx_http_signalr_html_time(pg, rep.since, 1);
        ngx_http_signalr_html_time(pg, rep.last_failure, 1);

        if (rep.last_status) {
            ngx_http_signalr_page_printf(pg, "<td>%ui</td>", rep.last_status);
        } else {
            ngx_http_signalr_page_text(pg, "<td>-</td>");
        }

        ngx_http_signalr_page_printf(pg, "<td>%ui</td><td>%ui</td>",
                                     rep.probes, rep.probes_failed);

        if (rep.entra && rep.key_time) {
            ngx_http_signalr_page_printf(pg, "<td>%T s</td><td>%ui</td>",
                                         ngx_max(ngx_time() - rep.key_time,
                                                 0),
                                         rep.refresh_failures);

        } else if (rep.entra) {
            ngx_http_signalr_page_printf(pg, "<td>no key</td><td>%ui</td>",
                                         rep.refresh_failures);

        } else {
            ngx_http_signalr_page_text(pg, "<td>-</td><td>-</td>");
        }

        ngx_http_signalr_page_printf(pg, "<td>%uA</td><td>%uA</td>"
                                     "<td>%uA</td><td>%uA</td><td>%uA</td>",
                                     classes[2], classes[4], classes[5],
                                     classes[0], retries);
        ngx_http_signalr_html_mean(pg, count, ms);
        ngx_http_signalr_page_text(pg, "</tr>\n");
    }

    ngx_http_signalr_page_text(pg, "</table>\n");
}


static void
ngx_http_signalr_html_hubs(ngx_http_request_t *r,
    ngx_http_signalr_page_t *pg)
{
    ngx_str_t                    labels[3];
    ngx_uint_t                   i, j, k;
    ngx_array_t                  rows;
    ngx_http_signalr_metric_t   *m;
    ngx_http_signalr_series_t   *s;
    ngx_http_signalr_hub_row_t  *row;

    if (ngx_array_init(&rows, r->pool, 8, sizeof(ngx_http_signalr_hub_row_t))
        != NGX_OK)
    {
        return;
    }

    for (k = 0; k < 4; k++) {

        /* tokens, refusals (skipped), upstream calls, route times */

        if (k == 1) {
            continue;
        }

        m = &ngx_http_signalr_metrics[k];

        for (i = 0; (s = ngx_http_signalr_series_next(pg, m, &i, labels)); )
        {
            if (ngx_http_signalr_series_unused(pg, s)) {
                continue;
            }

            row = ngx_http_signalr_hub_row(&rows, &labels[0]);
            if (row == NULL) {
                return;
            }

            if (k == 0) {
                row->tokens += s->v[0];

            } else if (k == 2) {
                for (j = 0; j < NGX_HTTP_SIGNALR_T_N; j++) {
                    row->outcomes[j] += s->v[j];
                }

            } else {
                for (j = 0; j <= NGX_HTTP_SIGNALR_H_ABOVE; j++) {
                    row->routed += s->v[j];
                }

                row->route_ms += s->v[NGX_HTTP_SIGNALR_H_SUM];
            }
        }
    }

    ngx_http_signalr_page_text(pg,
        "<h2>Hubs</h2>\n<table id=\"hubs\">\n<tr><th>Hub</th>"
        "<th>Tokens issued</th><th>Upstream calls answered</th>"
        "<th>Bad signature</th><th>Refused by the route</th>"
        "<th>No route</th><th>Unsupported media type</th>"
        "<th>Other 4xx</th><th>5xx</th><th>Route failed</th>"
        "<th>Mean route time</th></tr>\n");

    row = rows.elts;

    for (i = 0; i < rows.nelts; i++) {
        ngx_http_signalr_page_text(pg, "<tr><td>");
        ngx_http_signalr_page_escaped(pg, row[i].name.data, row[i].name.len,
                                      1);
        ngx_http_signalr_page_printf(pg, "</td><td>%uA</td>", row[i].tokens);

        for (j = 0; j < NGX_HTTP_SIGNALR_T_N; j++) {
            ngx_http_signalr_page_printf(pg, "<td>%uA</td>",
                                         row[i].outcomes[j]);
        }

        ngx_http_signalr_html_mean(pg, row[i].routed, row[i].route_ms);
        ngx_http_signalr_page_text(pg, "</tr>\n");
    }

    if (rows.nelts == 0) {
        ngx_http_signalr_page_text(pg, "<tr><td colspan=\"11\">none yet"
                                   "</td></tr>\n");
    }

    ngx_http_signalr_page_text(pg, "</table>\n");
}


/* a metric with one counter per series, its non-zero ones */

static void
ngx_http_signalr_html_counts(ngx_http_signalr_page_t *pg, ngx_uint_t k,
    const char *title, const char *id)
{
    ngx_str_t                   labels[3];
    ngx_uint_t                  i, j, rows;
    ngx_http_signalr_metric_t  *m;
    ngx_http_signalr_series_t  *s;

    m = &ngx_http_signalr_metrics[k];
    rows = 0;

    ngx_http_signalr_page_printf(pg, "<h2>%s</h2>\n<table id=\"%s\">\n<tr>",
                                 title, id);

    /* the labels' names as headers: "Hub", "Endpoint", ... */

    for (j = 0; j < m->nlabels; j++) {
        ngx_http_signalr_page_printf(pg, "<th>%c%s</th>",
                                     ngx_toupper(m->labels[j][0]),
                                     m->labels[j] + 1);
    }

    ngx_http_signalr_page_text(pg, "<th>Count</th></tr>\n");

    for (i = 0; (s = ngx_http_signalr_series_next(pg, m, &i, labels)); ) {
        if (s->v[m->value] == 0) {
            continue;
        }

        ngx_http_signalr_page_text(pg, "<tr>");

        for (j = 0; j < m->nlabels; j++) {
            ngx_http_signalr_page_text(pg, "<td class=\"t\">");
            ngx_http_signalr_page_escaped(pg, labels[j].data, labels[j].len,
                                          1);
            ngx_http_signalr_page_text(pg, "</td>");
        }

        ngx_http_signalr_page_printf(pg, "<td>%uA</td></tr>\n",
                                     s->v[m->value]);
        rows++;
    }

    if (rows == 0) {
        ngx_http_signalr_page_printf(pg, "<tr><td colspan=\"%ui\">none yet"
                                     "</td></tr>\n", m->nlabels + 1);
    }

    ngx_http_signalr_page_text(pg, "</table>\n");
}


static ngx_int_t
ngx_http_signalr_status_html(ngx_http_request_t *r,
    ngx_http_signalr_page_t *pg)
{
    /* the page loads nothing: no script, an empty icon (no /favicon.ico) */

    ngx_http_signalr_page_text(pg,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"refresh\" content=\""
        NGX_HTTP_SIGNALR_STATUS_REFRESH "\">"
        "<meta name=\"viewport\" content=\"width=device-width\">"
        "<link rel=\"icon\" href=\"data:,\">"
        "<title>ngx_signalr_module status</title>\n<style>"
        "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
        "h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.5em}"
        "table{border-collapse:collapse}"
        "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}"
        "th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}"
        "td.t{text-align:left}"
        ".up{color:#080;font-weight:bold}.down{color:#c00;font-weight:bold}"
        "</style></head><body>\n"
        "<h1>ngx_signalr_module " NGX_HTTP_SIGNALR_VERSION " on nginx "
        NGINX_VERSION "</h1>\n<p>Counted since ");

    ngx_http_signalr_html_time(pg, pg->sh->created, 0);

    ngx_http_signalr_page_text(pg, "; this page refreshes every "
                               NGX_HTTP_SIGNALR_STATUS_REFRESH " s; also as "
                               "<a href=\"?format=prometheus\">Prometheus "
                               "text</a> and <a href=\"?format=json\">JSON"
                               "</a>.</p>\n");

    ngx_http_signalr_html_endpoints(pg);
    ngx_http_signalr_html_hubs(r, pg);
    ngx_http_signalr_html_counts(pg, 1, "Negotiate refusals", "refusals");
    ngx_http_signalr_html_counts(pg, 4, "Output actions", "actions");
    ngx_http_signalr_html_counts(pg, 5, "REST calls", "rest");

    ngx_http_signalr_page_text(pg, "</body></html>\n");

    return ngx_http_signalr_status_send(r, pg, "text/html; charset=utf-8");
}
