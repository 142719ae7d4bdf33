/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Endpoints: the signalr_endpoint directive (connection strings written
 * literally, or read from the environment or a file when the configuration
 * loads), endpoint choice and token signing.
 */

#include "ngx_http_signalr_module.h"
#include "ngx_http_signalr_endpoint.h"
#include "ngx_http_signalr_entra.h"
#include "ngx_http_signalr_shm.h"
#include "signalr_action.h"
#include "signalr_connstr.h"
#include "signalr_json.h"


/* the lifetime of the tokens of REST calls and probes */
#define NGX_HTTP_SIGNALR_REST_TOKEN_LIFETIME  300

#define NGX_HTTP_SIGNALR_SET_NAME  1
#define NGX_HTTP_SIGNALR_SET_TYPE  2
#define NGX_HTTP_SIGNALR_SET_REST  4
#define NGX_HTTP_SIGNALR_SET_OFFLINE_TIME  8
#define NGX_HTTP_SIGNALR_SET_PROBE         16
#define NGX_HTTP_SIGNALR_SET_CHECK         32

/* the intervals of probes: offline endpoints, online ones */
#define NGX_HTTP_SIGNALR_PROBE     5000
#define NGX_HTTP_SIGNALR_CHECK     60000


static ngx_int_t ngx_http_signalr_endpoint_params(ngx_conf_t *cf,
    ngx_http_signalr_endpoint_t *ep, ngx_str_t *name, ngx_uint_t *set);
static ngx_int_t ngx_http_signalr_endpoint_time(ngx_conf_t *cf,
    ngx_http_signalr_endpoint_t *ep, ngx_str_t *param);
static char *ngx_http_signalr_second_key(ngx_conf_t *cf,
    ngx_http_signalr_main_conf_t *smcf, ngx_http_signalr_endpoint_t *ep,
    ngx_str_t *name, ngx_uint_t set);
static ngx_int_t ngx_http_signalr_keep_env(ngx_conf_t *cf, ngx_str_t *name);
static ngx_int_t ngx_http_signalr_read_source(ngx_conf_t *cf,
    ngx_str_t *value, ngx_str_t *cs);
static void ngx_http_signalr_hmac_cleanup(void *data);
static ngx_int_t ngx_http_signalr_copy(ngx_conf_t *cf, ngx_str_t *dst,
    const char *src);
static ngx_uint_t ngx_http_signalr_candidate(ngx_http_signalr_endpoint_t *ep,
    ngx_uint_t i, uint64_t online, ngx_uint_t pass);


