/* SPDX-License-Identifier: MIT */
/*
 * nats_bus.c — an lk_bus on a NATS JetStream server: connect, publish,
 * drain, free. Subscriptions live in nats_subscribe.c, the stream in
 * nats_stream.c.
 */
#include "nats_private.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "listenkit/log.h"

#define DEFAULT_PUBLISH_TIMEOUT_MS 5000
#define DEFAULT_DRAIN_TIMEOUT_MS 30000
/* Pauses between publishes that found no stream listening: doubled from
 * the first, capped (an election takes a few seconds). */
#define RETRY_FIRST_MS 25
#define RETRY_MAX_MS 400
/* How long Close gets to call back (it posts on_closed to libnats'
 * callback thread). */
#define CLOSE_GRACE_S 5
/* How long lk_nats_library_close waits for libnats' threads. */
#define LIBRARY_CLOSE_WAIT_MS 5000

static const lk_bus_ops nats_bus_ops;

/* ---- argument checks ------------------------------------------------------- */

/* One server entry: nats://[user[:pass]@]host[:port] (tls:// also). */
static bool url_entry_is_valid(const char *entry, size_t len)
{
    static const char *const schemes[] = {"nats://", "tls://"};
    size_t skip = 0;
    for (size_t i = 0; i < 2 && skip == 0; i++) {
        size_t n = strlen(schemes[i]);
        if (len > n && strncmp(entry, schemes[i], n) == 0)
            skip = n;
    }
    if (skip == 0)
        return false;
    const char *host = entry + skip, *end = entry + len;
    for (const char *p = host; p < end; p++)
        if (*p == '@')
            host = p + 1;
    const char *colon = NULL;
    for (const char *p = host; p < end; p++) {
        if (*p == ' ' || *p == '/')
            return false;
        if (*p == ']')
            colon = NULL; /* [ipv6]: colons inside are not the port's */
        else if (*p == ':')
            colon = p;
    }
    if (colon == NULL)
        return end > host;
    if (colon == host || colon + 1 == end)
        return false;
    long port = 0;
    for (const char *p = colon + 1; p < end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        port = port * 10 + (*p - '0');
        if (port > 65535)
            return false;
    }
    return port > 0;
}

static lk_status check_url(const char *url, lk_error *err)
{
    const char *p = url;
    if (url[0] == '\0')
        return lk_error_set(err, LK_ERR_INVALID, "connect: the URL is empty");
    for (;;) {
        size_t len = strcspn(p, ",");
        if (!url_entry_is_valid(p, len))
            return lk_error_set(err, LK_ERR_INVALID,
                                "connect: bad URL \"%s\" (want "
                                "nats://host:port or tls://host:port)",
                                url);
        if (p[len] == '\0')
            return LK_OK;
        p += len + 1;
    }
}

static lk_status check_readable(const char *path, const char *field,
                                lk_error *err)
{
    if (path != NULL && access(path, R_OK) != 0)
        return lk_error_set(err, LK_ERR_INVALID, "connect: %s \"%s\": %s",
                            field, path, strerror(errno));
    return LK_OK;
}

