/* SPDX-License-Identifier: MIT */
/*
 * mocks/fake_nats.h — a fake NATS client: an lk_bus that records, and on
 * request behaves as a deterministic in-process JetStream broker.
 *
 * Recording mode (lk_fake_nats_new): publish succeeds and is kept — subject,
 * raw bytes, JSON parsed on first read — and nothing is delivered. Specs then read what a
 * service published, the C form of `publish.mock.calls[i][1]`:
 *
 *     lk_fake_nats *nats = lk_fake_nats_new();
 *     ...run the code under test with lk_fake_nats_bus(nats)...
 *     assert_int_equal(lk_fake_nats_published_count(nats), 1);
 *     assert_string_equal(lk_fake_nats_published_subject(nats, 0),
 *                         "ticket:updated");
 *     const json_t *ev = lk_fake_nats_published_json(nats, 0);
 *
 * Broker mode (lk_fake_nats_new_broker): the same recording, plus a stream
 * and consumers, keyed as the NATS adapter keys JetStream's. Each published
 * message is stored with a stream sequence. A subscription with a durable
 * name or a queue group binds to the durable consumer of (subject, durable
 * name, else queue group), made by the first such subscription: members of
 * one queue group share it and each delivery goes to exactly one of them,
 * while two durable names in one queue group are two consumers that each
 * get every message. A subscription with neither is a consumer of its own.
 * Delivery happens only inside lk_fake_nats_step / advance /
 * run_until_idle, on the caller's thread, so a handler that publishes never
 * re-enters another handler.
 *
 * Time is virtual (milliseconds, starting at 0); nothing sleeps. A delivery
 * that gets no reply is due again ack_wait later with delivery count + 1;
 * nak(delay) makes it due after `delay`; in_progress restarts the ack wait;
 * term, and reaching max deliver, move it to the dead-letter list with the
 * reason. Optional faults, all drawn from one seeded generator: reordering
 * (the next delivery is picked at random among the first `reorder_window`
 * due messages of a consumer) and duplicate delivery (with probability
 * `duplicate_rate` a delivered message stays due, as when an ack is lost).
 * The same seed, options and calls give the same trace, byte for byte.
 *
 * Replies. The lk_msg a handler gets is borrowed until the handler returns
 * (the broker frees it then), so every reply is made inside the handler.
 * The first ack, nak or term decides; later replies on the same delivery
 * (acking twice, nak after ack, in_progress after either) are harmless
 * no-ops that return LK_OK, are not counted in the stats, and appear in the
 * trace as "ignored". A negative nak delay counts as 0.
 *
 * Slow handlers. lk_fake_nats_advance() called from inside a handler only
 * moves the clock (nothing is delivered: handlers never re-enter), which is
 * how a spec makes a handler "work" for a while. If the ack wait runs out
 * while the handler works (and in_progress did not extend it), its reply
 * comes too late: it is ignored and the message is delivered again, as the
 * real server would already have done.
 *
 * Durables and queue groups. A member joining an existing durable shares
 * its position (deliver_all matters only to the first). Refused with
 * LK_ERR_INVALID, in this order and as the NATS adapter reports them: a
 * member whose queue group (or lack of one) is not the durable's; a member
 * asking for another ack wait, max deliver or max ack pending (JetStream
 * keeps the first
 * configuration); a second subscriber on a durable without queue group
 * (the server's "consumer is already bound"). A durable name or queue
 * group that JetStream cannot take as a name (empty, spaces, '.', '*',
 * '>', '/', '\') never reaches the fake: lk_bus_subscribe refuses it with
 * LK_ERR_INVALID, for every bus. Which member gets a delivery is drawn
 * from the seeded generator.
 *
 * Max ack pending. At most max_ack_pending (lk_subscribe_opts; 0 gives
 * LK_DEFAULT_MAX_ACK_PENDING, 1000, the server's default) messages of a
 * consumer are delivered and unsettled (not acked,
 * termed or dead-lettered; naks and expired ack waits settle nothing) at
 * once. Its new messages wait until an ack, a term or max deliver frees a
 * slot; redeliveries are never held back. lk_fake_nats_dump shows a
 * consumer at the limit. A publish over LK_FAKE_NATS_MAX_PAYLOAD (1 MiB)
 * is refused with LK_ERR_TOO_LARGE, as by the server.
 *
 * Duplicates are delivered at once with delivery count + 1 (and never
 * beyond max deliver), not after the ack wait as on the server (see below). Max deliver is checked when a delivery ends without
 * ack or term: the message then goes to the dead-letter list at once.
 *
 * What the fake does not model (spec/contract/bus_contract_spec.c runs
 * what it does model against a real nats-server too):
 *   - Wildcard subjects ("orders.*", "orders.>") in subscribe:
 *     LK_ERR_UNSUPPORTED naming the subject, as from the NATS adapter
 *     (the server itself would serve them). A malformed subject ("a..b",
 *     "a.>.b", "") never gets here: lk_bus_subscribe refuses it with
 *     LK_ERR_INVALID.
 *   - A de-duplication window: a msg_id is remembered for the whole run
 *     (the server forgets it after the stream's window, 2 minutes).
 *   - Real time and threads: the clock is virtual and moves only in
 *     step / advance / run_until_idle; handlers run one at a time on the
 *     caller's thread. On the server each subscription delivers on its own
 *     thread, so handlers of different subscriptions run at the same time.
 *   - Stream limits: one stream holds every subject and keeps every
 *     message for the whole run (no max messages, bytes or age, no
 *     retention or discard policies).
 *   - Restarts: a drained fake is closed for good (it is the server and the
 *     connection at once), so a service coming back to its durable's
 *     position cannot be played; an ephemeral consumer is not deleted at
 *     drain, it just stops.
 *   - Connection trouble: no disconnects, reconnects or publish timeouts
 *     unless scripted (lk_fake_nats_fail_next_publish / fail_subject, and
 *     the error stacks, connection down/up and crashes of "scripted
 *     faults" below); replies (ack, nak, term, in_progress) return LK_OK
 *     unless scripted. A crash is played at once; the real server notices
 *     a dead client only after missed pings, which changes nothing a
 *     consumer sees: redelivery still waits for the ack wait.
 *   - Asynchronous publishing (lk_batch): the fake has a batch of its
 *     own (see "Batches" below), deterministic where the server's is
 *     timing: acknowledgements come only inside lk_batch_wait, or when a
 *     publish needs room under max_in_flight, never "meanwhile".
 *   - Max payload counts the data only (the server adds headers such as
 *     the msg_id).
 *   - Order among due messages: (due time, stream sequence); the server
 *     sends waiting redeliveries before new messages.
 *   - Late replies: a reply made after the ack wait ran out is ignored and
 *     the message comes again; the server may still take a late ack.
 *   - Lost acks (duplicate_rate): the message is due again at once, at
 *     the same virtual time, and may go to another member of the queue
 *     group. On the server a lost ack is noticed only when the ack wait
 *     runs out, so the redelivery comes ack_wait later. Kept so on
 *     purpose (existing traces and scenario figures depend on it); a spec
 *     about redelivery timing should use a missing reply, not a duplicate.
 *   - Dead letters are the fake's own record: the server keeps a termed or
 *     max-delivered message in the stream and only sends an advisory.
 *     The dead letters a user reads and replays are the listeners' own
 *     (listenkit/retry.h): published on a dead-letter subject, the same
 *     on the fake and the server (a contract behaviour).
 *
 * Depends on listenkit's public headers and jansson only.
 */
