/* SPDX-License-Identifier: MIT */
/* outbox_relay_spec.c — the relay pass (framework/src/outbox_relay.c):
 * pending events go out through one asynchronous batch, only the
 * acknowledged ones are marked sent, the failed ones stay pending with
 * their reason logged, and a document's events stay in order. On the memory
 * store and the fake NATS client, behind a spy bus that sees how the relay
 * publishes and can cut the connection in the middle of a pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_nats.h"
#include "listenkit.h"
#include "listenkit/batch.h"
#include "mem_store.h"
#include "note_outbox.h"
#include "spec_log.h"

enum { MAX_NOTES = 16 };

/* ---- the spy bus: counts how the relay publishes, cuts on request ---------- */

typedef struct spy {
    lk_bus base;
    lk_fake_nats *fake;
    size_t sync_publishes, batches, batch_publishes;
    size_t cut_after; /* > 0: the connection goes down after this many
                         batch publishes */
} spy;

typedef struct spy_batch {
    lk_batch base;
    lk_batch *inner;
    spy *spy;
    size_t failures_seen, acked_seen;
} spy_batch;

static lk_status sb_publish(lk_batch *batch, const char *subject,
                            const void *data, size_t len,
                            const lk_publish_opts *opts, lk_error *err)
{
    spy_batch *b = (spy_batch *)batch;
    if (b->spy->cut_after > 0 && b->spy->batch_publishes == b->spy->cut_after)
        lk_fake_nats_connection_down(b->spy->fake);
    b->spy->batch_publishes++;
    return lk_batch_publish(b->inner, subject, data, len, opts, err);
}

/* Hands the inner batch's outcomes on (indices agree: both count only the
 * messages they took). */
static lk_status sb_wait(lk_batch *batch, int64_t timeout_ms, lk_error *err)
{
    spy_batch *b = (spy_batch *)batch;
    (void)lk_batch_wait(b->inner, timeout_ms, err);
    lk_batch_note_acked(batch, lk_batch_acked(b->inner) - b->acked_seen);
    b->acked_seen = lk_batch_acked(b->inner);
    for (; b->failures_seen < lk_batch_failure_count(b->inner);
         b->failures_seen++) {
        const lk_batch_failure *f =
            lk_batch_failure_at(b->inner, b->failures_seen);
        lk_batch_note_failure(batch, f->index, f->subject, f->msg_id,
                              f->status, f->message);
    }
    return LK_OK;
}

static void sb_free(lk_batch *batch)
{
    spy_batch *b = (spy_batch *)batch;
    lk_batch_free(b->inner);
    lk_batch_release(batch);
    free(b);
}

static const lk_batch_ops spy_batch_ops = {sb_publish, sb_wait, sb_free};

static lk_status spy_batch_new(lk_bus *bus, const lk_batch_opts *opts,
                               lk_batch **out, lk_error *err)
{
    spy *sp = (spy *)bus;
    spy_batch *b = calloc(1, sizeof *b);
    assert_non_null(b);
    lk_status s = lk_batch_new(lk_fake_nats_bus(sp->fake), opts, &b->inner,
                               err);
    if (s != LK_OK) {
        free(b);
        return s;
    }
    lk_batch_init(&b->base, &spy_batch_ops);
    b->base.default_timeout_ms = b->inner->default_timeout_ms;
    b->spy = sp;
    sp->batches++;
    *out = &b->base;
    return LK_OK;
}

static lk_status spy_publish(lk_bus *bus, const char *subject,
                             const void *data, size_t len,
                             const lk_publish_opts *opts, lk_error *err)
{
    spy *sp = (spy *)bus;
    sp->sync_publishes++;
    return lk_bus_publish(lk_fake_nats_bus(sp->fake), subject, data, len, opts,
                          err);
}

static const lk_bus_ops spy_ops = {
    .name = "spy",
    .publish = spy_publish,
    .batch_new = spy_batch_new,
};

/* ---- fixture ------------------------------------------------------------------ */

typedef struct fixture {
    lk_store *store;
    lk_fake_nats *nats;
    spy spy;
    lk_collection *notes, *events;
    lk_outbox *ob;
    bson_t *doc[MAX_NOTES];    /* note i as last stored */
    int delivered[MAX_NOTES][4]; /* deliveries of note i, version v */
    int64_t order[MAX_NOTES][8]; /* versions of note i as delivered */
    size_t ordered[MAX_NOTES];
} fixture;

