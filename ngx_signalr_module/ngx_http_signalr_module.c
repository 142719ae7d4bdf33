/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * ngx_signalr_module: registration only: directives, variables, the
 * configuration's create and merge, and initialization. The features live
 * in ngx_http_signalr_<feature>.c, shared helpers in ngx_http_signalr_util.c.
 */

#include "ngx_http_signalr_module.h"
#include "ngx_http_signalr_endpoint.h"
#include "ngx_http_signalr_entra.h"
#include "ngx_http_signalr_negotiate.h"
#include "ngx_http_signalr_output.h"
#include "ngx_http_signalr_shm.h"
#include "ngx_http_signalr_status.h"
#include "ngx_http_signalr_subrequest.h"
#include "ngx_http_signalr_trigger.h"


static ngx_int_t ngx_http_signalr_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_signalr_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_signalr_init(ngx_conf_t *cf);
static void ngx_http_signalr_worker_free(void *data);
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
static char *ngx_http_signalr_exists_status_check(ngx_conf_t *cf,
    void *post, void *data);


static ngx_conf_post_t  ngx_http_signalr_lifetime_post =
    { ngx_http_signalr_lifetime_check };


static ngx_conf_post_t  ngx_http_signalr_max_actions_post =
    { ngx_http_signalr_max_actions_check };

static ngx_conf_post_t  ngx_http_signalr_retries_post =
    { ngx_http_signalr_retries_check };

static ngx_conf_post_t  ngx_http_signalr_exists_status_post =
    { ngx_http_signalr_exists_status_check };


