/* SPDX-License-Identifier: MIT */
/*
 * listenkit/outbox.h — the transactional outbox: a record and the event
 * that announces it saved as one atomic step, then relayed to the bus.
 *
 * Without it a command saves, then publishes; when the publish fails the
 * record has changed and no event ever says so, and the replicas wait
 * forever for that version. With it:
 *
 *     lk_outbox *ob = NULL;
 *     lk_outbox_new(store, bus, NULL, &ob, &err);
 *     lk_outbox_watch(ob, tickets, &err);        // collections with events
 *     const lk_outbox_event ev = {&ticket_updated, ticket_event, NULL};
 *     lk_outbox_save(ob, tickets, next, &ev, &stored, &err);
 *     ...
 *     lk_outbox_start(ob, &err);                 // the relay thread
 *     lk_outbox_free(ob);                        // stops it
 *
 * How it is stored, on any lk_store (no transaction needed):
 *   1. the event is built from the document as it will be stored (its _id
 *      and the version the save will give it), validated against its
 *      schema and encoded; an entry {_id: event id, collection, docId,
 *      docVersion, subject, data, at} goes into the collection
 *      LK_OUTBOX_COLLECTION of the same store;
 *   2. the document is saved (or inserted) with the event's id in its
 *      array field LK_OUTBOX_FIELD, next to the ids of earlier events of
 *      the document that are still pending. That one versioned save is the
 *      commit: an entry counts only while its document names it.
 *   3. the document's pending events are published at once, in order, with
 *      Nats-Msg-Id = the event id; each sent entry is deleted ("marked
 *      sent"). A failure there is logged and leaves the entry pending; the
 *      call still succeeds, since the record is saved.
 * The relay (lk_outbox_relay, and the thread of lk_outbox_start) goes
 * through the entries in insertion order: an entry its document names is
 * to be published; an entry its document does not name is an orphan (its
 * save lost a race or never happened: the document's version reached
 * docVersion without it, or opts.orphan_ms passed) and is deleted unsent;
 * any other entry waits (its save may be under way). What is to be
 * published goes out through one asynchronous batch (listenkit/batch.h),
 * not one round trip per event: in waves of one event per document, each
 * wave one lk_batch_wait. Only the events the server acknowledged are
 * deleted; a failed one stays pending, its reason logged, and so do the
 * later events of its document (they wait for it, so a document's events
 * reach the bus in order); the rest of the pass goes on.
 *
 * What a crash does at each step: before 2, nothing changed but a pending
 * entry, which the relay drops as an orphan; between 2 and 3, the event is
 * pending and the next relay (after a restart: lk_outbox_start runs one at
 * once) sends it; between a publish and the delete of its entry, the event
 * goes out again — the server's de-duplication (same Nats-Msg-Id within
 * its window) and the replicas' version checks absorb it. So every saved
 * version's event is published at least once, in order per document.
 *
 * A document keeps the ids of sent events in LK_OUTBOX_FIELD until its next
 * outbox save drops them; readers ignore the field. Ownership: store, bus
 * and watched collections are borrowed and must outlive the outbox.
 * Thread-safety: every call may come from any thread once lk_outbox_watch
 * calls are done (they are for start-up); the store and the bus must be
 * thread-safe themselves. Two relays (threads, processes) may send one
 * event twice, which de-duplication absorbs as above.
 */
#ifndef LISTENKIT_OUTBOX_H
#define LISTENKIT_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>
#include <jansson.h>

#include "listenkit/bus.h"
#include "listenkit/error.h"
#include "listenkit/event.h"
#include "listenkit/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LK_OUTBOX_COLLECTION "lk_outbox"
#define LK_OUTBOX_FIELD "_outbox"
/* Collections an outbox can relay for (lk_outbox_watch). */
#define LK_OUTBOX_MAX_WATCHED 8

typedef struct lk_outbox lk_outbox;

typedef struct lk_outbox_opts {
    int64_t orphan_ms;   /* an entry whose document does not name it is
                            dropped after this long; 0: 60000 */
    int64_t interval_ms; /* the relay thread's pass interval, and its first
                            retry delay after a failure (doubling up to
                            30 s); 0: 1000 */
} lk_outbox_opts;

