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
 * nginx's monotonic clock, the same in every process of the machine, and
 * ngx_time() for what is shown.
 */

#include "ngx_http_signalr_module.h"
#include "ngx_http_signalr_shm.h"


#define NGX_HTTP_SIGNALR_SHM_SLOTS     256
#define NGX_HTTP_SIGNALR_SHM_NAME_LEN  64
#define NGX_HTTP_SIGNALR_SHM_SIZE      (128 * 1024)


struct ngx_http_signalr_state_s {
    uint32_t                    crc;            /* of the name; 0: free */
    u_char                      name[NGX_HTTP_SIGNALR_SHM_NAME_LEN];
    size_t                      name_len;
    ngx_atomic_t                offline_until;  /* ngx_current_msec */
    ngx_atomic_t                offline_since;  /* ngx_time() */
    ngx_atomic_t                last_status;    /* of the last failure */
    ngx_atomic_t                last_failure;   /* ngx_time() */
};


struct ngx_http_signalr_shm_s {
    ngx_atomic_t                warned;         /* ngx_time() */
    ngx_http_signalr_state_t    slots[NGX_HTTP_SIGNALR_SHM_SLOTS];
};


static ngx_int_t ngx_http_signalr_shm_init(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_signalr_shm_bind(ngx_http_signalr_main_conf_t *smcf,
    ngx_log_t *log);
static ngx_http_signalr_state_t *ngx_http_signalr_shm_slot(
    ngx_http_signalr_main_conf_t *smcf, ngx_str_t *name, ngx_uint_t make);


ngx_int_t
ngx_http_signalr_shm_add(ngx_conf_t *cf)
{
    ngx_str_t                      name = ngx_string("ngx_http_signalr_module");
    ngx_http_signalr_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_signalr_module);

    if (smcf->endpoints.nelts == 0) {
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
        return ngx_http_signalr_shm_bind(smcf, shm_zone->shm.log);
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        smcf->sh = shpool->data;
        return ngx_http_signalr_shm_bind(smcf, shm_zone->shm.log);
    }

    smcf->sh = ngx_slab_alloc(shpool, sizeof(ngx_http_signalr_shm_t));
    if (smcf->sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(smcf->sh, sizeof(ngx_http_signalr_shm_t));
    shpool->data = smcf->sh;

    return ngx_http_signalr_shm_bind(smcf, shm_zone->shm.log);
}


/*
 * Each endpoint to the slot of its name, its state kept; first those whose
 * names have slots, then the others to a free slot or to one that no
 * endpoint of this configuration has (an endpoint since removed or
 * renamed), made new. Run by the master alone, when the configuration
 * loads, so the slots' names need no lock.
 */

static ngx_int_t
ngx_http_signalr_shm_bind(ngx_http_signalr_main_conf_t *smcf, ngx_log_t *log)
{
    ngx_uint_t                    i, pass;
    ngx_http_signalr_endpoint_t  *eps;

    eps = smcf->endpoints.elts;

    for (i = 0; i < smcf->endpoints.nelts; i++) {
        eps[i].state = NULL;
    }

    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < smcf->endpoints.nelts; i++) {
            if (eps[i].state == NULL) {
                eps[i].state = ngx_http_signalr_shm_slot(smcf, &eps[i].name,
                                                         pass);
            }
        }
    }

    for (i = 0; i < smcf->endpoints.nelts; i++) {
        if (eps[i].state == NULL) {
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "signalr: no room for the state of endpoint "
                          "\"%V\"", &eps[i].name);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the slot that has the name; with make, a slot made for it, or NULL */

static ngx_http_signalr_state_t *
ngx_http_signalr_shm_slot(ngx_http_signalr_main_conf_t *smcf, ngx_str_t *name,
    ngx_uint_t make)
{
    size_t                        len;
    uint32_t                      crc;
    ngx_uint_t                    i, j;
    ngx_http_signalr_state_t     *s, *free;
    ngx_http_signalr_endpoint_t  *eps;

    len = ngx_min(name->len, NGX_HTTP_SIGNALR_SHM_NAME_LEN);
    crc = ngx_crc32_long(name->data, name->len) | 1;

    if (!make) {
        for (i = 0; i < NGX_HTTP_SIGNALR_SHM_SLOTS; i++) {
            s = &smcf->sh->slots[i];

            if (s->crc == crc && s->name_len == name->len
                && ngx_memcmp(s->name, name->data, len) == 0)
            {
                return s;
            }
        }

        return NULL;
    }

    eps = smcf->endpoints.elts;
    free = NULL;

    for (i = 0; free == NULL && i < NGX_HTTP_SIGNALR_SHM_SLOTS; i++) {
        s = &smcf->sh->slots[i];

        /* free, or none of this configuration's endpoints has it */

        for (j = 0; s->crc != 0 && j < smcf->endpoints.nelts; j++) {
            if (eps[j].state == s) {
                break;
            }
        }

        if (s->crc == 0 || j == smcf->endpoints.nelts) {
            free = s;
        }
    }

    if (free == NULL) {
        return NULL;
    }

    ngx_memzero(free, sizeof(ngx_http_signalr_state_t));
    ngx_memcpy(free->name, name->data, len);
    free->name_len = name->len;
    free->crc = crc;

    return free;
}


ngx_uint_t
ngx_http_signalr_endpoint_online(ngx_http_signalr_endpoint_t *ep)
{
    if (ep->state == NULL) {
        return 1;
    }

    return (ngx_msec_int_t) (ep->state->offline_until - ngx_current_msec)
           <= 0;
}


ngx_uint_t
ngx_http_signalr_endpoint_fail(ngx_http_signalr_endpoint_t *ep,
    ngx_uint_t status, ngx_msec_t offline_time)
{
    ngx_msec_t                 now;
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
    } while (!ngx_atomic_cmp_set(&s->offline_until, until,
                                 (ngx_atomic_uint_t) (now + offline_time)));

    if ((ngx_msec_int_t) ((ngx_msec_t) until - now) > 0) {
        return 0;
    }

    s->offline_since = ngx_time();

    return 1;
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

    return last != now && ngx_atomic_cmp_set(&smcf->sh->warned, last, now);
}
