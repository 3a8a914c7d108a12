/* SPDX-License-Identifier: MIT */
/* tickets_routes_spec.c — the tickets service's HTTP routes, called as
 * functions (course: new.test.ts, index.test.ts, show.test.ts,
 * update.test.ts): every route, every status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "http_spec.h"
#include "ticketing_spec.h"

typedef ticketing_spec_tickets fixture;

static int setup(void **state)
{
    *state = ticketing_spec_tickets_new();
    return 0;
}

static void call(fixture *f, const char *method, const char *path,
                 const char *body, const ticketing_user *user,
                 ticketing_http_response *res)
{
    http_spec_call(tickets_routes, &f->svc, method, path, body, user, res);
}

/* Creates a ticket of `user` through POST; its id in `hex`. */
static void create(fixture *f, const ticketing_user *user, const char *title,
                   double price, char hex[25])
{
    ticketing_http_response res;
    char body[128];
    snprintf(body, sizeof body, "{\"title\":\"%s\",\"price\":%g}", title,
             price);
    call(f, "POST", "/api/tickets", body, user, &res);
    assert_int_equal(res.status, 201);
    snprintf(hex, 25, "%s", http_spec_string(&res, "id"));
    ticketing_http_response_clear(&res);
}

static int64_t stored_version(fixture *f, const char *hex)
{
    bson_oid_t id;
    assert_int_equal(lk_oid_parse(hex, &id, NULL), LK_OK);
    bson_t *doc = ticketing_spec_stored_ticket(&f->svc, &id);
    int64_t v = ticketing_spec_version_of(doc);
    bson_destroy(doc);
    return v;
}

static void path_of(char *buf, size_t size, const char *hex)
{
    snprintf(buf, size, "/api/tickets/%s", hex);
}

/* ---- POST /api/tickets ------------------------------------------------------ */

static void test_post_creates_a_ticket_and_answers_201_with_it(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    call(f, "POST", "/api/tickets", "{\"title\":\"concert\",\"price\":20}",
         &http_spec_alice, &res);

    assert_int_equal(res.status, 201);
    assert_string_equal(http_spec_string(&res, "title"), "concert");
    assert_true(json_number_value(json_object_get(res.body, "price")) == 20);
    assert_string_equal(http_spec_string(&res, "userId"), http_spec_alice.id);
    assert_int_equal(json_integer_value(json_object_get(res.body, "version")),
                     0);
    assert_null(json_object_get(res.body, "orderId"));
    assert_int_equal(ticketing_spec_count(f->svc.tickets), 1);
    const json_t *ev =
        ticketing_spec_only_published(f->nats, "ticket:created");
    assert_string_equal(lk_event_string(ev, "id"),
                        http_spec_string(&res, "id"));
    ticketing_http_response_clear(&res);
}

static void test_post_without_a_user_is_401_and_saves_nothing(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    call(f, "POST", "/api/tickets", "{\"title\":\"concert\",\"price\":20}",
         NULL, &res);
    http_spec_assert_error(&res, 401, "Not authorized", NULL);
    assert_int_equal(ticketing_spec_count(f->svc.tickets), 0);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
}

static void test_post_refuses_a_missing_or_empty_title(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    call(f, "POST", "/api/tickets", "{\"title\":\"\",\"price\":10}",
         &http_spec_alice, &res);
    http_spec_assert_error(&res, 400, "Title is required", "title");
    call(f, "POST", "/api/tickets", "{\"price\":10}", &http_spec_alice, &res);
    http_spec_assert_error(&res, 400, "Title is required", "title");
    call(f, "POST", "/api/tickets", "{\"title\":\"   \",\"price\":10}",
         &http_spec_alice, &res);
    http_spec_assert_error(&res, 400, "Title is required", "title");
    assert_int_equal(ticketing_spec_count(f->svc.tickets), 0);
}

static void test_post_refuses_a_missing_zero_or_negative_price(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    const char *bodies[] = {"{\"title\":\"concert\"}",
                            "{\"title\":\"concert\",\"price\":0}",
                            "{\"title\":\"concert\",\"price\":-10}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        call(f, "POST", "/api/tickets", bodies[i], &http_spec_alice, &res);
        http_spec_assert_error(&res, 400, "Price must be greater than 0",
                               "price");
    }
    assert_int_equal(ticketing_spec_count(f->svc.tickets), 0);
}

static void test_post_lists_every_problem_with_its_field(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    call(f, "POST", "/api/tickets", "{}", &http_spec_alice, &res);
    assert_int_equal(http_spec_error_count(&res), 2);
    http_spec_assert_error(&res, 400, "Title is required", "title");
    call(f, "POST", "/api/tickets", "{}", &http_spec_alice, &res);
    http_spec_assert_error(&res, 400, "Price must be greater than 0",
                           "price");
}