char *
ngx_http_signalr_endpoint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_signalr_main_conf_t *smcf = conf;

    char                          err[256], *rv;
    ngx_str_t                    *value, cs, name;
    ngx_uint_t                    i, set;
    ngx_pool_cleanup_t           *cln;
    signalr_connstr_t             parsed;
    ngx_http_signalr_endpoint_t  *ep, *eps;

    value = cf->args->elts;

    ep = ngx_array_push(&smcf->endpoints);
    if (ep == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(ep, sizeof(ngx_http_signalr_endpoint_t));

    ep->offline_time = NGX_CONF_UNSET_MSEC;
    ep->probe = NGX_HTTP_SIGNALR_PROBE;
    ep->check = NGX_HTTP_SIGNALR_CHECK;
    ep->entra_wait = NGX_HTTP_SIGNALR_ENTRA_WAIT;
    ep->entra_refresh = NGX_HTTP_SIGNALR_ENTRA_REFRESH;

    if (ngx_http_signalr_endpoint_params(cf, ep, &name, &set) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_signalr_read_source(cf, &value[1], &cs) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (signalr_connstr_parse((char *) cs.data, cs.len, &parsed, err,
                              sizeof(err))
        != 0)
    {
        ngx_explicit_memzero(cs.data, cs.len);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid connection string in \"signalr_endpoint\": "
                           "%s", err);
        return NGX_CONF_ERROR;
    }

    ngx_explicit_memzero(cs.data, cs.len);

    if (parsed.auth == SIGNALR_AUTH_KEY) {
        ep->hmac = signalr_hmac_new((u_char *) parsed.access_key,
                                    parsed.access_key_len);

    } else if (ep->entra_prefix.len == 0) {
        signalr_connstr_free(&parsed);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_endpoint\" with Microsoft Entra ID "
                           "(AuthType) needs \"entra=\", the location that "
                           "proxies its token requests");
        return NGX_CONF_ERROR;
    }

    if ((parsed.auth == SIGNALR_AUTH_KEY && ep->hmac == NULL)
        || ngx_http_signalr_copy(cf, &ep->host, parsed.host) != NGX_OK
        || ngx_http_signalr_copy(cf, &ep->client_base, parsed.client_base)
           != NGX_OK
        || ngx_http_signalr_copy(cf, &ep->audience_base, parsed.audience_base)
           != NGX_OK
        || ngx_http_signalr_copy(cf, &ep->service, parsed.server_base)
           != NGX_OK
        || ngx_http_signalr_copy(cf, &ep->url, parsed.endpoint_base)
           != NGX_OK)
    {
        signalr_hmac_free(ep->hmac);
        signalr_connstr_free(&parsed);
        return NGX_CONF_ERROR;
    }

    if (parsed.auth != SIGNALR_AUTH_KEY) {
        rv = ngx_http_signalr_entra_conf(cf, ep, &parsed);
        signalr_connstr_free(&parsed);

        if (rv != NGX_CONF_OK) {
            return rv;
        }

    } else {
        signalr_connstr_free(&parsed);

        if (ep->entra_prefix.len) {
            signalr_hmac_free(ep->hmac);
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"entra=\" of \"signalr_endpoint\" is for "
                               "a connection string with AuthType "
                               "(Microsoft Entra ID), and this one has an "
                               "AccessKey");
            return NGX_CONF_ERROR;
        }

        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            signalr_hmac_free(ep->hmac);
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_http_signalr_hmac_cleanup;
        cln->data = ep->hmac;
    }

    ep->name = name.len ? name : ep->host;

    eps = smcf->endpoints.elts;

    /* the same service again: its other key */

    for (i = 0; i < smcf->endpoints.nelts - 1; i++) {
        if (eps[i].service.len == ep->service.len
            && ngx_strncmp(eps[i].service.data, ep->service.data,
                           ep->service.len) == 0)
        {
            return ngx_http_signalr_second_key(cf, smcf, &eps[i], &name, set);
        }
    }

    for (i = 0; i < smcf->endpoints.nelts - 1; i++) {
        if (eps[i].name.len == ep->name.len
            && ngx_strncmp(eps[i].name.data, ep->name.data, ep->name.len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate endpoint name \"%V\" in "
                               "\"signalr_endpoint\", give each endpoint "
                               "its own \"name=\"", &ep->name);
            return NGX_CONF_ERROR;
        }
    }

    /* a second key is no endpoint of its own: counted here */

    if (smcf->endpoints.nelts > NGX_HTTP_SIGNALR_MAX_ENDPOINTS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "too many \"signalr_endpoint\": at most %d",
                           NGX_HTTP_SIGNALR_MAX_ENDPOINTS);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * A second signalr_endpoint for the service of an earlier one (the URL
 * REST calls go to: ServerEndpoint, or Endpoint, with Port) is that
 * endpoint's other key, as when rotating keys: its parameters, if any,
 * must be the same. The endpoint just added goes again.
 */

