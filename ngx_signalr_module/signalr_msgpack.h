/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * MessagePack codec for the SignalR hub protocol: decodes the unframed
 * invocation messages Azure SignalR Service posts to the module into
 * jansson values, and encodes framed (VarInt length prefixed) completion
 * messages.  Plain C, no nginx dependencies.
 */


#ifndef _SIGNALR_MSGPACK_H_INCLUDED_
#define _SIGNALR_MSGPACK_H_INCLUDED_


#include <stddef.h>
#include <jansson.h>

#include "signalr_json.h"


/* containers may nest at most this deep, both ways */
#define SIGNALR_MSGPACK_MAX_DEPTH          64

/* completion kinds, as in the hub protocol's ResultKind field */
#define SIGNALR_MSGPACK_COMPLETION_ERROR   1
#define SIGNALR_MSGPACK_COMPLETION_VOID    2
#define SIGNALR_MSGPACK_COMPLETION_RESULT  3


typedef struct {
    json_t  *invocation_id;    /* json string, or NULL when nil */
    char    *target;           /* malloc'ed UTF-8, NUL-terminated */
    json_t  *arguments;        /* json array */
} signalr_msgpack_invocation_t;


/*
 * All functions return 0 on success and -1 on error; the decoders then put
 * a short English message into err (when errlen is not 0).
 */

/*
 * Decodes one MessagePack value from buf; *json receives a new reference
 * and *used (if not NULL) the number of bytes consumed.  Bytes after the
 * value are left alone.
 */
int signalr_msgpack_decode(const unsigned char *buf, size_t len,
    size_t *used, json_t **json, char *err, size_t errlen);

/*
 * Parses a whole unframed Invocation message:
 * [1, headers, invocationId, target, arguments, streamIds...].
 * On error inv is left empty; on success free it with
 * signalr_msgpack_invocation_free().
 */
int signalr_msgpack_parse_invocation(const unsigned char *buf, size_t len,
    signalr_msgpack_invocation_t *inv, char *err, size_t errlen);
void signalr_msgpack_invocation_free(signalr_msgpack_invocation_t *inv);

/*
 * Appends value to b in the smallest MessagePack form; on error b->len is
 * restored.  Values nested deeper than SIGNALR_MSGPACK_MAX_DEPTH (which
 * includes reference cycles) are refused.
 */
int signalr_msgpack_encode(signalr_str_t *b, json_t *value);

/*
 * Appends a framed Completion message [3, {}, id, kind, value?] to out;
 * value must be a json string for SIGNALR_MSGPACK_COMPLETION_ERROR, any
 * json value for SIGNALR_MSGPACK_COMPLETION_RESULT, and is ignored for
 * SIGNALR_MSGPACK_COMPLETION_VOID.  On error out->len is restored.
 */
int signalr_msgpack_completion(signalr_str_t *out,
    const char *invocation_id, size_t id_len, int kind,
    json_t *value_or_error_string);


#endif /* _SIGNALR_MSGPACK_H_INCLUDED_ */
