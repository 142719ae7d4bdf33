/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * The state all workers share, in one shared memory zone that a reload
 * keeps (a zone of the same name, size and module is handed over, as
 * limit_req's are): per endpoint whether it is online, since when, and
 * its last failure. An endpoint's state is found by its name when the
 * configuration loads, so a reload that keeps the name keeps the state.
 *
 * Workers read and write it without locks: each value is one word, and the
 * one change that is logged, online to offline, is made by compare-and-set
 * so that exactly one worker makes it. The times are ngx_current_msec,
 * nginx's monotonic clock (CLOCK_MONOTONIC), the same in every process of
 * the machine, and ngx_time() for what is shown.
 */

#include "ngx_http_signalr_module.h"
#include "ngx_http_signalr_shm.h"


#define NGX_HTTP_SIGNALR_SHM_SLOTS     256
#define NGX_HTTP_SIGNALR_SHM_NAME_LEN  64
/* the slots, the Entra ID credentials of up to 64 endpoints, 8 JWKS */
#define NGX_HTTP_SIGNALR_SHM_SIZE      (3072 * 1024)

/* a probe that has not ended by then no longer holds the next one back */
#define NGX_HTTP_SIGNALR_PROBE_MAX_TIME  (180 * 1000)


/*
 * offline_since, last_status, last_failure and the probes' figures are kept
 * for the status page (docs/directives.md, "Shared state"); negotiate and
 * the outputs read offline_until, the probes next_probe
 */

struct ngx_http_signalr_state_s {
    uint32_t                    crc;            /* of the name; 0: free */
    u_char                      name[NGX_HTTP_SIGNALR_SHM_NAME_LEN];
    size_t                      name_len;
    ngx_uint_t                  bound;          /* the configuration's */
                                                /* number that last had it */
    ngx_atomic_t                offline_until;  /* ngx_current_msec; 0: */
                                                /* online */
    ngx_atomic_t                offline_since;  /* ngx_time() */
    ngx_atomic_t                online_since;   /* ngx_time(); 0: since */
                                                /* the slot was made */
    ngx_atomic_t                last_status;    /* of the last failure */
    ngx_atomic_t                last_failure;   /* ngx_time() */
    ngx_atomic_t                next_probe;     /* ngx_current_msec; 0: */
                                                /* none planned */
    ngx_atomic_t                last_probe;     /* ngx_time() */
    ngx_atomic_t                probe_status;   /* of the last probe */
    ngx_atomic_t                probes;
    ngx_atomic_t                probes_failed;
    ngx_atomic_t                probing;        /* ngx_current_msec: a */
                                                /* probe runs until then */
    ngx_http_signalr_keys_t    *keys;           /* Entra ID; allocated */
                                                /* once, kept by the slot */
};


#define NGX_HTTP_SIGNALR_SHM_JWKS      8


typedef struct {
    uint32_t                        crc;        /* of the URI; 0: free */
    ngx_http_signalr_jwks_zone_t   *zone;
} ngx_http_signalr_jwks_slot_t;


struct ngx_http_signalr_shm_s {
    ngx_uint_t                  generation;     /* configurations bound */
    ngx_atomic_t                warned;         /* ngx_time() */
    ngx_http_signalr_state_t    slots[NGX_HTTP_SIGNALR_SHM_SLOTS];
    ngx_http_signalr_jwks_slot_t  jwks[NGX_HTTP_SIGNALR_SHM_JWKS];
};


static ngx_int_t ngx_http_signalr_shm_init(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_signalr_shm_bind(ngx_http_signalr_main_conf_t *smcf,
    ngx_http_signalr_main_conf_t *osmcf, ngx_log_t *log);
static ngx_http_signalr_state_t *ngx_http_signalr_shm_find(
    ngx_http_signalr_shm_t *sh, ngx_str_t *name, uint32_t crc);
static ngx_http_signalr_state_t *ngx_http_signalr_shm_make(
    ngx_http_signalr_main_conf_t *smcf, ngx_http_signalr_main_conf_t *osmcf);
static ngx_uint_t ngx_http_signalr_shm_used(ngx_http_signalr_main_conf_t *cf,
    ngx_http_signalr_state_t *s);
static ngx_int_t ngx_http_signalr_shm_keys(ngx_http_signalr_main_conf_t *smcf,
    ngx_http_signalr_main_conf_t *osmcf, ngx_http_signalr_endpoint_t *ep,
    ngx_http_signalr_state_t *s, ngx_log_t *log);
static ngx_http_signalr_keys_t *ngx_http_signalr_shm_wipe(
    ngx_http_signalr_keys_t *k);
static ngx_int_t ngx_http_signalr_shm_jwks(ngx_http_signalr_main_conf_t *smcf,
    ngx_log_t *log);
static void ngx_http_signalr_shm_back(ngx_http_signalr_state_t *s,
    ngx_msec_t until);


ngx_int_t
ngx_http_signalr_shm_add(ngx_conf_t *cf)
{
    ngx_str_t                      name = ngx_string("ngx_http_signalr_module");
    ngx_http_signalr_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_signalr_module);

    if (smcf->endpoints.nelts == 0 && smcf->jwks_sources.nelts == 0) {
        return NGX_OK;
    }

    smcf->shm_zone = ngx_shared_memory_add(cf, &name,
                                           NGX_HTTP_SIGNALR_SHM_SIZE,
                                           &ngx_http_signalr_module);
    if (smcf->shm_zone == NULL) {
        return NGX_ERROR;
    }

    smcf->shm_zone->init = ngx_http_signalr_shm_init;
    smcf->shm_zone->data = smcf;

    return NGX_OK;
}


static ngx_int_t
ngx_http_signalr_shm_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_signalr_main_conf_t  *osmcf = data;

    ngx_slab_pool_t               *shpool;
    ngx_http_signalr_main_conf_t  *smcf;

    smcf = shm_zone->data;

    if (osmcf) {
        /* a reload: the zone and its state are the previous cycle's */
        smcf->sh = osmcf->sh;
        return ngx_http_signalr_shm_bind(smcf, osmcf, shm_zone->shm.log);
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        smcf->sh = shpool->data;
        return ngx_http_signalr_shm_bind(smcf, NULL, shm_zone->shm.log);
    }

    smcf->sh = ngx_slab_alloc(shpool, sizeof(ngx_http_signalr_shm_t));
    if (smcf->sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(smcf->sh, sizeof(ngx_http_signalr_shm_t));
    shpool->data = smcf->sh;

    return ngx_http_signalr_shm_bind(smcf, NULL, shm_zone->shm.log);
}


/*
 * Each endpoint to the slot of its name, its state kept; the others to a
 * slot never used, else to the one longest unused that neither this
 * configuration nor the running one (osmcf) has, made new. The master
 * does this when a configuration loads; the running workers keep writing
 * the slots of their endpoints meanwhile, so those are never taken: a
 * renamed endpoint starts online, and a reload that fails later leaves the
 * running configuration's state as it was.
 */

static ngx_int_t
ngx_http_signalr_shm_bind(ngx_http_signalr_main_conf_t *smcf,
    ngx_http_signalr_main_conf_t *osmcf, ngx_log_t *log)
{
    size_t                        len;
    uint32_t                      crc;
    ngx_msec_t                    next;
    ngx_uint_t                    i;
    ngx_http_signalr_keys_t      *keys;
    ngx_http_signalr_state_t     *s;
    ngx_http_signalr_endpoint_t  *eps;

    eps = smcf->endpoints.elts;
    smcf->sh->generation++;

    for (i = 0; i < smcf->endpoints.nelts; i++) {
        crc = ngx_crc32_long(eps[i].name.data, eps[i].name.len) | 1;
        eps[i].state = ngx_http_signalr_shm_find(smcf->sh, &eps[i].name, crc);
    }

    for (i = 0; i < smcf->endpoints.nelts; i++) {
        s = eps[i].state;

        if (s == NULL) {
            s = ngx_http_signalr_shm_make(smcf, osmcf);

            if (s == NULL) {
                ngx_log_error(NGX_LOG_EMERG, log, 0,
                              "signalr: no room for the state of endpoint "
                              "\"%V\"", &eps[i].name);
                return NGX_ERROR;
            }

            len = ngx_min(eps[i].name.len, NGX_HTTP_SIGNALR_SHM_NAME_LEN);

            /* a slot taken over: the credentials of another endpoint go */

            keys = ngx_http_signalr_shm_wipe(s->keys);
            ngx_memzero(s, sizeof(ngx_http_signalr_state_t));
            s->keys = keys;
            ngx_memcpy(s->name, eps[i].name.data, len);
            s->name_len = eps[i].name.len;
            s->crc = ngx_crc32_long(eps[i].name.data, eps[i].name.len) | 1;
            eps[i].state = s;
        }

        s->bound = smcf->sh->generation;

        if (eps[i].entra
            && ngx_http_signalr_shm_keys(smcf, osmcf, &eps[i], s, log)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        /*
         * probes are planned anew, with the new configuration's intervals:
         * an online endpoint's first check an interval after the first
         * request, an offline endpoint's next probe an interval on
         */

        if (ngx_http_signalr_endpoint_online(&eps[i]) || eps[i].probe == 0) {
            s->next_probe = 0;

        } else {
            next = ngx_current_msec + eps[i].probe;
            s->next_probe = next ? next : 1;
        }
    }


    return ngx_http_signalr_shm_jwks(smcf, log);
}


/*
 * An Entra ID endpoint's credentials: the slot's, kept over reloads while
 * they are of the same service and identity (credential), else wiped; the
 * running workers may be using them, so a change is made as a writer
 * (seq odd), and they find it when they next look.
 */

static ngx_int_t
ngx_http_signalr_shm_keys(ngx_http_signalr_main_conf_t *smcf,
    ngx_http_signalr_main_conf_t *osmcf, ngx_http_signalr_endpoint_t *ep,
    ngx_http_signalr_state_t *s, ngx_log_t *log)
{
    ngx_uint_t                 i;
    ngx_slab_pool_t           *shpool;
    ngx_http_signalr_state_t  *o;
    ngx_http_signalr_keys_t   *k;

    k = s->keys;

    if (k == NULL) {
        shpool = (ngx_slab_pool_t *) smcf->shm_zone->shm.addr;

        k = ngx_slab_calloc(shpool, sizeof(ngx_http_signalr_keys_t));

        /*
         * the zone full: the block of a slot that neither configuration
         * uses (an endpoint renamed or removed earlier)
         */

        for (i = 0; k == NULL && i < NGX_HTTP_SIGNALR_SHM_SLOTS; i++) {
            o = &smcf->sh->slots[i];

            if (o->keys == NULL || o == s
                || ngx_http_signalr_shm_used(smcf, o)
                || (osmcf && ngx_http_signalr_shm_used(osmcf, o)))
            {
                continue;
            }

            k = ngx_http_signalr_shm_wipe(o->keys);
            o->keys = NULL;
        }

        if (k == NULL) {
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "signalr: no room for the Microsoft Entra ID "
                          "credentials of endpoint \"%V\"", &ep->name);
            return NGX_ERROR;
        }

        k->credential = ep->credential;
        s->keys = k;

        return NGX_OK;
    }

    if (k->credential == ep->credential) {
        return NGX_OK;
    }

    k->next_refresh = 0;

    /*
     * another service or identity: wiped, unless a worker of the running
     * configuration writes them now (it takes only credentials of its own
     * identity: ngx_http_signalr_entra_can_sign())
     */

    if (ngx_http_signalr_shm_wipe(k) != NULL) {
        k->credential = ep->credential;
    }

    return NGX_OK;
}


/*
 * Credentials of a slot given up: wiped as their writer (a worker of an
 * older configuration, still shutting down, may be writing: then the block
 * is left to it, and NULL returned)
 */

static ngx_http_signalr_keys_t *
ngx_http_signalr_shm_wipe(ngx_http_signalr_keys_t *k)
{
    ngx_atomic_uint_t  seq;

    if (k == NULL) {
        return NULL;
    }

    seq = k->seq;

    if ((seq & 1) || !ngx_atomic_cmp_set(&k->seq, seq, seq + 1)) {
        return NULL;
    }

    ngx_memory_barrier();

    ngx_explicit_memzero(k->kid, sizeof(k->kid) + sizeof(k->key)
                                 + sizeof(k->token));
    k->token_len = 0;
    k->kid_len = 0;
    k->key_len = 0;
    k->token_expires = 0;
    k->key_time = 0;
    k->next_refresh = 0;
    k->refreshing = 0;
    k->failures = 0;
    k->credential = 0;

    ngx_memory_barrier();

    (void) ngx_atomic_fetch_add(&k->seq, 1);

    return k;
}


/*
 * Each JWKS location to the slot of its URI, kept over reloads; a new one
 * to a free slot (a block allocated once; slots are never freed: there
 * are few, and the blocks are reused by URI)
 */

static ngx_int_t
ngx_http_signalr_shm_jwks(ngx_http_signalr_main_conf_t *smcf, ngx_log_t *log)
{
    ngx_uint_t                        i, k;
    ngx_slab_pool_t                  *shpool;
    ngx_http_signalr_jwks_slot_t     *slot;
    ngx_http_signalr_jwks_source_t  **src;

    shpool = (ngx_slab_pool_t *) smcf->shm_zone->shm.addr;
    src = smcf->jwks_sources.elts;

    for (i = 0; i < smcf->jwks_sources.nelts; i++) {
        slot = NULL;

        for (k = 0; k < NGX_HTTP_SIGNALR_SHM_JWKS; k++) {
            if (smcf->sh->jwks[k].crc == src[i]->crc) {
                slot = &smcf->sh->jwks[k];
                break;
            }

            if (slot == NULL && smcf->sh->jwks[k].crc == 0) {
                slot = &smcf->sh->jwks[k];
            }
        }

        if (slot == NULL) {
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "signalr: more than %d \"jwks=\" locations of "
                          "\"signalr_trigger_entra\" since nginx started",
                          NGX_HTTP_SIGNALR_SHM_JWKS);
            return NGX_ERROR;
        }

        if (slot->zone == NULL) {
            slot->zone = ngx_slab_calloc(shpool,
                                         sizeof(ngx_http_signalr_jwks_zone_t));
            if (slot->zone == NULL) {
                ngx_log_error(NGX_LOG_EMERG, log, 0,
                              "signalr: no room for the signing keys of "
                              "\"%V\"", &src[i]->uri);
                return NGX_ERROR;
            }
        }

        slot->crc = src[i]->crc;
        slot->zone->next_fetch = 0;
        src[i]->zone = slot->zone;
    }

    return NGX_OK;
}