/* Builds the event for `doc`, the document as it will be stored (borrowed,
 * with its _id and new version, without LK_OUTBOX_FIELD). *event is a new
 * reference. An error aborts the save. */
typedef lk_status (*lk_outbox_event_fn)(const bson_t *doc, void *ctx,
                                        json_t **event, lk_error *err);

typedef struct lk_outbox_event {
    const lk_schema *schema; /* the event's subject and schema */
    lk_outbox_event_fn build;
    void *ctx;               /* handed to build */
} lk_outbox_event;

/* Opens LK_OUTBOX_COLLECTION in `store`; events go out on `bus` (NULL: none
 * go out, they stay pending: for specs and tools that publish nothing).
 * `opts` may be NULL. *out is new (lk_outbox_free). */
lk_status lk_outbox_new(lk_store *store, lk_bus *bus,
                        const lk_outbox_opts *opts, lk_outbox **out,
                        lk_error *err);

/* Stops the relay thread if it runs, then frees. NULL is ignored. */
void lk_outbox_free(lk_outbox *ob);

/* Names a collection (of the outbox's store) whose documents carry events,
 * so the relay finds them by name, also after a restart. Watching one
 * twice is fine; more than LK_OUTBOX_MAX_WATCHED is LK_ERR_INVALID. Call it
 * before any other thread uses the outbox. */
lk_status lk_outbox_watch(lk_outbox *ob, lk_collection *coll, lk_error *err);

/*
 * lk_collection_insert / lk_collection_save of `doc` (borrowed) into
 * `coll` (watched), with the event `ev` built for it, as described above.
 * Errors before or from the store (an invalid event, a stale save:
 * LK_ERR_VERSION) change nothing and publish nothing. On LK_OK *out (if
 * not NULL) is the document as stored, LK_OUTBOX_FIELD included, and the
 * event was published or is pending.
 */
lk_status lk_outbox_insert(lk_outbox *ob, lk_collection *coll,
                           const bson_t *doc, const lk_outbox_event *ev,
                           bson_t **out, lk_error *err);
lk_status lk_outbox_save(lk_outbox *ob, lk_collection *coll,
                         const bson_t *doc, const lk_outbox_event *ev,
                         bson_t **out, lk_error *err);

/* One relay pass over the entries (see above; up to 1000 per pass).
 * *sent (if not NULL) counts the events acknowledged (and deleted). When
 * some failed, returns the first failure's status with `err` naming the
 * event and why; those events, and the later ones of their documents, stay
 * pending for the next pass, every other event went out. A publish the
 * batch refuses at once (the bus is drained or down) ends the pass there.
 * Republishing is safe: Nats-Msg-Id is the event id. */
lk_status lk_outbox_relay(lk_outbox *ob, size_t *sent, lk_error *err);

/* How many entries wait in the outbox (pending events and orphans not yet
 * dropped). */
lk_status lk_outbox_pending(lk_outbox *ob, int64_t *out, lk_error *err);

/* Starts the relay thread: one pass at once (what a crash left pending),
 * then one every opts.interval_ms, sooner after lk_outbox_kick; after a
 * failed timed pass the delay doubles up to 30 s (a kicked pass that fails
 * leaves it as it is; failures are logged at warn).
 * LK_ERR_STATE when it runs already. */
lk_status lk_outbox_start(lk_outbox *ob, lk_error *err);

/* Wakes the relay thread for a pass now (no-op when it does not run). */
void lk_outbox_kick(lk_outbox *ob);

/* With `on`, a save leaves its document's events pending instead of
 * publishing them at once (step 3 above), and kicks the relay thread if
 * it runs: for a caller that saves many documents in a row and then
 * relays them (lk_outbox_relay), one batch per pass instead of one round
 * trip per event. Order and crash safety are the relay's. Off by default;
 * call it while no save is under way. NULL is ignored. */
void lk_outbox_defer_sends(lk_outbox *ob, bool on);

/* Stops the relay thread (a pass under way finishes first). Safe when it
 * does not run; NULL is ignored. */
void lk_outbox_stop(lk_outbox *ob);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_OUTBOX_H */