static lk_status check_opts(const lk_nats_opts *o, lk_error *err)
{
    lk_status st = LK_OK;
    if (o->stream != NULL && !lk_jetstream_name_is_valid(o->stream))
        st = lk_error_set(err, LK_ERR_INVALID,
                          "connect: invalid stream name \"%s\" (no spaces, "
                          "'.', '*', '>', '/' or '\\')",
                          o->stream);
    else if ((o->user == NULL) != (o->password == NULL))
        st = lk_error_set(err, LK_ERR_INVALID,
                          "connect: user and password go together (got %s "
                          "without %s)",
                          o->user ? "user" : "password",
                          o->user ? "password" : "user");
    else if (o->token != NULL && o->user != NULL)
        st = lk_error_set(err, LK_ERR_INVALID,
                          "connect: give either a token or user/password, "
                          "not both");
    else if (o->reconnect_attempts < -1)
        st = lk_error_set(err, LK_ERR_INVALID,
                          "connect: reconnect_attempts must be >= -1, got %d",
                          o->reconnect_attempts);
    else if (o->reconnect_wait_ms < 0)
        st = lk_error_set(err, LK_ERR_INVALID,
                          "connect: reconnect_wait_ms must be >= 0, got %lld",
                          (long long)o->reconnect_wait_ms);
    else if (o->reconnect_max_wait_ms < 0)
        st = lk_error_set(err, LK_ERR_INVALID,
                          "connect: reconnect_max_wait_ms must be >= 0, got "
                          "%lld",
                          (long long)o->reconnect_max_wait_ms);
    else if (o->connect_wait_ms < 0)
        st = lk_error_set(err, LK_ERR_INVALID,
                          "connect: connect_wait_ms must be >= 0, got %lld",
                          (long long)o->connect_wait_ms);
    else if (o->publish_timeout_ms < 0)
        st = lk_error_set(err, LK_ERR_INVALID,
                          "connect: publish_timeout_ms must be >= 0, got %lld",
                          (long long)o->publish_timeout_ms);
    else if (o->drain_timeout_ms < 0)
        st = lk_error_set(err, LK_ERR_INVALID,
                          "connect: drain_timeout_ms must be >= 0, got %lld",
                          (long long)o->drain_timeout_ms);
    if (st == LK_OK)
        st = lk_nats_limits_check(&o->stream_limits, err);
    if (st == LK_OK)
        st = check_readable(o->credentials_file, "credentials_file", err);
    if (st == LK_OK)
        st = check_readable(o->tls_ca_file, "tls_ca_file", err);
    if (st == LK_OK && (o->tls_cert_file == NULL) != (o->tls_key_file == NULL))
        st = lk_error_set(err, LK_ERR_INVALID,
                          "connect: tls_cert_file and tls_key_file go together "
                          "(got %s without %s)",
                          o->tls_cert_file ? "tls_cert_file" : "tls_key_file",
                          o->tls_cert_file ? "tls_key_file" : "tls_cert_file");
    if (st == LK_OK)
        st = check_readable(o->tls_cert_file, "tls_cert_file", err);
    if (st == LK_OK)
        st = check_readable(o->tls_key_file, "tls_key_file", err);
    return st;
}

/* ---- connection callbacks (libnats' callback thread) ------------------------ */

static void on_disconnected(natsConnection *nc, void *closure)
{
    lk_nats_bus *b = closure;
    (void)nc;
    pthread_mutex_lock(&b->mu);
    bool open = b->state == LK_NATS_OPEN;
    pthread_mutex_unlock(&b->mu);
    if (open)
        lk_log(LK_LOG_WARN, "nats: disconnected from %s; reconnecting",
               b->url);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    lk_nats_bus *b = closure;
    char url[256] = "";
    natsConnection_GetConnectedUrl(nc, url, sizeof url);
    lk_log(LK_LOG_WARN, "nats: reconnected to %s", url[0] ? url : b->url);
    if (b->on_reconnected != NULL)
        b->on_reconnected(b->on_reconnected_closure);
}

static void on_closed(natsConnection *nc, void *closure)
{
    lk_nats_bus *b = closure;
    (void)nc;
    pthread_mutex_lock(&b->mu);
    bool for_good = b->state == LK_NATS_OPEN; /* not by our drain */
    if (for_good)
        lk_log(LK_LOG_ERROR,
               "nats: connection to %s closed (reconnect attempts exhausted)",
               b->url);
    pthread_mutex_unlock(&b->mu);
    /* Before `closed` is set: the bus cannot be freed while it runs. */
    if (for_good && b->on_closed != NULL)
        b->on_closed(b->on_closed_closure);
    pthread_mutex_lock(&b->mu);
    b->closed = true;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->mu);
}

