/* SPDX-License-Identifier: MIT */
/*
 * nats_private.h — what the files of the JetStream adapter share.
 *
 *   nats_bus.c        connect, options, publish, drain, free, the ops table
 *   nats_stream.c     make sure the stream captures a subject
 *   nats_subscribe.c  durable/ephemeral subscriptions, lk_msg deliveries
 *   nats_consumer.c   the durable consumer behind one: made or checked,
 *                     with bounded retries
 *   nats_batch.c      asynchronous publishing (lk_batch)
 *   nats_meta.c       a delivery's JetStream metadata, from its reply
 *   nats_status.c     natsStatus -> lk_status with the library's text
 *
 * Not installed; users see listenkit/nats.h only.
 */
#ifndef LISTENKIT_NATS_PRIVATE_H
#define LISTENKIT_NATS_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "listenkit/bus.h"
#include "listenkit/error.h"
#include "listenkit/nats.h"

typedef struct lk_nats_bus lk_nats_bus;

/* A subject the stream was seen to capture, and when (lk_nats_now_ms). */
typedef struct lk_nats_captured {
    char *subject;
    int64_t checked_ms;
} lk_nats_captured;

/* One lk_bus_subscribe: the closure libnats hands to every delivery. */
typedef struct lk_nats_sub {
    lk_nats_bus *bus;
    natsSubscription *sub;
    lk_msg_handler handler;
    void *closure;
    char *subject;
    bool complete; /* libnats' on-complete ran: the handler never runs
                      again (guarded by the bus's mu, signalled on cond) */
} lk_nats_sub;

/* Life of the connection, in order. */
typedef enum lk_nats_state {
    LK_NATS_OPEN,     /* publish and subscribe work */
    LK_NATS_DRAINING, /* drain started: new calls get LK_ERR_CLOSED */
    LK_NATS_DRAINED   /* the connection is closed */
} lk_nats_state;

struct lk_nats_bus {
    lk_bus base; /* first: an lk_bus * is an lk_nats_bus * */
    natsConnection *nc;
    jsCtx *js;
    char *url;
    char *stream;
    int64_t publish_timeout_ms;
    int64_t drain_timeout_ms;
    /* lifecycle (nats_reconnect.c) */
    int64_t reconnect_wait_ms, reconnect_max_wait_ms, connect_wait_ms;
    void (*on_closed)(void *closure);
    void *on_closed_closure;
    void (*on_reconnected)(void *closure);
    void *on_reconnected_closure;

    /* `mu` guards state, closed, subs and each sub's `complete`; `cond`
     * signals closed and complete. */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    lk_nats_state state;
    bool closed; /* libnats' closed callback ran: no callback follows */
    lk_nats_sub **subs;
    size_t n_subs, cap_subs;

    /* `stream_mu` guards the cache of subjects known to be captured (saves
     * a round trip per call) and the single-flight check: `checking` while
     * one thread asks the server (it alone then touches limits_checked),
     * `stream_cond` signalled when it is done, its subject and outcome
     * kept for the threads that waited for it (nats_stream.c). */
    pthread_mutex_t stream_mu;
    pthread_cond_t stream_cond;
    bool checking;
    uint64_t checks_done;
    char *check_subject;
    lk_error check_error;
    lk_nats_stream_limits limits; /* resolved: what the stream must have */
    bool limits_checked;          /* the stream was seen with them */
    lk_nats_captured *subjects;
    size_t n_subjects, cap_subjects;
    /* Durable consumers this bus made or checked (nats_consumer.c); also
     * guarded by stream_mu. */
    struct lk_nats_known *known;
};

/* The delay before reconnect or connect round `attempt` (1, 2, ...):
 * first_ms doubled per round, capped at max_ms. */
int64_t lk_nats_backoff_ms(int attempt, int64_t first_ms, int64_t max_ms);

/* Copies the lifecycle options into `b` (defaults filled in) and sets the
 * reconnect policy on `no`: attempts (forever by default) and the growing
 * delay (nats_reconnect.c). */
