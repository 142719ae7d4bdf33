/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Azure SignalR Service connection strings (as ConnectionStringParser.cs of
 * Azure/azure-signalr parses them):
 * "Endpoint=https://x.service.signalr.net;AccessKey=...;Version=1.0;" and
 * the URLs derived from them. Plain C: no nginx types.
 */

#ifndef SIGNALR_CONNSTR_H
#define SIGNALR_CONNSTR_H

#include <stddef.h>


/*
 * How the service is authenticated: its AccessKey, or Microsoft Entra ID
 * (AuthType): a managed identity (azure.msi), an app registration with a
 * client secret (azure.app), or DefaultAzureCredential's choice from the
 * environment (azure); "aad", the SDK's older form, is one of the first two.
 */
#define SIGNALR_AUTH_KEY    0
#define SIGNALR_AUTH_MSI    1
#define SIGNALR_AUTH_APP    2
#define SIGNALR_AUTH_AZURE  3

/* the longest ClientId or TenantId, and ClientSecret, taken */
#define SIGNALR_CONNSTR_MAX_ID      128
#define SIGNALR_CONNSTR_MAX_SECRET  1024


typedef struct {
    int      auth;            /* SIGNALR_AUTH_* */
    char    *access_key;      /* the raw string; its UTF-8 bytes are the key */
    size_t   access_key_len;

    /* Entra ID: NULL when absent; the secret is wiped when freed */
    char    *client_id;
    char    *tenant_id;
    char    *client_secret;
    size_t   client_secret_len;
    char    *host;            /* of Endpoint, lower-cased, for default names */

    /* "scheme://host[:port]/path/": the client URL is client_base +
     * "client/?hub=" + hub, REST URLs are server_base + "api/..." */
    char    *client_base;
    char    *server_base;

    /* "scheme://host/" of Endpoint: no port, no path (token audiences) */
    char    *audience_base;
    /* "scheme://host[:port]/path/" of Endpoint with Port */
    char    *endpoint_base;
} signalr_connstr_t;


/*
 * 0, or -1 with a message in err that never contains the AccessKey or the
 * ClientSecret
 */
int signalr_connstr_parse(const char *s, size_t len, signalr_connstr_t *cs,
    char *err, size_t errlen);
void signalr_connstr_free(signalr_connstr_t *cs);

#endif /* SIGNALR_CONNSTR_H */