/* Notes are titled "n<i>": the consumer counts deliveries per note. */
static void on_note(lk_msg *msg, void *closure)
{
    fixture *f = closure;
    json_t *ev = json_loadb(msg->data, msg->length, 0, NULL);
    const char *title = lk_event_string(ev, "title");
    int64_t v = lk_event_int(ev, "version");
    int i = title != NULL ? atoi(title + 1) : -1;
    if (i >= 0 && i < MAX_NOTES && v >= 0 && v < 4) {
        f->delivered[i][v]++;
        if (f->ordered[i] < 8)
            f->order[i][f->ordered[i]++] = v;
    }
    json_decref(ev);
    lk_msg_ack(msg);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->store = lk_mem_store_new();
    f->nats = lk_fake_nats_new_broker(NULL);
    f->spy.base.ops = &spy_ops;
    f->spy.fake = f->nats;
    assert_int_equal(lk_store_collection(f->store, "notes", NULL, &f->notes,
                                         NULL),
                     LK_OK);
    assert_int_equal(lk_store_collection(f->store, LK_OUTBOX_COLLECTION, NULL,
                                         &f->events, NULL),
                     LK_OK);
    assert_int_equal(lk_outbox_new(f->store, &f->spy.base, NULL, &f->ob, NULL),
                     LK_OK);
    assert_int_equal(lk_outbox_watch(f->ob, f->notes, NULL), LK_OK);
    const lk_subscribe_opts so = {.queue_group = "readers",
                                  .deliver_all = true};
    assert_int_equal(lk_bus_subscribe(lk_fake_nats_bus(f->nats), "note:saved",
                                      &so, on_note, f, NULL),
                     LK_OK);
    spec_log_capture_start();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    spec_log_capture_stop();
    lk_outbox_free(f->ob);
    for (size_t i = 0; i < MAX_NOTES; i++)
        if (f->doc[i] != NULL)
            bson_destroy(f->doc[i]);
    lk_fake_nats_free(f->nats);
    lk_store_free(f->store);
    free(f);
    return 0;
}

static int64_t pending(fixture *f)
{
    int64_t n = -1;
    assert_int_equal(lk_outbox_pending(f->ob, &n, NULL), LK_OK);
    return n;
}

/* Note i, inserted (or saved again) while the bus refuses every publish:
 * its event stays pending for the relay. */
static void pending_note(fixture *f, size_t i)
{
    char title[32];
    bson_t *stored = NULL;
    snprintf(title, sizeof title, "n%zu", i);
    lk_fake_nats_fail_subject(f->nats, "note:saved", LK_ERR_IO);
    if (f->doc[i] == NULL) {
        bson_t *doc = BCON_NEW("title", BCON_UTF8(title));
        assert_int_equal(lk_outbox_insert(f->ob, f->notes, doc, &spec_note_ev,
                                          &stored, NULL),
                         LK_OK);
        bson_destroy(doc);
    } else {
        assert_int_equal(lk_outbox_save(f->ob, f->notes, f->doc[i],
                                        &spec_note_ev, &stored, NULL),
                         LK_OK);
        bson_destroy(f->doc[i]);
    }
    f->doc[i] = stored;
    lk_fake_nats_fail_subject(f->nats, "note:saved", LK_OK);
}

/* True when an entry of note i is still pending. */
static bool note_pending(fixture *f, size_t i)
{
    bson_oid_t id;
    int64_t n = 0;
    assert_int_equal(lk_bson_get_oid(f->doc[i], &id, NULL), LK_OK);
    bson_t *filter = BCON_NEW("docId", BCON_OID(&id));
    assert_int_equal(lk_collection_count(f->events, filter, &n, NULL), LK_OK);
    bson_destroy(filter);
    return n > 0;
}

static void reset_spy(fixture *f)
{
    f->spy.sync_publishes = f->spy.batches = f->spy.batch_publishes = 0;
}

/* ---- behaviours ---------------------------------------------------------------- */

static void test_a_pass_sends_every_pending_event_through_one_batch(
    void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < 6; i++)
        pending_note(f, i);
    assert_int_equal(pending(f), 6);
    reset_spy(f);

    size_t sent = 0;
    assert_int_equal(lk_outbox_relay(f->ob, &sent, NULL), LK_OK);
    assert_int_equal(sent, 6);
    assert_int_equal(pending(f), 0);
    assert_int_equal(f->spy.batches, 1);
    assert_int_equal(f->spy.batch_publishes, 6);
    assert_int_equal(f->spy.sync_publishes, 0); /* none waited alone */

    lk_fake_nats_run_until_idle(f->nats, 0);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(f->delivered[i][0], 1);
    /* An idle pass makes no batch at all. */
    assert_int_equal(lk_outbox_relay(f->ob, &sent, NULL), LK_OK);
    assert_int_equal(sent, 0);
    assert_int_equal(f->spy.batches, 1);
}

static void test_failures_in_the_middle_of_a_pass_leave_exactly_those_pending(
    void **state)
{
    fixture *f = *state;
    lk_error e;
    for (size_t i = 0; i < 6; i++)
        pending_note(f, i);
    /* The third and fourth publish of the pass fail. */
    lk_fake_nats_push_errors(f->nats, LK_FAKE_OP_PUBLISH, 2, LK_OK, 0);
    lk_fake_nats_push_errors(f->nats, LK_FAKE_OP_PUBLISH, 2, LK_ERR_IO, 0);

    size_t sent = 0;
    assert_int_equal(lk_outbox_relay(f->ob, &sent, &e), LK_ERR_IO);
    assert_int_equal(sent, 4);
    assert_int_equal(pending(f), 2);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(note_pending(f, i), i == 2 || i == 3);
    assert_non_null(strstr(e.message, "outbox: event "));
    assert_true(spec_log_contains("not sent, stays pending"));

    assert_int_equal(lk_outbox_relay(f->ob, &sent, NULL), LK_OK);
    assert_int_equal(sent, 2);
    assert_int_equal(pending(f), 0);
    lk_fake_nats_run_until_idle(f->nats, 0);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(f->delivered[i][0], 1); /* each once */
}

