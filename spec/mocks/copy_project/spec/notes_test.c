/* SPDX-License-Identifier: MIT */
/* notes_test.c — the project's spec, written against listenkit's three
 * doubles: a fake message in, the memory store and the fake NATS client. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_msg.h"
#include "fake_nats.h"
#include "listenkit.h"
#include "mem_store.h"
#include "notes.h"

#define NOTE_ID "5f1d7f1e2a3b4c5d6e7f8091"

typedef struct fixture {
    lk_store *store;
    lk_fake_nats *nats;
    notes_ctx ctx;
    lk_listener listener;
} fixture;

static int setup(void **state)
{
    static const lk_collection_opts external = {.occ = LK_OCC_EXTERNAL};
    fixture *f = test_calloc(1, sizeof *f);
    f->store = lk_mem_store_new();
    f->nats = lk_fake_nats_new();
    assert_non_null(f->store);
    assert_non_null(f->nats);
    assert_int_equal(lk_store_collection(f->store, "notes", &external,
                                         &f->ctx.notes, NULL),
                     LK_OK);
    assert_int_equal(lk_listener_init(&f->listener, &notes_created_listener,
                                      lk_fake_nats_bus(f->nats), &f->ctx,
                                      NULL),
                     LK_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    lk_fake_nats_free(f->nats);
    lk_store_free(f->store);
    test_free(f);
    return 0;
}

static void test_saves_the_note_publishes_and_acks(void **state)
{
    fixture *f = *state;
    lk_msg *msg = lk_fake_msg_new("note:created",
                                  "{\"id\": \"" NOTE_ID "\", "
                                  "\"text\": \"hello\", \"version\": 0}");
    assert_non_null(msg);
    lk_fake_msg_expect_ack(msg);

    assert_int_equal(lk_listener_dispatch(&f->listener, msg), LK_OK);
    assert_int_equal(lk_fake_msg_ack_count(msg), 1);

    bson_oid_t id;
    bson_t *note = NULL;
    bson_iter_t it;
    int64_t version = -1;
    assert_int_equal(lk_oid_parse(NOTE_ID, &id, NULL), LK_OK);
    assert_int_equal(lk_collection_find_by_id(f->ctx.notes, &id, &note, NULL),
                     LK_OK);
    assert_true(bson_iter_init_find(&it, note, "text"));
    assert_string_equal(bson_iter_utf8(&it, NULL), "hello");
    assert_int_equal(lk_bson_get_int64(note, "version", &version, NULL),
                     LK_OK);
    assert_int_equal(version, 0);

    assert_int_equal(lk_fake_nats_published_count(f->nats), 1);
    assert_string_equal(lk_fake_nats_published_subject(f->nats, 0),
                        "note:saved");
    const json_t *event = lk_fake_nats_published_json(f->nats, 0);
    assert_string_equal(lk_event_string(event, "id"), NOTE_ID);
    assert_int_equal(lk_event_int(event, "version"), 0);

    bson_destroy(note);
    lk_fake_msg_free(msg);
}

static void test_a_note_seen_twice_is_not_acked_twice(void **state)
{
    fixture *f = *state;
    const char *json = "{\"id\": \"" NOTE_ID "\", \"text\": \"hi\", "
                       "\"version\": 0}";
    lk_msg *first = lk_fake_msg_new("note:created", json);
    lk_msg *again = lk_fake_msg_new("note:created", json);
    lk_fake_msg_expect_no_ack(again);

    assert_int_equal(lk_listener_dispatch(&f->listener, first), LK_OK);
    assert_int_equal(lk_listener_dispatch(&f->listener, again),
                     LK_ERR_DUPLICATE);
    assert_int_equal(lk_fake_msg_ack_count(again), 0);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 1);

    int64_t n = -1;
    assert_int_equal(lk_collection_count(f->ctx.notes, NULL, &n, NULL), LK_OK);
    assert_int_equal(n, 1);
    lk_fake_msg_free(first);
    lk_fake_msg_free(again);
}

int main(void)
{
    lk_log_set_level(LK_LOG_OFF); /* the duplicate is logged at warn */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_saves_the_note_publishes_and_acks,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_note_seen_twice_is_not_acked_twice, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