static void on_async_error(natsConnection *nc, natsSubscription *sub,
                           natsStatus s, void *closure)
{
    lk_nats_bus *b = closure;
    (void)nc;
    (void)sub;
    lk_log(LK_LOG_ERROR, "nats: asynchronous error on %s: %s", b->url,
           natsStatus_GetText(s));
}

/* ---- connect ------------------------------------------------------------------ */

static lk_status set_option(natsStatus s, const char *what, lk_error *err)
{
    if (s == NATS_OK)
        return LK_OK;
    if (s == NATS_ILLEGAL_STATE) /* e.g. libnats built without TLS */
        return lk_nats_error(err, s, 0, "connect: %s not supported here",
                             what);
    return lk_nats_error(err, s, 0, "connect: option %s", what);
}

/* The server list: libnats reads one URL from natsOptions_SetURL (a
 * comma-separated list there is taken as a single, unreachable server), so
 * a list goes in as an array. check_url() has vetted every entry. */
static natsStatus set_servers(natsOptions *no, const char *url)
{
    enum { MAX_SERVERS = 32 };
    const char *list[MAX_SERVERS];
    int n = 0;
    if (strchr(url, ',') == NULL)
        return natsOptions_SetURL(no, url);
    char *copy = strdup(url);
    if (copy == NULL)
        return NATS_NO_MEMORY;
    for (char *save = NULL, *p = strtok_r(copy, ",", &save);
         p != NULL && n < MAX_SERVERS; p = strtok_r(NULL, ",", &save))
        list[n++] = p;
    natsStatus s = natsOptions_SetServers(no, list, n); /* it copies them */
    free(copy);
    return s;
}

static lk_status build_options(lk_nats_bus *b, const lk_nats_opts *o,
                               natsOptions **out, lk_error *err)
{
    natsOptions *no = NULL;
    lk_status st = set_option(natsOptions_Create(&no), "create", err);
    if (st == LK_OK)
        st = set_option(set_servers(no, b->url), "url", err);
    if (st == LK_OK && o->name != NULL)
        st = set_option(natsOptions_SetName(no, o->name), "name", err);
    if (st == LK_OK && o->user != NULL)
        st = set_option(natsOptions_SetUserInfo(no, o->user, o->password),
                        "user", err);
    if (st == LK_OK && o->token != NULL)
        st = set_option(natsOptions_SetToken(no, o->token), "token", err);
    if (st == LK_OK && o->credentials_file != NULL)
        st = set_option(natsOptions_SetUserCredentialsFromFiles(
                            no, o->credentials_file, NULL),
                        "credentials_file", err);
    if (st == LK_OK)
        st = lk_nats_tls_options(no, b->url, o, err);
    if (st == LK_OK)
        st = lk_nats_reconnect_options(b, no, o, err);
    /* A request in flight when the link drops fails at once (LK_ERR_IO)
     * instead of waiting out its timeout. */
    if (st == LK_OK)
        st = set_option(natsOptions_SetFailRequestsOnDisconnect(no, true),
                        "fail requests on disconnect", err);
    if (st == LK_OK)
        st = set_option(natsOptions_SetDisconnectedCB(no, on_disconnected, b),
                        "disconnected callback", err);
    if (st == LK_OK)
        st = set_option(natsOptions_SetReconnectedCB(no, on_reconnected, b),
                        "reconnected callback", err);
    if (st == LK_OK)
        st = set_option(natsOptions_SetClosedCB(no, on_closed, b),
                        "closed callback", err);
    if (st == LK_OK)
        st = set_option(natsOptions_SetErrorHandler(no, on_async_error, b),
                        "error handler", err);
    if (st != LK_OK)
        natsOptions_Destroy(no);
    else
        *out = no;
    return st;
}

/* The stream need not exist yet (it is made on first use), but asking for
 * it proves JetStream answers, so a server without -js fails here. */
