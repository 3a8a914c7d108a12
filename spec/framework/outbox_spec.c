/* SPDX-License-Identifier: MIT */
/* outbox_spec.c — the transactional outbox (listenkit/outbox.h): a save and
 * its event as one step, relayed with Nats-Msg-Id, and what happens when
 * the publish fails or the process dies at each step. On the memory store
 * and the fake NATS client. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "fake_nats.h"
#include "listenkit.h"
#include "mem_store.h"
#include "note_outbox.h"
#include "spec_log.h"

typedef struct fixture {
    lk_store *store;
    lk_fake_nats *nats;
    lk_collection *notes;
    lk_outbox *ob;
    /* what the consumer got: deliveries per version */
    int per_version[8];
} fixture;

static void open_outbox(fixture *f)
{
    assert_int_equal(lk_outbox_new(f->store, lk_fake_nats_bus(f->nats), NULL,
                                   &f->ob, NULL),
                     LK_OK);
    assert_int_equal(lk_outbox_watch(f->ob, f->notes, NULL), LK_OK);
}

static void on_note(lk_msg *msg, void *closure)
{
    fixture *f = closure;
    json_t *ev = json_loadb(msg->data, msg->length, 0, NULL);
    int64_t v = lk_event_int(ev, "version");
    if (v >= 0 && v < 8)
        f->per_version[v]++;
    json_decref(ev);
    lk_msg_ack(msg);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->store = lk_mem_store_new();
    f->nats = lk_fake_nats_new_broker(NULL);
    assert_int_equal(lk_store_collection(f->store, "notes", NULL, &f->notes,
                                         NULL),
                     LK_OK);
    open_outbox(f);
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

/* Inserts a note titled `title`; returns it as stored (bson_destroy). */
static bson_t *insert_note(fixture *f, const char *title)
{
    bson_t *doc = BCON_NEW("title", BCON_UTF8(title));
    bson_t *stored = NULL;
    assert_int_equal(
        lk_outbox_insert(f->ob, f->notes, doc, &spec_note_ev, &stored, NULL),
        LK_OK);
    bson_destroy(doc);
    return stored;
}

/* Saves `loaded` with a new title; returns the stored note. */
static bson_t *save_note(fixture *f, const bson_t *loaded, const char *title,
                         lk_status want)
{
    bson_t next = BSON_INITIALIZER;
    bson_t *stored = NULL;
    bson_copy_to_excluding_noinit(loaded, &next, "title", NULL);
    BSON_APPEND_UTF8(&next, "title", title);
    assert_int_equal(
        lk_outbox_save(f->ob, f->notes, &next, &spec_note_ev, &stored, NULL),
        want);
    bson_destroy(&next);
    return stored;
}

static const json_t *published(fixture *f, size_t i)
{
    const json_t *ev = lk_fake_nats_published_json(f->nats, i);
    assert_non_null(ev);
    return ev;
}

/* ---- the happy path --------------------------------------------------------- */

static void test_insert_publishes_the_event_of_the_stored_document(
    void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    char hex[25];
    bson_t *stored = insert_note(f, "first");
    assert_int_equal(lk_bson_get_oid(stored, &id, NULL), LK_OK);
    lk_oid_format(&id, hex);

    assert_int_equal(lk_fake_nats_published_count(f->nats), 1);
    assert_string_equal(lk_fake_nats_published_subject(f->nats, 0),
                        "note:saved");
    assert_string_equal(lk_event_string(published(f, 0), "id"), hex);
    assert_int_equal(lk_event_int(published(f, 0), "version"), 0);
    assert_int_equal(pending(f), 0); /* sent, so marked */
    bson_destroy(stored);
}

static void test_save_publishes_the_version_the_save_gives(void **state)
{
    fixture *f = *state;
    bson_t *v0 = insert_note(f, "first");
    bson_t *v1 = save_note(f, v0, "second", LK_OK);
    bson_t *v2 = save_note(f, v1, "third", LK_OK);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 3);
    assert_int_equal(lk_event_int(published(f, 2), "version"), 2);
    assert_string_equal(lk_event_string(published(f, 2), "title"), "third");
    lk_fake_nats_run_until_idle(f->nats, 0);
    assert_int_equal(f->per_version[0] + f->per_version[1] +
                         f->per_version[2],
                     3);
    bson_destroy(v0);
    bson_destroy(v1);
    bson_destroy(v2);
}

/* ---- refusals change nothing -------------------------------------------------- */

