/* SPDX-License-Identifier: MIT */
/* outbox_faults_spec.c — the outbox (framework/src/outbox.c, outbox_relay.c)
 * when what it reads is wrong or memory runs out: entries it cannot send
 * are dropped with a logged reason instead of looping, entries of other
 * services are left alone, bad options are refused, and a pass that runs
 * out of memory at any allocation loses no event and leaks nothing. On the
 * memory store and the fake NATS broker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failing_alloc.h"
#include "fake_nats.h"
#include "listenkit.h"
#include "mem_store.h"
#include "note_outbox.h"
#include "spec_log.h"

enum { NOTES = 3 };

typedef struct fixture {
    lk_store *store;
    lk_fake_nats *nats;
    lk_collection *notes, *events;
    lk_outbox *ob;
    /* deliveries per note (title "n<i>") and version */
    int delivered[NOTES][4];
} fixture;

static void on_note(lk_msg *msg, void *closure)
{
    fixture *f = closure;
    json_t *ev = json_loadb(msg->data, msg->length, 0, NULL);
    const char *title = lk_event_string(ev, "title");
    int64_t v = lk_event_int(ev, "version");
    int i = title != NULL ? atoi(title + 1) : -1;
    if (i >= 0 && i < NOTES && v >= 0 && v < 4)
        f->delivered[i][v]++;
    json_decref(ev);
    lk_msg_ack(msg);
}

static fixture *fixture_new(void)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->store = lk_mem_store_new();
    f->nats = lk_fake_nats_new_broker(NULL);
    assert_non_null(f->store);
    assert_non_null(f->nats);
    assert_int_equal(lk_store_collection(f->store, "notes", NULL, &f->notes,
                                         NULL),
                     LK_OK);
    assert_int_equal(lk_store_collection(f->store, LK_OUTBOX_COLLECTION, NULL,
                                         &f->events, NULL),
                     LK_OK);
    assert_int_equal(lk_outbox_new(f->store, lk_fake_nats_bus(f->nats), NULL,
                                   &f->ob, NULL),
                     LK_OK);
    assert_int_equal(lk_outbox_watch(f->ob, f->notes, NULL), LK_OK);
    const lk_subscribe_opts so = {.queue_group = "readers",
                                  .deliver_all = true};
    assert_int_equal(lk_bus_subscribe(lk_fake_nats_bus(f->nats), "note:saved",
                                      &so, on_note, f, NULL),
                     LK_OK);
    return f;
}

static void fixture_free(fixture *f)
{
    lk_outbox_free(f->ob);
    lk_fake_nats_free(f->nats);
    lk_store_free(f->store);
    free(f);
}

static int setup(void **state)
{
    *state = fixture_new();
    spec_log_capture_start();
    return 0;
}

static int teardown(void **state)
{
    spec_log_capture_stop();
    fixture_free(*state);
    return 0;
}

static int64_t pending(fixture *f)
{
    int64_t n = -1;
    assert_int_equal(lk_outbox_pending(f->ob, &n, NULL), LK_OK);
    return n;
}

static int64_t entries_with_id(fixture *f, const bson_oid_t *id)
{
    int64_t n = -1;
    bson_t *filter = BCON_NEW("_id", BCON_OID(id));
    assert_int_equal(lk_collection_count(f->events, filter, &n, NULL), LK_OK);
    bson_destroy(filter);
    return n;
}

/* Inserts note i while the bus refuses it: its event stays pending.
 * Returns the note as stored (bson_destroy). */
static bson_t *pending_note(fixture *f, int i)
{
    char title[16];
    bson_t *stored = NULL;
    snprintf(title, sizeof title, "n%d", i);
    bson_t *doc = BCON_NEW("title", BCON_UTF8(title));
    lk_fake_nats_fail_subject(f->nats, "note:saved", LK_ERR_IO);
    assert_int_equal(
        lk_outbox_insert(f->ob, f->notes, doc, &spec_note_ev, &stored, NULL),
        LK_OK);
    lk_fake_nats_fail_subject(f->nats, "note:saved", LK_OK);
    bson_destroy(doc);
    return stored;
}

/* ---- entries it cannot send ------------------------------------------------------ */

