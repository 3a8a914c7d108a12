/* SPDX-License-Identifier: MIT */
/* orders_routes_spec.c — the orders service's HTTP routes, called as
 * functions (course: new.test.ts, index.test.ts, show.test.ts,
 * delete.test.ts): every route, every status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http_spec.h"
#include "spec_log.h"
#include "ticketing_spec.h"

typedef ticketing_spec_orders fixture;

/* A fixture whose replica holds one ticket, "concert" at 20, version 0. */
static int setup(void **state)
{
    fixture *f = ticketing_spec_orders_new();
    ticketing_spec_new_id(&f->ticket_id, f->ticket_hex);
    ticketing_spec_insert_replica(&f->svc, &f->ticket_id, "concert", 20, 0);
    *state = f;
    return 0;
}

static void call(fixture *f, const char *method, const char *path,
                 const char *body, const ticketing_user *user,
                 ticketing_http_response *res)
{
    http_spec_call(orders_routes, &f->svc, method, path, body, user, res);
}

static void order_body(char *buf, size_t size, const char *ticket_hex)
{
    snprintf(buf, size, "{\"ticketId\":\"%s\"}", ticket_hex);
}

/* Orders the fixture's ticket as `user`; the order's path in `path`. */
static void order(fixture *f, const ticketing_user *user, char *path,
                  size_t size)
{
    ticketing_http_response res;
    char body[64];
    order_body(body, sizeof body, f->ticket_hex);
    call(f, "POST", "/api/orders", body, user, &res);
    assert_int_equal(res.status, 201);
    snprintf(path, size, "/api/orders/%s", http_spec_string(&res, "id"));
    ticketing_http_response_clear(&res);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- POST /api/orders -------------------------------------------------------- */

static void test_post_creates_an_order_and_answers_201_with_it(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char body[64], lo[48], hi[48];
    int64_t before = now_ms();
    order_body(body, sizeof body, f->ticket_hex);
    call(f, "POST", "/api/orders", body, &http_spec_alice, &res);
    int64_t after = now_ms();

    assert_int_equal(res.status, 201);
    assert_string_equal(http_spec_string(&res, "status"), "created");
    assert_string_equal(http_spec_string(&res, "userId"), http_spec_alice.id);
    assert_int_equal(json_integer_value(json_object_get(res.body, "version")),
                     0);
    const json_t *ticket = json_object_get(res.body, "ticket");
    assert_string_equal(json_string_value(json_object_get(ticket, "id")),
                        f->ticket_hex);
    assert_string_equal(json_string_value(json_object_get(ticket, "title")),
                        "concert");
    assert_true(json_number_value(json_object_get(ticket, "price")) == 20);
    /* 15 minutes from now, as ISO-8601 text (which sorts as time does). */
    assert_int_equal(orders_format_time(before / 1000 * 1000 + 15 * 60000, lo,
                                        sizeof lo, NULL),
                     LK_OK);
    assert_int_equal(
        orders_format_time(after + 15 * 60000, hi, sizeof hi, NULL), LK_OK);
    const char *expires = http_spec_string(&res, "expiresAt");
    assert_true(strcmp(expires, lo) >= 0 && strcmp(expires, hi) <= 0);

    const json_t *ev =
        ticketing_spec_only_published(f->nats, "order:created");
    assert_string_equal(lk_event_string(ev, "id"),
                        http_spec_string(&res, "id"));
    assert_string_equal(lk_event_string(ev, "expiresAt"), expires);
    ticketing_http_response_clear(&res);
}

static void test_post_takes_the_expiration_the_service_is_given(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char body[64], hi[48];
    f->svc.expiration_ms = 60000;
    order_body(body, sizeof body, f->ticket_hex);
    call(f, "POST", "/api/orders", body, &http_spec_alice, &res);
    assert_int_equal(res.status, 201);
    assert_int_equal(orders_format_time(now_ms() + 60000, hi, sizeof hi, NULL),
                     LK_OK);
    assert_true(strcmp(http_spec_string(&res, "expiresAt"), hi) <= 0);
    ticketing_http_response_clear(&res);
}

static void test_post_is_404_for_an_unknown_ticket(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char hex[25], body[64];
    ticketing_spec_new_id(NULL, hex);
    order_body(body, sizeof body, hex);
    call(f, "POST", "/api/orders", body, &http_spec_alice, &res);
    http_spec_assert_error(&res, 404, "Not Found", NULL);
    assert_int_equal(ticketing_spec_count(f->svc.orders), 0);
}

static void test_post_is_400_for_a_reserved_ticket(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char path[64], body[64];
    order(f, &http_spec_alice, path, sizeof path);
    order_body(body, sizeof body, f->ticket_hex);
    call(f, "POST", "/api/orders", body, &http_spec_bob, &res);
    http_spec_assert_error(&res, 400, "ticket is already reserved", NULL);
    assert_int_equal(ticketing_spec_count(f->svc.orders), 1);
}

static void test_post_refuses_a_missing_or_malformed_ticket_id(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    const char *bodies[] = {"{}", "{\"ticketId\":\"\"}",
                            "{\"ticketId\":\"abc\"}", "{\"ticketId\":12}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        call(f, "POST", "/api/orders", bodies[i], &http_spec_alice, &res);
        http_spec_assert_error(&res, 400, "TicketId must be provided",
                               "ticketId");
    }
    call(f, "POST", "/api/orders", "{", &http_spec_alice, &res);
    http_spec_assert_error(&res, 400, "body is not valid JSON", NULL);
    assert_int_equal(ticketing_spec_count(f->svc.orders), 0);
}

static void test_every_orders_route_is_401_without_a_user(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char body[64];
    order_body(body, sizeof body, f->ticket_hex);
    call(f, "POST", "/api/orders", body, NULL, &res);
    http_spec_assert_error(&res, 401, "Not authorized", NULL);
    call(f, "GET", "/api/orders", NULL, NULL, &res);
    http_spec_assert_error(&res, 401, "Not authorized", NULL);
    call(f, "GET", "/api/orders/0123456789abcdef01234567", NULL, NULL, &res);
    http_spec_assert_error(&res, 401, "Not authorized", NULL);
    call(f, "DELETE", "/api/orders/0123456789abcdef01234567", NULL, NULL,
         &res);
    http_spec_assert_error(&res, 401, "Not authorized", NULL);
    assert_int_equal(ticketing_spec_count(f->svc.orders), 0);
}

/* ---- GET /api/orders ---------------------------------------------------------- */

static void test_get_lists_only_the_users_own_orders(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char path[64], mine[64];
    order(f, &http_spec_bob, path, sizeof path);
    /* A second ticket for alice. */
    ticketing_spec_new_id(&f->ticket_id, f->ticket_hex);
    ticketing_spec_insert_replica(&f->svc, &f->ticket_id, "play", 30, 0);
    order(f, &http_spec_alice, mine, sizeof mine);

    call(f, "GET", "/api/orders", NULL, &http_spec_alice, &res);
    assert_int_equal(res.status, 200);
    assert_int_equal(json_array_size(res.body), 1);
    const json_t *one = json_array_get(res.body, 0);
    assert_string_equal(json_string_value(json_object_get(one, "id")),
                        mine + strlen("/api/orders/"));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(one, "ticket"), "title")),
                        "play");
    ticketing_http_response_clear(&res);
}