static lk_status check_jetstream(lk_nats_bus *b, lk_error *err)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, b->js, b->stream, NULL, &jerr);
    jsStreamInfo_Destroy(si);
    if (s == NATS_OK || s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr)
        return LK_OK;
    return lk_nats_error(err, s, jerr,
                         "connect %s: JetStream does not answer for stream %s "
                         "(is the server started with -js?)",
                         b->url, b->stream);
}

static lk_status open_connection(lk_nats_bus *b, const lk_nats_opts *o,
                                 lk_error *err)
{
    natsOptions *no = NULL;
    lk_status st = build_options(b, o, &no, err);
    if (st == LK_OK) {
        natsStatus s = lk_nats_connect_waiting(b, no);
        natsOptions_Destroy(no);
        if (s != NATS_OK)
            st = lk_nats_tls_error(err, s, b->url);
    }
    if (st == LK_OK) {
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = b->publish_timeout_ms;
        natsStatus s = natsConnection_JetStream(&b->js, b->nc, &jo);
        if (s != NATS_OK)
            st = lk_nats_error(err, s, 0, "connect %s: JetStream context",
                               b->url);
    }
    if (st == LK_OK)
        st = check_jetstream(b, err);
    return st;
}

static void bus_release(lk_nats_bus *b);

lk_status lk_nats_bus_connect(lk_bus **out, const char *url,
                              const lk_nats_opts *opts, lk_error *err)
{
    lk_nats_opts defaults = {0};
    lk_status st = LK_OK;

    if (out == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "connect: out is NULL");
    *out = NULL;
    if (opts == NULL)
        opts = &defaults;
    if (url == NULL) {
        url = getenv("NATS_URL");
        if (url == NULL || url[0] == '\0')
            url = LK_NATS_DEFAULT_URL;
    }
    st = check_url(url, err);
    if (st == LK_OK)
        st = check_opts(opts, err);
    if (st != LK_OK)
        return st;

    lk_nats_bus *b = calloc(1, sizeof *b);
    if (b == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "connect: out of memory");
    b->base.ops = &nats_bus_ops;
    b->state = LK_NATS_OPEN;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cond, NULL);
    pthread_mutex_init(&b->stream_mu, NULL);
    pthread_cond_init(&b->stream_cond, NULL);
    b->limits = lk_nats_limits_resolve(&opts->stream_limits);
    b->publish_timeout_ms = opts->publish_timeout_ms > 0
                                ? opts->publish_timeout_ms
                                : DEFAULT_PUBLISH_TIMEOUT_MS;
    b->drain_timeout_ms = opts->drain_timeout_ms > 0
                              ? opts->drain_timeout_ms
                              : DEFAULT_DRAIN_TIMEOUT_MS;
    b->url = strdup(url);
    b->stream = strdup(opts->stream != NULL ? opts->stream
                                            : LK_NATS_DEFAULT_STREAM);
    if (b->url == NULL || b->stream == NULL)
        st = lk_error_set(err, LK_ERR_NOMEM, "connect: out of memory");
    if (st == LK_OK)
        st = open_connection(b, opts, err);
    if (st != LK_OK) {
        bus_release(b);
        return st;
    }
    lk_log(LK_LOG_INFO, "nats: connected to %s (stream %s)", b->url,
           b->stream);
    *out = &b->base;
    return LK_OK;
}

bool lk_nats_bus_is_nats(const lk_bus *bus)
{
    return bus != NULL && bus->ops == &nats_bus_ops;
}

lk_status lk_nats_library_close(void)
{
    natsStatus s = nats_CloseAndWait(LIBRARY_CLOSE_WAIT_MS);
    return s == NATS_OK ? LK_OK : lk_nats_status_map(s);
}

/* ---- publish ------------------------------------------------------------------ */