static void
test_entries_it_cannot_read_are_dropped_and_foreign_ones_left_alone(
    void **state)
{
    fixture *f = *state;
    bson_t *note = pending_note(f, 0);
    bson_oid_t note_id, foreign, malformed;
    assert_int_equal(lk_bson_get_oid(note, &note_id, NULL), LK_OK);
    bson_oid_init(&foreign, NULL);
    bson_oid_init(&malformed, NULL);
    /* No collection: another service's entry, sharing the store. */
    bson_t *e1 = BCON_NEW("_id", BCON_OID(&foreign), "subject",
                          BCON_UTF8("other:thing"), "data", BCON_UTF8("{}"));
    /* Of a watched collection, but without its document's id. */
    bson_t *e2 = BCON_NEW("_id", BCON_OID(&malformed), "collection",
                          BCON_UTF8("notes"), "docVersion", BCON_INT64(0),
                          "subject", BCON_UTF8("note:saved"), "data",
                          BCON_UTF8("{}"));
    assert_int_equal(lk_collection_insert(f->events, e1, NULL, NULL), LK_OK);
    assert_int_equal(lk_collection_insert(f->events, e2, NULL, NULL), LK_OK);
    assert_int_equal(pending(f), 3);

    size_t sent = 0;
    assert_int_equal(lk_outbox_relay(f->ob, &sent, NULL), LK_OK);
    lk_fake_nats_run_until_idle(f->nats, 0);
    assert_int_equal(sent, 1);
    assert_int_equal(f->delivered[0][0], 1);
    assert_int_equal(entries_with_id(f, &foreign), 1);
    assert_int_equal(entries_with_id(f, &malformed), 0);
    char hex[25];
    lk_oid_format(&malformed, hex);
    assert_true(spec_log_contains(hex));
    assert_true(spec_log_contains("malformed; dropped"));
    assert_int_equal(lk_fake_nats_published_count(f->nats), 1);
    bson_destroy(e1);
    bson_destroy(e2);
    bson_destroy(note);
}

/* A document names an entry that lacks its subject: sending it can never
 * work, so the save leaves it (and its own event) to the relay, which drops
 * it with the reason and sends the event after it. */
static void test_an_entry_without_a_subject_is_dropped_not_retried_forever(
    void **state)
{
    fixture *f = *state;
    bson_t *note = pending_note(f, 1);
    assert_int_equal(lk_outbox_relay(f->ob, NULL, NULL), LK_OK);
    bson_oid_t note_id, bad;
    assert_int_equal(lk_bson_get_oid(note, &note_id, NULL), LK_OK);
    bson_oid_init(&bad, NULL);
    bson_t *entry = BCON_NEW("_id", BCON_OID(&bad), "collection",
                             BCON_UTF8("notes"), "docId", BCON_OID(&note_id),
                             "docVersion", BCON_INT64(1), "data",
                             BCON_UTF8("{}"));
    assert_int_equal(lk_collection_insert(f->events, entry, NULL, NULL), LK_OK);
    /* The note as a save that named the bad entry left it: version 1. */
    bson_t naming = BSON_INITIALIZER;
    bson_copy_to_excluding_noinit(note, &naming, LK_OUTBOX_FIELD, NULL);
    bson_t arr;
    BSON_APPEND_ARRAY_BEGIN(&naming, LK_OUTBOX_FIELD, &arr);
    BSON_APPEND_OID(&arr, "0", &bad);
    bson_append_array_end(&naming, &arr);
    bson_t *v1 = NULL;
    assert_int_equal(lk_collection_save(f->notes, &naming, &v1, NULL), LK_OK);

    bson_t *v2 = NULL;
    lk_error e;
    assert_int_equal(
        lk_outbox_save(f->ob, f->notes, v1, &spec_note_ev, &v2, &e), LK_OK);
    assert_true(spec_log_contains("not sent yet (the relay will)"));
    assert_true(spec_log_contains("lacks its subject or data"));
    assert_int_equal(pending(f), 2);

    size_t sent = 0;
    assert_int_equal(lk_outbox_relay(f->ob, &sent, NULL), LK_OK);
    lk_fake_nats_run_until_idle(f->nats, 0);
    assert_int_equal(sent, 1);
    assert_int_equal(entries_with_id(f, &bad), 0);
    assert_int_equal(pending(f), 0);
    assert_int_equal(f->delivered[1][0], 1);
    assert_int_equal(f->delivered[1][2], 1);
    char hex[25];
    lk_oid_format(&bad, hex);
    assert_true(spec_log_contains(hex));
    assert_true(spec_log_contains("; dropped"));
    bson_destroy(entry);
    bson_destroy(&naming);
    bson_destroy(v1);
    bson_destroy(v2);
    bson_destroy(note);
}

