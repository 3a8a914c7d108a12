/* SPDX-License-Identifier: MIT */
/*
 * http_spec.h — calling route tables in specs, without a socket, and
 * reading their answers.
 *
 *     ticketing_http_response res;
 *     http_spec_call(tickets_routes, &f->svc, "POST", "/api/tickets",
 *                    "{\"title\":\"concert\",\"price\":20}", &http_spec_alice,
 *                    &res);
 *     assert_int_equal(res.status, 201);
 *     ...
 *     ticketing_http_response_clear(&res);
 *
 * Every function here fails the running cmocka test instead of returning
 * an error: call them only from a test, a setup or a teardown.
 */
#ifndef HTTP_SPEC_H
#define HTTP_SPEC_H

#include "http/http.h"

/* Two signed-in users of the course's auth service. */
extern const ticketing_user http_spec_alice;
extern const ticketing_user http_spec_bob;

/* The JWT key the specs sign and verify with. */
#define HTTP_SPEC_JWT_KEY "spec-jwt-key"

/* Dispatches one request (`body` NULL: none; `user` NULL: signed out) to
 * `routes` on `svc`; *res is the answer (clear it). */
void http_spec_call(const ticketing_http_route *routes, void *svc,
                    const char *method, const char *path, const char *body,
                    const ticketing_user *user, ticketing_http_response *res);

/* Asserts `res` is `status` with the course's error body whose errors
 * include one whose message contains `needle` and whose field is `field`
 * (NULL: an error without a field). Clears `res`. */
void http_spec_assert_error(ticketing_http_response *res, int status,
                            const char *needle, const char *field);

/* How many errors an error body lists. */
size_t http_spec_error_count(const ticketing_http_response *res);

/* The string `key` of the response body (asserted there). */
const char *http_spec_string(const ticketing_http_response *res,
                             const char *key);

#endif /* HTTP_SPEC_H */
