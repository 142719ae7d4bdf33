/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * HMAC-SHA256 on a pre-keyed OpenSSL 3 EVP_MAC context, base64url, hex.
 *
 * The context is keyed once when the configuration is read; every
 * signature then costs an EVP_MAC_init() without a key (a reset), which is
 * several times cheaper than a one-shot HMAC(). A context belongs to one
 * process: workers get their own copies when the master forks them, and
 * nginx workers are single-threaded.
 */

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "signalr_crypto.h"


struct signalr_hmac_s {
    EVP_MAC_CTX  *ctx;
};


signalr_hmac_t *
signalr_hmac_new(const unsigned char *key, size_t len)
{
    EVP_MAC         *mac;
    OSSL_PARAM       params[2];
    signalr_hmac_t  *h;

    h = calloc(1, sizeof(signalr_hmac_t));
    if (h == NULL) {
        return NULL;
    }

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) {
        free(h);
        return NULL;
    }

    h->ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);

    if (h->ctx == NULL) {
        free(h);
        return NULL;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();

    if (EVP_MAC_init(h->ctx, key, len, params) != 1) {
        signalr_hmac_free(h);
        return NULL;
    }

    return h;
}


void
signalr_hmac_free(signalr_hmac_t *h)
{
    if (h) {
        EVP_MAC_CTX_free(h->ctx);
        free(h);
    }
}


int
signalr_hmac_sha256(signalr_hmac_t *h, const unsigned char *data, size_t len,
    unsigned char *out)
{
    size_t  outlen;

    if (EVP_MAC_init(h->ctx, NULL, 0, NULL) != 1
        || EVP_MAC_update(h->ctx, data, len) != 1
        || EVP_MAC_final(h->ctx, out, &outlen, SIGNALR_SHA256_LEN) != 1
        || outlen != SIGNALR_SHA256_LEN)
    {
        return -1;
    }

    return 0;
}


static size_t signalr_base64_encode_with(unsigned char *dst,
    const unsigned char *src, size_t len, const char *b64, int pad);


size_t
signalr_base64url_encode(unsigned char *dst, const unsigned char *src,
    size_t len)
{
    return signalr_base64_encode_with(dst, src, len,
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "abcdefghijklmnopqrstuvwxyz0123456789-_",
                                      0);
}


size_t
signalr_base64_encode(unsigned char *dst, const unsigned char *src,
    size_t len)
{
    return signalr_base64_encode_with(dst, src, len,
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "abcdefghijklmnopqrstuvwxyz0123456789+/",
                                      1);
}


/* RFC 4648 with the alphabet given, padded with '=' or not */

static size_t
signalr_base64_encode_with(unsigned char *dst, const unsigned char *src,
    size_t len, const char *b64, int pad)
{
    unsigned char  *d;

    d = dst;

    while (len > 2) {
        *d++ = b64[src[0] >> 2];
        *d++ = b64[((src[0] & 0x03) << 4) | (src[1] >> 4)];
        *d++ = b64[((src[1] & 0x0f) << 2) | (src[2] >> 6)];
        *d++ = b64[src[2] & 0x3f];
        src += 3;
        len -= 3;
    }

    if (len) {
        *d++ = b64[src[0] >> 2];

        if (len == 1) {
            *d++ = b64[(src[0] & 0x03) << 4];

            if (pad) {
                *d++ = '=';
            }

        } else {
            *d++ = b64[((src[0] & 0x03) << 4) | (src[1] >> 4)];
            *d++ = b64[(src[1] & 0x0f) << 2];
        }

        if (pad) {
            *d++ = '=';
        }
    }

    return d - dst;
}


int
signalr_ct_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}


int
signalr_hex_decode(unsigned char *dst, const unsigned char *hex, size_t n)
{
    size_t         i;
    unsigned char  c, v, byte;

    byte = 0;

    for (i = 0; i < 2 * n; i++) {
        c = hex[i];

        if (c >= '0' && c <= '9') {
            v = c - '0';

        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            v = (c | 0x20) - 'a' + 10;

        } else {
            return -1;
        }

        byte = (i & 1) ? (unsigned char) (byte << 4 | v) : v;

        if (i & 1) {
            dst[i / 2] = byte;
        }
    }

    return 0;
}
