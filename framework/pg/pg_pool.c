/* SPDX-License-Identifier: MIT */
/* pg_pool.c — the connections a PostgreSQL store shares between threads:
 * at most `max` open, idle ones kept, a bounded wait when all are busy, and
 * a reset after a failure so the next call connects afresh. */
#include "pg_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

lk_status pg_pool_init(pg_pool *pool, const pg_config *cfg, int max,
                       lk_error *err)
{
    memset(pool, 0, sizeof *pool);
    pool->cfg = cfg;
    pool->max = max;
    pool->idle = lk_calloc((size_t)max, sizeof *pool->idle);
    if (pool->idle == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "pg: out of memory");
    /* Default attributes: glibc's mutex and condition inits cannot fail. */
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->freed, NULL);
    return LK_OK;
}

void pg_pool_destroy(pg_pool *pool)
{
    for (int i = 0; i < pool->n_idle; i++)
        PQfinish(pool->idle[i]);
    lk_free(pool->idle);
    pthread_cond_destroy(&pool->freed);
    pthread_mutex_destroy(&pool->lock);
}

static struct timespec deadline_after(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

lk_status pg_pool_take(pg_pool *pool, pg_lease *lease, lk_error *err)
{
    struct timespec until = deadline_after(pool->cfg->deadline_ms);
    bool timed_out = false;

    lease->conn = NULL;
    pthread_mutex_lock(&pool->lock);
    while (pool->n_idle == 0 && pool->open >= pool->max && !timed_out)
        timed_out = pthread_cond_timedwait(&pool->freed, &pool->lock,
                                           &until) == ETIMEDOUT;
    lease->generation = pool->generation;
    if (pool->n_idle > 0) {
        lease->conn = pool->idle[--pool->n_idle];
        pthread_mutex_unlock(&pool->lock);
        return LK_OK;
    }
    if (pool->open >= pool->max) {
        pthread_mutex_unlock(&pool->lock);
        return lk_error_set(err, LK_ERR_TIMEOUT,
                            "pg: all %d connections stayed busy for %lld ms",
                            pool->max, (long long)pool->cfg->deadline_ms);
    }
    pool->open++; /* ours: connect outside the lock */
    pthread_mutex_unlock(&pool->lock);

    lk_status s = pg_connect(pool->cfg, &lease->conn, err);
    if (s != LK_OK) {
        pthread_mutex_lock(&pool->lock);
        pool->open--;
        pthread_cond_signal(&pool->freed);
        pthread_mutex_unlock(&pool->lock);
    }
    return s;
}

void pg_pool_give(pg_pool *pool, pg_lease *lease, lk_status status)
{
    PGconn *conn = lease->conn;
    PGconn *drop[64];
    int n_drop = 0;
    if (conn == NULL)
        return;
    lease->conn = NULL;
    bool failed = status == LK_ERR_IO || status == LK_ERR_TIMEOUT;
    bool usable = !failed && PQstatus(conn) == CONNECTION_OK &&
                  PQtransactionStatus(conn) == PQTRANS_IDLE;

    pthread_mutex_lock(&pool->lock);
    if (failed) {
        /* The server likely went away: its other connections are dead
         * too, and would each fail one more call. */
        while (pool->n_idle > 0 && n_drop < 64) {
            drop[n_drop++] = pool->idle[--pool->n_idle];
            pool->open--;
        }
        pool->generation++;
    }
    if (usable && lease->generation == pool->generation &&
        pool->n_idle < pool->max) {
        pool->idle[pool->n_idle++] = conn;
        conn = NULL;
    } else {
        pool->open--;
    }
    pthread_cond_broadcast(&pool->freed);
    pthread_mutex_unlock(&pool->lock);

    PQfinish(conn);
    for (int i = 0; i < n_drop; i++)
        PQfinish(drop[i]);
}