#ifndef LISTENKIT_MOCKS_FAKE_NATS_H
#define LISTENKIT_MOCKS_FAKE_NATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "listenkit/bus.h"
#include "listenkit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lk_fake_nats lk_fake_nats;

/* JetStream's default max ack pending (nats-server 2.9), which the fake
 * applies to every consumer that asks for 0 (lk_subscribe_opts.
 * max_ack_pending): at most this many of its messages are delivered and
 * still unsettled (not acked, termed or dead-lettered; a nak or an ack
 * wait running out does not settle one). A message never delivered waits
 * while the consumer is at the limit; redeliveries are not held back. */
#define LK_FAKE_NATS_MAX_ACK_PENDING LK_DEFAULT_MAX_ACK_PENDING

/* nats-server's default max payload (1 MiB): a longer publish is refused
 * with LK_ERR_TOO_LARGE, as the NATS adapter reports it, and not recorded.
 * (The server counts headers too, such as a msg_id; the fake only data.) */
#define LK_FAKE_NATS_MAX_PAYLOAD (1024 * 1024)

/* What lk_batch_wait(batch, 0) on the fake waits, in virtual time, for
 * acknowledgements that are withheld (the adapter's publish timeout). */
#define LK_FAKE_NATS_PUBLISH_TIMEOUT_MS 5000

