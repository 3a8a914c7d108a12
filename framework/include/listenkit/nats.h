/* SPDX-License-Identifier: MIT */
/*
 * listenkit/nats.h — the NATS JetStream adapter: an lk_bus on a real server.
 *
 * Built as its own library (liblistenkit-nats, links libnats), so users of
 * the core and the doubles never link libnats. Not included by listenkit.h.
 *
 *     lk_bus *bus = NULL;
 *     lk_nats_opts opts = { .stream = "ticketing" };
 *     if (lk_nats_bus_connect(&bus, NULL, &opts, &err) != LK_OK) ...
 *     ...lk_listener_init(&l, &def, bus, ctx, &err); lk_listener_listen(...)
 *     lk_bus_free(bus);   // drains, then closes
 *
 * Streams: the adapter makes sure a stream named opts.stream exists and
 * captures every subject this bus publishes or subscribes to (it adds
 * subjects to the stream's configuration as they are first used; the stream
 * is created, with file storage, on the first one). A subject another
 * stream already captures is an error naming both. The stream is bounded
 * by opts.stream_limits (max age, max bytes, discard policy; defaults and
 * why below, at lk_nats_stream_limits).
 *
 * Publishing: lk_bus_publish returns once the server acknowledged storing
 * the message (js_Publish). opts->msg_id becomes Nats-Msg-Id: a repeat
 * within the stream's duplicate window (2 minutes by default) is accepted
 * and not stored again. While the connection is down (reconnecting),
 * publish returns LK_ERR_IO at once, nothing sent; a connection lost while
 * waiting for the acknowledgement gives LK_ERR_IO too; no acknowledgement
 * within publish_timeout_ms gives LK_ERR_TIMEOUT. When no stream listens on
 * the subject ("no responders": the stream was deleted, or a cluster is
 * electing the stream's leader), the bus makes sure of the stream again
 * (one check at a time, shared by the bus's threads) and retries with the
 * same msg_id after short pauses (25 ms doubled, up to 400 ms) until the
 * timeout; then LK_ERR_IO, "no stream answered". So a publish never blocks
 * longer than publish_timeout_ms (plus one stream check), and an election
 * costs it about the election's length.
 *
 * Asynchronous publishing (lk_batch_new, listenkit/batch.h): each batch
 * has a JetStream context of its own and publishes with
 * js_PublishMsgAsync, at most max_in_flight unacknowledged (publish waits
 * up to publish_timeout_ms for room, then LK_ERR_TIMEOUT, not sent).
 * Acknowledgements arrive on a libnats thread and are collected in the
 * batch; lk_batch_wait (default: publish_timeout_ms) fails what is still
 * unacknowledged at its deadline (LK_ERR_TIMEOUT) or as soon as the
 * connection is down (LK_ERR_IO). A subject no stream captures any more
 * fails (LK_ERR_IO, "no stream captures the subject") and the batch makes
 * sure of the stream again, so publishing it again works. msg_id is
 * Nats-Msg-Id, as above.
 *
 * Subscribing: a push consumer with explicit (manual) acks, AckWait =
 * ack_wait_ms, MaxDeliver = max_deliver (0: unlimited), deliver policy all
 * (deliver_all) or new, filtered on the subject.
 *   - With a queue group or a durable name it is durable. The JetStream
 *     consumer is named "<durable_name or queue group>_<subject with
 *     characters outside [A-Za-z0-9_-] as '_'>_<8 hex digits of a hash of
 *     the subject>", one per subject, with the queue group as deliver
 *     group. The adapter creates it itself (not libnats), so it survives
 *     every subscriber's drain and keeps its position across restarts: a
 *     restarted service resumes where its group left off; deliver_all and
 *     the other settings of the first subscriber stay. A member asking for
 *     another ack wait, max deliver or max ack pending, or another queue
 *     group, is refused with LK_ERR_INVALID; so is a second subscriber on a durable without a
 *     queue group (share a durable through a queue group). Queue groups
 *     and durable names must be valid JetStream names (lk_bus_subscribe
 *     refuses others with LK_ERR_INVALID for every bus) (no spaces, '.',
 *     '*', '>', '/' or '\\'); a durable name does not excuse the group.
 *   - With neither it is ephemeral: deleted when the bus drains.
 *   - Wildcard subjects ("orders.*", "orders.>") are refused with
 *     LK_ERR_UNSUPPORTED naming the subject, before the stream or a
 *     consumer is touched: consumer names and stream subjects are made
 *     per literal subject. Subscribe to each subject instead.
 *   - JetStream delivers at most max_ack_pending (0: 1000, the server's
 *     default) un-acked messages per consumer at a time (MaxAckPending);
 *     more wait until acks, terms or max deliver free room.
 * A delivery is an lk_msg with the subject, the data (NUL-terminated), the
 * stream sequence and delivery count from the JetStream metadata, and the
 * publish time (wall clock, ms since the epoch). ack/nak/nak(delay)/term/
 * in_progress map to natsMsg_Ack/Nak/NakWithDelay/Term/InProgress; acks
 * are sent without waiting for the server's confirmation. Only the first
 * of ack/nak/term counts; later ones return LK_OK and change nothing.
 *
 * Drain (lk_bus_drain, lk_bus_free): stops deliveries, lets handlers finish
 * what was already delivered, deletes ephemeral consumers, flushes,
 * closes; drain_timeout_ms bounds all of it together (not each
 * subscription). While the connection is down nothing can be drained: it
 * closes at once and a running handler gets the rest of the bound to
 * return. lk_bus_drain returns LK_OK once no handler runs any more, or
 * LK_ERR_TIMEOUT when one still runs at the bound (its replies then get
 * LK_ERR_CLOSED). lk_bus_free never returns while a handler runs: after a
 * timed-out drain it waits for the handler as long as it takes (logging
 * a warn line per drain_timeout_ms), so the caller may free what its
 * handlers use as soon as it returns. Safe twice; afterwards publish and
 * subscribe return LK_ERR_CLOSED. Never call it from a handler (it waits
 * for that very handler).
 *
 * Secrets: a password or token in the URL never shows in a log line or an
 * error text (lk_log and lk_error_set redact every URL; see redact.h).
 *
 * Connection events: disconnect and reconnect are logged at warn level
 * ("nats: disconnected from URL; reconnecting", "nats: reconnected to
 * URL"). A lost connection is retried forever by default, each round of
 * the server list after a delay that starts at reconnect_wait_ms and
 * doubles up to reconnect_max_wait_ms; reconnect_attempts > 0 bounds it.
 * A connection closed for good (the bound reached, or the server refused
 * it) is logged at error level, behaves as closed (LK_ERR_CLOSED), and
 * calls opts->on_closed once, from a libnats thread (a program's cue to
 * exit non-zero instead of running on, consuming nothing); a drain never
 * calls it. Each reconnect calls opts->on_reconnected (if set) from a
 * libnats thread, after the "reconnected" line.
 *
 * Start-up: with connect_wait_ms > 0, a connect that finds no server
 * (nothing listening, or no answer) is tried again with the same growing
 * delay, each try logged at warn, until connect_wait_ms passed; then it
 * fails as below. Refusals that a retry cannot change (bad credentials,
 * TLS) fail at once.
 *
 * Threads: handlers run on libnats' delivery threads, one per subscription,
 * so handlers of different subscriptions (and of different buses) run at
 * the same time. Publishing from a handler is safe. publish, subscribe and
 * lk_msg replies may be called from any thread; connect, drain and free
 * from one thread at a time, never from a handler. Whatever handlers share
 * (a store, your own counters) must be thread-safe; the memory store of
 * mocks/ is.
 *
 * libnats keeps process-wide state (threads, memory); a program ends with
 * lk_nats_library_close() after freeing every bus, for a clean exit and a
 * quiet leak checker.
 */