/* ---- GET /api/orders/:id --------------------------------------------------------- */

static void test_get_one_answers_the_users_order(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char path[64];
    order(f, &http_spec_alice, path, sizeof path);
    call(f, "GET", path, NULL, &http_spec_alice, &res);
    assert_int_equal(res.status, 200);
    assert_string_equal(http_spec_string(&res, "id"),
                        path + strlen("/api/orders/"));
    ticketing_http_response_clear(&res);
}

static void test_get_one_is_401_for_another_users_order(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char path[64];
    order(f, &http_spec_alice, path, sizeof path);
    call(f, "GET", path, NULL, &http_spec_bob, &res);
    http_spec_assert_error(&res, 401, "Not authorized", NULL);
}

static void test_get_one_is_404_for_an_unknown_or_malformed_id(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char hex[25], path[64];
    ticketing_spec_new_id(NULL, hex);
    snprintf(path, sizeof path, "/api/orders/%s", hex);
    call(f, "GET", path, NULL, &http_spec_alice, &res);
    http_spec_assert_error(&res, 404, "Not Found", NULL);
    call(f, "GET", "/api/orders/nope", NULL, &http_spec_alice, &res);
    http_spec_assert_error(&res, 404, "Not Found", NULL);
}

/* ---- DELETE /api/orders/:id ------------------------------------------------------ */

static void test_delete_cancels_the_order_answers_204_and_publishes(
    void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char path[64];
    bson_oid_t id;
    order(f, &http_spec_alice, path, sizeof path);
    lk_fake_nats_reset(f->nats);
    call(f, "DELETE", path, NULL, &http_spec_alice, &res);
    assert_int_equal(res.status, 204);
    assert_null(res.body);

    assert_int_equal(lk_oid_parse(path + strlen("/api/orders/"), &id, NULL),
                     LK_OK);
    bson_t *doc = ticketing_spec_stored_order(&f->svc, &id);
    assert_string_equal(ticketing_doc_string(doc, "status"), "cancelled");
    bson_destroy(doc);
    const json_t *ev =
        ticketing_spec_only_published(f->nats, "order:cancelled");
    assert_int_equal(lk_event_int(ev, "version"), 1);
    assert_string_equal(lk_event_string(ev, "ticket.id"), f->ticket_hex);

    call(f, "GET", path, NULL, &http_spec_alice, &res);
    assert_string_equal(http_spec_string(&res, "status"), "cancelled");
    ticketing_http_response_clear(&res);
}