lk_status lk_nats_reconnect_options(lk_nats_bus *b, natsOptions *no,
                                    const lk_nats_opts *o, lk_error *err);

/* natsConnection_Connect, tried again with the backoff while no server
 * answers, until b->connect_wait_ms passed (0: once). */
natsStatus lk_nats_connect_waiting(lk_nats_bus *b, natsOptions *no);

/* True when some entry of the (comma-separated) URL is tls://. */
bool lk_nats_url_wants_tls(const char *url);

/* Sets TLS on `no` when the URL or an option asks for it: required then,
 * never a plaintext fallback; CA, client certificate and key loaded
 * (nats_tls.c). */
lk_status lk_nats_tls_options(natsOptions *no, const char *url,
                              const lk_nats_opts *o, lk_error *err);

/* Fills `err` for a failed connect to `url`, saying plainly when TLS was
 * the reason (wanted but not offered, or required by the server). */
lk_status lk_nats_tls_error(lk_error *err, natsStatus s, const char *url);

/* Maps a libnats status to an lk_status. */
lk_status lk_nats_status_map(natsStatus s);

/* Fills `err` with the mapped status and "<context>: <libnats text>", the
 * text including the library's last error detail when it has one and, for
 * JetStream API errors, the JetStream error code. Returns the status. */
lk_status lk_nats_error(lk_error *err, natsStatus s, jsErrCode jerr,
                        const char *fmt, ...) LK_PRINTF(4, 5);

/* Makes sure b->stream exists and captures `subject` (see nats_stream.c).
 * `forget`: the server just said no stream listens there; check again
 * unless a check ended since (a re-check waits at most 1 s for each answer,
 * and its timeout, LK_ERR_TIMEOUT, keeps the cached answer: the stream may
 * be electing a leader). Thread-safe; one check at a time per bus, shared
 * by the threads that need the same subject meanwhile. */
lk_status lk_nats_stream_ensure(lk_nats_bus *b, const char *subject,
                                bool forget, lk_error *err);

/* The same with the time of the failure: a check that ended at or after
 * `failed_ms` (lk_nats_now_ms time) counts; -1: any cached answer does. */
lk_status lk_nats_stream_check(lk_nats_bus *b, const char *subject,
                               int64_t failed_ms, lk_error *err);

/* Frees the subject cache. */
void lk_nats_stream_cache_free(lk_nats_bus *b);

/* LK_ERR_INVALID naming the field when `l` holds a value other than 0,
 * -1 or a positive one, or an unknown discard policy. */
lk_status lk_nats_limits_check(const lk_nats_stream_limits *l, lk_error *err);

/* `l` with the defaults filled in (what the stream gets). */
lk_nats_stream_limits lk_nats_limits_resolve(const lk_nats_stream_limits *l);

/* ---- durable consumers (nats_consumer.c) ---- */

/* How often a member tries to read, create and bind to its durable while
 * JetStream answers with a timeout, no responders, "not available yet" or
 * the create race, and the pause before the next try (doubling). Each try
 * waits up to the JetStream request timeout (5 s by default). */
#define LK_NATS_JOIN_ATTEMPTS 5
#define LK_NATS_JOIN_FIRST_PAUSE_MS 100
#define LK_NATS_JOIN_MAX_PAUSE_MS 1000

/* <base>_<subject, other than [A-Za-z0-9_-] as '_'>_<hash of subject>:
 * valid as a JetStream name, readable in `nats consumer ls`, and distinct
 * for subjects that differ only in the replaced characters. Malloc'd;
 * NULL when out of memory. */
char *lk_nats_consumer_name(const char *base, const char *subject);

/* The consumer settings `opts` asks for on `subject` (defaults filled
 * in); cc->FilterSubject borrows `subject`. */
void lk_nats_consumer_config(jsConsumerConfig *cc, const char *subject,
                             const lk_subscribe_opts *opts);

/* True for an answer that waiting may change: a timeout, no responders,
 * JetStream (cluster) not available or without a leader yet. */
bool lk_nats_join_transient(natsStatus s, jsErrCode jerr);