#ifndef LISTENKIT_NATS_H
#define LISTENKIT_NATS_H

#include <stdbool.h>
#include <stdint.h>

#include "listenkit/bus.h"
#include "listenkit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LK_NATS_DEFAULT_URL "nats://127.0.0.1:4222"
#define LK_NATS_DEFAULT_STREAM "LISTENKIT"

/*
 * Stream limits. JetStream keeps a message in a "limits" stream after it is
 * acked or termed, until a limit removes it; without limits (the adapter's
 * old stream) every event stays forever (121,120 messages, 115 MB after one
 * flood). The stream the adapter makes gets these, and a stream it finds
 * with other limits is updated to them (so give every bus on one stream the
 * same limits). Defaults, and why:
 *   - max age 7 days: longer than any consumer should lag (a weekend's
 *     outage), and how far back a new durable with deliver_all can read;
 *     dead letters (listenkit/retry.h) live in the stream too, so they can
 *     be replayed for that long;
 *   - max bytes 1 GiB: a flood costs at most that much disk (the server
 *     reserves it per stream, so the disk must hold it);
 *   - discard old: when full, the oldest messages go and publishing goes
 *     on; a consumer loses events only if it lags by the whole stream.
 *     LK_NATS_DISCARD_NEW keeps every stored event instead and makes a
 *     publish into a full stream fail (LK_ERR_IO, "maximum bytes
 *     exceeded"), which puts the choice with the publisher.
 * -1 lifts a limit (no max age / no max bytes).
 */
#define LK_NATS_DEFAULT_MAX_AGE_MS INT64_C(604800000) /* 7 days */
#define LK_NATS_DEFAULT_MAX_BYTES INT64_C(1073741824) /* 1 GiB */

