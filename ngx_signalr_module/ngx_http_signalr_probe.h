/*
 * Copyright (C) the ngx_signalr_module authors
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * ngx_signalr_module: probes of the endpoints through their REST locations.
 */

#ifndef NGX_HTTP_SIGNALR_PROBE_H
#define NGX_HTTP_SIGNALR_PROBE_H

#include "ngx_http_signalr_module.h"


/* the probes due now, started beside the request, which does not wait */
void ngx_http_signalr_probe(ngx_http_request_t *r);


#endif /* NGX_HTTP_SIGNALR_PROBE_H */
