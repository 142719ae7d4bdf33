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


typedef struct {
    char    *access_key;      /* the raw string; its UTF-8 bytes are the key */
    size_t   access_key_len;
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


/* 0, or -1 with a message in err that never contains the AccessKey */
int signalr_connstr_parse(const char *s, size_t len, signalr_connstr_t *cs,
    char *err, size_t errlen);
void signalr_connstr_free(signalr_connstr_t *cs);

#endif /* SIGNALR_CONNSTR_H */