static void test_a_failed_event_holds_back_the_later_events_of_its_document(
    void **state)
{
    fixture *f = *state;
    pending_note(f, 0); /* note 0, version 0 */
    pending_note(f, 1);
    pending_note(f, 0); /* version 1 */
    pending_note(f, 0); /* version 2 */
    lk_fake_nats_push_errors(f->nats, LK_FAKE_OP_PUBLISH, 1, LK_ERR_IO, 0);

    size_t sent = 0;
    assert_int_equal(lk_outbox_relay(f->ob, &sent, NULL), LK_ERR_IO);
    assert_int_equal(sent, 1); /* note 1 only */
    assert_int_equal(pending(f), 3);
    assert_false(note_pending(f, 1));
    assert_true(spec_log_contains("2 later event(s) of their documents wait"));

    assert_int_equal(lk_outbox_relay(f->ob, &sent, NULL), LK_OK);
    assert_int_equal(sent, 3);
    lk_fake_nats_run_until_idle(f->nats, 0);
    assert_int_equal(f->ordered[0], 3);
    for (size_t k = 0; k < 3; k++)
        assert_int_equal(f->order[0][k], (int64_t)k); /* in version order */
}

static void test_a_disconnect_mid_pass_then_recovery_delivers_each_event_once(
    void **state)
{
    fixture *f = *state;
    lk_error e;
    for (size_t i = 0; i < 8; i++)
        pending_note(f, i);
    f->spy.cut_after = 3;

    size_t sent = 0;
    assert_int_equal(lk_outbox_relay(f->ob, &sent, &e), LK_ERR_IO);
    assert_true(sent <= 3);
    assert_int_equal(pending(f), 8 - (int64_t)sent);

    f->spy.cut_after = 0;
    lk_fake_nats_connection_up(f->nats);
    size_t more = 0;
    assert_int_equal(lk_outbox_relay(f->ob, &more, NULL), LK_OK);
    assert_int_equal(sent + more, 8);
    assert_int_equal(pending(f), 0);
    lk_fake_nats_run_until_idle(f->nats, 0);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(f->delivered[i][0], 1);
}

static void test_deferred_sends_leave_saves_to_one_batched_pass(void **state)
{
    fixture *f = *state;
    bson_t *stored = NULL;
    lk_outbox_defer_sends(f->ob, true);
    for (size_t i = 0; i < 5; i++) {
        char title[32];
        snprintf(title, sizeof title, "n%zu", i);
        bson_t *doc = BCON_NEW("title", BCON_UTF8(title));
        assert_int_equal(lk_outbox_insert(f->ob, f->notes, doc, &spec_note_ev,
                                          &stored, NULL),
                         LK_OK);
        bson_destroy(doc);
        f->doc[i] = stored;
    }
    pending_note(f, 0); /* a save of note 0 too: version 1 */
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
    assert_int_equal(f->spy.sync_publishes, 0);
    assert_int_equal(pending(f), 6);

    size_t sent = 0;
    assert_int_equal(lk_outbox_relay(f->ob, &sent, NULL), LK_OK);
    assert_int_equal(sent, 6);
    assert_int_equal(f->spy.batches, 1);
    assert_int_equal(f->spy.sync_publishes, 0);
    lk_fake_nats_run_until_idle(f->nats, 0);
    assert_int_equal(f->ordered[0], 2);
    assert_int_equal(f->order[0][0], 0); /* note 0's two events in order */
    assert_int_equal(f->order[0][1], 1);

    lk_outbox_defer_sends(f->ob, false); /* back to sending at once */
    size_t before = lk_fake_nats_published_count(f->nats);
    bson_t *doc = BCON_NEW("title", BCON_UTF8("n6"));
    assert_int_equal(lk_outbox_insert(f->ob, f->notes, doc, &spec_note_ev,
                                      &f->doc[6], NULL),
                     LK_OK);
    bson_destroy(doc);
    assert_int_equal(lk_fake_nats_published_count(f->nats), before + 1);
    assert_int_equal(pending(f), 0);
    lk_outbox_defer_sends(NULL, true);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_a_pass_sends_every_pending_event_through_one_batch),
        T(test_failures_in_the_middle_of_a_pass_leave_exactly_those_pending),
        T(test_a_failed_event_holds_back_the_later_events_of_its_document),
        T(test_a_disconnect_mid_pass_then_recovery_delivers_each_event_once),
        T(test_deferred_sends_leave_saves_to_one_batched_pass),
    };
#undef T
    return cmocka_run_group_tests_name("outbox_relay", tests, NULL, NULL);
}
