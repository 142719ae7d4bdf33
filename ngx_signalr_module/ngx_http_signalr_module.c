/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * ngx_signalr_module: module registration, configuration, variables and
 * helpers shared by the negotiate, trigger and output locations.
 */

#include "ngx_http_signalr_module.h"
#include "signalr_json.h"
#include "signalr_names.h"


static ngx_int_t ngx_http_signalr_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_signalr_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_signalr_init(ngx_conf_t *cf);
static void *ngx_http_signalr_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_signalr_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_signalr_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_signalr_lifetime_check(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_signalr_max_actions_check(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_signalr_retries_check(ngx_conf_t *cf, void *post,
    void *data);


static ngx_conf_post_t  ngx_http_signalr_lifetime_post =
    { ngx_http_signalr_lifetime_check };


static ngx_conf_post_t  ngx_http_signalr_max_actions_post =
    { ngx_http_signalr_max_actions_check };

static ngx_conf_post_t  ngx_http_signalr_retries_post =
    { ngx_http_signalr_retries_check };


static ngx_conf_enum_t  ngx_http_signalr_group_actions[] = {
    { ngx_string("add"), NGX_HTTP_SIGNALR_GROUP_ADD },
    { ngx_string("remove"), NGX_HTTP_SIGNALR_GROUP_REMOVE },
    { ngx_string("remove_all"), NGX_HTTP_SIGNALR_GROUP_REMOVE_ALL },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_signalr_commands[] = {

    { ngx_string("signalr_endpoint"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_signalr_endpoint,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("signalr_negotiate"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_signalr_negotiate,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("signalr_user_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_signalr_loc_conf_t, user_id),
      NULL },

    { ngx_string("signalr_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_signalr_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("signalr_token_lifetime"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_signalr_loc_conf_t, token_lifetime),
      &ngx_http_signalr_lifetime_post },

    { ngx_string("signalr_output"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_signalr_output,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("signalr_target"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_signalr_loc_conf_t, target),
      NULL },

    { ngx_string("signalr_group"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_signalr_loc_conf_t, group),
      NULL },

    { ngx_string("signalr_connection_id"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_signalr_loc_conf_t, connection_id),
      NULL },

    { ngx_string("signalr_arguments"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_signalr_loc_conf_t, arguments),
      NULL },

    { ngx_string("signalr_group_action"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_signalr_loc_conf_t, group_action),
      &ngx_http_signalr_group_actions },

    { ngx_string("signalr_rest_retries"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_signalr_loc_conf_t, rest_retries),
      &ngx_http_signalr_retries_post },

    { ngx_string("signalr_output_max_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_signalr_loc_conf_t, output_max_body),
      NULL },

    { ngx_string("signalr_output_max_actions"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_signalr_loc_conf_t, output_max_actions),
      &ngx_http_signalr_max_actions_post },

    { ngx_string("signalr_endpoint_offline_time"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_signalr_loc_conf_t, offline_time),
      NULL },

    { ngx_string("signalr_trigger"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_signalr_trigger,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("signalr_trigger_verify"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_signalr_loc_conf_t, trigger_verify),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_signalr_module_ctx = {
    ngx_http_signalr_add_variables,        /* preconfiguration */
    ngx_http_signalr_init,                 /* postconfiguration */

    ngx_http_signalr_create_main_conf,     /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_signalr_create_loc_conf,      /* create location configuration */
    ngx_http_signalr_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_signalr_module = {
    NGX_MODULE_V1,
    &ngx_http_signalr_module_ctx,          /* module context */
    ngx_http_signalr_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_signalr_init_module,          /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_signalr_vars[] = {

    { ngx_string("signalr_access_token"), NULL,
      ngx_http_signalr_negotiate_variable,
      offsetof(ngx_http_signalr_ctx_t, access_token),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("signalr_client_url"), NULL,
      ngx_http_signalr_negotiate_variable,
      offsetof(ngx_http_signalr_ctx_t, client_url),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("signalr_hub"), NULL, ngx_http_signalr_trigger_variable,
      NGX_HTTP_SIGNALR_VAR_HUB, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("signalr_category"), NULL,
      ngx_http_signalr_trigger_variable,
      NGX_HTTP_SIGNALR_VAR_CATEGORY, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("signalr_event"), NULL, ngx_http_signalr_trigger_variable,
      NGX_HTTP_SIGNALR_VAR_EVENT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("signalr_connection_id"), NULL,
      ngx_http_signalr_trigger_variable,
      NGX_HTTP_SIGNALR_VAR_CONNECTION_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("signalr_user_id"), NULL, ngx_http_signalr_trigger_variable,
      NGX_HTTP_SIGNALR_VAR_USER_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("signalr_invocation_id"), NULL,
      ngx_http_signalr_trigger_variable,
      NGX_HTTP_SIGNALR_VAR_INVOCATION_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("signalr_arguments"), NULL,
      ngx_http_signalr_trigger_variable,
      NGX_HTTP_SIGNALR_VAR_ARGUMENTS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("signalr_error"), NULL, ngx_http_signalr_trigger_variable,
      NGX_HTTP_SIGNALR_VAR_ERROR, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("signalr_rest_status"), NULL,
      ngx_http_signalr_output_variable,
      NGX_HTTP_SIGNALR_VAR_REST_STATUS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("signalr_actions_sent"), NULL,
      ngx_http_signalr_output_variable,
      NGX_HTTP_SIGNALR_VAR_ACTIONS_SENT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_http_signalr_init_module(ngx_cycle_t *cycle)
{
    /* at every start and reload, so a log shows what was running */

    ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                  "ngx_signalr_module/" NGX_HTTP_SIGNALR_VERSION);

    return NGX_OK;
}


static ngx_int_t
ngx_http_signalr_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_signalr_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_signalr_init(ngx_conf_t *cf)
{
    return ngx_http_signalr_filter_init(cf);
}


static void *
ngx_http_signalr_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_signalr_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_signalr_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&smcf->endpoints, cf->pool, 2,
                       sizeof(ngx_http_signalr_endpoint_t))
        != NGX_OK)
    {
        return NULL;
    }

    return smcf;
}


static void *
ngx_http_signalr_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_signalr_loc_conf_t  *slcf;

    slcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_signalr_loc_conf_t));
    if (slcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     slcf->negotiate_hub = NULL;
     *     slcf->output_hub = NULL;
     *     slcf->trigger_uri = NULL;
     */

    slcf->user_id = NGX_CONF_UNSET_PTR;
    slcf->claims = NGX_CONF_UNSET_PTR;
    slcf->token_lifetime = NGX_CONF_UNSET;

    slcf->target = NGX_CONF_UNSET_PTR;
    slcf->group = NGX_CONF_UNSET_PTR;
    slcf->connection_id = NGX_CONF_UNSET_PTR;
    slcf->arguments = NGX_CONF_UNSET_PTR;
    slcf->group_action = NGX_CONF_UNSET_UINT;
    slcf->rest_retries = NGX_CONF_UNSET_UINT;
    slcf->output_max_body = NGX_CONF_UNSET_SIZE;
    slcf->output_max_actions = NGX_CONF_UNSET_UINT;
    slcf->offline_time = NGX_CONF_UNSET_MSEC;

    slcf->trigger_verify = NGX_CONF_UNSET;

    return slcf;
}


static char *
ngx_http_signalr_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_signalr_loc_conf_t *prev = parent;
    ngx_http_signalr_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_signalr_main_conf_t  *smcf;

    /*
     * an inherited signalr_user_id is for negotiate: in an output location
     * only the location's own one names a recipient
     */

    conf->recipient = (conf->user_id != NGX_CONF_UNSET_PTR) ? conf->user_id
                                                            : NULL;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (conf->recipient == NULL && clcf->noname) {
        /* an "if" block is part of its location */
        conf->recipient = prev->recipient;
    }

    ngx_conf_merge_ptr_value(conf->user_id, prev->user_id, NULL);

    /*
     * "if" and "limit_except" blocks are part of their location: they take
     * its hub, route and content handler, as proxy_pass does; nested
     * locations are not, and take none of them
     */

    if (clcf->noname && conf->handler == NULL) {
        conf->negotiate_hub = prev->negotiate_hub;
        conf->output_hub = prev->output_hub;
        conf->trigger_uri = prev->trigger_uri;
        conf->handler = prev->handler;

        if (clcf->lmt_excpt && clcf->handler == NULL) {
            clcf->handler = conf->handler;
        }
    }

    ngx_conf_merge_ptr_value(conf->claims, prev->claims, NULL);
    ngx_conf_merge_sec_value(conf->token_lifetime, prev->token_lifetime, 3600);

    ngx_conf_merge_ptr_value(conf->target, prev->target, NULL);
    ngx_conf_merge_ptr_value(conf->group, prev->group, NULL);
    ngx_conf_merge_ptr_value(conf->connection_id, prev->connection_id, NULL);
    ngx_conf_merge_ptr_value(conf->arguments, prev->arguments, NULL);
    ngx_conf_merge_uint_value(conf->group_action, prev->group_action, 0);
    ngx_conf_merge_uint_value(conf->rest_retries, prev->rest_retries, 2);
    ngx_conf_merge_size_value(conf->output_max_body, prev->output_max_body,
                              1024 * 1024);
    ngx_conf_merge_uint_value(conf->output_max_actions,
                              prev->output_max_actions, 100);
    ngx_conf_merge_msec_value(conf->offline_time, prev->offline_time, 30000);

    ngx_conf_merge_value(conf->trigger_verify, prev->trigger_verify, 1);

    if (clcf->noname) {
        /* checked in the location they came from */
        return NGX_CONF_OK;
    }

    if (conf->output_hub
        && ngx_http_signalr_output_check(cf, conf) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (conf->trigger_uri
        && ngx_http_signalr_trigger_check(cf, conf) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (conf->negotiate_hub) {
        smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_signalr_module);

        if (smcf->endpoints.nelts == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"signalr_negotiate\" needs at least one "
                               "\"signalr_endpoint\" in the http block");
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_signalr_lifetime_check(ngx_conf_t *cf, void *post, void *data)
{
    time_t  *sp = data;

    if (*sp < 1) {
        return "must be at least 1s";
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_signalr_max_actions_check(ngx_conf_t *cf, void *post, void *data)
{
    ngx_uint_t  *np = data;

    if (*np < 1 || *np > NGX_HTTP_SIGNALR_MAX_ACTIONS) {
        return "must be between 1 and 1000";
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_signalr_retries_check(ngx_conf_t *cf, void *post, void *data)
{
    ngx_uint_t  *np = data;

    if (*np > 10) {
        return "must be between 0 and 10";
    }

    return NGX_CONF_OK;
}


ngx_http_signalr_ctx_t *
ngx_http_signalr_get_ctx(ngx_http_request_t *r)
{
    ngx_http_signalr_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_signalr_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_signalr_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_signalr_module);
    }

    return ctx;
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

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
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
    size_t     len;
    u_char    *p;
    ngx_str_t  body;

    len = ngx_strlen(message);

    body.data = ngx_pnalloc(r->pool, sizeof("{\"error\":\"\"}") - 1
                            + signalr_json_escaped_len((u_char *) message,
                                                       len));
    if (body.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(body.data, "{\"error\":\"", sizeof("{\"error\":\"") - 1);
    p = signalr_json_escape(p, (u_char *) message, len);
    p = ngx_cpymem(p, "\"}", 2);
    body.len = p - body.data;

    /* error pages would replace the body: send it as a normal response */
    r->err_status = 0;

    return ngx_http_signalr_send_json(r, status, &body);
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
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash && h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
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