static lk_status check_open(lk_nats_bus *b, const char *subject, lk_error *err)
{
    pthread_mutex_lock(&b->mu);
    lk_nats_state state = b->state;
    pthread_mutex_unlock(&b->mu);
    if (state != LK_NATS_OPEN)
        return lk_error_set(err, LK_ERR_CLOSED,
                            "publish %s: the bus is drained or closed",
                            subject);
    switch (natsConnection_Status(b->nc)) {
    case NATS_CONN_STATUS_CONNECTED:
        return LK_OK;
    case NATS_CONN_STATUS_CLOSED:
        return lk_error_set(err, LK_ERR_CLOSED,
                            "publish %s: connection to %s is closed", subject,
                            b->url);
    default:
        /* Publishing now would only fill libnats' reconnect buffer and wait
         * out the timeout; say at once that nothing was sent. */
        return lk_error_set(err, LK_ERR_IO,
                            "publish %s: not connected to %s (reconnecting); "
                            "nothing was sent",
                            subject, b->url);
    }
}

static natsStatus publish_once(lk_nats_bus *b, const char *subject,
                               const void *data, int len,
                               const lk_publish_opts *opts, int64_t wait_ms,
                               jsErrCode *jerr)
{
    jsPubOptions po;
    jsPubAck *ack = NULL;
    jsPubOptions_Init(&po);
    po.MaxWait = wait_ms;
    if (opts != NULL)
        po.MsgId = opts->msg_id;
    *jerr = 0;
    natsStatus s = js_Publish(&ack, b->js, subject, data, len, &po, jerr);
    jsPubAck_Destroy(ack);
    return s;
}

static lk_status nats_publish(lk_bus *bus, const char *subject,
                              const void *data, size_t len,
                              const lk_publish_opts *opts, lk_error *err)
{
    lk_nats_bus *b = (lk_nats_bus *)bus;
    lk_status st = check_open(b, subject, err);
    if (st == LK_OK && len > (size_t)INT_MAX)
        st = lk_error_set(err, LK_ERR_TOO_LARGE,
                          "publish %s: %zu bytes is more than NATS carries",
                          subject, len);
    if (st == LK_OK)
        st = lk_nats_stream_ensure(b, subject, false, err);
    if (st != LK_OK)
        return st;

    /* "No responders": nothing listens on the subject now. Either the
     * stream is gone or changed (make sure of it again, once), or a cluster
     * is electing its leader (nothing listens until it is elected: retry
     * after a short pause). Nothing was stored, so retrying is safe, and
     * the msg id keeps it so. All of it within publish_timeout_ms. */
    int64_t deadline = lk_nats_now_ms() + b->publish_timeout_ms;
    jsErrCode jerr = 0;
    natsStatus s = publish_once(b, subject, data, (int)len, opts,
                                b->publish_timeout_ms, &jerr);
    for (int attempt = 1; s == NATS_NO_RESPONDERS; attempt++) {
        if (attempt == 1) {
            lk_error e = {0};
            st = lk_nats_stream_check(b, subject, lk_nats_now_ms(), &e);
            if (st != LK_OK && st != LK_ERR_TIMEOUT) {
                if (err != NULL)
                    *err = e;
                return st; /* a timeout: no answer yet, the retries tell */
            }
        }
        int64_t left = deadline - lk_nats_now_ms();
        int64_t pause = lk_nats_backoff_ms(attempt, RETRY_FIRST_MS,
                                           RETRY_MAX_MS);
        if (left <= pause)
            break;
        nats_Sleep(pause);
        s = publish_once(b, subject, data, (int)len, opts, left - pause, &jerr);
    }
    if (s == NATS_NO_RESPONDERS)
        return lk_nats_error(err, s, jerr,
                             "publish %s to %s: no stream answered within "
                             "%lld ms (deleted, or electing a leader)",
                             subject, b->url, (long long)b->publish_timeout_ms);
    if (s != NATS_OK)
        return lk_nats_error(err, s, jerr, "publish %s to %s", subject,
                             b->url);
    return LK_OK;
}

/* ---- drain and free -------------------------------------------------------------- */

/* Waits (at most CLOSE_GRACE_S) for the closed callback after Close. */
static void wait_closed(lk_nats_bus *b)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += CLOSE_GRACE_S;
    pthread_mutex_lock(&b->mu);
    int rc = 0;
    while (!b->closed && rc == 0)
        rc = pthread_cond_timedwait(&b->cond, &b->mu, &deadline);
    pthread_mutex_unlock(&b->mu);
}

