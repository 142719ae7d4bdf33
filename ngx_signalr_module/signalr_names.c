/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Hub and group name rules of the SignalR Service, and RFC 3986 escaping.
 */

#include "signalr_names.h"
#include "signalr_json.h"


static const char  signalr_names_hex[] = "0123456789ABCDEF";


static int
signalr_names_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}


static int
signalr_names_unreserved(unsigned char c)
{
    return signalr_names_alpha(c) || (c >= '0' && c <= '9')
           || c == '-' || c == '.' || c == '_' || c == '~';
}


int
signalr_hub_valid(const unsigned char *p, size_t len)
{
    size_t         i;
    unsigned char  c;

    if (len == 0 || len > SIGNALR_HUB_MAX_LEN || !signalr_names_alpha(p[0])) {
        return 0;
    }

    for (i = 1; i < len; i++) {
        c = p[i];

        if (!signalr_names_alpha(c) && !(c >= '0' && c <= '9')
            && c != '_' && c != '`' && c != ',' && c != '.' && c != '['
            && c != ']')
        {
            return 0;
        }
    }

    return 1;
}


int
signalr_group_valid(const unsigned char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > SIGNALR_GROUP_MAX_LEN || !signalr_utf8_valid(p, len))
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r'
            && p[i] != '\v' && p[i] != '\f')
        {
            return 1;
        }
    }

    return 0;
}


size_t
signalr_uri_escaped_len(const unsigned char *p, size_t len)
{
    size_t  i, n;

    n = len;

    for (i = 0; i < len; i++) {
        if (!signalr_names_unreserved(p[i])) {
            n += 2;
        }
    }

    return n;
}


unsigned char *
signalr_uri_escape(unsigned char *dst, const unsigned char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (signalr_names_unreserved(p[i])) {
            *dst++ = p[i];

        } else {
            *dst++ = '%';
            *dst++ = signalr_names_hex[p[i] >> 4];
            *dst++ = signalr_names_hex[p[i] & 0xf];
        }
    }

    return dst;
}
