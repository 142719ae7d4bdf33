/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Subrequests for the trigger routes and the REST calls, and the filters
 * that capture their responses.
 *
 * nginx refuses subrequests inside an in-memory subrequest, and a trigger
 * route may be a signalr_output location that issues REST subrequests of
 * its own. So no subrequest of this module is in-memory: a header and a
 * body filter keep the response of every subrequest the module started
 * (up to a size) instead of passing it on. A subrequest's capture is
 * found through its post_subrequest handler, which an internal redirect
 * (error_page, try_files) keeps, where its module context would be cleared.
 *
 * The outcome is decided in the post_subrequest handler alone, from what
 * the filters saw: a response is whole when its last buffer went through
 * them (nginx ends a response cut short by its upstream without one).
 * Callers read it through the accessors below, never the struct.
 */

#include "ngx_http_signalr_module.h"
#include "ngx_http_signalr_subrequest.h"
#include "ngx_http_signalr_util.h"


struct ngx_http_signalr_capture_s {
    ngx_http_request_t         *sr;
    ngx_uint_t                  status;          /* the outcome */
    ngx_uint_t                  header_status;   /* as the filter saw it */
    ngx_uint_t                  error_status;
    u_char                     *data;
    size_t                      len;
    size_t                      alloc;
    size_t                      max;
    unsigned                    done:1;
    unsigned                    failed:1;        /* no (whole) response */
    unsigned                    truncated:1;
    unsigned                    last:1;          /* its end was seen */
    unsigned                    broken:1;        /* failed after header */
    unsigned                    told:1;          /* done_handler was */
                                                 /* called */
    ngx_http_signalr_capture_pt done_handler;
    void                       *done_data;
};


static ngx_int_t ngx_http_signalr_capture_error(ngx_http_request_t *r,
    ngx_http_signalr_capture_t *cap, ngx_int_t rc);
static void ngx_http_signalr_capture_response(ngx_http_request_t *r,
    ngx_http_signalr_capture_t *cap);
static ngx_int_t ngx_http_signalr_subrequest_input(ngx_http_request_t *r,
    ngx_http_signalr_subrequest_t *s, ngx_list_t *headers,
    ngx_table_elt_t **content_type, ngx_table_elt_t **content_length,
    ngx_http_request_body_t *rb);
static ngx_int_t ngx_http_signalr_subrequest_done(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static ngx_http_signalr_capture_t *ngx_http_signalr_find_capture(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_signalr_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_signalr_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_http_signalr_capture_t *
ngx_http_signalr_subrequest(ngx_http_request_t *r,
    ngx_http_signalr_subrequest_t *s)
{
    ngx_list_t                   headers;
    ngx_table_elt_t             *content_type, *content_length;
    ngx_http_request_t          *sr;
    ngx_http_request_body_t     *rb;
    ngx_http_post_subrequest_t  *ps;
    ngx_http_signalr_capture_t  *cap;

    /*
     * everything is allocated before ngx_http_subrequest(): once it
     * succeeds the subrequest is posted, and a failure after it would
     * leave a half-built request to run
     */

    cap = ngx_pcalloc(r->pool, sizeof(ngx_http_signalr_capture_t));
    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));

    if (cap == NULL || ps == NULL || rb == NULL) {
        return NULL;
    }

    if (ngx_http_signalr_subrequest_input(r, s, &headers, &content_type,
                                          &content_length, rb)
        != NGX_OK)
    {
        return NULL;
    }

    cap->max = s->max_response;
    cap->done_handler = s->done;
    cap->done_data = s->data;

    ps->handler = ngx_http_signalr_subrequest_done;
    ps->data = cap;

    if (ngx_http_subrequest(r, &s->uri, &s->args, &sr, ps,
                            s->background ? NGX_HTTP_SUBREQUEST_BACKGROUND
                                          : 0)
        != NGX_OK)
    {
        return NULL;
    }

    /* from here on nothing can fail */

    cap->sr = sr;

    sr->method = s->method;
    sr->method_name = s->method_name;

    if (s->unparsed_uri.len) {
        sr->unparsed_uri = s->unparsed_uri;
        sr->valid_unparsed_uri = 1;
    }

    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));
    sr->headers_in.headers = headers;

    if (headers.last == &headers.part) {
        /* the list was copied: its last part is the copy's own */
        sr->headers_in.headers.last = &sr->headers_in.headers.part;
    }
    sr->headers_in.content_type = content_type;
    sr->headers_in.content_length = content_length;
    sr->headers_in.content_length_n = s->body.len;

    sr->request_body = rb;

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "signalr subrequest: %V %V?%V, %uz body bytes",
                   &s->method_name, &s->uri, &s->args, s->body.len);

    return cap;
}