static char *
ngx_http_signalr_second_key(ngx_conf_t *cf,
    ngx_http_signalr_main_conf_t *smcf, ngx_http_signalr_endpoint_t *ep,
    ngx_str_t *name, ngx_uint_t set)
{
    ngx_http_signalr_endpoint_t  *added;

    added = (ngx_http_signalr_endpoint_t *) smcf->endpoints.elts
            + smcf->endpoints.nelts - 1;

    if (ep->entra || added->entra) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "a second \"signalr_endpoint\" for the service of "
                           "endpoint \"%V\" (%V), which uses Microsoft Entra "
                           "ID: it has no keys to rotate", &ep->name,
                           &ep->service);
        return NGX_CONF_ERROR;
    }

    if (ep->hmac2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "a third \"signalr_endpoint\" for the service of "
                           "endpoint \"%V\" (%V): a service has two keys",
                           &ep->name, &ep->service);
        return NGX_CONF_ERROR;
    }

    /* its clients' URL and the tokens' audience are the first line's */

    if (added->client_base.len != ep->client_base.len
        || ngx_strncmp(added->client_base.data, ep->client_base.data,
                       ep->client_base.len) != 0
        || added->audience_base.len != ep->audience_base.len
        || ngx_strncmp(added->audience_base.data, ep->audience_base.data,
                       ep->audience_base.len) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_endpoint\" for the service of endpoint "
                           "\"%V\" (%V) is its second key, but gives it "
                           "another Endpoint or ClientEndpoint", &ep->name,
                           &ep->service);
        return NGX_CONF_ERROR;
    }

    if (((set & NGX_HTTP_SIGNALR_SET_NAME)
         && (name->len != ep->name.len
             || ngx_strncmp(name->data, ep->name.data, name->len) != 0))
        || ((set & NGX_HTTP_SIGNALR_SET_TYPE) && added->type != ep->type)
        || ((set & NGX_HTTP_SIGNALR_SET_OFFLINE_TIME)
            && added->offline_time != ep->offline_time)
        || ((set & NGX_HTTP_SIGNALR_SET_PROBE) && added->probe != ep->probe)
        || ((set & NGX_HTTP_SIGNALR_SET_CHECK) && added->check != ep->check)
        || ((set & NGX_HTTP_SIGNALR_SET_REST)
            && (added->rest.len != ep->rest.len
                || ngx_strncmp(added->rest.data, ep->rest.data,
                               ep->rest.len) != 0)))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_endpoint\" for the service of endpoint "
                           "\"%V\" (%V) is its second key, and takes its "
                           "parameters: leave them out, or give the same",
                           &ep->name, &ep->service);
        return NGX_CONF_ERROR;
    }

    ep->hmac2 = added->hmac;
    smcf->endpoints.nelts--;

    return NGX_CONF_OK;
}


/* name=, type= and rest= of signalr_endpoint */

