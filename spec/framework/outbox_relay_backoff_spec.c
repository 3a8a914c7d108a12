/* SPDX-License-Identifier: MIT */
/* outbox_relay_backoff_spec.c — the relay thread's back-off grows with its
 * own failed timed passes only: during an outage every write kicks a pass
 * that fails, and doubling per kick took the delay to 30 s within a second
 * (make demo-cluster --restart-nats: the relay slept through the server's
 * return, the events waited ~30 s). On the memory store and the fake NATS
 * client (its connection down and up). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <time.h>

#include "fake_nats.h"
#include "listenkit.h"
#include "mem_store.h"
#include "spec_log.h"

static const lk_field note_fields[] = {
    {.name = "id", .type = LK_FIELD_STRING, .required = true},
    LK_FIELD_END};
static const lk_schema note_saved = {.subject = "note:saved",
                                     .fields = note_fields};

static lk_status note_event(const bson_t *doc, void *ctx, json_t **event,
                            lk_error *err)
{
    bson_oid_t id;
    char hex[25];
    (void)ctx;
    lk_status s = lk_bson_get_oid(doc, &id, err);
    if (s != LK_OK)
        return s;
    lk_oid_format(&id, hex);
    *event = json_pack("{s:s}", "id", hex);
    return LK_OK;
}

static const lk_outbox_event note_ev = {&note_saved, note_event, NULL};

static void sleep_ms(long ms)
{
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

static int64_t pending(lk_outbox *ob)
{
    int64_t n = -1;
    assert_int_equal(lk_outbox_pending(ob, &n, NULL), LK_OK);
    return n;
}

static void test_kicked_passes_that_fail_do_not_grow_the_relay_delay(
    void **state)
{
    (void)state;
    lk_store *store = lk_mem_store_new();
    lk_fake_nats *nats = lk_fake_nats_new_broker(NULL);
    lk_collection *notes = NULL;
    lk_outbox *ob = NULL;
    const lk_outbox_opts o = {.interval_ms = 50};
    assert_int_equal(lk_store_collection(store, "notes", NULL, &notes, NULL),
                     LK_OK);
    assert_int_equal(lk_outbox_new(store, lk_fake_nats_bus(nats), &o, &ob,
                                   NULL),
                     LK_OK);
    assert_int_equal(lk_outbox_watch(ob, notes, NULL), LK_OK);
    assert_int_equal(lk_outbox_start(ob, NULL), LK_OK);
    spec_log_capture_start();

    lk_fake_nats_connection_down(nats);
    bson_t *doc = BCON_NEW("title", BCON_UTF8("written while down"));
    assert_int_equal(lk_outbox_insert(ob, notes, doc, &note_ev, NULL, NULL),
                     LK_OK); /* committed; its send failed and kicked */
    for (int i = 0; i < 12; i++) { /* more writes' kicks: 12 failed passes */
        lk_outbox_kick(ob);
        sleep_ms(20);
    }
    assert_int_equal(pending(ob), 1);
    lk_fake_nats_connection_up(nats); /* no kick: the timer's pass sends */
    for (int i = 0; i < 300 && pending(ob) > 0; i++)
        sleep_ms(10);

    int64_t left = pending(ob);
    bool failures_logged = spec_log_contains("not connected");
    lk_outbox_stop(ob);
    spec_log_capture_stop();
    bson_destroy(doc);
    lk_outbox_free(ob);
    lk_fake_nats_free(nats);
    lk_store_free(store);
    assert_int_equal(left, 0); /* within 3 s, not after a 30 s back-off */
    assert_true(failures_logged);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_kicked_passes_that_fail_do_not_grow_the_relay_delay),
    };
    return cmocka_run_group_tests_name("outbox_relay_backoff", tests, NULL,
                                       NULL);
}
