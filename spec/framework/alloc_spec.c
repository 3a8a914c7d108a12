/* SPDX-License-Identifier: MIT */
/* alloc_spec.c — lk_set_allocator routes listenkit's, jansson's and
 * libbson's memory through one allocator, each call named by its caller;
 * and memory running out while decoding is LK_ERR_NOMEM, which a listener
 * leaves for redelivery, where it used to be "invalid JSON" and a term.
 *
 * The counting allocator here is spec-local (it must record callers);
 * spec/support/failing_alloc is the one that fails the k-th allocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "failing_alloc.h"
#include "fake_msg.h"
#include "listenkit.h"
#include "listenkit/alloc.h"
#include "spec_log.h"

/* ---- a recording allocator ------------------------------------------------- */

typedef struct recorder {
    int calls[3]; /* per lk_alloc_caller */
    int frees;
} recorder;

static void *rec_malloc(size_t size, lk_alloc_caller caller, void *ctx)
{
    ((recorder *)ctx)->calls[caller]++;
    return malloc(size);
}

static void *rec_realloc(void *ptr, size_t size, lk_alloc_caller caller,
                         void *ctx)
{
    ((recorder *)ctx)->calls[caller]++;
    return realloc(ptr, size);
}

static void *rec_aligned(size_t alignment, size_t size,
                         lk_alloc_caller caller, void *ctx)
{
    ((recorder *)ctx)->calls[caller]++;
    return aligned_alloc(alignment, size);
}

static void rec_free(void *ptr, void *ctx)
{
    ((recorder *)ctx)->frees++;
    free(ptr);
}

static lk_allocator recording(recorder *r)
{
    lk_allocator a = {rec_malloc, rec_realloc, rec_aligned, rec_free, r};
    return a;
}

static const lk_field fields[] = {
    {.name = "id", .type = LK_FIELD_STRING, .required = true},
    {.name = "version", .type = LK_FIELD_INTEGER, .required = true},
    LK_FIELD_END};
static const lk_schema created = {.subject = "ticket:created",
                                  .fields = fields};
static const char valid[] = "{\"id\": \"5f1d7f1e2a3b4c5d6e7f8091\", "
                            "\"title\": \"concert\", \"version\": 3}";

/* ---- the hook ------------------------------------------------------------------ */

static void test_one_allocator_serves_listenkit_jansson_and_libbson(void **state)
{
    (void)state;
    recorder r = {{0}, 0};
    lk_allocator a = recording(&r);
    assert_int_equal(lk_set_allocator(&a, NULL), LK_OK);

    char *copy = lk_strdup("listenkit");
    json_t *j = json_pack("{s:s}", "k", "jansson");
    bson_t *b = bson_new();
    BSON_APPEND_UTF8(b, "k", "libbson");
    lk_free(copy);
    json_decref(j);
    bson_destroy(b);
    assert_int_equal(lk_set_allocator(NULL, NULL), LK_OK);

    assert_true(r.calls[LK_ALLOC_LISTENKIT] >= 1);
    assert_true(r.calls[LK_ALLOC_JANSSON] >= 1);
    assert_true(r.calls[LK_ALLOC_LIBBSON] >= 1);
    assert_true(r.frees >= 3);
}

static void test_a_null_allocator_restores_the_c_library(void **state)
{
    (void)state;
    recorder r = {{0}, 0};
    lk_allocator a = recording(&r);
    assert_int_equal(lk_set_allocator(&a, NULL), LK_OK);
    assert_int_equal(lk_set_allocator(NULL, NULL), LK_OK);

    lk_free(lk_strdup("x"));
    json_decref(json_string("x"));
    bson_destroy(bson_new());
    assert_int_equal(r.calls[0] + r.calls[1] + r.calls[2] + r.frees, 0);
}

static void test_an_allocator_missing_a_function_is_refused(void **state)
{
    (void)state;
    recorder r = {{0}, 0};
    lk_allocator a = recording(&r);
    a.aligned_alloc = NULL;
    lk_error err;
    assert_int_equal(lk_set_allocator(&a, &err), LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "aligned_alloc"));

    lk_free(lk_strdup("x")); /* still the C library's */
    assert_int_equal(r.calls[LK_ALLOC_LISTENKIT], 0);
}

static void test_allocation_calls_keep_their_edge_cases_defined(void **state)
{
    (void)state;
    void *p = lk_malloc(0); /* 0 is taken as 1: never a false failure */
    assert_non_null(p);
    lk_free(p);
    assert_null(lk_calloc(SIZE_MAX / 2, 4)); /* n * size overflows */
    unsigned char *z = lk_calloc(4, 4);
    assert_non_null(z);
    for (int i = 0; i < 16; i++)
        assert_int_equal(z[i], 0);
    z = lk_realloc(z, 64); /* grows, keeps the bytes */
    assert_non_null(z);
    assert_int_equal(z[15], 0);
    lk_free(z);
    char *s = lk_realloc(NULL, 3); /* NULL: a plain allocation */
    assert_non_null(s);
    lk_free(s);
    assert_null(lk_strdup(NULL));
    lk_free(NULL);
}