static void test_a_stale_save_publishes_nothing_and_leaves_no_entry(
    void **state)
{
    fixture *f = *state;
    bson_t *v0 = insert_note(f, "first");
    bson_t *v1 = save_note(f, v0, "second", LK_OK);
    bson_t *lost = save_note(f, v0, "stale", LK_ERR_VERSION);
    assert_null(lost);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 2);
    assert_int_equal(pending(f), 0);
    bson_destroy(v0);
    bson_destroy(v1);
}

static void test_an_event_the_schema_refuses_saves_nothing(void **state)
{
    fixture *f = *state;
    bson_t *doc = BCON_NEW("body", BCON_UTF8("no title"));
    lk_error e;
    assert_int_equal(
        lk_outbox_insert(f->ob, f->notes, doc, &spec_note_ev, NULL, &e),
        LK_ERR_INVALID);
    assert_non_null(strstr(e.message, "title"));
    int64_t n = -1;
    assert_int_equal(lk_collection_count(f->notes, NULL, &n, NULL), LK_OK);
    assert_int_equal(n, 0);
    assert_int_equal(pending(f), 0);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
    bson_destroy(doc);
}

static void test_unwatched_collections_and_bad_arguments_are_refused(
    void **state)
{
    fixture *f = *state;
    lk_collection *other = NULL;
    bson_t *doc = BCON_NEW("title", BCON_UTF8("x"));
    lk_error e;
    assert_int_equal(lk_store_collection(f->store, "other", NULL, &other, NULL),
                     LK_OK);
    assert_int_equal(
        lk_outbox_insert(f->ob, other, doc, &spec_note_ev, NULL, &e),
        LK_ERR_INVALID);
    assert_non_null(strstr(e.message, "other is not watched"));
    assert_int_equal(lk_outbox_insert(f->ob, f->notes, doc, NULL, NULL, NULL),
                     LK_ERR_INVALID);
    assert_int_equal(
        lk_outbox_save(NULL, f->notes, doc, &spec_note_ev, NULL, NULL),
        LK_ERR_INVALID);
    /* A save needs the document's _id and version. */
    assert_int_equal(
        lk_outbox_save(f->ob, f->notes, doc, &spec_note_ev, NULL, NULL),
        LK_ERR_NOT_FOUND);
    assert_int_equal(lk_outbox_watch(f->ob, f->notes, NULL), LK_OK); /* again */
    assert_int_equal(lk_outbox_watch(NULL, f->notes, NULL), LK_ERR_INVALID);
    assert_int_equal(lk_outbox_new(NULL, NULL, NULL, NULL, NULL),
                     LK_ERR_INVALID);
    bson_destroy(doc);
}

/* ---- the publish fails after the save ------------------------------------------ */

static void test_a_failed_publish_keeps_the_event_until_the_relay_sends_it(
    void **state)
{
    fixture *f = *state;
    bson_t *v0 = insert_note(f, "first");
    lk_fake_nats_fail_next_publish(f->nats, LK_ERR_IO);
    bson_t *v1 = save_note(f, v0, "second", LK_OK); /* saved all the same */
    assert_non_null(v1);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 1);
    assert_int_equal(pending(f), 1);
    assert_true(spec_log_contains("note:saved not sent yet"));

    size_t sent = 0;
    assert_int_equal(lk_outbox_relay(f->ob, &sent, NULL), LK_OK);
    assert_int_equal(sent, 1);
    assert_int_equal(pending(f), 0);
    assert_int_equal(lk_event_int(published(f, 1), "version"), 1);
    assert_int_equal(lk_outbox_relay(f->ob, &sent, NULL), LK_OK);
    assert_int_equal(sent, 0); /* nothing twice */
    bson_destroy(v0);
    bson_destroy(v1);
}

static void test_while_the_bus_is_down_every_version_reaches_the_consumer_once(
    void **state)
{
    fixture *f = *state;
    bson_t *doc = insert_note(f, "v0");
    lk_fake_nats_fail_subject(f->nats, "note:saved", LK_ERR_IO);
    for (int v = 1; v <= 4; v++) {
        char title[16];
        snprintf(title, sizeof title, "v%d", v);
        bson_t *next = save_note(f, doc, title, LK_OK);
        bson_destroy(doc);
        doc = next;
    }
    /* The earlier pending events travel on with each save. */
    assert_int_equal(pending(f), 4);
    lk_error e;
    assert_int_equal(lk_outbox_relay(f->ob, NULL, &e), LK_ERR_IO);
    assert_int_equal(pending(f), 4);

    lk_fake_nats_fail_subject(f->nats, "note:saved", LK_OK); /* clears */
    size_t sent = 0;
    assert_int_equal(lk_outbox_relay(f->ob, &sent, NULL), LK_OK);
    assert_int_equal(sent, 4);
    lk_fake_nats_run_until_idle(f->nats, 0);
    for (int v = 0; v <= 4; v++)
        assert_int_equal(f->per_version[v], 1);
    /* In order of the versions. */
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(lk_event_int(published(f, i), "version"), (int)i);
    bson_destroy(doc);
}