static ngx_int_t
ngx_http_signalr_endpoint_params(ngx_conf_t *cf,
    ngx_http_signalr_endpoint_t *ep, ngx_str_t *name, ngx_uint_t *set)
{
    u_char      *p;
    ngx_str_t   *value;
    ngx_uint_t   i;

    value = cf->args->elts;
    ngx_str_null(name);
    *set = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "name=", 5) == 0) {
            name->data = value[i].data + 5;
            name->len = value[i].len - 5;

            if (name->len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "empty endpoint name in "
                                   "\"signalr_endpoint\"");
                return NGX_ERROR;
            }

            /* shown in logs, answers and the status page as it is */

            for (p = name->data; p < name->data + name->len; p++) {
                if (*p < 0x20 || *p == 0x7f) {
                    break;
                }
            }

            if (p < name->data + name->len
                || !signalr_utf8_valid(name->data, name->len))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid endpoint name in "
                                   "\"signalr_endpoint\": UTF-8 text "
                                   "without control characters expected");
                return NGX_ERROR;
            }

            *set |= NGX_HTTP_SIGNALR_SET_NAME;
            continue;
        }

        if (ngx_strcmp(value[i].data, "type=primary") == 0) {
            ep->type = NGX_HTTP_SIGNALR_PRIMARY;
            *set |= NGX_HTTP_SIGNALR_SET_TYPE;
            continue;
        }

        if (ngx_strcmp(value[i].data, "type=secondary") == 0) {
            ep->type = NGX_HTTP_SIGNALR_SECONDARY;
            *set |= NGX_HTTP_SIGNALR_SET_TYPE;
            continue;
        }

        if (ngx_strncmp(value[i].data, "rest=", 5) == 0) {
            *set |= NGX_HTTP_SIGNALR_SET_REST;

            ep->rest.data = value[i].data + 5;
            ep->rest.len = value[i].len - 5;

            if (ep->rest.len == 0 || ep->rest.data[0] != '/') {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"rest=\" of \"signalr_endpoint\" must "
                                   "be a location prefix starting with "
                                   "\"/\"");
                return NGX_ERROR;
            }

            while (ep->rest.len > 1
                   && ep->rest.data[ep->rest.len - 1] == '/')
            {
                ep->rest.len--;
            }

            /*
             * the URI of every REST call: the prefix and a constant, so
             * that nothing a client chose (ids) takes part in choosing
             * the location that receives the token; "rest=/" gives
             * "/api/hubs"
             */

            ep->rest_uri.len = (ep->rest.len > 1 ? ep->rest.len : 0)
                               + sizeof("/api/hubs") - 1;
            ep->rest_uri.data = ngx_pnalloc(cf->pool, ep->rest_uri.len);
            if (ep->rest_uri.data == NULL) {
                return NGX_ERROR;
            }

            p = ngx_cpymem(ep->rest_uri.data, ep->rest.data,
                           ep->rest_uri.len - (sizeof("/api/hubs") - 1));
            ngx_memcpy(p, "/api/hubs", sizeof("/api/hubs") - 1);

            continue;
        }

        if (ngx_strncmp(value[i].data, "entra=", 6) == 0) {
            ep->entra_prefix.data = value[i].data + 6;
            ep->entra_prefix.len = value[i].len - 6;

            if (ep->entra_prefix.len == 0 || ep->entra_prefix.data[0] != '/')
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"entra=\" of \"signalr_endpoint\" must "
                                   "be a location prefix starting with "
                                   "\"/\"");
                return NGX_ERROR;
            }

            while (ep->entra_prefix.len > 1
                   && ep->entra_prefix.data[ep->entra_prefix.len - 1] == '/')
            {
                ep->entra_prefix.len--;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "entra_wait=", 11) == 0
            || ngx_strncmp(value[i].data, "entra_refresh=", 14) == 0)
        {
            if (ngx_http_signalr_endpoint_time(cf, ep, &value[i]) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "offline_time=", 13) == 0
            || ngx_strncmp(value[i].data, "probe=", 6) == 0
            || ngx_strncmp(value[i].data, "check=", 6) == 0)
        {
            if (ngx_http_signalr_endpoint_time(cf, ep, &value[i]) != NGX_OK) {
                return NGX_ERROR;
            }

            if (value[i].data[0] == 'o') {
                *set |= NGX_HTTP_SIGNALR_SET_OFFLINE_TIME;

            } else if (value[i].data[0] == 'p') {
                *set |= NGX_HTTP_SIGNALR_SET_PROBE;

            } else {
                *set |= NGX_HTTP_SIGNALR_SET_CHECK;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"signalr_endpoint\"",
                           &value[i]);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * offline_time=, probe= and check=: nginx times ("5s", "500ms"); "off"
 * disables probes of that kind; offline_time at least 1s, probes at least
 * 100ms apart
 */

static ngx_int_t
ngx_http_signalr_endpoint_time(ngx_conf_t *cf,
    ngx_http_signalr_endpoint_t *ep, ngx_str_t *param)
{
    size_t       len;
    ngx_int_t    n;
    ngx_str_t    v;
    ngx_msec_t  *t, min;

    len = (u_char *) ngx_strlchr(param->data, param->data + param->len, '=')
          - param->data + 1;

    v.data = param->data + len;
    v.len = param->len - len;

    if (param->data[0] == 'o') {
        t = &ep->offline_time;
        min = 1000;

    } else if (param->data[0] == 'e') {

        /* entra_wait= (0 answers at once), entra_refresh= */

        t = (param->data[6] == 'w') ? &ep->entra_wait : &ep->entra_refresh;
        min = (t == &ep->entra_wait) ? 0 : 1000;

    } else {
        t = (param->data[0] == 'p') ? &ep->probe : &ep->check;
        min = 100;

        if (v.len == 3 && ngx_strncmp(v.data, "off", 3) == 0) {
            *t = 0;
            return NGX_OK;
        }
    }

    n = ngx_parse_time(&v, 0);

    if (n == NGX_ERROR || (ngx_msec_t) n < min
        || (t == &ep->entra_wait && n > 60000)
        || (t == &ep->entra_refresh && n > 24 * 3600 * 1000))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\" in \"signalr_endpoint\": a time "
                           "of %s%s", param,
                           t == &ep->entra_wait ? "at most 60s"
                           : t == &ep->entra_refresh ? "1s to 24h"
                           : min == 1000 ? "at least 1s" : "at least 100ms",
                           (t == &ep->probe || t == &ep->check)
                           ? ", or \"off\"" : "");
        return NGX_ERROR;
    }

    *t = (ngx_msec_t) n;

    return NGX_OK;
}


/*
 * an "env:" variable is kept as the "env" directive keeps one, so that a
 * new binary started by a binary upgrade (USR2), which gets only those
 * variables, finds it too
 */