/* A field of that name that is no array names no event: the save goes on. */
static void test_a_document_whose_outbox_field_is_no_array_still_saves(
    void **state)
{
    fixture *f = *state;
    bson_t *note = pending_note(f, 2);
    assert_int_equal(lk_outbox_relay(f->ob, NULL, NULL), LK_OK);
    bson_t odd = BSON_INITIALIZER;
    bson_copy_to_excluding_noinit(note, &odd, LK_OUTBOX_FIELD, NULL);
    BSON_APPEND_UTF8(&odd, LK_OUTBOX_FIELD, "not an array");
    bson_t *stored = NULL;
    assert_int_equal(
        lk_outbox_save(f->ob, f->notes, &odd, &spec_note_ev, &stored, NULL),
        LK_OK);
    lk_fake_nats_run_until_idle(f->nats, 0);
    assert_int_equal(f->delivered[2][1], 1);
    assert_int_equal(pending(f), 0);
    bson_iter_t it;
    assert_true(bson_iter_init_find(&it, stored, LK_OUTBOX_FIELD));
    assert_true(BSON_ITER_HOLDS_ARRAY(&it));
    bson_destroy(stored);
    bson_destroy(&odd);
    bson_destroy(note);
}

/* ---- refused arguments ------------------------------------------------------------ */

static void test_a_save_without_the_version_is_invalid_and_names_the_collection(
    void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    bson_oid_init(&id, NULL);
    bson_t *doc = BCON_NEW("_id", BCON_OID(&id), "title", BCON_UTF8("n0"));
    lk_collection_opts co = {.occ = LK_OCC_EXTERNAL};
    lk_collection *stamped = NULL;
    lk_error e;
    /* A collection whose version another service owns: an insert needs it. */
    assert_int_equal(lk_store_collection(f->store, "stamped", &co, &stamped,
                                         NULL),
                     LK_OK);
    assert_int_equal(lk_outbox_watch(f->ob, stamped, NULL), LK_OK);
    assert_int_equal(
        lk_outbox_insert(f->ob, stamped, doc, &spec_note_ev, NULL, &e),
        LK_ERR_INVALID);
    assert_non_null(strstr(e.message, "stamped"));
    assert_int_equal(pending(f), 0);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
    bson_destroy(doc);
}

static void test_bad_options_and_watches_are_refused_with_the_reason(
    void **state)
{
    fixture *f = *state;
    lk_outbox *ob = (lk_outbox *)&ob; /* must be reset to NULL */
    lk_error e;
    const lk_outbox_opts neg = {.orphan_ms = -1};
    assert_int_equal(lk_outbox_new(f->store, NULL, &neg, &ob, &e),
                     LK_ERR_INVALID);
    assert_null(ob);
    assert_non_null(strstr(e.message, "orphan_ms"));

    lk_collection *events = NULL, *more[LK_OUTBOX_MAX_WATCHED] = {0};
    assert_int_equal(lk_store_collection(f->store, LK_OUTBOX_COLLECTION, NULL,
                                         &events, NULL),
                     LK_OK);
    /* The outbox's own collection is not watched ... */
    lk_status s = lk_outbox_watch(f->ob, events, &e);
    if (events != f->events) /* a second handle: the name decides */
        assert_int_equal(s, LK_ERR_INVALID);
    assert_int_equal(lk_outbox_watch(f->ob, f->events, &e), LK_ERR_INVALID);
    assert_non_null(strstr(e.message, "cannot watch lk_outbox"));
    /* ... nor more than LK_OUTBOX_MAX_WATCHED (notes is one already). */
    size_t taken = 1;
    for (size_t i = 0; i < LK_OUTBOX_MAX_WATCHED; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%zu", i);
        assert_int_equal(lk_store_collection(f->store, name, NULL, &more[i],
                                             NULL),
                         LK_OK);
        s = lk_outbox_watch(f->ob, more[i], &e);
        if (taken < LK_OUTBOX_MAX_WATCHED) {
            assert_int_equal(s, LK_OK);
            taken++;
        } else {
            assert_int_equal(s, LK_ERR_INVALID);
            assert_non_null(strstr(e.message, name));
        }
    }

    size_t sent = 7;
    int64_t n = 0;
    assert_int_equal(lk_outbox_relay(NULL, &sent, &e), LK_ERR_INVALID);
    assert_int_equal(sent, 0);
    assert_int_equal(lk_outbox_pending(NULL, &n, &e), LK_ERR_INVALID);
    assert_int_equal(lk_outbox_start(NULL, &e), LK_ERR_INVALID);
    lk_outbox_kick(NULL); /* NULL-tolerant, like free */
    lk_outbox_stop(NULL);
}

/* ---- out of memory ------------------------------------------------------------------ */

/* Refuses each allocation of lk_outbox_new in turn: NOMEM, no outbox, no
 * leak; the first run that reaches no refusal makes one. */