typedef struct lk_fake_broker_opts {
    uint64_t seed;          /* drives every random choice */
    size_t reorder_window;  /* 0 or 1: strict stream order per consumer */
    double duplicate_rate;  /* 0.0 .. 1.0 */
    bool trace;             /* keep a text trace (lk_fake_nats_trace) */
} lk_fake_broker_opts;

typedef struct lk_fake_subscription_info {
    const char *subject;
    const char *queue_group;  /* NULL when none */
    const char *durable_name; /* as given (NULL when none) */
    int64_t ack_wait_ms;      /* as in force (default applied) */
    int max_deliver;
    int max_ack_pending;      /* as in force (default applied) */
    bool deliver_all;
} lk_fake_subscription_info;

typedef struct lk_fake_dead_letter {
    const char *subject;
    const char *data;
    size_t length;
    uint64_t stream_seq;
    const char *queue_group; /* of the consumer it died in; NULL when none */
    const char *reason;      /* "terminated", "max deliver (5) reached" */
    const char *durable;     /* the consumer it died in: its durable name,
                                else queue group; NULL: an ephemeral one */
} lk_fake_dead_letter;

typedef struct lk_fake_nats_stats {
    uint64_t published;
    uint64_t delivered;   /* every handler call, redeliveries included */
    uint64_t redelivered; /* deliveries with delivery count > 1 */
    uint64_t duplicated;  /* injected duplicate deliveries */
    uint64_t acked;       /* acks that took effect: not lost, late or
                             repeated. At idle, acked + dead_lettered =
                             (message, consumer) pairs ever owed. */
    uint64_t naked;
    uint64_t termed;
    uint64_t dead_lettered;
    uint64_t pending;     /* (message, consumer) pairs still owed */
    uint64_t deduplicated; /* publishes dropped by msg_id de-duplication
                              (also counted in `published`) */
} lk_fake_nats_stats;

/* ---- life ---------------------------------------------------------------- */

/* Recording mode. NULL on OOM. */
lk_fake_nats *lk_fake_nats_new(void);

/* LK_OK when lk_fake_nats_new_broker would take `opts` (NULL is fine);
 * otherwise LK_ERR_INVALID with a message naming the option and its value
 * (duplicate_rate outside 0.0 .. 1.0, or NaN). Call it to learn why a
 * broker was not made, or before making one. */
lk_status lk_fake_broker_opts_check(const lk_fake_broker_opts *opts,
                                    lk_error *err);

/* Broker mode; `opts` may be NULL (seed 0, no faults). NULL on OOM or bad
 * options; for bad options it also logs lk_fake_broker_opts_check's message
 * at error level (lk_log), so the reason shows in the spec's output. */
lk_fake_nats *lk_fake_nats_new_broker(const lk_fake_broker_opts *opts);

/* NULL is ignored. Also what lk_bus_free() on its bus does. Not from inside
 * one of its handlers. */
void lk_fake_nats_free(lk_fake_nats *nats);

/* The lk_bus face (borrowed from `nats`). */
lk_bus *lk_fake_nats_bus(lk_fake_nats *nats);

/* The fake behind a bus, or NULL when `bus` is not a fake. */
lk_fake_nats *lk_fake_nats_from_bus(lk_bus *bus);

/* ---- what was published ---------------------------------------------------- */

size_t lk_fake_nats_published_count(const lk_fake_nats *nats);
/* Index out of range: NULL. */
const char *lk_fake_nats_published_subject(const lk_fake_nats *nats, size_t i);
/* The raw bytes (NUL-terminated; *len may be NULL). */
const char *lk_fake_nats_published_data(const lk_fake_nats *nats, size_t i,
                                        size_t *len);
/* Parsed data, borrowed (valid until lk_fake_nats_reset or free); NULL when
 * out of range or not JSON (any JSON value, not only objects). The data is
 * parsed on the first call for `i` and the result cached, so publishing
 * costs no parse; that first call writes the cache despite the const
 * handle, so do not make it from two threads at once. */
const json_t *lk_fake_nats_published_json(const lk_fake_nats *nats, size_t i);
/* Index of the first publish on `subject` at or after `from`; -1: none. */
long lk_fake_nats_find_published(const lk_fake_nats *nats,
                                 const char *subject, size_t from);