static ngx_int_t
ngx_http_signalr_keep_env(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_str_t        *var;
    ngx_uint_t        i;
    ngx_core_conf_t  *ccf;

    ccf = (ngx_core_conf_t *) ngx_get_conf(cf->cycle->conf_ctx,
                                           ngx_core_module);

    var = ccf->env.elts;

    for (i = 0; i < ccf->env.nelts; i++) {
        if (var[i].len == name->len
            && ngx_strncmp(var[i].data, name->data, name->len) == 0)
        {
            return NGX_OK;
        }
    }

    var = ngx_array_push(&ccf->env);
    if (var == NULL) {
        return NGX_ERROR;
    }

    /* nginx reads these as C strings */

    var->data = ngx_pnalloc(cf->pool, name->len + 1);
    if (var->data == NULL) {
        return NGX_ERROR;
    }

    var->len = name->len;
    ngx_memcpy(var->data, name->data, name->len);
    var->data[name->len] = '\0';

    return NGX_OK;
}


static ngx_int_t
ngx_http_signalr_read_source(ngx_conf_t *cf, ngx_str_t *value, ngx_str_t *cs)
{
    char       *env;
    u_char     *p, *last;
    ssize_t     n;
    ngx_fd_t    fd;
    ngx_str_t   name;
    ngx_file_t  file;
    u_char      buf[4096];

    if (ngx_strncmp(value->data, "env:", 4) == 0) {
        name.data = value->data + 4;
        name.len = value->len - 4;

        env = (name.len == 0) ? NULL : getenv((char *) name.data);

        if (env == NULL || *env == '\0') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"signalr_endpoint\": environment variable "
                               "\"%V\" is not set or empty", &name);
            return NGX_ERROR;
        }

        if (ngx_http_signalr_keep_env(cf, &name) != NGX_OK) {
            return NGX_ERROR;
        }

        cs->len = ngx_strlen(env);
        cs->data = ngx_pnalloc(cf->temp_pool, cs->len + 1);
        if (cs->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(cs->data, env, cs->len + 1);

        return NGX_OK;
    }

    if (ngx_strncmp(value->data, "file:", 5) != 0) {
        *cs = *value;
        return NGX_OK;
    }

    name.data = value->data + 5;
    name.len = value->len - 5;

    if (name.len == 0 || ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid file name in \"signalr_endpoint\"");
        return NGX_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"signalr_endpoint\": " ngx_open_file_n
                           " \"%V\" failed", &name);
        return NGX_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = name;
    file.log = cf->log;

    n = ngx_read_file(&file, buf, sizeof(buf), 0);

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%V\" failed", &name);
    }

    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    last = buf + n;
    p = ngx_strlchr(buf, last, '\n');

    if (p == NULL && n == sizeof(buf)) {
        ngx_explicit_memzero(buf, sizeof(buf));
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_endpoint\": the first line of \"%V\" "
                           "is longer than %uz bytes", &name, sizeof(buf) - 1);
        return NGX_ERROR;
    }

    if (p) {
        last = p;
    }

    if (last > buf && last[-1] == '\r') {
        last--;
    }

    if (last == buf) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"signalr_endpoint\": the first line of \"%V\" "
                           "is empty", &name);
        return NGX_ERROR;
    }

    cs->len = last - buf;
    cs->data = ngx_pnalloc(cf->temp_pool, cs->len + 1);
    if (cs->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(cs->data, buf, cs->len);
    cs->data[cs->len] = '\0';
    ngx_explicit_memzero(buf, sizeof(buf));

    return NGX_OK;
}


static void
ngx_http_signalr_hmac_cleanup(void *data)
{
    signalr_hmac_free(data);
}


static ngx_int_t
ngx_http_signalr_copy(ngx_conf_t *cf, ngx_str_t *dst, const char *src)
{
    dst->len = ngx_strlen(src);
    dst->data = ngx_pnalloc(cf->pool, dst->len);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, src, dst->len);

    return NGX_OK;
}