/*
 * the subrequest's request headers, only those given (never the client's),
 * and its body
 */

static ngx_int_t
ngx_http_signalr_subrequest_input(ngx_http_request_t *r,
    ngx_http_signalr_subrequest_t *s, ngx_list_t *headers,
    ngx_table_elt_t **content_type, ngx_table_elt_t **content_length,
    ngx_http_request_body_t *rb)
{
    ngx_buf_t        *b;
    ngx_uint_t        i;
    ngx_chain_t      *cl;
    ngx_table_elt_t  *h;

    if (ngx_list_init(headers, r->pool, s->nheaders + 1,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    *content_type = NULL;
    *content_length = NULL;

    for (i = 0; i < s->nheaders; i++) {
        h = ngx_list_push(headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        *h = s->headers[i];
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif

        /*
         * the proxy module finds the headers it replaces by this hash of
         * the lower-case name: made here unless the caller has it
         */

        if (h->lowcase_key == NULL) {
            h->lowcase_key = ngx_pnalloc(r->pool, h->key.len);
            if (h->lowcase_key == NULL) {
                return NGX_ERROR;
            }

            h->hash = ngx_hash_strlow(h->lowcase_key, h->key.data,
                                      h->key.len);

        } else if (h->hash == 0) {
            h->hash = ngx_hash_key(h->lowcase_key, h->key.len);
        }

        if (h->key.len == sizeof("content-type") - 1
            && ngx_strncmp(h->lowcase_key, "content-type", h->key.len) == 0)
        {
            *content_type = h;
        }
    }

    if (s->body.len) {
        h = ngx_list_push(headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        ngx_str_set(&h->key, "Content-Length");
        h->lowcase_key = (u_char *) "content-length";
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif
        h->hash = ngx_hash_key(h->lowcase_key, h->key.len);
        h->value.data = ngx_pnalloc(r->pool, NGX_OFF_T_LEN);
        if (h->value.data == NULL) {
            return NGX_ERROR;
        }

        h->value.len = ngx_sprintf(h->value.data, "%uz", s->body.len)
                       - h->value.data;
        *content_length = h;

        b = ngx_calloc_buf(r->pool);
        cl = ngx_alloc_chain_link(r->pool);
        if (b == NULL || cl == NULL) {
            return NGX_ERROR;
        }

        /* start and end too: a retried upstream rewinds pos to start */
        b->start = s->body.data;
        b->pos = s->body.data;
        b->last = s->body.data + s->body.len;
        b->end = b->last;
        b->memory = 1;
        b->last_buf = 1;

        cl->buf = b;
        cl->next = NULL;

        rb->bufs = cl;
        rb->buf = b;
    }

    return NGX_OK;
}


/*
 * A subrequest allocates from the main request's pool, which lives until
 * the main request ends. Once the caller has read a finished subrequest's
 * outcome, the large blocks it no longer needs (the upstream's header
 * buffer, proxy_buffer_size; the kept body) go back at once, so a request
 * making many REST calls does not hold them all. The response's headers
 * point into the upstream's buffer: they cannot be read after this.
 */

void
ngx_http_signalr_capture_release(ngx_http_request_t *r,
    ngx_http_signalr_capture_t *cap)
{
    ngx_http_upstream_t  *u;

    if (cap->data && ngx_pfree(r->pool, cap->data) == NGX_OK) {
        cap->data = NULL;
        cap->len = 0;
        cap->alloc = 0;
    }

    u = cap->sr ? cap->sr->upstream : NULL;

    if (u && u->buffer.start
        && ngx_pfree(cap->sr->pool, u->buffer.start) == NGX_OK)
    {
        u->buffer.start = NULL;
        u->buffer.pos = NULL;
        u->buffer.last = NULL;
        u->buffer.end = NULL;
    }
}


static ngx_int_t
ngx_http_signalr_subrequest_done(ngx_http_request_t *r, void *data,
    ngx_int_t rc)
{
    ngx_http_signalr_capture_t *cap = data;

    /*
     * Called at every finalization of the subrequest: an error status may
     * still be followed by an error_page that answers, so each call
     * decides again and the last one counts.
     */

    if (rc == NGX_DONE || rc == NGX_AGAIN) {
        return rc;
    }

    cap->done = 1;
    cap->failed = 0;

    if (cap->broken) {
        cap->status = NGX_HTTP_BAD_GATEWAY;
        cap->failed = 1;

    } else if (rc == NGX_ERROR || rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        rc = ngx_http_signalr_capture_error(r, cap, rc);

        /*
         * not the end, unless it broke after its header: nginx makes the
         * error page now (or an error_page location answers) and comes
         * back, or ends the whole request; the starter, woken meanwhile
         * by another subrequest, must not take this for the outcome
         */

        cap->done = cap->broken;

    } else {
        ngx_http_signalr_capture_response(r, cap);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "signalr subrequest done: rc %i, status %ui, %uz bytes",
                   rc, cap->status, cap->len);

    /* a background subrequest's starter hears of its outcome, once */

    if (cap->done && cap->done_handler && !cap->told) {
        cap->told = 1;
        cap->done_handler(r, cap, cap->done_data);
    }

    return rc;
}


/* the subrequest ends with an error status or NGX_ERROR */

static ngx_int_t
ngx_http_signalr_capture_error(ngx_http_request_t *r,
    ngx_http_signalr_capture_t *cap, ngx_int_t rc)
{
    ngx_http_upstream_t  *u;

    if (r->header_sent) {

        /*
         * the response broke after its header was kept (a bad chunk, a
         * read error): no error page can follow, the subrequest ends
         */

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "signalr: the response of \"%V\" failed after "
                      "its header", &r->uri);

        cap->broken = 1;
        cap->status = NGX_HTTP_BAD_GATEWAY;
        cap->failed = 1;

        return r->connection->error ? rc : NGX_OK;
    }

    /*
     * An error status for which nginx makes an error page: the location's
     * own answer (return 500), or, for a proxied location, a failure
     * before any response (refused, timed out), when the upstream has no
     * status of its own.
     */

    u = r->upstream;

    cap->status = (rc == NGX_ERROR) ? NGX_HTTP_BAD_GATEWAY : (ngx_uint_t) rc;
    cap->failed = (rc == NGX_ERROR || (u && u->headers_in.status_n == 0));
    cap->error_status = 0;

    /* these would end the main request too: the caller answers */

    if ((rc == NGX_ERROR || rc == NGX_HTTP_REQUEST_TIME_OUT
         || rc == NGX_HTTP_CLIENT_CLOSED_REQUEST || rc == NGX_HTTP_CLOSE)
        && !r->connection->error)
    {
        cap->error_status = cap->status;
        rc = NGX_HTTP_BAD_GATEWAY;
    }

    return rc;
}


/* a response went through the filters: is it whole? */

static void
ngx_http_signalr_capture_response(ngx_http_request_t *r,
    ngx_http_signalr_capture_t *cap)
{
    ngx_http_upstream_t  *u;

    u = r->upstream;

    cap->status = cap->header_status ? cap->header_status
                                     : r->headers_out.status;

    if (cap->error_status && cap->status == NGX_HTTP_BAD_GATEWAY) {
        /* the error page of a status the call above replaced */
        cap->status = cap->error_status;
    }

    cap->error_status = 0;

    if (cap->status == 0) {
        cap->status = NGX_HTTP_BAD_GATEWAY;
        cap->failed = 1;
        return;
    }

    if (u && u->headers_in.status_n == 0
        && cap->status >= NGX_HTTP_INTERNAL_SERVER_ERROR)
    {
        cap->failed = 1;
        return;
    }

    /*
     * a response with a body whose last buffer never came is cut short
     * (nginx sends the header alone of a subrequest's empty answer)
     */

    if (!cap->last && !r->header_only && r->method != NGX_HTTP_HEAD
        && r->headers_out.content_length_n != 0
        && cap->status != NGX_HTTP_NO_CONTENT
        && cap->status != NGX_HTTP_NOT_MODIFIED)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "signalr: the response of \"%V\" ended before "
                      "its end", &r->uri);
        cap->status = NGX_HTTP_BAD_GATEWAY;
        cap->failed = 1;
    }
}


/* the subrequest has finished: the accessors below may be read */

ngx_uint_t
ngx_http_signalr_capture_done(ngx_http_signalr_capture_t *cap)
{
    return cap->done;
}


/* the status of the response; 502 when there was none */

ngx_uint_t
ngx_http_signalr_capture_status(ngx_http_signalr_capture_t *cap)
{
    return cap->status;
}


/*
 * the status of the response's header, as the subrequest's own location
 * gave it (its upstream's status line), even when the rest was cut short;
 * 0 when no header came
 */

ngx_uint_t
ngx_http_signalr_capture_header_status(ngx_http_signalr_capture_t *cap)
{
    return cap->header_status;
}


/* no response, or not a whole one: the status is nginx's own */

ngx_uint_t
ngx_http_signalr_capture_failed(ngx_http_signalr_capture_t *cap)
{
    return cap->failed;
}


/* the body kept; NGX_DECLINED when it was larger than the limit */

ngx_int_t
ngx_http_signalr_capture_body(ngx_http_signalr_capture_t *cap,
    ngx_str_t *body)
{
    body->data = cap->data;
    body->len = cap->len;

    return cap->truncated ? NGX_DECLINED : NGX_OK;
}


/* a response header, until ngx_http_signalr_capture_release() */

ngx_str_t *
ngx_http_signalr_capture_header(ngx_http_signalr_capture_t *cap,
    const char *name)
{
    ngx_table_elt_t  *h;

    h = ngx_http_signalr_find_header(&cap->sr->headers_out.headers, name);

    return h ? &h->value : NULL;
}


ngx_str_t *
ngx_http_signalr_capture_content_type(ngx_http_signalr_capture_t *cap)
{
    return &cap->sr->headers_out.content_type;
}


/*
 * the capture of r, or of the nearest ancestor that has one: what a route's
 * handler produces through subrequests of its own is part of its response
 * and must not reach the client (but not what in-memory or background
 * subrequests produce: their starter takes that)
 */

static ngx_http_signalr_capture_t *
ngx_http_signalr_find_capture(ngx_http_request_t *r)
{
    ngx_http_request_t          *sr;
    ngx_http_post_subrequest_t  *ps;

    for (sr = r; sr != sr->main; sr = sr->parent) {
        ps = sr->post_subrequest;

        if (ps && ps->handler == ngx_http_signalr_subrequest_done) {
            return ps->data;
        }

        /* their output goes to whoever started them, not to the route */

        if (sr->subrequest_in_memory || sr->background) {
            return NULL;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_signalr_header_filter(ngx_http_request_t *r)
{
    ngx_http_signalr_capture_t  *cap;

    cap = ngx_http_signalr_find_capture(r);

    if (cap == NULL) {
        return ngx_http_next_header_filter(r);
    }

    if (r == cap->sr) {
        cap->header_status = r->headers_out.status;
    }

    r->header_sent = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_signalr_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    off_t                        size;
    u_char                      *p;
    size_t                       alloc;
    ssize_t                      n;
    ngx_buf_t                   *b;
    ngx_chain_t                 *cl;
    ngx_http_signalr_capture_t  *cap;

    cap = ngx_http_signalr_find_capture(r);

    if (cap == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;
        size = ngx_buf_size(b);

        if ((off_t) (cap->max - cap->len) < size) {
            cap->truncated = 1;
            size = cap->max - cap->len;
        }

        if ((off_t) (cap->alloc - cap->len) < size) {

            /* grow by doubling, up to max */

            alloc = ngx_max(2 * cap->alloc, cap->len + (size_t) size);
            alloc = ngx_min(ngx_max(alloc, 1024), cap->max);

            p = ngx_pnalloc(r->pool, alloc);
            if (p == NULL) {
                return NGX_ERROR;
            }

            if (cap->len) {
                ngx_memcpy(p, cap->data, cap->len);
            }

            if (cap->data) {
                /* a large block goes back at once; a small one stays */
                (void) ngx_pfree(r->pool, cap->data);
            }

            cap->data = p;
            cap->alloc = alloc;
        }

        if (size && ngx_buf_in_memory(b)) {
            ngx_memcpy(cap->data + cap->len, b->pos, (size_t) size);
            cap->len += size;

        } else if (size && b->in_file) {
            n = ngx_read_file(b->file, cap->data + cap->len, (size_t) size,
                              b->file_pos);
            if (n == NGX_ERROR) {
                return NGX_ERROR;
            }

            cap->len += n;
        }

        if (ngx_buf_in_memory(b)) {
            b->pos = b->last;
        }

        if (b->in_file) {
            b->file_pos = b->file_last;
        }

        /* a complete response ends with it; one cut short does not */

        if ((b->last_in_chain || b->last_buf) && r == cap->sr) {
            cap->last = 1;
        }
    }

    /*
     * A kept request with subrequests of its own waiting (an output route's
     * REST calls to several endpoints, all but the first started while
     * another ran) ends only when nginx's postpone filter, below, has run
     * each of them: that filter is told, with no data, as the writer of a
     * request with postponed subrequests would have told it.
     */

    if (r->postponed && r == r->connection->data) {
        return ngx_http_next_body_filter(r, NULL);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_signalr_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_signalr_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_signalr_body_filter;

    return NGX_OK;
}
