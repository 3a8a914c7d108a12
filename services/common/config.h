/* SPDX-License-Identifier: MIT */
/*
 * common/config.h — a service program's configuration, read from the
 * environment as the course's services read theirs.
 *
 *   NATS_URL        nats://host:port[,...] (default nats://127.0.0.1:4222)
 *   NATS_CREDS      a credentials file, or
 *   NATS_USER + NATS_PASSWORD, or NATS_TOKEN   (at most one of the three)
 *   NATS_CA         a CA file: TLS, verified with it
 *   DATABASE_URL    PostgreSQL, libpq URL or key=value (required)
 *   DATABASE_SCHEMA the schema of the service's tables (default: its name)
 *   JWT_KEY         the key the auth service signs tokens with (required)
 *   PORT            the HTTP port (default 3000)
 *   LK_LOG          debug, info, warn, error, off (default warn)
 *   ACK_WAIT_MS     the listeners' ack wait (default 5000)
 *   MAX_DELIVER     the listeners' max deliver (default 0: 6, then a
 *                   dead letter)
 *   CONNECT_WAIT_MS how long start-up waits for NATS and PostgreSQL
 *                   (default 60000)
 *   NATS_RECONNECT_ATTEMPTS  reconnect rounds before the connection is
 *                   closed for good (default 0: forever)
 *   EXPIRATION_WINDOW_SECONDS  orders only: how long an order holds its
 *                   ticket (default 900)
 *
 * Errors name the variable and what is wrong with it; the values of
 * secrets (passwords, tokens, keys, URLs that may hold a password) never
 * appear in them.
 */
#ifndef TICKETING_CONFIG_H
#define TICKETING_CONFIG_H

#include <stdint.h>

#include "listenkit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Looks a variable up; NULL when unset. `ctx` is the reader's. */
typedef const char *(*ticketing_env_fn)(const char *name, void *ctx);

typedef struct ticketing_config {
    const char *nats_url;    /* NULL: the adapter's default */
    const char *nats_creds;
    const char *nats_user;
    const char *nats_password;
    const char *nats_token;
    const char *nats_ca;
    const char *database_url;
    const char *database_schema;
    const char *jwt_key;
    uint16_t port;
    lk_log_level log_level;
    int64_t ack_wait_ms;
    int max_deliver;
    int64_t connect_wait_ms;
    int reconnect_attempts;
    int64_t expiration_ms;
} ticketing_config;

/* Fills `out` for the program `name` from `env` (NULL: getenv). Strings
 * are borrowed from the environment. LK_ERR_INVALID naming the variable:
 * a required one unset or empty, a number out of range, NATS credentials
 * given two ways, a password without user, an unknown LK_LOG. */
lk_status ticketing_config_read(const char *name, ticketing_env_fn env,
                                void *ctx, ticketing_config *out,
                                lk_error *err);

/* The --help text of program `name`. */
const char *ticketing_config_usage(void);

#ifdef __cplusplus
}
#endif

#endif /* TICKETING_CONFIG_H */
