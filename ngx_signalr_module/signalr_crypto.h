/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * HMAC-SHA256 with a pre-keyed OpenSSL 3 context (keyed once, re-used for
 * every signature), base64url and hex helpers. Plain C: no nginx types.
 */

#ifndef SIGNALR_CRYPTO_H
#define SIGNALR_CRYPTO_H

#include <stddef.h>


#define SIGNALR_SHA256_LEN  32

#define signalr_base64url_len(n)  (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))


typedef struct signalr_hmac_s  signalr_hmac_t;


signalr_hmac_t *signalr_hmac_new(const unsigned char *key, size_t len);
void signalr_hmac_free(signalr_hmac_t *h);
int signalr_hmac_sha256(signalr_hmac_t *h, const unsigned char *data,
    size_t len, unsigned char *out);

/*
 * RFC 4648 section 5 without padding (url) or section 4 padded; returns
 * the encoded length
 */
size_t signalr_base64_encode_as(unsigned char *dst, const unsigned char *src,
    size_t len, int url);

#define signalr_base64url_encode(dst, src, len)                              \
    signalr_base64_encode_as(dst, src, len, 1)
#define signalr_base64_encode(dst, src, len)                                 \
    signalr_base64_encode_as(dst, src, len, 0)

/*
 * RFC 4648 section 5, unpadded (a JWT's segments): the decoded length, or
 * -1 on a character outside the alphabet or an impossible length; dst
 * takes len * 3 / 4 bytes
 */
long signalr_base64url_decode(unsigned char *dst, const unsigned char *src,
    size_t len);

/* constant-time comparison of n bytes; 1 when equal */
int signalr_ct_equal(const unsigned char *a, const unsigned char *b,
    size_t n);

/* decodes 2n hex digits (either case) into n bytes; -1 on a bad digit */
int signalr_hex_decode(unsigned char *dst, const unsigned char *hex,
    size_t n);

#endif /* SIGNALR_CRYPTO_H */
