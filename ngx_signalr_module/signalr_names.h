/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Names the SignalR Service validates (hubs, groups) and the RFC 3986
 * escaping of path segments and query values. Plain C: no nginx types.
 */

#ifndef SIGNALR_NAMES_H
#define SIGNALR_NAMES_H

#include <stddef.h>


#define SIGNALR_HUB_MAX_LEN    128
#define SIGNALR_GROUP_MAX_LEN  1024


/*
 * ^[A-Za-z][A-Za-z0-9_`,.[\]]{0,127}$, the pattern of the hub parameter in
 * Azure/azure-signalr docs/swagger/V20220601.json
 */
int signalr_hub_valid(const unsigned char *p, size_t len);

/* 1..1024 bytes, valid UTF-8, not only white space (swagger pattern) */
int signalr_group_valid(const unsigned char *p, size_t len);

/* the length of p escaped as .NET Uri.EscapeDataString does */
size_t signalr_uri_escaped_len(const unsigned char *p, size_t len);

/* escapes everything but A-Z a-z 0-9 - . _ ~ as %XX (upper-case hex) */
unsigned char *signalr_uri_escape(unsigned char *dst, const unsigned char *p,
    size_t len);

/* an ASCII letter in lower case; any other byte as it is */
#define signalr_lower(c)                                                     \
    (unsigned char) (((c) >= 'A' && (c) <= 'Z') ? (c) | 0x20 : (c))

/*
 * ASCII case-insensitive equality of a (alen bytes) and b (blen bytes);
 * inline, as most calls compare names of different lengths
 */

static inline int
signalr_caseless_eq(const unsigned char *a, size_t alen,
    const unsigned char *b, size_t blen)
{
    size_t  i;

    if (alen != blen) {
        return 0;
    }

    for (i = 0; i < alen; i++) {
        if (signalr_lower(a[i]) != signalr_lower(b[i])) {
            return 0;
        }
    }

    return 1;
}

#endif /* SIGNALR_NAMES_H */