/* One try of something worth repeating: sets *again when its failure is
 * transient. */
typedef lk_status (*lk_nats_attempt_fn)(void *ctx, bool *again,
                                        lk_error *err);

/* Calls `attempt` until it succeeds, fails for good (*again not set) or
 * failed `attempts` times, pausing lk_nats_backoff_ms(i, first_ms, max_ms)
 * after try i. The last failure's status and message are returned, the
 * message ending in "(gave up after N attempts)" when the bound ended it. */
lk_status lk_nats_retry(int attempts, int64_t first_ms, int64_t max_ms,
                        lk_nats_attempt_fn attempt, void *ctx, lk_error *err);

/* Reads the durable consumer `name` on b->stream and checks that it has
 * the queue group and settings `opts` asks for, or creates it. *again is
 * set when the failure is worth another try (see lk_nats_retry). */
lk_status lk_nats_consumer_ensure(lk_nats_bus *b, const char *name,
                                  const char *subject,
                                  const lk_subscribe_opts *opts, bool *again,
                                  lk_error *err);

/* Whether this bus already made or checked `name` with these settings
 * (then a member binds without asking the server again); remember it
 * after a bind, forget it when the server no longer has it. Thread-safe;
 * free once no subscribe runs. */
bool lk_nats_consumer_known(lk_nats_bus *b, const char *name,
                            const char *subject, const lk_subscribe_opts *opts);
void lk_nats_consumer_remember(lk_nats_bus *b, const char *name,
                               const char *subject,
                               const lk_subscribe_opts *opts);
void lk_nats_consumer_forget(lk_nats_bus *b, const char *name);
void lk_nats_consumers_free(lk_nats_bus *b);

/* The subscribe op (nats_subscribe.c). */
lk_status lk_nats_subscribe(lk_bus *bus, const char *subject,
                            const lk_subscribe_opts *opts,
                            lk_msg_handler handler, void *closure,
                            lk_error *err);

/* Milliseconds on the monotonic clock: drain deadlines. */
int64_t lk_nats_now_ms(void);

/* Drains every subscription: no new deliveries, handlers finish what is
 * already queued, ephemeral consumers are deleted; all of it by
 * `deadline_ms` (lk_nats_now_ms time). False when some handler did not
 * finish in time. */
bool lk_nats_subs_drain(lk_nats_bus *b, int64_t deadline_ms);

/* Waits until no handler of `b` can run any more (every subscription's
 * on-complete ran: after its close, once its handler returned), but not
 * past `deadline_ms`; a negative deadline waits as long as it takes.
 * True when none can run. Call only once the subscriptions are closed
 * (drained, or the connection closed). */
bool lk_nats_subs_wait_complete(lk_nats_bus *b, int64_t deadline_ms);

/* Releases the subscriptions once the connection closed; first waits,
 * without bound, until no handler runs (lk_bus_free's promise). */
void lk_nats_subs_free(lk_nats_bus *b);

/* LK_OK when the bus can publish now: not drained, connected; otherwise
 * LK_ERR_CLOSED or LK_ERR_IO ("nothing was sent") naming `subject`. */
lk_status lk_nats_check_open(lk_nats_bus *b, const char *subject,
                             lk_error *err);

/* What an lk_msg needs of a delivery's JetStream metadata. */
typedef struct lk_nats_meta {
    uint64_t stream_seq;
    uint64_t delivered;
    int64_t timestamp_ns;
} lk_nats_meta;

/* Reads it from the reply subject of a JetStream delivery ("$JS.ACK...",
 * both of its shapes) without allocating; false when `reply` is not one
 * (NULL, another prefix, a token count or a number that does not fit). */
bool lk_nats_ack_meta(const char *reply, lk_nats_meta *meta);

/* The batch_new op (nats_batch.c). */
lk_status lk_nats_batch_new(lk_bus *bus, const lk_batch_opts *opts,
                            lk_batch **out, lk_error *err);


#endif /* LISTENKIT_NATS_PRIVATE_H */