size_t lk_fake_nats_published_count_on(const lk_fake_nats *nats,
                                       const char *subject);
/* Forgets the records of published messages (not the broker's stream). */
void lk_fake_nats_reset(lk_fake_nats *nats);

/* Fails the running cmocka test, at the caller's line, unless publish #i
 * went to `subject` (NULL: any) and its JSON matches the printf-formatted
 * `fmt` in the fields that text lists (jest's toMatchObject: other fields
 * are ignored, at any depth; arrays match element by element; 2 matches
 * 2.0). fmt NULL checks the subject only. The failure names each differing
 * field and shows both sides:
 *     lk_fake_nats: publish #0 on "ticket:updated" differs in 1 listed field(s):
 *         field "version": expected 2, got 1
 *       expected (listed fields only): {"orderId":"5f1d...","version":2}
 *       actual:                        {"id":"...","orderId":"5f1d...",...}
 * cmocka-only (include <cmocka.h> first, as for strict mode). */
#define lk_fake_nats_assert_published(nats, i, subject, ...)                  \
    lk_fake_nats_assert_published_at(__FILE__, __LINE__, (nats), (i),         \
                                     (subject), __VA_ARGS__)
void lk_fake_nats_assert_published_at(const char *file, int line,
                                      const lk_fake_nats *nats, size_t i,
                                      const char *subject, const char *fmt,
                                      ...) LK_PRINTF(6, 7);

/* ---- fault injection ------------------------------------------------------- */

/* The next publish fails with `status` and is not recorded. */
void lk_fake_nats_fail_next_publish(lk_fake_nats *nats, lk_status status);
/* Every publish on `subject` fails with `status`; LK_OK lifts it. */
void lk_fake_nats_fail_subject(lk_fake_nats *nats, const char *subject,
                               lk_status status);

/* ---- subscriptions ----------------------------------------------------------- */

size_t lk_fake_nats_subscription_count(const lk_fake_nats *nats);
/* Index out of range: NULL. Borrowed. */
const lk_fake_subscription_info *
lk_fake_nats_subscription(const lk_fake_nats *nats, size_t i);
/* True when some subscription has this subject and queue group (NULL
 * queue group: one without). */
bool lk_fake_nats_has_subscription(const lk_fake_nats *nats,
                                   const char *subject,
                                   const char *queue_group);

/* ---- broker: time and delivery ------------------------------------------------ */

/* Virtual time in ms. */
int64_t lk_fake_nats_now(const lk_fake_nats *nats);

/* Delivers one due message, if any; returns true when it did. In recording
 * mode, after drain, and from inside a handler always false. */
bool lk_fake_nats_step(lk_fake_nats *nats);

/* Moves the clock forward by `ms` (>= 0), delivering everything that falls
 * due on the way, in time order. Returns the number of deliveries. From
 * inside a handler: only moves the clock and returns 0 (see Slow handlers). */
size_t lk_fake_nats_advance(lk_fake_nats *nats, int64_t ms);

/* Delivers, and jumps the clock to the next due time when nothing is due
 * now, until nothing is pending or `max_steps` deliveries were made (0: a
 * default bound of 10,000,000). Returns the deliveries made. */
size_t lk_fake_nats_run_until_idle(lk_fake_nats *nats, size_t max_steps);

/* ---- broker: outcome ---------------------------------------------------------- */

size_t lk_fake_nats_dead_letter_count(const lk_fake_nats *nats);
const lk_fake_dead_letter *lk_fake_nats_dead_letter(const lk_fake_nats *nats,
                                                    size_t i);
lk_fake_nats_stats lk_fake_nats_get_stats(const lk_fake_nats *nats);

/* The trace kept since creation when opts.trace was set ("" otherwise):
 * one line per publish, subscribe, delivery and reply, each starting with
 * the virtual time ("t=5000 deliver #3 ticket:updated to orders-service
 * member 2 delivery 2"). Borrowed; valid until the next call that delivers
 * or publishes. */
const char *lk_fake_nats_trace(const lk_fake_nats *nats);

/* Writes stats, pending messages and the last `last_lines` trace lines to
 * `out`: call it when a broker spec fails. */
void lk_fake_nats_dump(const lk_fake_nats *nats, FILE *out, size_t last_lines);

