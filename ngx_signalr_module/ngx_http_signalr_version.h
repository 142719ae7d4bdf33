
/*
 * Copyright (C) the ngx_signalr_module authors
 *
 * The module's version: the one place it is written. make dist, make deb
 * and CHANGELOG.md read it from here.
 */


#ifndef _NGX_HTTP_SIGNALR_VERSION_H_INCLUDED_
#define _NGX_HTTP_SIGNALR_VERSION_H_INCLUDED_


#define NGX_HTTP_SIGNALR_VERSION  "0.1.0"


#endif /* _NGX_HTTP_SIGNALR_VERSION_H_INCLUDED_ */