ngx_http_signalr_endpoint_t *
ngx_http_signalr_pick_endpoint(ngx_http_request_t *r)
{
    uint64_t                       online;
    ngx_uint_t                     i, n, pass, want;
    ngx_http_signalr_endpoint_t   *eps;
    ngx_http_signalr_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_signalr_module);
    eps = smcf->endpoints.elts;

    /*
     * which are online (for every worker: ngx_http_signalr_shm.c), read
     * once, as other workers may change it meanwhile
     */

    online = 0;

    for (i = 0; i < smcf->endpoints.nelts; i++) {
        if (ngx_http_signalr_endpoint_usable(&eps[i])) {
            online |= (uint64_t) 1 << i;
        }
    }

    /*
     * a random online primary; else a random online secondary; when every
     * endpoint is offline, a random primary (or any endpoint, when none is
     * primary), said in the log at most once a second
     */

    for (pass = 0; pass < 4; pass++) {
        n = 0;

        for (i = 0; i < smcf->endpoints.nelts; i++) {
            n += ngx_http_signalr_candidate(&eps[i], i, online, pass);
        }

        if (n == 0) {
            continue;
        }

        if (pass >= 2 && ngx_http_signalr_shm_warn_now(smcf)) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "signalr: every endpoint is offline: negotiate "
                          "gives out the %s ones",
                          pass == 2 ? "primary" : "secondary");
        }

        want = (n == 1) ? 0 : (ngx_uint_t) ngx_random() % n;

        for (i = 0; i < smcf->endpoints.nelts; i++) {
            if (ngx_http_signalr_candidate(&eps[i], i, online, pass)
                && want-- == 0)
            {
                return &eps[i];
            }
        }
    }

    return &eps[0];
}


/*
 * A REST call's headers, only these (never the client's): the token for
 * its audience, the SDK's user agent, and the body's type. The path is
 * "/api/hubs/...", without the query; version is its "api-version=...",
 * or NULL for SIGNALR_API_VERSION_QUERY.
 */