/* ---- scripted faults (librdkafka's mock cluster is the model) ------------------
 *
 * Error stacks. Every publish, ack, nak, term and in_progress first takes
 * the oldest entry of its operation's stack, if any, and:
 *   - lets `delay_ms` of virtual time pass inside the call (the clock moves,
 *     nothing is delivered meanwhile, as in a call that blocks), then
 *   - fails with `status` and changes nothing: a failed publish is neither
 *     stored nor recorded (no sequence taken); a failed reply leaves the
 *     delivery without one, so the message comes again after its ack wait.
 * An entry with LK_OK only delays: the call then goes on as usual (a slow
 * ack that may come after the ack wait, see Slow handlers).
 *
 *     lk_fake_nats_push_errors(nats, LK_FAKE_OP_ACK, 2, LK_ERR_IO, 0);
 *     // the next two acks return LK_ERR_IO and are not applied
 *
 * Connection down and up. While down (lk_fake_nats_connection_down),
 * publish and subscribe fail with LK_ERR_IO ("not connected"; nothing is
 * sent), replies fail with LK_ERR_IO and change nothing, and nothing is
 * delivered: step returns false, advance and run_until_idle only move the
 * clock (run_until_idle returns at once). Ack waits keep running, as on the
 * server. After lk_fake_nats_connection_up everything due is delivered,
 * each message once, its delivery count counting real deliveries only.
 * Down and up apply to every connection of the fake.
 *
 * Connections and crashes. lk_fake_nats_connect gives another connection
 * to the same broker (one more process of a service): an lk_bus of its own
 * whose subscriptions join the broker's consumers as members. A crash
 * (lk_fake_nats_abort, like lk_nats_bus_abort on the adapter) closes one
 * connection without draining: its members leave their consumers at once,
 * its calls (publish, subscribe, replies, also from a handler still
 * running) return LK_ERR_CLOSED, and what it was delivered and never
 * replied to comes again after the ack wait to the members that are left
 * (or waits, durable, until a member joins). Aborting the fake's own bus
 * does the same to the subscriptions made through it; the broker goes on
 * serving the other connections. lk_bus_free on a connection drains it
 * (its members leave; nothing is redelivered early); its memory goes with
 * the fake, so free every connection before lk_fake_nats_free, or not at
 * all. A connection never made by lk_fake_nats_connect and not the fake's
 * bus is not a connection of this fake: the calls below ignore it.
 *
 * Batches (lk_batch_new on the fake's bus or a connection). Each
 * lk_batch_publish stores the message at once, in publish order (it is
 * delivered like any other, and recorded), but its acknowledgement stays
 * in flight; lk_batch_wait settles every one, and a publish that finds
 * max_in_flight of them waiting settles those first. What a message's
 * outcome is:
 *   - acknowledged (a duplicate msg_id too, as on the server), unless:
 *   - the next entry of the publish error stack, or fail_subject, refused
 *     it: nothing stored, a failure with that status at the wait;
 *   - the connection went down after it was published (even if it is up
 *     again by the wait), or its connection crashed: LK_ERR_IO, "the connection was lost before the
 *     acknowledgement" — the broker did store it, as a server may have;
 *   - its acknowledgement is withheld (lk_fake_nats_withhold_publish_acks):
 *     the wait lasts its whole timeout in virtual time (0:
 *     LK_FAKE_NATS_PUBLISH_TIMEOUT_MS) and reports LK_ERR_TIMEOUT, "the
 *     server may still have stored it" — it did: republishing with the
 *     same msg_id is acknowledged and not stored again. A publish that
 *     finds max_in_flight withheld ones waiting is refused with
 *     LK_ERR_TIMEOUT after that timeout (the adapter's stall).
 * Refused at once by lk_batch_publish (not sent, no index), as by the
 * adapter: a drained fake or closed connection (LK_ERR_CLOSED), a
 * connection that is down (LK_ERR_IO, "nothing was sent"), an oversized
 * payload (LK_ERR_TOO_LARGE). lk_batch_new itself refuses a drained fake,
 * a closed connection and a connection that is down, and max_in_flight
 * over 65536 (LK_ERR_INVALID), as the adapter does.
 *
 *     lk_fake_nats_withhold_publish_acks(nats, 1);
 *     lk_batch_publish(batch, "ticket:updated", data, len, &po, &err);
 *     lk_batch_wait(batch, 0, &err);   // LK_ERR_TIMEOUT, and stored
 *
 * Request log. After lk_fake_nats_log_requests(nats, true) every operation
 * (lk_fake_op) is appended, with its virtual time, subject, stream
 * sequence, delivery count, consumer and the status it returned, until it
 * is turned off. Replies that change nothing (a second ack) are logged
 * with LK_OK like any other; failed calls with their status.
 */