static ngx_conf_enum_t  ngx_http_signalr_group_actions[] = {
    { ngx_string("add"), NGX_HTTP_SIGNALR_GROUP_ADD },
    { ngx_string("remove"), NGX_HTTP_SIGNALR_GROUP_REMOVE },
    { ngx_string("remove_all"), NGX_HTTP_SIGNALR_GROUP_REMOVE_ALL },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_signalr_actions[] = {
    { ngx_string("add"), NGX_HTTP_SIGNALR_GROUP_ADD },
    { ngx_string("remove"), NGX_HTTP_SIGNALR_GROUP_REMOVE },
    { ngx_string("remove_all"), NGX_HTTP_SIGNALR_GROUP_REMOVE_ALL },
    { ngx_string("close"), NGX_HTTP_SIGNALR_ACTION_CLOSE },
    { ngx_string("close_connections"), NGX_HTTP_SIGNALR_ACTION_CLOSE_ALL },
    { ngx_string("exists"), NGX_HTTP_SIGNALR_ACTION_EXISTS },
    { ngx_string("invoke"), NGX_HTTP_SIGNALR_ACTION_INVOKE },
    { ngx_string("list_connections"), NGX_HTTP_SIGNALR_ACTION_LIST },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_signalr_verify_modes[] = {
    { ngx_string("off"), NGX_HTTP_SIGNALR_VERIFY_OFF },
    { ngx_string("on"), NGX_HTTP_SIGNALR_VERIFY_ON },
    { ngx_string("entra"), NGX_HTTP_SIGNALR_VERIFY_ENTRA },
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

    { ngx_string("signalr_negotiate_endpoint"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_signalr_loc_conf_t, negotiate_endpoint),
      NULL },

    { ngx_string("signalr_negotiate_detailed_errors"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_signalr_negotiate_switch,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_signalr_loc_conf_t, detailed_errors),
      NULL },

    { ngx_string("signalr_negotiate_diagnostic_client"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_signalr_negotiate_switch,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_signalr_loc_conf_t, diagnostic_client),
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

    { ngx_string("signalr_action"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_signalr_loc_conf_t, group_action),
      &ngx_http_signalr_actions },

    { ngx_string("signalr_exists_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_signalr_loc_conf_t, exists_status),
      &ngx_http_signalr_exists_status_post },

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
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_signalr_loc_conf_t, trigger_verify),
      &ngx_http_signalr_verify_modes },

    { ngx_string("signalr_trigger_entra"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE3,
      ngx_http_signalr_trigger_entra,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("signalr_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_signalr_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("signalr_status_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE123,
      ngx_http_signalr_status_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
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


/* each value at its offset in the context its getter finds */
#define ngx_http_signalr_var(name, get, type, member)                       \
    { ngx_string(name), NULL, get, offsetof(type, member),                  \
      NGX_HTTP_VAR_NOCACHEABLE, 0 }

#define ngx_http_signalr_negotiate_var(name, member)                        \
    ngx_http_signalr_var(name, ngx_http_signalr_negotiate_variable,         \
                         ngx_http_signalr_ctx_t, member)

#define ngx_http_signalr_trigger_var(name, member)                          \
    ngx_http_signalr_var(name, ngx_http_signalr_trigger_variable,           \
                         ngx_http_signalr_trigger_vars_t, member)

#define ngx_http_signalr_output_var(name, member)                           \
    ngx_http_signalr_var(name, ngx_http_signalr_output_variable,            \
                         ngx_http_signalr_output_vars_t, member)


static ngx_http_variable_t  ngx_http_signalr_vars[] = {

    { ngx_string("signalr_endpoint"), NULL,
      ngx_http_signalr_endpoint_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    ngx_http_signalr_negotiate_var("signalr_access_token", access_token),
    ngx_http_signalr_negotiate_var("signalr_client_url", client_url),

    ngx_http_signalr_trigger_var("signalr_hub", hub),
    ngx_http_signalr_trigger_var("signalr_category", category),
    ngx_http_signalr_trigger_var("signalr_event", event),
    ngx_http_signalr_trigger_var("signalr_connection_id", connection_id),
    ngx_http_signalr_trigger_var("signalr_user_id", user_id),
    ngx_http_signalr_trigger_var("signalr_invocation_id", invocation_id),
    ngx_http_signalr_trigger_var("signalr_arguments", arguments),
    ngx_http_signalr_trigger_var("signalr_error", error),

    ngx_http_signalr_output_var("signalr_rest_status", rest_status),
    ngx_http_signalr_output_var("signalr_actions_sent", actions_sent),

    { ngx_string("signalr_exists"), NULL, ngx_http_signalr_exists_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

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
    ngx_pool_cleanup_t            *cln;
    ngx_http_signalr_main_conf_t  *smcf;

    if (ngx_http_signalr_shm_add(cf) != NGX_OK
        || ngx_http_signalr_status_init(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* what workers keep for the configuration goes with it */

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_signalr_module);

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_signalr_worker_free;
    cln->data = smcf;

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
        != NGX_OK
        || ngx_array_init(&smcf->jwks_sources, cf->pool, 1,
                          sizeof(ngx_http_signalr_jwks_source_t *))
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
    slcf->negotiate_endpoint = NGX_CONF_UNSET_PTR;
    slcf->detailed_errors = NGX_CONF_UNSET_PTR;
    slcf->diagnostic_client = NGX_CONF_UNSET_PTR;
    slcf->token_lifetime = NGX_CONF_UNSET;

    slcf->target = NGX_CONF_UNSET_PTR;
    slcf->group = NGX_CONF_UNSET_PTR;
    slcf->connection_id = NGX_CONF_UNSET_PTR;
    slcf->arguments = NGX_CONF_UNSET_PTR;
    slcf->group_action = NGX_CONF_UNSET_UINT;
    slcf->exists_status = NGX_CONF_UNSET_UINT;
    slcf->rest_retries = NGX_CONF_UNSET_UINT;
    slcf->output_max_body = NGX_CONF_UNSET_SIZE;
    slcf->output_max_actions = NGX_CONF_UNSET_UINT;
    slcf->offline_time = NGX_CONF_UNSET_MSEC;

    slcf->trigger_verify = NGX_CONF_UNSET_UINT;

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
    ngx_conf_merge_ptr_value(conf->negotiate_endpoint,
                             prev->negotiate_endpoint, NULL);
    ngx_conf_merge_ptr_value(conf->detailed_errors, prev->detailed_errors,
                             NULL);
    ngx_conf_merge_ptr_value(conf->diagnostic_client,
                             prev->diagnostic_client, NULL);

    ngx_conf_merge_ptr_value(conf->target, prev->target, NULL);
    ngx_conf_merge_ptr_value(conf->group, prev->group, NULL);
    ngx_conf_merge_ptr_value(conf->connection_id, prev->connection_id, NULL);
    ngx_conf_merge_ptr_value(conf->arguments, prev->arguments, NULL);
    ngx_conf_merge_uint_value(conf->group_action, prev->group_action, 0);
    ngx_conf_merge_uint_value(conf->exists_status, prev->exists_status,
                              NGX_HTTP_NOT_FOUND);
    ngx_conf_merge_uint_value(conf->rest_retries, prev->rest_retries, 2);
    ngx_conf_merge_size_value(conf->output_max_body, prev->output_max_body,
                              1024 * 1024);
    ngx_conf_merge_uint_value(conf->output_max_actions,
                              prev->output_max_actions, 100);
    ngx_conf_merge_msec_value(conf->offline_time, prev->offline_time, 30000);

    ngx_conf_merge_uint_value(conf->trigger_verify, prev->trigger_verify,
                              NGX_HTTP_SIGNALR_VERIFY_ON);

    if (conf->trigger_jwks == NULL && conf->trigger_source == NULL) {
        conf->trigger_jwks = prev->trigger_jwks;
        conf->trigger_source = prev->trigger_source;
        conf->trigger_issuer = prev->trigger_issuer;
        conf->trigger_audience = prev->trigger_audience;
    }

    if (clcf->noname) {
        /* checked in the location they came from */
        return NGX_CONF_OK;
    }

    /* negotiate and output need an endpoint; the trigger checks its own */

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_signalr_module);

    if ((conf->negotiate_hub || conf->output_hub)
        && smcf->endpoints.nelts == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" needs at least one \"signalr_endpoint\" "
                           "in the http block",
                           conf->output_hub ? "signalr_output"
                                            : "signalr_negotiate");
        return NGX_CONF_ERROR;
    }

    if (conf->negotiate_hub
        && ngx_http_signalr_negotiate_check(cf, conf) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
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


/* what auth_request takes (2xx, 401, 403), or what the REST API says */

static char *
ngx_http_signalr_exists_status_check(ngx_conf_t *cf, void *post, void *data)
{
    ngx_uint_t  *np = data;

    if (*np != NGX_HTTP_OK && *np != NGX_HTTP_UNAUTHORIZED
        && *np != NGX_HTTP_FORBIDDEN && *np != NGX_HTTP_NOT_FOUND)
    {
        return "must be 200, 401, 403 or 404";
    }

    return NGX_CONF_OK;
}


static void
ngx_http_signalr_worker_free(void *data)
{
    ngx_http_signalr_main_conf_t *smcf = data;

    ngx_uint_t                    i;
    ngx_http_signalr_endpoint_t  *eps;

    eps = smcf->endpoints.elts;

    for (i = 0; i < smcf->endpoints.nelts; i++) {
        ngx_http_signalr_rest_tokens_free(&eps[i]);
    }

    ngx_http_signalr_entra_free(smcf);
}
