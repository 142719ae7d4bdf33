/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * ngx_signalr_module: helpers shared by the negotiate, trigger and output
 * locations: the request context, answers and error bodies, hub checks,
 * headers and the request body.
 */

#include "ngx_http_signalr_module.h"
#include "ngx_http_signalr_util.h"
#include "signalr_json.h"
#include "signalr_names.h"


static void *ngx_http_signalr_pool_grow(void *ctx, void *data, size_t len,
    size_t size);


/* a variable's value, found: data lives as long as the request */

ngx_int_t
ngx_http_signalr_variable_set(ngx_http_variable_value_t *v, u_char *data,
    size_t len)
{
    v->len = len;
    v->data = data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


ngx_http_signalr_ctx_t *
ngx_http_signalr_get_ctx(ngx_http_request_t *r)
{
    ngx_http_signalr_ctx_t  *ctx;

    ngx_pool_cleanup_t            *cln;
    ngx_http_signalr_main_conf_t  *smcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_signalr_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_signalr_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ctx->request = r;
        ngx_http_set_ctx(r, ctx, ngx_http_signalr_module);

        /*
         * with the status page's counters, the context is found again
         * after an internal redirect (error_page) has cleared the
         * request's contexts, as realip finds its own
         */

        smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);

        if (smcf->status) {
            cln = ngx_pool_cleanup_add(r->pool, 0);
            if (cln == NULL) {
                return NULL;
            }

            cln->handler = ngx_http_signalr_ctx_cleanup;
            cln->data = ctx;
        }
    }

    return ctx;
}


/* only a mark, for ngx_http_signalr_find_ctx() */

void
ngx_http_signalr_ctx_cleanup(void *data)
{
}


/* the request's context, also after an internal redirect; or NULL */

ngx_http_signalr_ctx_t *
ngx_http_signalr_find_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t      *cln;
    ngx_http_signalr_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_signalr_module);

    if (ctx && (ctx->trigger_called || ctx->negotiated)) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_signalr_ctx_cleanup
            && ((ngx_http_signalr_ctx_t *) cln->data)->request == r)
        {
            ctx = cln->data;

            if (ctx->trigger_called || ctx->negotiated) {
                return ctx;
            }
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_signalr_send_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body)
{
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    return ngx_http_signalr_send(r, status, body);
}


/* sends body as the whole response, with the content type already set */

