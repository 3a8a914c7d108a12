/* SPDX-License-Identifier: MIT */
/* server.c — the route table behind libmicrohttpd (see http/server.h). */
#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#define DEFAULT_MAX_CONNECTIONS 256
#define CONNECTION_TIMEOUT_S 30

struct ticketing_http_server {
    struct MHD_Daemon *daemon;
    ticketing_http_server_opts opts;
    uint16_t port;
    atomic_uint in_flight;
};

/* One request while it comes in (libmicrohttpd's per-request pointer). */
typedef struct request_state {
    char *body;
    size_t len;
    bool too_large;
} request_state;

static void log_from_mhd(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    (void)cls;
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    lk_log(LK_LOG_WARN, "http: %s", line);
}

static enum MHD_Result send_json(struct MHD_Connection *c,
                                 const ticketing_http_response *res)
{
    char *text = NULL;
    size_t len = 0;
    if (res->body != NULL) {
        text = json_dumps(res->body, JSON_COMPACT);
        len = text != NULL ? strlen(text) : 0;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, text != NULL ? text : (char *)"",
        text != NULL ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        free(text);
        return MHD_NO;
    }
    if (res->body != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "application/json");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return ok;
}

static void health_check(ticketing_http_server *srv, const char *method,
                         ticketing_http_response *res)
{
    lk_error e;
    lk_error_clear(&e);
    if (strcmp(method, "GET") != 0) {
        ticketing_http_error(res, 405, "Method not allowed", NULL);
        return;
    }
    lk_status s = srv->opts.health != NULL
                      ? srv->opts.health(srv->opts.health_ctx, &e)
                      : LK_OK;
    if (s == LK_OK)
        ticketing_http_json(res, 200, json_pack("{s:s}", "status", "ok"));
    else
        ticketing_http_error(res, 503,
                             e.message[0] != '\0' ? e.message
                                                  : lk_status_str(s),
                             NULL);
}