static void test_an_outbox_out_of_memory_is_nomem_and_leaks_nothing(
    void **state)
{
    (void)state;
    int refused = 0;
    spec_log_capture_start(); /* its warnings stay out of the run */
    for (uint64_t k = 1; k < 200; k++) {
        int64_t live = failing_alloc_live();
        lk_store *store = lk_mem_store_new();
        assert_non_null(store);
        lk_outbox *ob = NULL;
        failing_alloc_arm(k);
        lk_status s = lk_outbox_new(store, NULL, NULL, &ob, NULL);
        failing_alloc_result r = failing_alloc_disarm();
        if (r.failed) {
            refused++;
            assert_int_equal(s, LK_ERR_NOMEM);
            assert_null(ob);
        } else if (!r.reached) {
            assert_int_equal(s, LK_OK);
            assert_non_null(ob);
        }
        lk_outbox_free(ob);
        lk_store_free(store);
        assert_int_equal(failing_alloc_live(), live);
        if (!r.reached)
            break;
    }
    spec_log_capture_stop();
    assert_true(refused >= 2); /* the outbox and its collection */
}

/* Refuses each allocation of one relay pass in turn (three notes pending,
 * one with two versions): the pass says LK_OK or LK_ERR_NOMEM, and the
 * passes after it leave nothing pending and the broker stored every event
 * exactly once (the msg ids absorb a resend); nothing leaks. Before
 * lk_outbox_names_ read the document in place, a refusal there made the
 * relay drop a committed event as an orphan. */
static void test_a_relay_pass_out_of_memory_loses_and_doubles_no_event(
    void **state)
{
    (void)state;
    int refused = 0;
    spec_log_capture_start();
    for (uint64_t k = 1; k < 5000; k++) {
        int64_t live = failing_alloc_live();
        fixture *f = fixture_new();
        bson_t *notes[NOTES];
        for (int i = 0; i < NOTES; i++)
            notes[i] = pending_note(f, i);
        bson_t *v1 = NULL;
        lk_fake_nats_fail_subject(f->nats, "note:saved", LK_ERR_IO);
        assert_int_equal(
            lk_outbox_save(f->ob, f->notes, notes[0], &spec_note_ev, &v1, NULL),
            LK_OK);
        lk_fake_nats_fail_subject(f->nats, "note:saved", LK_OK);
        assert_int_equal(pending(f), NOTES + 1);

        failing_alloc_arm(k);
        lk_status s = lk_outbox_relay(f->ob, NULL, NULL);
        failing_alloc_result r = failing_alloc_disarm();
        if (r.failed)
            refused++;
        if (!r.failed)
            assert_int_equal(s, LK_OK);
        else if (s != LK_OK)
            assert_int_equal(s, LK_ERR_NOMEM);

        size_t guard = 0;
        while (pending(f) > 0 && guard++ < 4)
            assert_int_equal(lk_outbox_relay(f->ob, NULL, NULL), LK_OK);
        assert_int_equal(pending(f), 0);
        int recorded[NOTES][2] = {{0}};
        for (size_t j = 0; j < lk_fake_nats_published_count(f->nats); j++) {
            const json_t *ev = lk_fake_nats_published_json(f->nats, j);
            const char *title = lk_event_string(ev, "title");
            int64_t v = lk_event_int(ev, "version");
            assert_non_null(title);
            int i = atoi(title + 1);
            assert_true(i >= 0 && i < NOTES && v >= 0 && v < 2);
            recorded[i][v]++;
        }
        for (int i = 0; i < NOTES; i++)
            assert_int_equal(recorded[i][0], 1);
        assert_int_equal(recorded[0][1], 1);

        for (int i = 0; i < NOTES; i++)
            bson_destroy(notes[i]);
        bson_destroy(v1);
        fixture_free(f);
        assert_int_equal(failing_alloc_live(), live);
        if (!r.reached)
            break;
    }
    spec_log_capture_stop();
    assert_true(refused > 0);
}

int main(void)
{
    failing_alloc_install(); /* before anything allocates (alloc.h) */
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_entries_it_cannot_read_are_dropped_and_foreign_ones_left_alone),
        T(test_an_entry_without_a_subject_is_dropped_not_retried_forever),
        T(test_a_document_whose_outbox_field_is_no_array_still_saves),
        T(test_a_save_without_the_version_is_invalid_and_names_the_collection),
        T(test_bad_options_and_watches_are_refused_with_the_reason),
        cmocka_unit_test(
            test_an_outbox_out_of_memory_is_nomem_and_leaks_nothing),
        cmocka_unit_test(
            test_a_relay_pass_out_of_memory_loses_and_doubles_no_event),
    };
#undef T
    int failed = cmocka_run_group_tests_name("outbox_faults", tests, NULL,
                                             NULL);
    failing_alloc_uninstall();
    return failed;
}
