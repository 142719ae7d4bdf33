/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * The upstream calls of Azure SignalR Service (the SignalRTrigger binding
 * of Azure Functions): the X-ASRS-Signature check, the bodies of connection
 * events and of invocations (JSON or MessagePack), and the client query and
 * user claims that the InvocationContext carries. Attackers write all of
 * it, so it is plain C with unit tests and a fuzz entry point: no nginx
 * types. docs/trigger.md describes the calls.
 */

#ifndef SIGNALR_TRIGGER_H
#define SIGNALR_TRIGGER_H

#include <stddef.h>
#include <jansson.h>

#include "signalr_json.h"


/* "sha256=<hex>" items looked at in one X-ASRS-Signature, at the most */
#define SIGNALR_TRIGGER_MAX_SIGNATURES  32

/* names in one of the Headers, Query or Claims objects, at the most */
#define SIGNALR_TRIGGER_MAX_PAIRS       256

#define SIGNALR_TRIGGER_OK        0
#define SIGNALR_TRIGGER_INVALID   1      /* the caller's input: refused */
#define SIGNALR_TRIGGER_NOMEM    -1


/* what an upstream call's body holds */
typedef struct {
    json_t  *arguments;       /* invocations: the arguments array */
    json_t  *invocation_id;   /* invocations: a string, or NULL */
    json_t  *error;           /* disconnected events: a string, or NULL */
} signalr_message_t;


/*
 * When one of the comma-separated "sha256=<64 hex digits>" items of an
 * X-ASRS-Signature value equals one of the nmacs 32-byte macs (compared in
 * constant time), the number of that mac, from 1; 0 otherwise. Items past
 * the first SIGNALR_TRIGGER_MAX_SIGNATURES non-empty ones are not looked
 * at.
 */
int signalr_signature_match(const unsigned char *value, size_t len,
    const unsigned char *macs, size_t nmacs);

/*
 * The body of a connected ({"type":10}) or disconnected ({"type":11,
 * "error":...}) event, JSON with member names in any case. On
 * SIGNALR_TRIGGER_INVALID *why says what is wrong.
 */
int signalr_parse_event(const unsigned char *body, size_t len,
    int connected, signalr_message_t *m, const char **why);

/*
 * One Invocation message (type 1) whose target must be the event name
 * (any case): JSON without its 0x1e separator, or unframed MessagePack.
 * On SIGNALR_TRIGGER_INVALID *why says what is wrong for the caller and
 * detail (when detlen is not 0) the parser's own message, for a log.
 */
int signalr_parse_invocation_json(const unsigned char *body, size_t len,
    const unsigned char *event, size_t event_len, signalr_message_t *m,
    const char **why, char *detail, size_t detlen);
int signalr_parse_invocation_msgpack(const unsigned char *body, size_t len,
    const unsigned char *event, size_t event_len, signalr_message_t *m,
    const char **why, char *detail, size_t detlen);

void signalr_message_free(signalr_message_t *m);

/*
 * Name and value pairs (request headers, the client query, the claims) as
 * they are written into the InvocationContext: with join, names in any
 * case are one name, whose values are joined with ',' (the headers and
 * the query, as .NET's case-insensitive collections of them); without,
 * names are compared exactly and the first value of a name counts (the
 * claims, GetClaimDictionary of SignalRTriggerUtils.cs). Names and values
 * point into the caller's memory, or into the pairs' own copy of a decoded
 * query; the list grows through a signalr_str_t, so the nginx glue keeps
 * it in the request's pool.
 */

typedef struct {
    const unsigned char  *name;
    size_t                name_len;
    const unsigned char  *value;
    size_t                value_len;
} signalr_pair_t;

typedef struct {
    signalr_str_t         list;          /* of signalr_pair_t */
    signalr_str_t         decoded;       /* the decoded query */
    size_t                names;         /* distinct names */
    int                   join;
} signalr_pairs_t;

/* list and decoded may carry a grow hook (signalr_str_t) already */
void signalr_pairs_init(signalr_pairs_t *p, int join);
void signalr_pairs_free(signalr_pairs_t *p);

/*
 * Adds name: value. SIGNALR_TRIGGER_INVALID: a name with NUL, a name or
 * value that is not UTF-8, or a list with SIGNALR_TRIGGER_MAX_PAIRS names
 * already (then even a repeated name is refused).
 */
int signalr_pairs_add(signalr_pairs_t *p, const unsigned char *name,
    size_t nlen, const unsigned char *value, size_t vlen);

/* the JSON object of the pairs, in the order names first appear */
void signalr_jw_pairs(signalr_jw_t *w, signalr_pairs_t *p);

/*
 * X-ASRS-Client-Query, "?k1=v1&k1=v2&k2&=v", into pairs: {"k1":"v1,v2",
 * "k2":"","":"v"} once written (join); '+' is a space, %XX a byte, a '%'
 * without two hex digits stays as it is (as ASP.NET Core's QueryHelpers
 * reads a query). The decoded text is kept in pairs->decoded, which the pairs
 * point into: one query a list (a second is refused as NOMEM).
 */
int signalr_parse_query(signalr_pairs_t *pairs, const unsigned char *p,
    size_t len);

/*
 * X-ASRS-User-Claims, "type1: value1, type2: value2", into pairs (no
 * join: the first value of a name, in its exact case, counts), as
 * GetClaimDictionary of SignalRTriggerUtils.cs (Azure/azure-sdk-for-net)
 * splits it: pieces split on ',', each split on ": " with the empty parts
 * left out, a claim when two parts are left; names and values trimmed of
 * .NET's white space (String.Trim()), an empty name a name too.
 */
int signalr_parse_claims(signalr_pairs_t *pairs, const unsigned char *p,
    size_t len);

#endif /* SIGNALR_TRIGGER_H */
