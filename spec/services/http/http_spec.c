/* SPDX-License-Identifier: MIT */
/* http_spec.c — the HTTP layer's own rules: routing, the course's error
 * body, status mapping, JSON bodies and the current user from a JWT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jwt.h>

#include "http_spec.h"
#include "spec_log.h"

#define KEY ((const unsigned char *)HTTP_SPEC_JWT_KEY)
#define KEY_LEN (sizeof HTTP_SPEC_JWT_KEY - 1)

static const char *seen_param;

static void echo_param(void *svc, const ticketing_http_request *req,
                       ticketing_http_response *res)
{
    (void)svc;
    seen_param = req->param;
    ticketing_http_json(res, 200,
                        json_pack("{s:s*}", "param", req->param));
}

static void answers_nothing(void *svc, const ticketing_http_request *req,
                            ticketing_http_response *res)
{
    (void)svc;
    (void)req;
    (void)res;
}

static const ticketing_http_route routes[] = {
    {"GET", "/things", echo_param, false},
    {"GET", "/things/:id", echo_param, false},
    {"POST", "/things/:id", echo_param, true},
    {"GET", "/silent", answers_nothing, false},
    {NULL, NULL, NULL, false},
};

static void call(const char *method, const char *path,
                 const ticketing_user *user, ticketing_http_response *res)
{
    http_spec_call(routes, NULL, method, path, NULL, user, res);
}

/* ---- routing ---------------------------------------------------------------- */

static void test_dispatch_hands_the_last_segment_as_param(void **state)
{
    ticketing_http_response res;
    (void)state;
    call("GET", "/things/42", NULL, &res);
    assert_int_equal(res.status, 200);
    assert_string_equal(http_spec_string(&res, "param"), "42");
    ticketing_http_response_clear(&res);
    call("GET", "/things/42/", NULL, &res);
    assert_string_equal(http_spec_string(&res, "param"), "42");
    ticketing_http_response_clear(&res);
    call("GET", "/things", NULL, &res);
    assert_int_equal(res.status, 200);
    assert_null(json_object_get(res.body, "param"));
    ticketing_http_response_clear(&res);
}

static void test_dispatch_answers_404_405_and_401_itself(void **state)
{
    ticketing_http_response res;
    (void)state;
    call("GET", "/nothing", NULL, &res);
    http_spec_assert_error(&res, 404, "Not Found", NULL);
    call("GET", "/things/1/2", NULL, &res);
    http_spec_assert_error(&res, 404, "Not Found", NULL);
    call("GET", "/thingsX", NULL, &res);
    http_spec_assert_error(&res, 404, "Not Found", NULL);
    call("DELETE", "/things/1", NULL, &res);
    http_spec_assert_error(&res, 405, "Method not allowed", NULL);
    seen_param = "untouched";
    call("POST", "/things/1", NULL, &res);
    http_spec_assert_error(&res, 401, "Not authorized", NULL);
    assert_string_equal(seen_param, "untouched"); /* handler never ran */
    call("POST", "/things/1", &http_spec_alice, &res);
    assert_int_equal(res.status, 200);
    ticketing_http_response_clear(&res);
}

static void test_dispatch_refuses_an_over_long_param_with_404(void **state)
{
    ticketing_http_response res;
    char path[300] = "/things/";
    (void)state;
    memset(path + 8, 'a', 200);
    path[208] = '\0';
    call("GET", path, NULL, &res);
    http_spec_assert_error(&res, 404, "Not Found", NULL);
}

static void test_a_handler_that_answers_nothing_becomes_a_500(void **state)
{
    ticketing_http_response res;
    (void)state;
    call("GET", "/silent", NULL, &res);
    assert_int_equal(res.status, 500);
    ticketing_http_response_clear(&res);
}

/* ---- errors ----------------------------------------------------------------- */

