/* SPDX-License-Identifier: MIT */
/* config.c — a service program's configuration (see common/config.h). */
#include "common/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PORT 3000
#define DEFAULT_CONNECT_WAIT_MS 60000
#define DEFAULT_EXPIRATION_S 900

static const char usage[] =
    "Environment:\n"
    "  NATS_URL        nats://host:port[,...]  (default nats://127.0.0.1:4222)\n"
    "  NATS_CREDS      credentials file, or NATS_USER + NATS_PASSWORD, or\n"
    "                  NATS_TOKEN (one of the three)\n"
    "  NATS_CA         CA file: connect with TLS, verified with it\n"
    "  DATABASE_URL    PostgreSQL (libpq URL or key=value)  (required)\n"
    "  DATABASE_SCHEMA schema of the service's tables  (default: its name)\n"
    "  JWT_KEY         key the auth service signs tokens with  (required)\n"
    "  PORT            HTTP port  (default 3000)\n"
    "  LK_LOG          debug, info, warn, error or off  (default warn)\n"
    "  ACK_WAIT_MS     listeners' ack wait  (default 5000)\n"
    "  MAX_DELIVER     listeners' max deliver  (default 0: 6, then a dead letter)\n"
    "  CONNECT_WAIT_MS how long start-up waits for NATS and PostgreSQL\n"
    "                  (default 60000)\n"
    "  NATS_RECONNECT_ATTEMPTS  reconnect rounds before giving up\n"
    "                  (default 0: forever)\n"
    "  EXPIRATION_WINDOW_SECONDS  orders: how long an order holds its\n"
    "                  ticket  (default 900)\n"
    "Exit status: 0 after SIGTERM/SIGINT, 1 when a server is lost or\n"
    "unreachable, 2 for bad configuration.\n";

const char *ticketing_config_usage(void) { return usage; }

static const char *from_getenv(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

typedef struct reader {
    ticketing_env_fn env;
    void *ctx;
} reader;

/* The variable's value; NULL when unset or empty. */
static const char *get(const reader *r, const char *name)
{
    const char *v = r->env(name, r->ctx);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* `name` as an integer in [min, max]; `fallback` when unset. */
static lk_status get_int(const reader *r, const char *name, int64_t min,
                         int64_t max, int64_t fallback, int64_t *out,
                         lk_error *err)
{
    const char *v = get(r, name);
    char *end = NULL;
    *out = fallback;
    if (v == NULL)
        return LK_OK;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
        return lk_error_set(err, LK_ERR_INVALID,
                            "%s must be a whole number from %lld to %lld, "
                            "got \"%.32s\"",
                            name, (long long)min, (long long)max, v);
    *out = n;
    return LK_OK;
}

static lk_status require(const reader *r, const char *name, const char *why,
                         const char **out, lk_error *err)
{
    *out = get(r, name);
    return *out != NULL ? LK_OK
                        : lk_error_set(err, LK_ERR_INVALID,
                                       "%s is required (%s)", name, why);
}

static lk_status read_nats(const reader *r, ticketing_config *c,
                           lk_error *err)
{
    c->nats_url = get(r, "NATS_URL");
    c->nats_creds = get(r, "NATS_CREDS");
    c->nats_user = get(r, "NATS_USER");
    c->nats_password = get(r, "NATS_PASSWORD");
    c->nats_token = get(r, "NATS_TOKEN");
    c->nats_ca = get(r, "NATS_CA");
    int ways = (c->nats_creds != NULL) + (c->nats_user != NULL) +
               (c->nats_token != NULL);
    if (ways > 1)
        return lk_error_set(err, LK_ERR_INVALID,
                            "NATS_CREDS, NATS_USER and NATS_TOKEN: give one "
                            "of them, not %d",
                            ways);
    if ((c->nats_user != NULL) != (c->nats_password != NULL))
        return lk_error_set(err, LK_ERR_INVALID,
                            "NATS_USER and NATS_PASSWORD go together");
    return LK_OK;
}

lk_status ticketing_config_read(const char *name, ticketing_env_fn env,
                                void *ctx, ticketing_config *out,
                                lk_error *err)
{
    const reader r = {env != NULL ? env : from_getenv, ctx};
    int64_t port = 0, max_deliver = 0, expiration_s = 0, reconnects = 0;
    if (out == NULL || name == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "config: name and out");
    memset(out, 0, sizeof *out);
    lk_status s = read_nats(&r, out, err);
    if (s == LK_OK)
        s = require(&r, "DATABASE_URL", "the PostgreSQL database to use",
                    &out->database_url, err);
    if (s == LK_OK)
        s = require(&r, "JWT_KEY", "the key user tokens are signed with",
                    &out->jwt_key, err);
    out->database_schema = get(&r, "DATABASE_SCHEMA");
    if (out->database_schema == NULL)
        out->database_schema = name;
    if (s == LK_OK)
        s = get_int(&r, "PORT", 1, 65535, DEFAULT_PORT, &port, err);
    if (s == LK_OK)
        s = get_int(&r, "ACK_WAIT_MS", 1, 86400000, LK_DEFAULT_ACK_WAIT_MS,
                    &out->ack_wait_ms, err);
    if (s == LK_OK)
        s = get_int(&r, "MAX_DELIVER", 0, 1000000, 0, &max_deliver, err);
    if (s == LK_OK)
        s = get_int(&r, "CONNECT_WAIT_MS", 0, 3600000,
                    DEFAULT_CONNECT_WAIT_MS, &out->connect_wait_ms, err);
    if (s == LK_OK)
        s = get_int(&r, "NATS_RECONNECT_ATTEMPTS", 0, 1000000, 0,
                    &reconnects, err);
    if (s == LK_OK)
        s = get_int(&r, "EXPIRATION_WINDOW_SECONDS", 1, 86400 * 365,
                    DEFAULT_EXPIRATION_S, &expiration_s, err);
    out->log_level = LK_LOG_WARN;
    const char *level = get(&r, "LK_LOG");
    if (s == LK_OK && level != NULL &&
        lk_log_level_parse(level, &out->log_level) != LK_OK)
        s = lk_error_set(err, LK_ERR_INVALID,
                         "LK_LOG must be debug, info, warn, error or off, "
                         "got \"%.16s\"",
                         level);
    out->port = (uint16_t)port;
    out->max_deliver = (int)max_deliver;
    out->reconnect_attempts = (int)reconnects;
    out->expiration_ms = expiration_s * 1000;
    return s;
}