/* ---- decoding when memory runs out ------------------------------------------------- */

/* Every allocation json_loadb makes for a valid event, refused in turn:
 * each is LK_ERR_NOMEM with *out NULL and nothing left allocated. The
 * sweep ends at the first k the decode no longer reaches. */
static void test_decode_out_of_memory_is_nomem_never_invalid(void **state)
{
    (void)state;
    failing_alloc_install();
    uint64_t points = 0;
    for (uint64_t k = 1; k < 1000; k++) {
        int64_t live = failing_alloc_live();
        json_t *out = (json_t *)1;
        lk_error err;
        failing_alloc_arm(k);
        lk_status s = lk_event_decode(&created, valid, strlen(valid), &out,
                                      &err);
        failing_alloc_result r = failing_alloc_disarm();
        if (!r.reached) {
            assert_int_equal(s, LK_OK);
            json_decref(out);
            break;
        }
        points++;
        assert_true(r.failed); /* jansson's: nothing aborts here */
        assert_int_equal(s, LK_ERR_NOMEM);
        assert_null(out);
        assert_non_null(strstr(err.message, "out of memory"));
        assert_int_equal(failing_alloc_live(), live);
    }
    failing_alloc_uninstall();
    assert_true(points >= 4); /* the object, two keys' values, ... */
}

static void test_encode_out_of_memory_is_nomem(void **state)
{
    (void)state;
    json_t *event = json_pack("{s:s,s:i}", "id", "5f1d7f1e2a3b4c5d6e7f8091",
                              "version", 1);
    failing_alloc_install();
    char *text = (char *)1;
    size_t len = 7;
    failing_alloc_arm(1);
    lk_status s = lk_event_encode(&created, event, &text, &len, NULL);
    failing_alloc_result r = failing_alloc_disarm();
    failing_alloc_uninstall();
    json_decref(event);
    assert_true(r.failed);
    assert_int_equal(s, LK_ERR_NOMEM);
    assert_null(text);
    assert_int_equal(len, 0);
}

/* ---- a listener keeps what it could not decode ---------------------------------- */

static lk_status never_called(lk_listener *l, const json_t *data,
                              lk_msg *msg)
{
    (void)l, (void)data, (void)msg;
    fail_msg("on_message must not run when the event was not decoded");
    return LK_ERR_STATE;
}

static void test_a_message_not_decoded_for_lack_of_memory_stays_for_redelivery(
    void **state)
{
    (void)state;
    const lk_listener_def def = {.schema = &created,
                                 .queue_group = "orders-service",
                                 .on_message = never_called};
    lk_listener l;
    assert_int_equal(lk_listener_init(&l, &def, NULL, NULL, NULL), LK_OK);
    lk_msg *msg = lk_fake_msg_new("ticket:created", valid);
    lk_fake_msg_set_stream_seq(msg, 9);

    failing_alloc_install();
    spec_log_capture_start();
    failing_alloc_arm(1); /* json_loadb's first allocation */
    lk_status s = lk_listener_dispatch(&l, msg);
    failing_alloc_result r = failing_alloc_disarm();
    failing_alloc_uninstall();

    assert_true(r.failed);
    assert_int_equal(s, LK_ERR_NOMEM);
    assert_int_equal(lk_fake_msg_term_count(msg), 0);
    assert_int_equal(lk_fake_msg_ack_count(msg), 0);
    assert_int_equal(lk_fake_msg_nak_count(msg), 0);
    assert_true(spec_log_contains("ticket:created seq 9 (delivery 1) left "
                                  "un-acked for redelivery: decode ran out "
                                  "of memory: ERR_NOMEM"));
    assert_false(spec_log_contains("terminated"));
    spec_log_capture_stop();
    lk_fake_msg_free(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_allocator_serves_listenkit_jansson_and_libbson),
        cmocka_unit_test(test_a_null_allocator_restores_the_c_library),
        cmocka_unit_test(test_an_allocator_missing_a_function_is_refused),
        cmocka_unit_test(test_allocation_calls_keep_their_edge_cases_defined),
        cmocka_unit_test(test_decode_out_of_memory_is_nomem_never_invalid),
        cmocka_unit_test(test_encode_out_of_memory_is_nomem),
        cmocka_unit_test(
            test_a_message_not_decoded_for_lack_of_memory_stays_for_redelivery),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