ngx_http_signalr_keys_t *
ngx_http_signalr_endpoint_keys(ngx_http_signalr_endpoint_t *ep)
{
    return ep->state ? ep->state->keys : NULL;
}


static ngx_http_signalr_state_t *
ngx_http_signalr_shm_find(ngx_http_signalr_shm_t *sh, ngx_str_t *name,
    uint32_t crc)
{
    size_t                     len;
    ngx_uint_t                 i;
    ngx_http_signalr_state_t  *s;

    len = ngx_min(name->len, NGX_HTTP_SIGNALR_SHM_NAME_LEN);

    for (i = 0; i < NGX_HTTP_SIGNALR_SHM_SLOTS; i++) {
        s = &sh->slots[i];

        if (s->crc == crc && s->name_len == name->len
            && ngx_memcmp(s->name, name->data, len) == 0)
        {
            return s;
        }
    }

    return NULL;
}


static ngx_http_signalr_state_t *
ngx_http_signalr_shm_make(ngx_http_signalr_main_conf_t *smcf,
    ngx_http_signalr_main_conf_t *osmcf)
{
    ngx_uint_t                 i;
    ngx_http_signalr_state_t  *s, *oldest;

    oldest = NULL;

    for (i = 0; i < NGX_HTTP_SIGNALR_SHM_SLOTS; i++) {
        s = &smcf->sh->slots[i];

        if (s->crc == 0) {
            return s;
        }

        if (ngx_http_signalr_shm_used(smcf, s)
            || (osmcf && ngx_http_signalr_shm_used(osmcf, s)))
        {
            continue;
        }

        if (oldest == NULL || s->bound < oldest->bound) {
            oldest = s;
        }
    }

    return oldest;
}


