/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * HMAC-SHA256 (RFC 2104) with the key's pads hashed once, base64, hex.
 *
 * The key is prepared when the configuration is read: the SHA-256 states
 * after the inner pad (key XOR 0x36) and the outer pad (key XOR 0x5c) are
 * kept, so a signature costs the blocks of the message and one block of
 * the outer hash, nothing more. OpenSSL's SHA256_CTX does this with a
 * struct copy; it is deprecated in OpenSSL 3 but kept, and nginx itself
 * builds on OpenSSL's deprecated low-level digests (ngx_event_openssl.h).
 * Where OpenSSL is built without them (OPENSSL_NO_DEPRECATED_3_0), or
 * with SIGNALR_HMAC_EVP defined (the unit tests build both), a pre-keyed
 * EVP_MAC context is reset for each signature instead, which costs about
 * a fifth more. A key belongs to one process: workers get their own
 * copies when the master forks them, and nginx workers are
 * single-threaded.
 */

#define OPENSSL_SUPPRESS_DEPRECATED  1

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include "signalr_crypto.h"


#if !defined(OPENSSL_NO_DEPRECATED_3_0) && !defined(SIGNALR_HMAC_EVP)
#define SIGNALR_HMAC_PADS  1
#endif


#if (SIGNALR_HMAC_PADS)

#define SIGNALR_SHA256_BLOCK  64

struct signalr_hmac_s {
    SHA256_CTX  inner;
    SHA256_CTX  outer;
};


signalr_hmac_t *
signalr_hmac_new(const unsigned char *key, size_t len)
{
    size_t           i;
    unsigned char    block[SIGNALR_SHA256_BLOCK], pad[SIGNALR_SHA256_BLOCK];
    signalr_hmac_t  *h;

    h = calloc(1, sizeof(signalr_hmac_t));
    if (h == NULL) {
        return NULL;
    }

    /* a key longer than a block is hashed first; a shorter one padded */

    memset(block, 0, sizeof(block));

    if (len > SIGNALR_SHA256_BLOCK) {
        SHA256(key, len, block);

    } else if (len) {
        memcpy(block, key, len);
    }

    for (i = 0; i < SIGNALR_SHA256_BLOCK; i++) {
        pad[i] = block[i] ^ 0x36;
    }

    SHA256_Init(&h->inner);
    SHA256_Update(&h->inner, pad, sizeof(pad));

    for (i = 0; i < SIGNALR_SHA256_BLOCK; i++) {
        pad[i] = block[i] ^ 0x5c;
    }

    SHA256_Init(&h->outer);
    SHA256_Update(&h->outer, pad, sizeof(pad));

    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(pad, sizeof(pad));

    return h;
}


void
signalr_hmac_free(signalr_hmac_t *h)
{
    if (h) {
        OPENSSL_cleanse(h, sizeof(signalr_hmac_t));
        free(h);
    }
}


int
signalr_hmac_sha256(signalr_hmac_t *h, const unsigned char *data, size_t len,
    unsigned char *out)
{
    SHA256_CTX  c;

    c = h->inner;
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);

    c = h->outer;
    SHA256_Update(&c, out, SIGNALR_SHA256_LEN);
    SHA256_Final(out, &c);

    /* the states carry the key's pads */
    OPENSSL_cleanse(&c, sizeof(SHA256_CTX));

    return 0;
}

#else /* EVP_MAC */

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

    /* EVP_MAC_init() without a key resets the context to the key's pads */

    if (EVP_MAC_init(h->ctx, NULL, 0, NULL) != 1
        || EVP_MAC_update(h->ctx, data, len) != 1
        || EVP_MAC_final(h->ctx, out, &outlen, SIGNALR_SHA256_LEN) != 1
        || outlen != SIGNALR_SHA256_LEN)
    {
        return -1;
    }

    return 0;
}

#endif


/*
 * RFC 4648: section 5 (base64url, not padded) or section 4 (padded); each
 * group of three bytes is read into a local first, so that the stores,
 * which may alias anything, do not make the compiler read it again
 */

size_t
signalr_base64_encode_as(unsigned char *dst, const unsigned char *src,
    size_t len, int url)
{
    int             pad;
    uint32_t        v;
    const char     *b64;
    unsigned char  *d;

    static const char  alphabets[2][65] = {
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    };

    b64 = alphabets[url != 0];
    pad = !url;
    d = dst;

    while (len > 2) {
        v = (uint32_t) src[0] << 16 | (uint32_t) src[1] << 8 | src[2];
        d[0] = b64[v >> 18];
        d[1] = b64[(v >> 12) & 0x3f];
        d[2] = b64[(v >> 6) & 0x3f];
        d[3] = b64[v & 0x3f];
        d += 4;
        src += 3;
        len -= 3;
    }

    if (len) {
        v = (uint32_t) src[0] << 16 | (len == 2 ? (uint32_t) src[1] << 8 : 0);
        *d++ = b64[v >> 18];
        *d++ = b64[(v >> 12) & 0x3f];

        if (len == 2) {
            *d++ = b64[(v >> 6) & 0x3f];

        } else if (pad) {
            *d++ = '=';
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


/* a hex digit's value plus one; 0 for any other byte */

static const unsigned char  signalr_hex_value[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
    ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
    ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16
};


int
signalr_hex_decode(unsigned char *dst, const unsigned char *hex, size_t n)
{
    size_t         i;
    unsigned char  hi, lo;

    for (i = 0; i < n; i++) {
        hi = signalr_hex_value[hex[2 * i]];
        lo = signalr_hex_value[hex[2 * i + 1]];

        if (hi == 0 || lo == 0) {
            return -1;
        }

        dst[i] = (unsigned char) ((hi - 1) << 4 | (lo - 1));
    }

    return 0;
}


long
signalr_base64url_decode(unsigned char *dst, const unsigned char *src,
    size_t len)
{
    size_t          i, n;
    uint32_t        v;
    unsigned char   c, *d;
    int             x;

    if (len % 4 == 1) {
        return -1;
    }

    d = dst;
    v = 0;
    n = 0;

    for (i = 0; i < len; i++) {
        c = src[i];

        if (c >= 'A' && c <= 'Z') {
            x = c - 'A';

        } else if (c >= 'a' && c <= 'z') {
            x = c - 'a' + 26;

        } else if (c >= '0' && c <= '9') {
            x = c - '0' + 52;

        } else if (c == '-') {
            x = 62;

        } else if (c == '_') {
            x = 63;

        } else {
            return -1;
        }

        v = v << 6 | (uint32_t) x;

        if (++n == 4) {
            *d++ = (unsigned char) (v >> 16);
            *d++ = (unsigned char) (v >> 8);
            *d++ = (unsigned char) v;
            v = 0;
            n = 0;
        }
    }

    /* the bits left over must be zero: one text per byte string */

    if (n == 2) {
        if (v & 0xf) {
            return -1;
        }

        *d++ = (unsigned char) (v >> 4);

    } else if (n == 3) {
        if (v & 0x3) {
            return -1;
        }

        *d++ = (unsigned char) (v >> 10);
        *d++ = (unsigned char) (v >> 2);
    }

    return (long) (d - dst);
}