static void test_post_refuses_wrong_types(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    call(f, "POST", "/api/tickets", "{\"title\":5,\"price\":10}",
         &http_spec_alice, &res);
    http_spec_assert_error(&res, 400, "Title is required", "title");
    call(f, "POST", "/api/tickets", "{\"title\":\"concert\",\"price\":\"10\"}",
         &http_spec_alice, &res);
    http_spec_assert_error(&res, 400, "Price must be greater than 0",
                           "price");
    assert_int_equal(ticketing_spec_count(f->svc.tickets), 0);
}

static void test_post_refuses_a_title_or_price_over_the_limits(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char body[TICKETING_TITLE_MAX + 64];
    snprintf(body, sizeof body, "{\"title\":\"%0*d\",\"price\":10}",
             TICKETING_TITLE_MAX + 1, 0);
    call(f, "POST", "/api/tickets", body, &http_spec_alice, &res);
    http_spec_assert_error(&res, 400, "Title must be at most", "title");
    call(f, "POST", "/api/tickets", "{\"title\":\"concert\",\"price\":1e12}",
         &http_spec_alice, &res);
    http_spec_assert_error(&res, 400, "Price must be at most", "price");
    assert_int_equal(ticketing_spec_count(f->svc.tickets), 0);
}

static void test_post_refuses_bodies_that_are_not_a_json_object(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    call(f, "POST", "/api/tickets", "{\"title\":", &http_spec_alice, &res);
    http_spec_assert_error(&res, 400, "body is not valid JSON", NULL);
    call(f, "POST", "/api/tickets", "[1,2]", &http_spec_alice, &res);
    http_spec_assert_error(&res, 400, "body must be a JSON object", NULL);
    call(f, "POST", "/api/tickets", NULL, &http_spec_alice, &res);
    http_spec_assert_error(&res, 400, "a JSON object body is required", NULL);
    call(f, "POST", "/api/tickets",
         "{\"title\":\"a\",\"title\":\"b\",\"price\":1}", &http_spec_alice,
         &res);
    http_spec_assert_error(&res, 400, "duplicate", NULL);
    assert_int_equal(ticketing_spec_count(f->svc.tickets), 0);
}

/* ---- GET /api/tickets ------------------------------------------------------- */

static void test_get_lists_the_tickets_that_are_not_reserved(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char a[25], b[25], order_hex[25];
    bson_oid_t id;
    create(f, &http_spec_alice, "one", 10, a);
    create(f, &http_spec_bob, "two", 20, b);
    assert_int_equal(lk_oid_parse(b, &id, NULL), LK_OK);
    ticketing_spec_new_id(NULL, order_hex);
    ticketing_spec_reserve(&f->svc, &id, order_hex);

    call(f, "GET", "/api/tickets", NULL, NULL, &res);
    assert_int_equal(res.status, 200);
    assert_true(json_is_array(res.body));
    assert_int_equal(json_array_size(res.body), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(res.body, 0), "id")),
        a);
    ticketing_http_response_clear(&res);
}

static void test_get_lists_nothing_as_an_empty_array(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    call(f, "GET", "/api/tickets/", NULL, NULL, &res);
    assert_int_equal(res.status, 200);
    assert_int_equal(json_array_size(res.body), 0);
    ticketing_http_response_clear(&res);
}

/* ---- GET /api/tickets/:id --------------------------------------------------- */

static void test_get_one_answers_the_ticket(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char hex[25], path[64];
    create(f, &http_spec_alice, "concert", 20, hex);
    path_of(path, sizeof path, hex);
    call(f, "GET", path, NULL, NULL, &res);
    assert_int_equal(res.status, 200);
    assert_string_equal(http_spec_string(&res, "id"), hex);
    assert_string_equal(http_spec_string(&res, "title"), "concert");
    ticketing_http_response_clear(&res);
}

static void test_get_one_is_404_for_an_unknown_or_malformed_id(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char hex[25], path[64];
    ticketing_spec_new_id(NULL, hex);
    path_of(path, sizeof path, hex);
    call(f, "GET", path, NULL, NULL, &res);
    http_spec_assert_error(&res, 404, "Not Found", NULL);
    call(f, "GET", "/api/tickets/not-an-id", NULL, NULL, &res);
    http_spec_assert_error(&res, 404, "Not Found", NULL);
}

/* ---- PUT /api/tickets/:id --------------------------------------------------- */

static void test_put_updates_the_ticket_and_publishes_its_new_version(
    void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char hex[25], path[64];
    create(f, &http_spec_alice, "concert", 20, hex);
    path_of(path, sizeof path, hex);
    call(f, "PUT", path, "{\"title\":\"new title\",\"price\":100}",
         &http_spec_alice, &res);

    assert_int_equal(res.status, 200);
    assert_string_equal(http_spec_string(&res, "title"), "new title");
    assert_true(json_number_value(json_object_get(res.body, "price")) == 100);
    assert_int_equal(json_integer_value(json_object_get(res.body, "version")),
                     1);
    ticketing_http_response_clear(&res);
    long i = lk_fake_nats_find_published(f->nats, "ticket:updated", 0);
    assert_true(i >= 0);
    const json_t *ev = lk_fake_nats_published_json(f->nats, (size_t)i);
    assert_int_equal(lk_event_int(ev, "version"), 1);
    assert_string_equal(lk_event_string(ev, "title"), "new title");
}

