/* SPDX-License-Identifier: MIT */
/* pg_conn.c — one PostgreSQL connection: connecting with a timeout,
 * running a statement with a deadline of our own (libpq's PQexec would wait
 * forever on a server that stopped answering), and libpq's failures as
 * lk_error with host and port named and the password scrubbed. */
#include "pg_private.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- parameters ------------------------------------------------------------ */

static int add_param(pg_params *p, const char *value, int len, int format)
{
    /* Callers add at most PG_MAX_PARAMS (a few per unique path, which
     * pg_store caps): overflowing would be a bug here, not bad input. */
    int i = p->n++;
    p->values[i] = value;
    p->lengths[i] = len;
    p->formats[i] = format;
    return i + 1;
}

int pg_param_bytes(pg_params *p, const void *bytes, size_t len)
{
    return add_param(p, bytes, (int)len, 1);
}

int pg_param_int64(pg_params *p, int64_t value)
{
    snprintf(p->text[p->n], sizeof p->text[p->n], "%lld", (long long)value);
    return add_param(p, p->text[p->n], 0, 0);
}

int pg_param_text(pg_params *p, const char *text)
{
    return add_param(p, text, 0, 0);
}

/* ---- configuration ------------------------------------------------------------ */

lk_status pg_config_init(pg_config *cfg, const char *conninfo,
                         int64_t connect_timeout_ms,
                         int64_t statement_timeout_ms, lk_error *err)
{
    char *why = NULL;
    memset(cfg, 0, sizeof *cfg);
    if (conninfo == NULL)
        conninfo = getenv("DATABASE_URL");
    if (conninfo == NULL)
        conninfo = "";
    /* libpq's parse error can quote the string, password and all: say only
     * that it is malformed. */
    PQconninfoOption *opts = PQconninfoParse(conninfo, &why);
    PQfreemem(why);
    if (opts == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "pg: the connection string is neither a "
                            "postgresql:// URL nor key=value pairs (not "
                            "shown: it may hold a password)");
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
            o->val[0] != '\0')
            cfg->password = lk_strdup(o->val);
    PQconninfoFree(opts);
    if (cfg->password == NULL && getenv("PGPASSWORD") != NULL &&
        getenv("PGPASSWORD")[0] != '\0')
        cfg->password = lk_strdup(getenv("PGPASSWORD"));
    cfg->conninfo = lk_strdup(conninfo);
    if (cfg->conninfo == NULL) {
        pg_config_free(cfg);
        return lk_error_set(err, LK_ERR_NOMEM, "pg: out of memory");
    }
    /* libpq takes whole seconds and treats 1 as 2 */
    long secs = (long)((connect_timeout_ms + 999) / 1000);
    snprintf(cfg->connect_timeout, sizeof cfg->connect_timeout, "%ld",
             secs < 2 ? 2 : secs);
    snprintf(cfg->statement_timeout, sizeof cfg->statement_timeout,
             "SET statement_timeout = %lld", (long long)statement_timeout_ms);
    cfg->deadline_ms = statement_timeout_ms + 1000;
    return LK_OK;
}

void pg_config_free(pg_config *cfg)
{
    lk_free(cfg->conninfo);
    lk_free(cfg->password);
    memset(cfg, 0, sizeof *cfg);
}

/* ---- messages ------------------------------------------------------------------ */