static void answer(ticketing_http_server *srv, struct MHD_Connection *c,
                   const char *url, const char *method, request_state *st,
                   ticketing_http_response *res)
{
    ticketing_user user;
    lk_error e;
    if (st->too_large) {
        char msg[96];
        snprintf(msg, sizeof msg, "body is larger than %zu bytes",
                 srv->opts.max_body);
        ticketing_http_error(res, 413, msg, NULL);
        return;
    }
    if (strcmp(url, "/healthz") == 0) {
        health_check(srv, method, res);
        return;
    }
    const char *auth = MHD_lookup_connection_value(
        c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    bool known = auth != NULL &&
                 ticketing_http_user_from_bearer(auth, srv->opts.jwt_key,
                                                 srv->opts.jwt_key_len, &user,
                                                 &e) == LK_OK;
    if (auth != NULL && !known)
        lk_log(LK_LOG_DEBUG, "http: %s %s: %s", method, url, e.message);
    ticketing_http_request req = {.method = method,
                                  .path = url,
                                  .body = st->body,
                                  .body_len = st->len,
                                  .user = known ? &user : NULL};
    ticketing_http_dispatch(srv->opts.routes, srv->opts.svc, &req, res);
}

/* Keeps up to max_body bytes; beyond that remembers only that it was too
 * large (the rest is read and dropped, so the answer can still go out). */
static void take_upload(ticketing_http_server *srv, request_state *st,
                        const char *data, size_t size)
{
    if (st->too_large || size > srv->opts.max_body - st->len) {
        st->too_large = true;
        return;
    }
    char *grown = realloc(st->body, st->len + size + 1);
    if (grown == NULL) {
        st->too_large = true; /* answered 413: better than a crash */
        return;
    }
    memcpy(grown + st->len, data, size);
    st->body = grown;
    st->len += size;
    st->body[st->len] = '\0';
}

static bool announced_too_large(ticketing_http_server *srv,
                                struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(
        c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl == NULL)
        return false;
    char *end = NULL;
    unsigned long long n = strtoull(cl, &end, 10);
    return end != cl && n > srv->opts.max_body;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version,
                                  const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    ticketing_http_server *srv = cls;
    request_state *st = *con_cls;
    (void)version;
    if (st == NULL) {
        st = calloc(1, sizeof *st);
        if (st == NULL)
            return MHD_NO; /* libmicrohttpd closes the connection */
        *con_cls = st;
        atomic_fetch_add(&srv->in_flight, 1);
        /* Refuse a body announced too large before reading any of it. */
        st->too_large = announced_too_large(srv, c);
        if (!st->too_large)
            return MHD_YES;
    } else if (*upload_size != 0) {
        take_upload(srv, st, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    ticketing_http_response res = {0};
    answer(srv, c, url, method, st, &res);
    enum MHD_Result ok = send_json(c, &res);
    lk_log(LK_LOG_DEBUG, "http: %s %s -> %d", method, url, res.status);
    ticketing_http_response_clear(&res);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    ticketing_http_server *srv = cls;
    request_state *st = *con_cls;
    (void)c;
    (void)code;
    if (st == NULL)
        return;
    free(st->body);
    free(st);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->in_flight, 1);
}

lk_status ticketing_http_server_start(const ticketing_http_server_opts *opts,
                                      ticketing_http_server **out,
                                      lk_error *err)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    if (out != NULL)
        *out = NULL;
    if (opts == NULL || out == NULL || opts->routes == NULL ||
        opts->jwt_key == NULL || opts->jwt_key_len == 0)
        return lk_error_set(err, LK_ERR_INVALID,
                            "http: routes, a JWT key and out are required");
    addr.sin_port = htons(opts->port);
    if (inet_pton(AF_INET, opts->bind != NULL ? opts->bind : "0.0.0.0",
                  &addr.sin_addr) != 1)
        return lk_error_set(err, LK_ERR_INVALID,
                            "http: bind address \"%s\" is not IPv4",
                            opts->bind);
    ticketing_http_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "http: server");
    srv->opts = *opts;
    if (srv->opts.max_body == 0)
        srv->opts.max_body = TICKETING_HTTP_MAX_BODY;
    if (srv->opts.max_connections == 0)
        srv->opts.max_connections = DEFAULT_MAX_CONNECTIONS;
    atomic_init(&srv->in_flight, 0);

    /* ITC: quiesce (stop accepting) needs it. */
    srv->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
            MHD_USE_ITC | MHD_USE_ERROR_LOG,
        opts->port, NULL, NULL, on_request, srv,
        /* first, so that every message of libmicrohttpd goes to lk_log */
        MHD_OPTION_EXTERNAL_LOGGER, log_from_mhd, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        srv, MHD_OPTION_CONNECTION_LIMIT, srv->opts.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
        MHD_OPTION_END);
    if (srv->daemon == NULL) {
        free(srv);
        return lk_error_set(err, LK_ERR_IO,
                            "http: cannot listen on %s:%u",
                            opts->bind != NULL ? opts->bind : "0.0.0.0",
                            (unsigned)opts->port);
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info != NULL ? info->port : opts->port;
    *out = srv;
    return LK_OK;
}

uint16_t ticketing_http_server_port(const ticketing_http_server *srv)
{
    return srv != NULL ? srv->port : 0;
}

unsigned ticketing_http_server_in_flight(const ticketing_http_server *srv)
{
    return srv != NULL
               ? atomic_load(&((ticketing_http_server *)srv)->in_flight)
               : 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

bool ticketing_http_server_stop(ticketing_http_server *srv, int64_t timeout_ms)
{
    if (srv == NULL)
        return true;
    /* Closes the listening socket: new connections are refused at once. */
    MHD_socket listener = MHD_quiesce_daemon(srv->daemon);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
    int64_t waited = 0;
    while (atomic_load(&srv->in_flight) > 0 && waited < timeout_ms) {
        sleep_ms(10);
        waited += 10;
    }
    bool finished = atomic_load(&srv->in_flight) == 0;
    if (!finished)
        lk_log(LK_LOG_WARN,
               "http: %u request(s) still running after %lld ms; waiting for "
               "them",
               atomic_load(&srv->in_flight), (long long)timeout_ms);
    MHD_stop_daemon(srv->daemon); /* joins every connection's thread */
    free(srv);
    return finished;
}