static void test_delete_is_401_for_another_user_and_404_when_unknown(
    void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char path[64], hex[25];
    order(f, &http_spec_alice, path, sizeof path);
    lk_fake_nats_reset(f->nats);
    call(f, "DELETE", path, NULL, &http_spec_bob, &res);
    http_spec_assert_error(&res, 401, "Not authorized", NULL);
    ticketing_spec_new_id(NULL, hex);
    snprintf(path, sizeof path, "/api/orders/%s", hex);
    call(f, "DELETE", path, NULL, &http_spec_alice, &res);
    http_spec_assert_error(&res, 404, "Not Found", NULL);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
}

static void test_an_order_whose_replica_is_gone_shows_ticket_null(
    void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char path[64];
    bson_t none = BSON_INITIALIZER;
    order(f, &http_spec_alice, path, sizeof path);
    assert_int_equal(lk_collection_delete(f->svc.tickets, &none, NULL, NULL),
                     LK_OK);
    call(f, "GET", path, NULL, &http_spec_alice, &res);
    assert_int_equal(res.status, 200);
    assert_true(json_is_null(json_object_get(res.body, "ticket")));
    ticketing_http_response_clear(&res);
}

static void test_a_stored_order_that_cannot_be_shown_is_a_500(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char path[64], hex[25];
    bson_oid_t id;
    /* No expiresAt: not an order this service wrote. */
    bson_t *doc = BCON_NEW("userId", BCON_UTF8(http_spec_alice.id), "status",
                           BCON_UTF8("created"), "ticketId",
                           BCON_OID(&f->ticket_id));
    bson_t *stored = NULL;
    assert_int_equal(lk_collection_insert(f->svc.orders, doc, &stored, NULL),
                     LK_OK);
    assert_int_equal(lk_bson_get_oid(stored, &id, NULL), LK_OK);
    lk_oid_format(&id, hex);
    snprintf(path, sizeof path, "/api/orders/%s", hex);
    spec_log_capture_start();
    call(f, "GET", path, NULL, &http_spec_alice, &res);
    http_spec_assert_error(&res, 500, "Something went wrong", NULL);
    call(f, "GET", "/api/orders", NULL, &http_spec_alice, &res);
    http_spec_assert_error(&res, 500, "Something went wrong", NULL);
    /* The reason is for the operator, in the log. */
    assert_true(spec_log_contains("stored order lacks an expiresAt date"));
    spec_log_capture_stop();
    bson_destroy(stored);
    bson_destroy(doc);
}

static void test_unknown_order_routes_are_404_and_other_methods_405(
    void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    call(f, "PUT", "/api/orders/0123456789abcdef01234567", NULL,
         &http_spec_alice, &res);
    http_spec_assert_error(&res, 405, "Method not allowed", NULL);
    call(f, "GET", "/api/order", NULL, &http_spec_alice, &res);
    http_spec_assert_error(&res, 404, "Not Found", NULL);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, \
                                                ticketing_spec_orders_teardown)
    const struct CMUnitTest tests[] = {
        T(test_post_creates_an_order_and_answers_201_with_it),
        T(test_post_takes_the_expiration_the_service_is_given),
        T(test_post_is_404_for_an_unknown_ticket),
        T(test_post_is_400_for_a_reserved_ticket),
        T(test_post_refuses_a_missing_or_malformed_ticket_id),
        T(test_every_orders_route_is_401_without_a_user),
        T(test_get_lists_only_the_users_own_orders),
        T(test_get_one_answers_the_users_order),
        T(test_get_one_is_401_for_another_users_order),
        T(test_get_one_is_404_for_an_unknown_or_malformed_id),
        T(test_delete_cancels_the_order_answers_204_and_publishes),
        T(test_delete_is_401_for_another_user_and_404_when_unknown),
        T(test_an_order_whose_replica_is_gone_shows_ticket_null),
        T(test_a_stored_order_that_cannot_be_shown_is_a_500),
        T(test_unknown_order_routes_are_404_and_other_methods_405),
    };
#undef T
    return cmocka_run_group_tests_name("orders_routes", tests, NULL, NULL);
}
