/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * ngx_signalr_module: helpers shared by negotiate, trigger and output.
 */

#ifndef NGX_HTTP_SIGNALR_UTIL_H
#define NGX_HTTP_SIGNALR_UTIL_H

#include "ngx_http_signalr_module.h"
#include "signalr_json.h"
#include "signalr_names.h"
#include "signalr_trigger.h"


/* an ngx_str_t equal to a literal in any case (ASCII) */
#define ngx_http_signalr_str_is(s, lit)                                      \
    signalr_caseless_eq((s)->data, (s)->len, (u_char *) lit, sizeof(lit) - 1)


/* a refusal recorded: the status and message to answer; NGX_ERROR */

static ngx_inline ngx_int_t
ngx_http_signalr_fail(ngx_http_signalr_error_t *err, ngx_uint_t status,
    const char *message)
{
    err->status = status;
    err->message = message;

    return NGX_ERROR;
}


ngx_http_signalr_ctx_t *ngx_http_signalr_get_ctx(ngx_http_request_t *r);
ngx_http_signalr_ctx_t *ngx_http_signalr_find_ctx(ngx_http_request_t *r);
void ngx_http_signalr_ctx_cleanup(void *data);
ngx_int_t ngx_http_signalr_variable_set(ngx_http_variable_value_t *v,
    u_char *data, size_t len);
ngx_int_t ngx_http_signalr_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body);
ngx_int_t ngx_http_signalr_send_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body);
ngx_int_t ngx_http_signalr_send_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *message);
void ngx_http_signalr_pool_str(ngx_pool_t *pool, signalr_str_t *s);
void ngx_http_signalr_jw_init(ngx_http_request_t *r, signalr_jw_t *w,
    signalr_str_t *text);
void ngx_http_signalr_pairs_init(ngx_http_request_t *r,
    signalr_pairs_t *pairs, ngx_uint_t join);
ngx_int_t ngx_http_signalr_send_jw(ngx_http_request_t *r, ngx_uint_t status,
    signalr_jw_t *w);
ngx_int_t ngx_http_signalr_check_hub(ngx_http_request_t *r,
    ngx_http_complex_value_t *cv, ngx_str_t *hub);
ngx_int_t ngx_http_signalr_not_allowed(ngx_http_request_t *r, char *allow,
    const char *message);
ngx_http_complex_value_t *ngx_http_signalr_conf_hub(ngx_conf_t *cf,
    ngx_str_t *value);
char *ngx_http_signalr_conf_handler(ngx_conf_t *cf,
    ngx_http_signalr_loc_conf_t *slcf, ngx_http_handler_pt handler);
ngx_table_elt_t *ngx_http_signalr_add_header(ngx_http_request_t *r,
    const char *key, ngx_str_t *value);
ngx_table_elt_t *ngx_http_signalr_list_next(ngx_list_part_t **part,
    ngx_uint_t *i);
ngx_table_elt_t *ngx_http_signalr_find_header(ngx_list_t *headers,
    const char *name);
ngx_int_t ngx_http_signalr_read_body(ngx_http_request_t *r, size_t max,
    ngx_str_t *body);


#endif /* NGX_HTTP_SIGNALR_UTIL_H */
