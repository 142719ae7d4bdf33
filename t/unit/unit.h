/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * A tiny unit-test harness for the plain-C parts of ngx_signalr_module.
 * Each test file defines static test functions, lists them in main() with
 * UNIT_RUN(), and ends with "return unit_report();". The last line printed
 * is "N passed, N failed".
 */

#ifndef SIGNALR_UNIT_H
#define SIGNALR_UNIT_H

#include <stdio.h>
#include <string.h>


static int  unit_passed;
static int  unit_failed;
static int  unit_current_failed;


#define UNIT_FAIL(fmt, ...)                                                   \
    do {                                                                      \
        fprintf(stderr, "%s:%d: " fmt "\n", __FILE__, __LINE__,               \
                __VA_ARGS__);                                                 \
        unit_current_failed = 1;                                              \
    } while (0)

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            UNIT_FAIL("check failed: %s", #cond);                             \
        }                                                                     \
    } while (0)

#define CHECK_INT(a, b)                                                       \
    do {                                                                      \
        long long  a_ = (long long) (a), b_ = (long long) (b);                \
        if (a_ != b_) {                                                       \
            UNIT_FAIL("%s == %lld, expected %lld", #a, a_, b_);               \
        }                                                                     \
    } while (0)

#define CHECK_STR(a, b)                                                       \
    do {                                                                      \
        const char  *a_ = (a), *b_ = (b);                                     \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                \
            UNIT_FAIL("%s == \"%s\", expected \"%s\"", #a,                    \
                      a_ ? a_ : "(null)", b_ ? b_ : "(null)");                \
        }                                                                     \
    } while (0)

#define CHECK_MEM(a, alen, b, blen)                                           \
    do {                                                                      \
        size_t  al_ = (alen), bl_ = (blen);                                   \
        if (al_ != bl_ || memcmp((a), (b), al_) != 0) {                       \
            UNIT_FAIL("%s (%zu bytes) differs from %s (%zu bytes)", #a, al_,  \
                      #b, bl_);                                               \
        }                                                                     \
    } while (0)

#define UNIT_RUN(fn)                                                          \
    do {                                                                      \
        unit_current_failed = 0;                                              \
        fn();                                                                 \
        if (unit_current_failed) {                                            \
            unit_failed++;                                                    \
            printf("not ok - %s\n", #fn);                                     \
        } else {                                                              \
            unit_passed++;                                                    \
            printf("ok - %s\n", #fn);                                         \
        }                                                                     \
    } while (0)


static inline int
unit_report(void)
{
    printf("%d passed, %d failed\n", unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}


/* decodes a hex string into buf; returns the length or -1 */
static inline int
unit_unhex(const char *hex, unsigned char *buf, size_t size)
{
    size_t        i, n;
    unsigned int  byte;

    n = strlen(hex);
    if (n % 2 || n / 2 > size) {
        return -1;
    }

    for (i = 0; i < n / 2; i++) {
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
            return -1;
        }
        buf[i] = (unsigned char) byte;
    }

    return (int) (n / 2);
}

#endif /* SIGNALR_UNIT_H */