ngx_int_t
ngx_http_signalr_rest_headers(ngx_http_request_t *r,
    ngx_http_signalr_endpoint_t *ep, ngx_str_t *path, ngx_str_t *version,
    ngx_uint_t body, ngx_http_signalr_subrequest_t *s)
{
    ngx_str_t         v2022 = ngx_string(SIGNALR_API_VERSION_QUERY);

    u_char           *p;
    ngx_int_t         rc;
    ngx_str_t         aud;
    ngx_table_elt_t  *headers;

    /*
     * aud: the audience base, the path and the api-version, as
     * RestApiAccessTokenGenerator.cs of Azure/azure-signalr makes it
     */

    if (version == NULL) {
        version = &v2022;
    }

    aud.len = ep->audience_base.len + path->len - 1 + sizeof("?") - 1
              + version->len;
    aud.data = ngx_pnalloc(r->pool, aud.len);

    headers = ngx_pcalloc(r->pool, 3 * sizeof(ngx_table_elt_t));

    if (aud.data == NULL || headers == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(aud.data, ep->audience_base.data, ep->audience_base.len);
    p = ngx_cpymem(p, path->data + 1, path->len - 1);
    *p++ = '?';
    ngx_memcpy(p, version->data, version->len);

    ngx_str_set(&headers[0].key, "Authorization");
    headers[0].lowcase_key = (u_char *) "authorization";

    /* with Microsoft Entra ID, its token itself, as the SDK sends it */

    if (ep->entra) {
        rc = ngx_http_signalr_entra_bearer(r, ep, &headers[0].value);

        if (rc != NGX_OK) {
            return rc;
        }

    } else if (ngx_http_signalr_rest_token(r, ep, &aud,
                                           NGX_HTTP_SIGNALR_REST_TOKEN_LIFETIME,
                                           &headers[0].value)
               != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&headers[1].key, "Asrs-User-Agent");
    ngx_str_set(&headers[1].value, NGX_HTTP_SIGNALR_USER_AGENT);
    headers[1].lowcase_key = (u_char *) "asrs-user-agent";

    s->headers = headers;
    s->nheaders = 2;

    if (body) {
        ngx_str_set(&headers[2].key, "Content-Type");
        ngx_str_set(&headers[2].value, "application/json; charset=utf-8");
        headers[2].lowcase_key = (u_char *) "content-type";
        s->nheaders++;
    }

    return NGX_OK;
}


/*
 * how long a failure takes the endpoint offline: its offline_time=, else
 * the signalr_endpoint_offline_time of the location that saw the failure
 */

ngx_msec_t
ngx_http_signalr_offline_time(ngx_http_signalr_endpoint_t *ep,
    ngx_http_signalr_loc_conf_t *slcf)
{
    return (ep->offline_time != NGX_CONF_UNSET_MSEC) ? ep->offline_time
                                                      : slcf->offline_time;
}


/*
 * online for every worker, and, with Microsoft Entra ID, with credentials
 * to sign and call with
 */

ngx_uint_t
ngx_http_signalr_endpoint_usable(ngx_http_signalr_endpoint_t *ep)
{
    return ngx_http_signalr_endpoint_online(ep)
           && (ep->entra == NULL || ngx_http_signalr_entra_can_sign(ep));
}


/* the endpoint of that name= (its host when it has none), or NULL */

ngx_http_signalr_endpoint_t *
ngx_http_signalr_endpoint_named(ngx_http_signalr_main_conf_t *smcf,
    ngx_str_t *name)
{
    ngx_uint_t                    i;
    ngx_http_signalr_endpoint_t  *eps;

    eps = smcf->endpoints.elts;

    for (i = 0; i < smcf->endpoints.nelts; i++) {
        if (eps[i].name.len == name->len
            && ngx_memcmp(eps[i].name.data, name->data, name->len) == 0)
        {
            return &eps[i];
        }
    }

    return NULL;
}


static ngx_uint_t
ngx_http_signalr_candidate(ngx_http_signalr_endpoint_t *ep, ngx_uint_t i,
    uint64_t online, ngx_uint_t pass)
{
    ngx_uint_t  on;

    on = (online >> i) & 1;

    switch (pass) {
    case 0:
        return on && ep->type == NGX_HTTP_SIGNALR_PRIMARY;
    case 1:
        return on && ep->type == NGX_HTTP_SIGNALR_SECONDARY;
    case 2:
        return ep->type == NGX_HTTP_SIGNALR_PRIMARY;
    default:
        return 1;
    }
}


/*
 * an HS256 token signed with the endpoint's key; NGX_DECLINED when it would
 * be longer than the service takes (SIGNALR_JWT_MAX_LEN), token->len then
 * its length, or the least it could be
 */

ngx_int_t
ngx_http_signalr_token(ngx_http_request_t *r, ngx_http_signalr_endpoint_t *ep,
    signalr_jwt_claim_t *claims, ngx_uint_t nclaims, ngx_str_t *aud,
    time_t lifetime, ngx_str_t *token)
{
    ngx_str_t               header;
    size_t                  size;
    u_char                 *buf;
    signalr_hmac_t         *key;
    signalr_jwt_payload_t   p;

    /* a key of Microsoft Entra ID, named in the header, while it is valid */

    if (ep->entra) {
        if (!ngx_http_signalr_entra_can_sign(ep)) {
            ngx_str_null(token);
            return NGX_AGAIN;
        }

        key = ngx_http_signalr_entra_key(ep, &header);

    } else {
        key = ep->hmac;
        ngx_str_null(&header);
    }

    p.claims = claims;
    p.nclaims = nclaims;
    p.iat = ngx_time();
    p.exp = p.iat + lifetime;
    p.aud.data = aud->data;
    p.aud.len = aud->len;
    p.header.data = header.data;
    p.header.len = header.len;

    size = signalr_jwt_size(&p);

    /* too long even unescaped: refused before memory is taken for it */

    token->len = signalr_jwt_min_len(&p);
    token->data = NULL;

    if (token->len > SIGNALR_JWT_MAX_LEN) {
        return NGX_DECLINED;
    }

    buf = ngx_pnalloc(r->pool, size);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    token->len = signalr_jwt_build(key, &p, buf);

    if (token->len == 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "signalr: HMAC-SHA256 failed");
        return NGX_ERROR;
    }

    if (token->len > SIGNALR_JWT_MAX_LEN) {
        return NGX_DECLINED;
    }

    token->data = buf;

    return NGX_OK;
}


/*
 * A REST call's token depends on the endpoint, the audience (the URL of the
 * call) and the time only, so each worker keeps the last few it minted per
 * endpoint and gives one again while it has at least a minute left: sends
 * to the same hub, user or group sign nothing. The header value is copied
 * into the request's pool, as a later token may replace the cached one
 * before the subrequest is sent.
 */