static void test_put_is_404_for_an_unknown_ticket(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char hex[25], path[64];
    ticketing_spec_new_id(NULL, hex);
    path_of(path, sizeof path, hex);
    call(f, "PUT", path, "{\"title\":\"t\",\"price\":1}", &http_spec_alice,
         &res);
    http_spec_assert_error(&res, 404, "Not Found", NULL);
    call(f, "PUT", "/api/tickets/zz", "{\"title\":\"t\",\"price\":1}",
         &http_spec_alice, &res);
    http_spec_assert_error(&res, 404, "Not Found", NULL);
}

static void test_put_is_401_without_a_user_or_for_another_user(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char hex[25], path[64];
    create(f, &http_spec_alice, "concert", 20, hex);
    path_of(path, sizeof path, hex);
    call(f, "PUT", path, "{\"title\":\"t\",\"price\":1}", NULL, &res);
    http_spec_assert_error(&res, 401, "Not authorized", NULL);
    call(f, "PUT", path, "{\"title\":\"t\",\"price\":1}", &http_spec_bob,
         &res);
    http_spec_assert_error(&res, 401, "Not authorized", NULL);
    assert_int_equal(stored_version(f, hex), 0); /* unchanged */
}

static void test_put_refuses_invalid_title_or_price(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char hex[25], path[64];
    create(f, &http_spec_alice, "concert", 20, hex);
    path_of(path, sizeof path, hex);
    call(f, "PUT", path, "{\"title\":\"\",\"price\":10}", &http_spec_alice,
         &res);
    http_spec_assert_error(&res, 400, "Title is required", "title");
    call(f, "PUT", path, "{\"title\":\"t\",\"price\":-10}", &http_spec_alice,
         &res);
    http_spec_assert_error(&res, 400, "Price must be greater than 0",
                           "price");
    call(f, "PUT", path, "nope", &http_spec_alice, &res);
    http_spec_assert_error(&res, 400, "body is not valid JSON", NULL);
}

static void test_put_refuses_a_reserved_ticket_with_400(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    char hex[25], path[64], order_hex[25];
    bson_oid_t id;
    create(f, &http_spec_alice, "concert", 20, hex);
    assert_int_equal(lk_oid_parse(hex, &id, NULL), LK_OK);
    ticketing_spec_new_id(NULL, order_hex);
    ticketing_spec_reserve(&f->svc, &id, order_hex);
    path_of(path, sizeof path, hex);
    call(f, "PUT", path, "{\"title\":\"t\",\"price\":1}", &http_spec_alice,
         &res);
    http_spec_assert_error(&res, 400, "ticket is reserved", NULL);
}

/* ---- the rest ---------------------------------------------------------------- */

static void test_unknown_routes_are_404_and_other_methods_405(void **state)
{
    fixture *f = *state;
    ticketing_http_response res;
    call(f, "GET", "/api/nothing", NULL, &http_spec_alice, &res);
    http_spec_assert_error(&res, 404, "Not Found", NULL);
    call(f, "GET", "/api/tickets/a/b", NULL, &http_spec_alice, &res);
    http_spec_assert_error(&res, 404, "Not Found", NULL);
    call(f, "DELETE", "/api/tickets/0123456789abcdef01234567", NULL,
         &http_spec_alice, &res);
    http_spec_assert_error(&res, 405, "Method not allowed", NULL);
    call(f, "PATCH", "/api/tickets", NULL, &http_spec_alice, &res);
    http_spec_assert_error(&res, 405, "Method not allowed", NULL);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, \
                                                ticketing_spec_tickets_teardown)
    const struct CMUnitTest tests[] = {
        T(test_post_creates_a_ticket_and_answers_201_with_it),
        T(test_post_without_a_user_is_401_and_saves_nothing),
        T(test_post_refuses_a_missing_or_empty_title),
        T(test_post_refuses_a_missing_zero_or_negative_price),
        T(test_post_lists_every_problem_with_its_field),
        T(test_post_refuses_wrong_types),
        T(test_post_refuses_a_title_or_price_over_the_limits),
        T(test_post_refuses_bodies_that_are_not_a_json_object),
        T(test_get_lists_the_tickets_that_are_not_reserved),
        T(test_get_lists_nothing_as_an_empty_array),
        T(test_get_one_answers_the_ticket),
        T(test_get_one_is_404_for_an_unknown_or_malformed_id),
        T(test_put_updates_the_ticket_and_publishes_its_new_version),
        T(test_put_is_404_for_an_unknown_ticket),
        T(test_put_is_401_without_a_user_or_for_another_user),
        T(test_put_refuses_invalid_title_or_price),
        T(test_put_refuses_a_reserved_ticket_with_400),
        T(test_unknown_routes_are_404_and_other_methods_405),
    };
#undef T
    return cmocka_run_group_tests_name("tickets_routes", tests, NULL, NULL);
}