static void test_command_statuses_map_to_the_courses_errors(void **state)
{
    ticketing_http_response res = {0};
    lk_error e;
    (void)state;
    lk_error_set(&e, LK_ERR_INVALID, "title must not be empty");
    ticketing_http_from_status(&res, e.status, &e);
    http_spec_assert_error(&res, 400, "title must not be empty", NULL);
    lk_error_set(&e, LK_ERR_NOT_FOUND, "ticket 1 not found");
    ticketing_http_from_status(&res, e.status, &e);
    http_spec_assert_error(&res, 404, "Not Found", NULL);
    lk_error_set(&e, LK_ERR_FORBIDDEN, "not the owner");
    ticketing_http_from_status(&res, e.status, &e);
    http_spec_assert_error(&res, 401, "Not authorized", NULL);
    lk_error_set(&e, LK_ERR_VERSION, "stale document");
    ticketing_http_from_status(&res, e.status, &e);
    http_spec_assert_error(&res, 409, "stale document", NULL);
}

static void test_a_server_error_is_logged_not_sent(void **state)
{
    ticketing_http_response res = {0};
    lk_error e;
    (void)state;
    spec_log_capture_start();
    lk_error_set(&e, LK_ERR_IO, "postgres at 10.0.0.5: connection refused");
    ticketing_http_from_status(&res, e.status, &e);
    assert_int_equal(res.status, 500);
    char *text = json_dumps(res.body, 0);
    assert_null(strstr(text, "10.0.0.5"));
    assert_non_null(strstr(text, "Something went wrong"));
    free(text);
    assert_true(spec_log_contains("connection refused"));
    spec_log_capture_stop();
    ticketing_http_response_clear(&res);
}

static void test_errors_accumulate_in_one_body(void **state)
{
    ticketing_http_response res = {0};
    (void)state;
    ticketing_http_add_error(&res, 400, "first", "a");
    ticketing_http_add_error(&res, 400, "second", NULL);
    assert_int_equal(http_spec_error_count(&res), 2);
    http_spec_assert_error(&res, 400, "second", NULL);
    ticketing_http_response_clear(NULL); /* NULL is fine */
}

/* ---- the current user -------------------------------------------------------- */

static char *bearer(const char *token)
{
    char *h = malloc(strlen(token) + 8);
    assert_non_null(h);
    strcpy(h, "Bearer ");
    strcat(h, token);
    return h;
}

static void test_a_signed_token_gives_the_current_user(void **state)
{
    ticketing_user user;
    (void)state;
    char *token = ticketing_http_sign_user(&http_spec_alice, KEY, KEY_LEN);
    assert_non_null(token);
    char *h = bearer(token);
    assert_int_equal(
        ticketing_http_user_from_bearer(h, KEY, KEY_LEN, &user, NULL), LK_OK);
    assert_string_equal(user.id, http_spec_alice.id);
    assert_string_equal(user.email, http_spec_alice.email);
    h[0] = 'b'; /* the scheme is case-insensitive */
    assert_int_equal(
        ticketing_http_user_from_bearer(h, KEY, KEY_LEN, &user, NULL), LK_OK);
    free(h);
    free(token);
}

static void assert_refused(const char *header, const char *needle)
{
    ticketing_user user;
    lk_error e;
    assert_int_equal(
        ticketing_http_user_from_bearer(header, KEY, KEY_LEN, &user, &e),
        LK_ERR_FORBIDDEN);
    assert_non_null(strstr(e.message, needle));
    assert_string_equal(user.id, "");
}

static void test_a_token_signed_with_another_key_is_refused(void **state)
{
    (void)state;
    char *token = ticketing_http_sign_user(
        &http_spec_alice, (const unsigned char *)"other", 5);
    char *h = bearer(token);
    assert_refused(h, "not a valid signed JWT");
    free(h);
    free(token);
}

static void test_missing_or_malformed_headers_are_refused(void **state)
{
    (void)state;
    assert_refused(NULL, "no \"Authorization: Bearer\"");
    assert_refused("Basic dXNlcjpwYXNz", "no \"Authorization: Bearer\"");
    assert_refused("Bearer ", "no \"Authorization: Bearer\"");
    assert_refused("Bearer not.a.jwt", "not a valid signed JWT");
}

static void test_an_unsigned_token_is_refused(void **state)
{
    (void)state;
    /* {"alg":"none"} . {"id":"x","email":"e"} . (no signature) */
    assert_refused("Bearer eyJhbGciOiJub25lIn0."
                   "eyJpZCI6IngiLCJlbWFpbCI6ImUifQ.",
                   "token:");
}