#define NGX_HTTP_SIGNALR_REST_TOKENS         16
#define NGX_HTTP_SIGNALR_REST_TOKEN_REUSE    60      /* seconds left, least */

struct ngx_http_signalr_rest_token_s {
    u_char                     *aud;
    size_t                      aud_len;
    u_char                     *bearer;                /* "Bearer <jwt>" */
    size_t                      bearer_len;
    time_t                      expires;
};


ngx_int_t
ngx_http_signalr_rest_token(ngx_http_request_t *r,
    ngx_http_signalr_endpoint_t *ep, ngx_str_t *aud, time_t lifetime,
    ngx_str_t *bearer)
{
    u_char                         *p;
    time_t                          now;
    ngx_str_t                       token;
    ngx_uint_t                      i;
    signalr_bytes_t                 nameid;
    signalr_jwt_claim_t             claim;
    ngx_http_signalr_rest_token_t  *t;

    now = ngx_time();

    if (ep->tokens == NULL) {
        ep->tokens = ngx_calloc(NGX_HTTP_SIGNALR_REST_TOKENS
                                * sizeof(ngx_http_signalr_rest_token_t),
                                r->connection->log);
    }

    t = ep->tokens;

    for (i = 0; t && i < NGX_HTTP_SIGNALR_REST_TOKENS; i++) {
        if (t[i].aud_len == aud->len
            && now + NGX_HTTP_SIGNALR_REST_TOKEN_REUSE < t[i].expires
            && ngx_memcmp(t[i].aud, aud->data, aud->len) == 0)
        {
            bearer->len = t[i].bearer_len;
            bearer->data = ngx_pnalloc(r->pool, bearer->len);
            if (bearer->data == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(bearer->data, t[i].bearer, bearer->len);

            return NGX_OK;
        }
    }

    /* a new one: the REST form, nameid "nginx" */

    nameid.data = (u_char *) "nginx";
    nameid.len = sizeof("nginx") - 1;

    claim.name.data = (u_char *) "nameid";
    claim.name.len = sizeof("nameid") - 1;
    claim.values = &nameid;
    claim.nvalues = 1;

    if (ngx_http_signalr_token(r, ep, &claim, 1, aud, lifetime, &token)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    bearer->len = sizeof("Bearer ") - 1 + token.len;
    bearer->data = ngx_pnalloc(r->pool, bearer->len);
    if (bearer->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(bearer->data, "Bearer ", sizeof("Bearer ") - 1);
    ngx_memcpy(p, token.data, token.len);

    if (t == NULL) {
        return NGX_OK;
    }

    /* kept in the next slot, round robin; without memory, not kept */

    t = &ep->tokens[ep->next_token];
    ep->next_token = (ep->next_token + 1) % NGX_HTTP_SIGNALR_REST_TOKENS;

    if (t->aud) {
        /* a token that may still be valid is not left in freed memory */
        ngx_explicit_memzero(t->aud, t->aud_len + t->bearer_len);
        ngx_free(t->aud);
    }

    t->aud = NULL;
    t->aud_len = 0;
    t->bearer = NULL;

    p = ngx_alloc(aud->len + bearer->len, r->connection->log);
    if (p == NULL) {
        return NGX_OK;
    }

    t->aud = p;
    t->aud_len = aud->len;
    t->bearer = ngx_cpymem(p, aud->data, aud->len);
    t->bearer_len = bearer->len;
    ngx_memcpy(t->bearer, bearer->data, bearer->len);
    t->expires = now + lifetime;

    return NGX_OK;
}


/*
 * the worker's REST tokens, when the configuration's pool goes (a reload,
 * the worker's exit): the tokens zeroed, the memory freed
 */

void
ngx_http_signalr_rest_tokens_free(ngx_http_signalr_endpoint_t *ep)
{
    ngx_uint_t                      i;
    ngx_http_signalr_rest_token_t  *t;

    t = ep->tokens;

    if (t == NULL) {
        return;
    }

    for (i = 0; i < NGX_HTTP_SIGNALR_REST_TOKENS; i++) {
        if (t[i].aud) {
            ngx_explicit_memzero(t[i].aud, t[i].aud_len + t[i].bearer_len);
            ngx_free(t[i].aud);
        }
    }

    ngx_free(t);
    ep->tokens = NULL;
}