static void test_the_next_save_sends_what_an_earlier_one_left_pending(
    void **state)
{
    fixture *f = *state;
    bson_t *v0 = insert_note(f, "first");
    lk_fake_nats_fail_next_publish(f->nats, LK_ERR_TIMEOUT);
    bson_t *v1 = save_note(f, v0, "second", LK_OK);
    bson_t *v2 = save_note(f, v1, "third", LK_OK);
    assert_int_equal(pending(f), 0);
    assert_int_equal(lk_event_int(published(f, 1), "version"), 1);
    assert_int_equal(lk_event_int(published(f, 2), "version"), 2);
    bson_destroy(v0);
    bson_destroy(v1);
    bson_destroy(v2);
}

/* ---- crashes ------------------------------------------------------------------- */

static void test_a_crash_between_save_and_relay_is_sent_on_restart(
    void **state)
{
    fixture *f = *state;
    bson_t *v0 = insert_note(f, "first");
    lk_fake_nats_fail_next_publish(f->nats, LK_ERR_IO);
    bson_t *v1 = save_note(f, v0, "second", LK_OK);
    lk_outbox_free(f->ob); /* the process dies; the store survives */

    open_outbox(f); /* the restart */
    assert_int_equal(pending(f), 1);
    assert_int_equal(lk_outbox_start(f->ob, NULL), LK_OK);
    for (int i = 0; i < 500 && pending(f) > 0; i++)
        nanosleep(&(struct timespec){0, 10000000L}, NULL);
    lk_outbox_stop(f->ob);
    assert_int_equal(pending(f), 0);
    lk_fake_nats_run_until_idle(f->nats, 0);
    assert_int_equal(f->per_version[0], 1);
    assert_int_equal(f->per_version[1], 1);
    bson_destroy(v0);
    bson_destroy(v1);
}

static void test_a_crash_after_the_publish_sends_a_duplicate_the_server_drops(
    void **state)
{
    fixture *f = *state;
    bson_t *entry = NULL;
    bson_t *v0 = insert_note(f, "first");
    lk_fake_nats_fail_next_publish(f->nats, LK_ERR_IO);
    bson_t *v1 = save_note(f, v0, "second", LK_OK);
    lk_collection *events = NULL;
    assert_int_equal(lk_store_collection(f->store, LK_OUTBOX_COLLECTION, NULL,
                                         &events, NULL),
                     LK_OK);
    assert_int_equal(lk_collection_find_one(events, NULL, &entry, NULL),
                     LK_OK);
    assert_int_equal(lk_outbox_relay(f->ob, NULL, NULL), LK_OK);
    /* Died after publishing, before marking: the entry is back. */
    assert_int_equal(lk_collection_insert(events, entry, NULL, NULL), LK_OK);
    assert_int_equal(lk_outbox_relay(f->ob, NULL, NULL), LK_OK);

    lk_fake_nats_stats st = lk_fake_nats_get_stats(f->nats);
    assert_int_equal(st.deduplicated, 1); /* same Nats-Msg-Id */
    lk_fake_nats_run_until_idle(f->nats, 0);
    assert_int_equal(f->per_version[1], 1);
    bson_destroy(entry);
    bson_destroy(v0);
    bson_destroy(v1);
}

/* An entry written by hand, as a save that crashed or lost would leave. */
static void put_entry(fixture *f, const bson_oid_t *doc_id, int64_t version,
                      int64_t age_ms)
{
    lk_collection *events = NULL;
    bson_oid_t id;
    bson_oid_init(&id, NULL);
    assert_int_equal(lk_store_collection(f->store, LK_OUTBOX_COLLECTION, NULL,
                                         &events, NULL),
                     LK_OK);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    bson_t *e = BCON_NEW("_id", BCON_OID(&id), "collection", BCON_UTF8("notes"),
                         "docId", BCON_OID(doc_id), "docVersion",
                         BCON_INT64(version), "subject",
                         BCON_UTF8("note:saved"), "data", BCON_UTF8("{}"),
                         "at", BCON_DATE_TIME(now - age_ms));
    assert_int_equal(lk_collection_insert(events, e, NULL, NULL), LK_OK);
    bson_destroy(e);
}