/* a slot one of the configuration's endpoints has */

static ngx_uint_t
ngx_http_signalr_shm_used(ngx_http_signalr_main_conf_t *cf,
    ngx_http_signalr_state_t *s)
{
    ngx_uint_t                    i;
    ngx_http_signalr_endpoint_t  *eps;

    eps = cf->endpoints.elts;

    for (i = 0; i < cf->endpoints.nelts; i++) {
        if (eps[i].state == s) {
            return 1;
        }
    }

    return 0;
}


/*
 * Online: offline_until is 0, or has passed (then it is made 0, so that a
 * value never read again cannot come back when the 32-bit millisecond
 * clock of a 32-bit system wraps, after 49 days).
 */

ngx_uint_t
ngx_http_signalr_endpoint_online(ngx_http_signalr_endpoint_t *ep)
{
    ngx_atomic_uint_t  until;

    if (ep->state == NULL) {
        return 1;
    }

    until = ep->state->offline_until;

    if (until == 0) {
        return 1;
    }

    if ((ngx_msec_int_t) ((ngx_msec_t) until - ngx_current_msec) > 0) {
        return 0;
    }

    if (ngx_atomic_cmp_set(&ep->state->offline_until, until, 0)) {
        ngx_http_signalr_shm_back(ep->state, until);
    }

    return 1;
}