ngx_int_t
ngx_http_signalr_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;
    r->headers_out.content_length_n = body->len;

    if (body->len == 0 || r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    if (r->header_only) {

        /*
         * the subrequests of the request (the REST calls of a HEAD to an
         * exists location) are let go by the postpone filter, which only
         * output walks: without it the request would wait for them for
         * ever
         */

        return r->postponed ? ngx_http_send_special(r, NGX_HTTP_LAST) : rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_signalr_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *message)
{
    signalr_jw_t   w;
    signalr_str_t  text;

    ngx_http_signalr_jw_init(r, &w, &text);

    signalr_jw_object(&w);
    signalr_jw_key_lit(&w, "error");
    signalr_jw_string(&w, message, ngx_strlen(message));
    signalr_jw_end(&w);

    /* error pages would replace the body: send it as a normal response */
    r->err_status = 0;

    return ngx_http_signalr_send_jw(r, status, &w);
}


/* JSON text written into the request's pool, grown there as needed */

void
ngx_http_signalr_jw_init(ngx_http_request_t *r, signalr_jw_t *w,
    signalr_str_t *text)
{
    ngx_http_signalr_pool_str(r->pool, text);
    signalr_jw_init(w, text);
}


/* a growable buffer of the plain-C layer that grows in a pool */

void
ngx_http_signalr_pool_str(ngx_pool_t *pool, signalr_str_t *s)
{
    ngx_memzero(s, sizeof(signalr_str_t));

    s->grow = ngx_http_signalr_pool_grow;
    s->ctx = pool;
}


/* name and value pairs whose lists grow in the request's pool */

void
ngx_http_signalr_pairs_init(ngx_http_request_t *r, signalr_pairs_t *pairs,
    ngx_uint_t join)
{
    ngx_http_signalr_pool_str(r->pool, &pairs->list);
    ngx_http_signalr_pool_str(r->pool, &pairs->decoded);

    signalr_pairs_init(pairs, join);
}


ngx_int_t
ngx_http_signalr_send_jw(ngx_http_request_t *r, ngx_uint_t status,
    signalr_jw_t *w)
{
    ngx_str_t  body;

    if (signalr_jw_done(w) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = (u_char *) w->out->data;
    body.len = w->out->len;

    return ngx_http_signalr_send_json(r, status, &body);
}


static void *
ngx_http_signalr_pool_grow(void *ctx, void *data, size_t len, size_t size)
{
    ngx_pool_t *pool = ctx;

    u_char  *p;

    /* aligned: the name and value pairs keep structs in it */

    p = ngx_palloc(pool, size);
    if (p == NULL) {
        return NULL;
    }

    if (len) {
        ngx_memcpy(p, data, len);
    }

    if (data) {
        /* a large block goes back at once; a small one stays */
        (void) ngx_pfree(pool, data);
    }

    return p;
}


ngx_int_t
ngx_http_signalr_check_hub(ngx_http_request_t *r,
    ngx_http_complex_value_t *cv, ngx_str_t *hub)
{
    ngx_str_t  value;

    if (cv->lengths == NULL) {
        *hub = cv->value;
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, cv, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    if (!signalr_hub_valid(value.data, value.len)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "signalr: invalid hub name \"%V\"", &value);
        return NGX_DECLINED;
    }

    hub->data = ngx_pnalloc(r->pool, value.len);
    if (hub->data == NULL) {
        return NGX_ERROR;
    }

    ngx_strlow(hub->data, value.data, value.len);
    hub->len = value.len;

    return NGX_OK;
}


/* a 405 answer naming the methods the location takes */

ngx_int_t
ngx_http_signalr_not_allowed(ngx_http_request_t *r, char *allow,
    const char *message)
{
    ngx_int_t  rc;
    ngx_str_t  value;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    value.data = (u_char *) allow;
    value.len = ngx_strlen(allow);

    if (ngx_http_signalr_add_header(r, "Allow", &value) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_signalr_send_error(r, NGX_HTTP_NOT_ALLOWED, message);
}


/* the hub argument of signalr_negotiate and signalr_output */

ngx_http_complex_value_t *
ngx_http_signalr_conf_hub(ngx_conf_t *cf, ngx_str_t *value)
{
    ngx_http_complex_value_t          *cv;
    ngx_http_compile_complex_value_t   ccv;

    cv = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (cv == NULL) {
        return NULL;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = value;
    ccv.complex_value = cv;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NULL;
    }

    if (cv->lengths == NULL) {
        if (!signalr_hub_valid(value->data, value->len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid hub name \"%V\": a letter, then up "
                               "to 127 letters, digits or _`,.[]", value);
            return NULL;
        }

        /* a literal hub is checked and lower-cased here, once */
        ngx_strlow(cv->value.data, cv->value.data, cv->value.len);
    }

    return cv;
}


/* adds a response header; key is a literal */

/*
 * the content handler of a negotiate, trigger, output or status location
 * (one of them a location); the merge gives it to the location's
 * limit_except blocks too
 */

char *
ngx_http_signalr_conf_handler(ngx_conf_t *cf,
    ngx_http_signalr_loc_conf_t *slcf, ngx_http_handler_pt handler)
{
    ngx_http_core_loc_conf_t  *clcf;

    if (slcf->handler && slcf->handler != handler) {
        return "cannot be in the location of another of signalr_negotiate, "
               "signalr_trigger, signalr_output and signalr_status";
    }

    slcf->handler = handler;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = handler;

    return NGX_CONF_OK;
}


ngx_table_elt_t *
ngx_http_signalr_add_header(ngx_http_request_t *r, const char *key,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value = *value;
    h->lowcase_key = NULL;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return h;
}


/* the first header of that name (any case) in a headers list */

ngx_table_elt_t *
ngx_http_signalr_find_header(ngx_list_t *headers, const char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &headers->part;
    i = 0;

    while ((h = ngx_http_signalr_list_next(&part, &i)) != NULL) {
        if (h->hash && h->key.len == len
            && ngx_strncasecmp(h->key.data, (u_char *) name, len) == 0)
        {
            return h;
        }
    }

    return NULL;
}


/* the next header of a list: *part and *i start at its first part and 0 */

ngx_table_elt_t *
ngx_http_signalr_list_next(ngx_list_part_t **part, ngx_uint_t *i)
{
    ngx_table_elt_t  *h;

    while (*i >= (*part)->nelts) {
        if ((*part)->next == NULL) {
            return NULL;
        }

        *part = (*part)->next;
        *i = 0;
    }

    h = (*part)->elts;

    return &h[(*i)++];
}


/*
 * the request body in one piece: memory buffers, or a temporary file when
 * the body was larger than client_body_buffer_size; NGX_DECLINED when it is
 * larger than max
 */

ngx_int_t
ngx_http_signalr_read_body(ngx_http_request_t *r, size_t max,
    ngx_str_t *body)
{
    off_t         len, size;
    u_char       *p;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len > (off_t) max) {
        return NGX_DECLINED;
    }

    if (len == 0) {
        return NGX_OK;
    }

    body->data = ngx_pnalloc(r->pool, (size_t) len);
    if (body->data == NULL) {
        return NGX_ERROR;
    }

    p = body->data;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        if (!b->in_file) {
            continue;
        }

        for (size = b->file_pos; size < b->file_last; size += n) {
            n = ngx_read_file(b->file, p, (size_t) (b->file_last - size),
                              size);

            if (n == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (n == 0) {
                ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                              "signalr: the request body file \"%V\" is "
                              "shorter than expected", &b->file->name);
                return NGX_ERROR;
            }

            p += n;
        }
    }

    body->len = p - body->data;

    return NGX_OK;
}