/* A token signed by libjwt directly, with `alg` and one claim. */
static char *token_with(jwt_alg_t alg, const char *claim, const char *value)
{
    jwt_t *jwt = NULL;
    assert_int_equal(jwt_new(&jwt), 0);
    assert_int_equal(jwt_add_grant(jwt, "email", "e@x"), 0);
    assert_int_equal(jwt_add_grant(jwt, claim, value), 0);
    assert_int_equal(jwt_set_alg(jwt, alg, KEY, (int)KEY_LEN), 0);
    char *t = jwt_encode_str(jwt);
    jwt_free(jwt);
    assert_non_null(t);
    char *h = bearer(t);
    free(t);
    return h;
}

static void test_a_token_signed_with_another_algorithm_is_refused(
    void **state)
{
    (void)state;
    char *h = token_with(JWT_ALG_HS512, "id", "u1");
    assert_refused(h, "algorithm is not HS256");
    free(h);
}

static void test_an_over_long_id_is_refused(void **state)
{
    char id[TICKETING_HTTP_USER_ID_MAX + 2];
    (void)state;
    memset(id, 'u', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    char *h = token_with(JWT_ALG_HS256, "id", id);
    assert_refused(h, "longer than 64 bytes");
    free(h);
}

static void test_spaces_after_the_scheme_are_skipped(void **state)
{
    ticketing_user user;
    (void)state;
    char *h = token_with(JWT_ALG_HS256, "id", "u1");
    char *spaced = malloc(strlen(h) + 3);
    assert_non_null(spaced);
    strcpy(spaced, "Bearer   ");
    strcat(spaced, h + 7);
    assert_int_equal(
        ticketing_http_user_from_bearer(spaced, KEY, KEY_LEN, &user, NULL),
        LK_OK);
    assert_string_equal(user.id, "u1");
    free(spaced);
    free(h);
}

static void test_a_token_without_id_or_email_is_refused(void **state)
{
    ticketing_user nobody = {.id = "", .email = "e@x"};
    ticketing_user no_mail = {.id = "u1", .email = ""};
    (void)state;
    char *t1 = ticketing_http_sign_user(&nobody, KEY, KEY_LEN);
    char *t2 = ticketing_http_sign_user(&no_mail, KEY, KEY_LEN);
    char *h1 = bearer(t1), *h2 = bearer(t2);
    assert_refused(h1, "claim \"id\"");
    assert_refused(h2, "claim \"email\"");
    free(h1);
    free(h2);
    free(t1);
    free(t2);
}

static void test_user_from_bearer_refuses_missing_arguments(void **state)
{
    ticketing_user user;
    (void)state;
    assert_int_equal(ticketing_http_user_from_bearer("Bearer x", NULL, 0,
                                                     &user, NULL),
                     LK_ERR_INVALID);
    assert_int_equal(
        ticketing_http_user_from_bearer("Bearer x", KEY, KEY_LEN, NULL, NULL),
        LK_ERR_INVALID);
    assert_null(ticketing_http_sign_user(NULL, KEY, KEY_LEN));
    assert_null(ticketing_http_sign_user(&http_spec_alice, NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dispatch_hands_the_last_segment_as_param),
        cmocka_unit_test(test_dispatch_answers_404_405_and_401_itself),
        cmocka_unit_test(test_dispatch_refuses_an_over_long_param_with_404),
        cmocka_unit_test(test_a_handler_that_answers_nothing_becomes_a_500),
        cmocka_unit_test(test_command_statuses_map_to_the_courses_errors),
        cmocka_unit_test(test_a_server_error_is_logged_not_sent),
        cmocka_unit_test(test_errors_accumulate_in_one_body),
        cmocka_unit_test(test_a_signed_token_gives_the_current_user),
        cmocka_unit_test(test_a_token_signed_with_another_key_is_refused),
        cmocka_unit_test(test_missing_or_malformed_headers_are_refused),
        cmocka_unit_test(test_an_unsigned_token_is_refused),
        cmocka_unit_test(test_a_token_without_id_or_email_is_refused),
        cmocka_unit_test(test_a_token_signed_with_another_algorithm_is_refused),
        cmocka_unit_test(test_an_over_long_id_is_refused),
        cmocka_unit_test(test_spaces_after_the_scheme_are_skipped),
        cmocka_unit_test(test_user_from_bearer_refuses_missing_arguments),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