/*
 * online again since its offline time ran out (until has passed), or now:
 * when that is noticed is not when it happened
 */

static void
ngx_http_signalr_shm_back(ngx_http_signalr_state_t *s, ngx_msec_t until)
{
    ngx_msec_int_t  ago;

    ago = (ngx_msec_int_t) (ngx_current_msec - until);

    s->online_since = ngx_time() - (ago > 0 ? ago / 1000 : 0);
}


/*
 * The later of the time already set and now + offline_time: a worker whose
 * clock lags a little never moves it back. The worker that finds it 0 or
 * passed is the one that took the endpoint offline.
 */

ngx_uint_t
ngx_http_signalr_endpoint_fail(ngx_http_signalr_endpoint_t *ep,
    ngx_uint_t status, ngx_msec_t offline_time)
{
    ngx_msec_t                 now, next;
    ngx_uint_t                 was_online;
    ngx_atomic_uint_t          until;
    ngx_http_signalr_state_t  *s;

    s = ep->state;

    if (s == NULL) {
        return 0;
    }

    now = ngx_current_msec;

    s->last_status = status;
    s->last_failure = ngx_time();

    do {
        until = s->offline_until;

        was_online = (until == 0
                      || (ngx_msec_int_t) ((ngx_msec_t) until - now) <= 0);

        next = now + offline_time;

        if (!was_online && (ngx_msec_int_t) ((ngx_msec_t) until - next) > 0) {
            next = (ngx_msec_t) until;
        }

        if (next == 0) {
            next = 1;
        }

    } while (!ngx_atomic_cmp_set(&s->offline_until, until,
                                 (ngx_atomic_uint_t) next));

    if (!was_online) {
        return 0;
    }

    s->offline_since = ngx_time();

    /* the first probe of an offline endpoint, one interval on */

    if (ep->probe) {
        next = now + ep->probe;
        s->next_probe = next ? next : 1;
    }

    return 1;
}


