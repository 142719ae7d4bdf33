/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * HS256 JSON Web Tokens as Azure SignalR Service expects them: header
 * {"alg":"HS256","typ":"JWT"} (with a "kid" for a key of Microsoft Entra
 * ID, given ready), a compact payload whose members come in the
 * SDK's order (claims, nbf, exp, iat, aud), signed with HMAC-SHA256 keyed
 * with the UTF-8 bytes of the AccessKey. Plain C: no nginx types.
 */

#ifndef SIGNALR_JWT_H
#define SIGNALR_JWT_H

#include <stddef.h>

#include "signalr_crypto.h"


#define SIGNALR_JWT_MAX_LEN  4096


typedef struct {
    const unsigned char  *data;
    size_t                len;
} signalr_bytes_t;


typedef struct {
    signalr_bytes_t   name;      /* the member name, written as given */
    signalr_bytes_t  *values;
    size_t            nvalues;   /* 0: omitted, 1: a string, more: array */
} signalr_jwt_claim_t;


typedef struct {
    const signalr_jwt_claim_t  *claims;
    size_t                      nclaims;
    long long                   iat;       /* nbf = iat */
    long long                   exp;
    signalr_bytes_t             aud;
    signalr_bytes_t             header;    /* base64url; len 0: the plain */
                                           /* {"alg":"HS256","typ":"JWT"} */
    size_t                      json_plain;  /* set by signalr_jwt_size(): */
    size_t                      json_max;    /* the payload's least and */
                                             /* most length */
} signalr_jwt_payload_t;


/* the buffer size signalr_jwt_build() needs (token plus scratch) */
size_t signalr_jwt_size(signalr_jwt_payload_t *p);

/*
 * the length the token has if none of its strings needs escaping, the
 * least it can have (after signalr_jwt_size()): a token over a limit is
 * refused before any memory is taken for it
 */
size_t signalr_jwt_min_len(const signalr_jwt_payload_t *p);

/*
 * writes the token to out, a buffer of signalr_jwt_size(p) bytes (called
 * first); returns its length, or 0 on a crypto error
 */
size_t signalr_jwt_build(signalr_hmac_t *key, const signalr_jwt_payload_t *p,
    unsigned char *out);

#endif /* SIGNALR_JWT_H */