/* libpq's message, one line, with every copy of the password masked. */
static void scrub(char *out, size_t size, const char *msg,
                  const char *password)
{
    size_t n = 0, plen = password != NULL ? strlen(password) : 0;
    for (const char *p = msg; *p != '\0' && n + 4 < size;) {
        if (plen > 0 && strncmp(p, password, plen) == 0) {
            memcpy(out + n, "***", 3);
            n += 3;
            p += plen;
            continue;
        }
        out[n++] = (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p;
        p++;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

static const char *or_default(const char *s, const char *dflt)
{
    return s != NULL && s[0] != '\0' ? s : dflt;
}

/* "<host>:<port>": where a connection is (or was meant to be). A socket
 * directory is a host too, as libpq reports it. */
static void where_of(const PGconn *conn, char *out, size_t size)
{
    snprintf(out, size, "%s:%s", or_default(PQhost(conn), "localhost"),
             or_default(PQport(conn), "5432"));
}

static lk_status conn_error(const pg_config *cfg, const PGconn *conn,
                            lk_status status, const char *what,
                            const char *detail, lk_error *err)
{
    char where[300], msg[LK_ERROR_MESSAGE_MAX];
    where_of(conn, where, sizeof where);
    scrub(msg, sizeof msg, or_default(detail, "no detail from libpq"),
          cfg->password);
    return lk_error_set(err, status, "pg %s: %s: %s", where, what, msg);
}

/* ---- connecting ------------------------------------------------------------------ */

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

lk_status pg_connect(const pg_config *cfg, PGconn **out, lk_error *err)
{
    /* Later keywords win over the expanded conninfo: the user's own
     * connect_timeout (earlier) does not. TCP keepalives notice a peer
     * that vanished without a word. */
    const char *keys[] = {"connect_timeout", "keepalives", "keepalives_idle",
                          "keepalives_interval", "keepalives_count",
                          "dbname", "fallback_application_name", NULL};
    const char *vals[] = {cfg->connect_timeout, "1", "5", "2", "3",
                          cfg->conninfo, "listenkit", NULL};
    *out = NULL;
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (conn == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "pg: out of memory");
    if (PQstatus(conn) != CONNECTION_OK) {
        lk_status s = conn_error(cfg, conn, LK_ERR_IO, "cannot connect",
                                 PQerrorMessage(conn), err);
        PQfinish(conn);
        return s;
    }
    /* No NOTICE lines on stderr ("relation already exists, skipping"). */
    PQsetNoticeProcessor(conn, ignore_notice, NULL);
    lk_status s = pg_run(cfg, conn, cfg->statement_timeout, NULL, NULL, err);
    if (s != LK_OK) {
        PQfinish(conn);
        return s;
    }
    *out = conn;
    return LK_OK;
}

/* ---- statements ------------------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until the socket is ready for `events` or the deadline passes:
 * 1 ready, 0 timed out, -1 failed. */
static int wait_socket(PGconn *conn, short events, int64_t deadline)
{
    struct pollfd pfd = {.fd = PQsocket(conn), .events = events};
    if (pfd.fd < 0)
        return -1;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        int r = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
        if (r > 0)
            return 1;
        if (r == 0)
            continue; /* re-read the clock */
        if (errno != EINTR)
            return -1;
    }
}

static lk_status result_error(const pg_config *cfg, PGconn *conn,
                              const PGresult *r, pg_fail *fail, lk_error *err)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
    char what[64];
    lk_status status = LK_ERR_IO;
    state = or_default(state, "?????");
    if (fail != NULL) {
        snprintf(fail->sqlstate, sizeof fail->sqlstate, "%s", state);
        snprintf(fail->constraint, sizeof fail->constraint, "%s",
                 or_default(constraint, ""));
    }
    if (strcmp(state, "23505") == 0)
        status = LK_ERR_DUPLICATE;
    else if (strcmp(state, "57014") == 0)
        status = LK_ERR_TIMEOUT; /* canceled: the statement timeout */
    snprintf(what, sizeof what, "statement failed (SQLSTATE %s)", state);
    return conn_error(cfg, conn, status, what,
                      primary != NULL ? primary : PQresultErrorMessage(r),
                      err);
}

lk_status pg_exec(const pg_config *cfg, PGconn *conn, const char *sql,
                  const pg_params *params, PGresult **out, pg_fail *fail,
                  lk_error *err)
{
    static const pg_params none;
    int64_t deadline = now_ms() + cfg->deadline_ms;
    PGresult *first = NULL;
    int flushed;

    *out = NULL;
    if (params == NULL)
        params = &none;
    /* -1: could not send; 1: more to send once the socket takes it */
    flushed = PQsendQueryParams(conn, sql, params->n, NULL, params->values,
                                params->lengths, params->formats, 1)
                  ? PQflush(conn)
                  : -1;
    while (flushed != 0) {
        int w = flushed > 0 ? wait_socket(conn, POLLOUT | POLLIN, deadline)
                            : -1;
        if (w <= 0 || !PQconsumeInput(conn))
            return conn_error(cfg, conn, w == 0 ? LK_ERR_TIMEOUT : LK_ERR_IO,
                              "cannot send", PQerrorMessage(conn), err);
        flushed = PQflush(conn);
    }
    for (;;) {
        while (!PQisBusy(conn)) {
            PGresult *r = PQgetResult(conn);
            if (r == NULL)
                goto done;
            if (first == NULL)
                first = r; /* one statement: one result (or its error) */
            else
                PQclear(r);
        }
        int w = wait_socket(conn, POLLIN, deadline);
        if (w == 0) {
            PQclear(first);
            return conn_error(cfg, conn, LK_ERR_TIMEOUT,
                              "no answer in time",
                              "the server did not answer within the "
                              "statement timeout",
                              err);
        }
        if (w < 0 || !PQconsumeInput(conn)) {
            PQclear(first);
            return conn_error(cfg, conn, LK_ERR_IO, "connection lost",
                              PQerrorMessage(conn), err);
        }
    }
done:
    if (first == NULL)
        return conn_error(cfg, conn, LK_ERR_IO, "no result",
                          PQerrorMessage(conn), err);
    ExecStatusType st = PQresultStatus(first);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        lk_status s = result_error(cfg, conn, first, fail, err);
        PQclear(first);
        return s;
    }
    *out = first;
    return LK_OK;
}

lk_status pg_run(const pg_config *cfg, PGconn *conn, const char *sql,
                 const pg_params *params, pg_fail *fail, lk_error *err)
{
    PGresult *r = NULL;
    lk_status s = pg_exec(cfg, conn, sql, params, &r, fail, err);
    PQclear(r);
    return s;
}

int64_t pg_int8_at(const PGresult *r, int row, int col)
{
    const uint8_t *p = (const uint8_t *)PQgetvalue(r, row, col);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return (int64_t)v;
}