static void test_entries_no_save_committed_are_dropped_unsent(void **state)
{
    fixture *f = *state;
    bson_oid_t id, nowhere;
    bson_t *v0 = insert_note(f, "first");
    assert_int_equal(lk_bson_get_oid(v0, &id, NULL), LK_OK);
    bson_oid_init(&nowhere, NULL);
    put_entry(f, &id, 0, 0);             /* the version is there without it */
    put_entry(f, &id, 1, 120000);        /* its save would be long done */
    put_entry(f, &nowhere, 0, 120000);   /* an insert that never happened */
    put_entry(f, &id, 1, 0);             /* a save that may be under way */
    put_entry(f, &nowhere, 0, 0);        /* an insert that may be under way */

    size_t sent = 0;
    assert_int_equal(lk_outbox_relay(f->ob, &sent, NULL), LK_OK);
    assert_int_equal(sent, 0);
    assert_int_equal(pending(f), 2);
    assert_true(spec_log_contains("never committed"));
    assert_int_equal(lk_fake_nats_published_count(f->nats), 1);
    bson_destroy(v0);
}

static void test_entries_of_collections_it_does_not_watch_are_left_alone(
    void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    lk_outbox *other = NULL;
    bson_oid_init(&id, NULL);
    put_entry(f, &id, 0, 120000);
    assert_int_equal(lk_outbox_new(f->store, NULL, NULL, &other, NULL), LK_OK);
    assert_int_equal(lk_outbox_relay(other, NULL, NULL), LK_OK);
    int64_t n = 0;
    assert_int_equal(lk_outbox_pending(other, &n, NULL), LK_OK);
    assert_int_equal(n, 1);
    lk_outbox_free(other);
}

/* ---- without a bus, and the thread ------------------------------------------------ */

static void test_without_a_bus_events_stay_pending(void **state)
{
    fixture *f = *state;
    lk_error e;
    lk_outbox_free(f->ob);
    assert_int_equal(lk_outbox_new(f->store, NULL, NULL, &f->ob, NULL), LK_OK);
    assert_int_equal(lk_outbox_watch(f->ob, f->notes, NULL), LK_OK);
    bson_t *v0 = insert_note(f, "first");
    assert_int_equal(pending(f), 1);
    assert_int_equal(lk_outbox_relay(f->ob, NULL, &e), LK_ERR_CLOSED);
    assert_non_null(strstr(e.message, "no bus"));
    bson_destroy(v0);
}

static void test_the_relay_thread_starts_once_and_stops_when_asked(
    void **state)
{
    fixture *f = *state;
    lk_error e;
    assert_int_equal(lk_outbox_start(f->ob, NULL), LK_OK);
    assert_int_equal(lk_outbox_start(f->ob, &e), LK_ERR_STATE);
    lk_outbox_kick(f->ob);
    lk_outbox_stop(f->ob);
    lk_outbox_stop(f->ob); /* twice is fine */
    lk_outbox_kick(NULL);
    lk_outbox_stop(NULL);
    assert_int_equal(lk_outbox_start(f->ob, NULL), LK_OK); /* again */
    assert_int_equal(lk_outbox_start(NULL, NULL), LK_ERR_INVALID);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_insert_publishes_the_event_of_the_stored_document),
        T(test_save_publishes_the_version_the_save_gives),
        T(test_a_stale_save_publishes_nothing_and_leaves_no_entry),
        T(test_an_event_the_schema_refuses_saves_nothing),
        T(test_unwatched_collections_and_bad_arguments_are_refused),
        T(test_a_failed_publish_keeps_the_event_until_the_relay_sends_it),
        T(test_while_the_bus_is_down_every_version_reaches_the_consumer_once),
        T(test_the_next_save_sends_what_an_earlier_one_left_pending),
        T(test_a_crash_between_save_and_relay_is_sent_on_restart),
        T(test_a_crash_after_the_publish_sends_a_duplicate_the_server_drops),
        T(test_entries_no_save_committed_are_dropped_unsent),
        T(test_entries_of_collections_it_does_not_watch_are_left_alone),
        T(test_without_a_bus_events_stay_pending),
        T(test_the_relay_thread_starts_once_and_stops_when_asked),
    };
#undef T
    return cmocka_run_group_tests_name("outbox", tests, NULL, NULL);
}