/*
 * Probes (ngx_http_signalr_probe.c): the probe's mark (not 0) when this
 * worker is to probe the endpoint now, 0 when not. The next probe is one interval on, that of an offline
 * endpoint or that of an online one; a probe is due when that time has
 * come, and the worker that moves it on by compare-and-set is the one that
 * probes, so that the workers probe an endpoint once per interval in all.
 * Time 0 is no probe planned: the first one is planned an interval on.
 */

ngx_msec_t
ngx_http_signalr_probe_due(ngx_http_signalr_endpoint_t *ep)
{
    ngx_msec_t                 now, interval, next;
    ngx_atomic_uint_t          planned, running;
    ngx_http_signalr_state_t  *s;

    s = ep->state;

    if (s == NULL) {
        return 0;
    }

    now = ngx_current_msec;
    planned = s->next_probe;

    if (planned && (ngx_msec_int_t) ((ngx_msec_t) planned - now) > 0) {
        return 0;
    }

    /* one probe at a time: the one under way, until its time is up */

    running = s->probing;

    if (running && (ngx_msec_int_t) ((ngx_msec_t) running - now) > 0) {
        return 0;
    }

    interval = ngx_http_signalr_endpoint_online(ep) ? ep->check : ep->probe;

    if (interval == 0) {
        return 0;
    }

    next = now + interval;

    if (next == 0) {
        next = 1;
    }

    if (!ngx_atomic_cmp_set(&s->next_probe, planned, next)) {
        return 0;
    }

    if (planned == 0) {
        return 0;
    }

    next = now + NGX_HTTP_SIGNALR_PROBE_MAX_TIME;
    next = next ? next : 1;
    s->probing = next;

    return next;
}


