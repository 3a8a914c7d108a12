/* SPDX-License-Identifier: MIT */
/*
 * http/server.h — a route table (http/http.h) behind a real HTTP server
 * (libmicrohttpd), plus GET /healthz.
 *
 *     ticketing_http_server *srv = NULL;
 *     ticketing_http_server_opts o = {.routes = tickets_routes, .svc = &svc,
 *                                     .jwt_key = key, .jwt_key_len = n};
 *     ticketing_http_server_start(&o, &srv, &err);
 *     ...ticketing_http_server_port(srv)...
 *     ticketing_http_server_stop(srv, 10000);
 *
 * Each request: the body is read up to max_body (a larger one, announced
 * or not, is answered 413 and never parsed); the Authorization header gives
 * req.user when it holds a valid token (http/http.h), else none; the route
 * table answers; the response is JSON (Content-Type: application/json).
 * GET /healthz answers 200 {"status":"ok"} when opts.health says LK_OK,
 * else 503 with the reason (no route table involved).
 *
 * Threads: one per connection (libmicrohttpd's), so handlers may block on
 * the store and the bus; handlers and health run on those threads and must
 * be thread-safe (the services are, with thread-safe stores and buses).
 */
#ifndef TICKETING_HTTP_SERVER_H
#define TICKETING_HTTP_SERVER_H

#include <stdint.h>

#include "http/http.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ticketing_http_server ticketing_http_server;

/* LK_OK when the service can serve: its bus connected, its store
 * answering; otherwise a status and a reason for the 503 body. */
typedef lk_status (*ticketing_http_health_fn)(void *ctx, lk_error *err);

typedef struct ticketing_http_server_opts {
    const char *bind;   /* an IPv4 address; NULL: 0.0.0.0 */
    uint16_t port;      /* 0: an ephemeral one (see _port) */
    const ticketing_http_route *routes; /* borrowed, outlives the server */
    void *svc;          /* handed to every handler */
    const unsigned char *jwt_key; /* borrowed; required */
    size_t jwt_key_len;
    ticketing_http_health_fn health; /* NULL: always healthy */
    void *health_ctx;
    size_t max_body;    /* 0: TICKETING_HTTP_MAX_BODY */
    unsigned max_connections; /* 0: 256 */
} ticketing_http_server_opts;

/* Starts listening. LK_ERR_INVALID for missing routes or key, or a bad
 * bind address; LK_ERR_IO when the port cannot be bound (named). */
lk_status ticketing_http_server_start(const ticketing_http_server_opts *opts,
                                      ticketing_http_server **out,
                                      lk_error *err);

/* The port it listens on (the ephemeral one when 0 was asked). */
uint16_t ticketing_http_server_port(const ticketing_http_server *srv);

/* How many requests are being handled right now. */
unsigned ticketing_http_server_in_flight(const ticketing_http_server *srv);

/*
 * Stops accepting connections at once, lets requests already being handled
 * finish (waiting up to timeout_ms for them), then closes every connection
 * and frees the server. A handler still running at the timeout is waited
 * for all the same (its thread is joined): what it uses is never freed
 * under it. Returns false when the timeout was reached. NULL is ignored.
 */
bool ticketing_http_server_stop(ticketing_http_server *srv,
                                int64_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* TICKETING_HTTP_SERVER_H */