static lk_status nats_drain(lk_bus *bus, lk_error *err)
{
    lk_nats_bus *b = (lk_nats_bus *)bus;
    lk_status st = LK_OK;

    pthread_mutex_lock(&b->mu);
    bool first = b->state == LK_NATS_OPEN;
    if (first)
        b->state = LK_NATS_DRAINING;
    pthread_mutex_unlock(&b->mu);

    bool finished = true;
    int64_t deadline = lk_nats_now_ms() + b->drain_timeout_ms;
    if (first) {
        /* Subscriptions first, while the connection still answers: libnats
         * deletes the ephemeral consumers when their drain completes, and
         * that request would time out on a connection that is closing.
         * When it returns, every handler has returned (or timed out). */
        bool connected =
            natsConnection_Status(b->nc) == NATS_CONN_STATUS_CONNECTED;
        if (connected)
            finished = lk_nats_subs_drain(b, deadline);
        else
            lk_log(LK_LOG_WARN,
                   "nats: drain %s: not connected; closing without draining "
                   "(what was not acked is redelivered)",
                   b->url);
        /* Then what the handlers sent (acks, publishes): the flush returns
         * once the server answered a PING sent after them, so it has them
         * all. natsConnection_Drain would do the same, but it waits for its
         * own subscriptions (the request inbox among them) by polling every
         * 100 ms: ~100 ms per bus for nothing. */
        int64_t left = deadline - lk_nats_now_ms();
        if (connected && finished && left > 0) {
            natsStatus s = natsConnection_FlushTimeout(b->nc, left);
            if (s != NATS_OK)
                lk_log(LK_LOG_WARN, "nats: drain %s: final flush: %s",
                       b->url, natsStatus_GetText(s));
        }
        natsConnection_Close(b->nc); /* calls on_closed */
        /* Closing ends every subscription; a handler already running
         * (disconnected: nothing was drained) gets what is left of the
         * bound to return. */
        if (!lk_nats_subs_wait_complete(b, deadline))
            finished = false;
    }
    if (!finished) {
        lk_log(LK_LOG_ERROR,
               "nats: drain %s: not finished within %lld ms (handlers still "
               "running, or the server not answering); closing the "
               "connection",
               b->url, (long long)b->drain_timeout_ms);
        st = lk_error_set(err, LK_ERR_TIMEOUT,
                          "drain %s: not finished within %lld ms; closed the "
                          "connection",
                          b->url, (long long)b->drain_timeout_ms);
    }
    /* on_closed uses `b`: it must have run before the bus is freed. */
    wait_closed(b);
    pthread_mutex_lock(&b->mu);
    b->state = LK_NATS_DRAINED;
    pthread_mutex_unlock(&b->mu);
    return st;
}

static void bus_release(lk_nats_bus *b)
{
    if (b->nc != NULL)
        nats_drain(&b->base, NULL);
    lk_nats_subs_free(b);
    jsCtx_Destroy(b->js);
    natsConnection_Destroy(b->nc);
    lk_nats_stream_cache_free(b);
    free(b->url);
    free(b->stream);
    pthread_mutex_destroy(&b->stream_mu);
    pthread_cond_destroy(&b->stream_cond);
    pthread_cond_destroy(&b->cond);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

static void nats_free(lk_bus *bus)
{
    if (bus != NULL)
        bus_release((lk_nats_bus *)bus);
}

lk_status lk_nats_check_open(lk_nats_bus *b, const char *subject,
                             lk_error *err)
{
    return check_open(b, subject, err);
}

static const lk_bus_ops nats_bus_ops = {
    .name = "nats",
    .publish = nats_publish,
    .subscribe = lk_nats_subscribe,
    .drain = nats_drain,
    .free = nats_free,
    .batch_new = lk_nats_batch_new,
};