typedef enum lk_nats_discard {
    LK_NATS_DISCARD_DEFAULT = 0, /* LK_NATS_DISCARD_OLD */
    LK_NATS_DISCARD_OLD,         /* full: drop the oldest messages */
    LK_NATS_DISCARD_NEW          /* full: refuse new publishes */
} lk_nats_discard;

typedef struct lk_nats_stream_limits {
    int64_t max_age_ms;      /* 0: LK_NATS_DEFAULT_MAX_AGE_MS; -1: none */
    int64_t max_bytes;       /* 0: LK_NATS_DEFAULT_MAX_BYTES; -1: none */
    lk_nats_discard discard; /* 0: LK_NATS_DISCARD_OLD */
} lk_nats_stream_limits;

typedef struct lk_nats_opts {
    const char *stream;          /* NULL: LK_NATS_DEFAULT_STREAM */
    const char *name;            /* connection name shown by the server */
    const char *user;            /* with password */
    const char *password;
    const char *token;
    const char *credentials_file;
    const char *tls_ca_file;     /* requires TLS, verifying with this CA */
    const char *tls_cert_file;   /* client certificate (PEM), with key */
    const char *tls_key_file;    /* its private key (PEM) */
    int reconnect_attempts;      /* per server; 0 or -1: forever (default) */
    int64_t reconnect_wait_ms;   /* first reconnect delay, doubling per
                                    round; 0: 250 */
    int64_t publish_timeout_ms;  /* wait for the publish ack; 0: 5000 */
    int64_t drain_timeout_ms;    /* bound on drain (handlers to finish);
                                    0: 30000; then the connection is closed */
    /* Lifecycle (see "Connection events" above). */
    int64_t reconnect_max_wait_ms; /* cap of the growing delay; 0: 5000 */
    int64_t connect_wait_ms;     /* start-up: keep trying this long while no
                                    server answers; 0: fail at once */
    void (*on_closed)(void *closure); /* closed for good (not by drain) */
    void *on_closed_closure;
    /* Reconnected after a loss (a libnats thread; keep it short): a cue to
     * retry at once what failed while the server was away (the program
     * kicks its outbox relay), instead of at its next backed-off try. */
    void (*on_reconnected)(void *closure);
    void *on_reconnected_closure;
    lk_nats_stream_limits stream_limits; /* {0}: the defaults above */
} lk_nats_opts;

/*
 * Connects to `url` (NULL: $NATS_URL, else LK_NATS_DEFAULT_URL; one or more
 * comma-separated nats://host:port or tls://host:port). TLS is required,
 * never a plaintext fallback, when an entry is tls:// or a TLS option is
 * set: a server that does not offer TLS is refused (LK_ERR_IO, "TLS
 * required ... refusing to connect in plaintext"). tls_cert_file and
 * tls_key_file present a client certificate (servers that verify
 * clients); they go together. Then it gets a JetStream
 * context and checks that JetStream answers. `opts` may be NULL. On
 * success *out is a new bus (release with lk_bus_free). On failure *out is
 * NULL and `err` carries the NATS status text:
 *   LK_ERR_INVALID  bad URL or option (named in the message), unreadable
 *                   credentials, CA, certificate or key file
 *   LK_ERR_IO       no server at the URL (named), authentication or TLS
 *                   failure, JetStream not enabled on the server
 *   LK_ERR_UNSUPPORTED  TLS asked of a libnats built without it
 */
lk_status lk_nats_bus_connect(lk_bus **out, const char *url,
                              const lk_nats_opts *opts, lk_error *err);

/* True when `bus` was made by lk_nats_bus_connect. */
bool lk_nats_bus_is_nats(const lk_bus *bus);

/* Releases libnats' process-wide state: stops its threads and frees its
 * memory, waiting up to 5 s for them. The last call of a program that used
 * the adapter, after every bus is freed; never from a handler. LK_OK, or
 * LK_ERR_TIMEOUT when libnats' threads did not stop in time. */
lk_status lk_nats_library_close(void);

/* True while `bus`'s connection is up: false while it reconnects after a
 * lost server, once it is closed (for good, drained or aborted), and for
 * NULL or a bus that is not the adapter's. A reading, not a promise: the
 * connection may drop right after. Any thread; what a health check asks. */
bool lk_nats_bus_is_connected(const lk_bus *bus);

/* For specs: crashes `bus` — closes its connection at once, without
 * draining its subscriptions or flushing (a killed process). Deliveries its
 * handlers never replied to come again after their ack wait to the other
 * members of their queue groups; publish and subscribe on it return
 * LK_ERR_CLOSED. A handler still running may reply, in vain (LK_ERR_CLOSED
 * or LK_ERR_IO). Release it with lk_bus_free as usual. LK_ERR_INVALID for a
 * bus that is not the adapter's, LK_ERR_CLOSED when it is drained or
 * aborted already. Not from a handler of `bus`. */
lk_status lk_nats_bus_abort(lk_bus *bus);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_NATS_H */