typedef enum lk_fake_op {
    LK_FAKE_OP_PUBLISH,
    LK_FAKE_OP_ACK,
    LK_FAKE_OP_NAK,
    LK_FAKE_OP_TERM,
    LK_FAKE_OP_IN_PROGRESS,
    /* logged only (no error stack): */
    LK_FAKE_OP_SUBSCRIBE,
    LK_FAKE_OP_DELIVER,
    LK_FAKE_OP_DRAIN,
    LK_FAKE_OP_ABORT,
    LK_FAKE_OP_COUNT
} lk_fake_op;

/* "publish", "ack", ...; "?" for a value outside lk_fake_op. */
const char *lk_fake_op_name(lk_fake_op op);

typedef struct lk_fake_request {
    int64_t at_ms;           /* virtual time when the call returned */
    lk_fake_op op;
    const char *subject;     /* NULL for drain and abort */
    uint64_t stream_seq;     /* the stored message's; 0: none (a failed or
                                de-duplicated publish, subscribe, drain) */
    uint64_t delivery_count; /* deliveries and replies; 0 otherwise */
    const char *consumer;    /* deliveries and replies: the consumer's
                                trace name; subscribe: the durable name,
                                else the queue group (NULL: ephemeral);
                                NULL otherwise */
    lk_status status;        /* what the call returned */
} lk_fake_request;

/* Appends `count` entries (status, delay_ms >= 0) to the error stack of
 * `op` (publish, ack, nak, term or in_progress). LK_ERR_INVALID for another
 * op, a negative delay, a NULL fake; LK_ERR_NOMEM when out of memory (the
 * stack is then unchanged). */
lk_status lk_fake_nats_push_errors(lk_fake_nats *nats, lk_fake_op op,
                                   size_t count, lk_status status,
                                   int64_t delay_ms);
/* Entries still waiting on `op`'s stack (0 for ops without one). */
size_t lk_fake_nats_pending_errors(const lk_fake_nats *nats, lk_fake_op op);
/* Empties `op`'s stack. */
void lk_fake_nats_clear_errors(lk_fake_nats *nats, lk_fake_op op);

/* The acknowledgements of the next `count` publishes are withheld: each
 * message is stored, then lk_bus_publish returns LK_ERR_TIMEOUT, and in a
 * batch it fails with LK_ERR_TIMEOUT at lk_batch_wait (see Batches).
 * Counts add up. LK_ERR_INVALID for a NULL fake, LK_ERR_NOMEM. */
lk_status lk_fake_nats_withhold_publish_acks(lk_fake_nats *nats,
                                             size_t count);
/* Withheld acknowledgements still to come. */
size_t lk_fake_nats_pending_withheld_acks(const lk_fake_nats *nats);

/* The connection goes down / comes back (see above). Idempotent. */
void lk_fake_nats_connection_down(lk_fake_nats *nats);
void lk_fake_nats_connection_up(lk_fake_nats *nats);
bool lk_fake_nats_is_connected(const lk_fake_nats *nats);

/* Another connection to the broker of `nats`, borrowed from it (see
 * above); NULL on OOM or when `nats` is NULL or in recording mode. */
lk_bus *lk_fake_nats_connect(lk_fake_nats *nats);

/* Crashes `bus`: the fake's own bus or one of its connections (see above).
 * Returns how many members left their consumers. Safe twice (0). */
size_t lk_fake_nats_abort(lk_fake_nats *nats, lk_bus *bus);

/* Turns the request log on or off (it starts off and empty). */
void lk_fake_nats_log_requests(lk_fake_nats *nats, bool on);
size_t lk_fake_nats_request_count(const lk_fake_nats *nats);
/* Index out of range: NULL. Borrowed; valid until the fake is freed. */
const lk_fake_request *lk_fake_nats_request(const lk_fake_nats *nats,
                                            size_t i);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_MOCKS_FAKE_NATS_H */