/*
 * A probe ended with no outcome (its request was ended): the next may run.
 * Only the probe's own mark is cleared: one that ran past its time must not
 * free the probe started after it.
 */

void
ngx_http_signalr_probe_lost(ngx_http_signalr_endpoint_t *ep, ngx_msec_t mark)
{
    if (ep->state) {
        (void) ngx_atomic_cmp_set(&ep->state->probing, mark, 0);
    }
}


/* what a probe found: the endpoint works, or status is what it answered */

void
ngx_http_signalr_probe_seen(ngx_http_signalr_endpoint_t *ep, ngx_msec_t mark,
    ngx_uint_t status, ngx_uint_t works)
{
    ngx_http_signalr_state_t  *s;

    s = ep->state;

    if (s == NULL) {
        return;
    }

    (void) ngx_atomic_cmp_set(&s->probing, mark, 0);
    s->last_probe = ngx_time();
    s->probe_status = status;

    (void) ngx_atomic_fetch_add(&s->probes, 1);

    if (!works) {
        (void) ngx_atomic_fetch_add(&s->probes_failed, 1);
    }
}


ngx_uint_t
ngx_http_signalr_endpoint_ok(ngx_http_signalr_endpoint_t *ep)
{
    ngx_atomic_uint_t  until;

    if (ep->state == NULL) {
        return 0;
    }

    until = ep->state->offline_until;

    if (until == 0) {
        return 0;
    }

    if (!ngx_atomic_cmp_set(&ep->state->offline_until, until, 0)) {
        return 0;
    }

    ngx_http_signalr_shm_back(ep->state, until);

    /* a time passed: online already, nobody to tell */

    return (ngx_msec_int_t) ((ngx_msec_t) until - ngx_current_msec) > 0;
}


/* what the status page shows of an endpoint (ngx_http_signalr_status.c) */

void
ngx_http_signalr_endpoint_report(ngx_http_signalr_endpoint_t *ep,
    ngx_http_signalr_endpoint_report_t *rep)
{
    ngx_http_signalr_keys_t   *k;
    ngx_http_signalr_state_t  *s;

    ngx_memzero(rep, sizeof(ngx_http_signalr_endpoint_report_t));

    rep->online = ngx_http_signalr_endpoint_online(ep);

    s = ep->state;

    if (s == NULL) {
        return;
    }

    rep->since = rep->online ? (time_t) s->online_since
                             : (time_t) s->offline_since;
    rep->last_status = s->last_status;
    rep->last_failure = s->last_failure;
    rep->last_probe = s->last_probe;
    rep->probe_status = s->probe_status;
    rep->probes = s->probes;
    rep->probes_failed = s->probes_failed;

    k = s->keys;

    if (ep->entra == NULL || k == NULL) {
        return;
    }

    rep->entra = 1;
    rep->key_time = k->key_time;
    rep->refreshes = k->refreshes;
    rep->refresh_failures = k->refresh_failures;
    rep->refresh_status = k->last_status;
    rep->last_refresh = k->last_refresh;
    rep->last_refresh_failure = k->last_failure;
}


ngx_uint_t
ngx_http_signalr_shm_warn_now(ngx_http_signalr_main_conf_t *smcf)
{
    ngx_atomic_uint_t  last, now;

    if (smcf->sh == NULL) {
        return 1;
    }

    now = (ngx_atomic_uint_t) ngx_time();
    last = smcf->sh->warned;

    /* a worker whose clock is a second behind never writes it back */
    return (ngx_atomic_int_t) (now - last) > 0
           && ngx_atomic_cmp_set(&smcf->sh->warned, last, now);
}
