/* SPDX-License-Identifier: MIT */
/* http_spec.c — calling route tables in specs (see http_spec.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "http_spec.h"

const ticketing_user http_spec_alice = {.id = "user-alice",
                                        .email = "alice@example.test"};
const ticketing_user http_spec_bob = {.id = "user-bob",
                                      .email = "bob@example.test"};

void http_spec_call(const ticketing_http_route *routes, void *svc,
                    const char *method, const char *path, const char *body,
                    const ticketing_user *user, ticketing_http_response *res)
{
    ticketing_http_request req = {.method = method,
                                  .path = path,
                                  .body = body,
                                  .body_len = body != NULL ? strlen(body) : 0,
                                  .user = user};
    ticketing_http_dispatch(routes, svc, &req, res);
    assert_true(res->status >= 200 && res->status < 600);
}

static const json_t *errors_of(const ticketing_http_response *res)
{
    const json_t *errors = json_object_get(res->body, "errors");
    assert_true(json_is_array(errors));
    assert_true(json_array_size(errors) > 0);
    return errors;
}

void http_spec_assert_error(ticketing_http_response *res, int status,
                            const char *needle, const char *field)
{
    size_t i;
    const json_t *one;
    bool seen = false;
    if (res->status != status) {
        char *text = res->body != NULL ? json_dumps(res->body, 0) : NULL;
        print_error("status %d, wanted %d (body %s)\n", res->status, status,
                    text != NULL ? text : "none");
        free(text);
        fail();
    }
    json_array_foreach(errors_of(res), i, one) {
        const char *msg = json_string_value(json_object_get(one, "message"));
        const json_t *f = json_object_get(one, "field");
        assert_non_null(msg);
        if (strstr(msg, needle) == NULL)
            continue;
        if (field == NULL ? f == NULL
                          : json_is_string(f) &&
                                strcmp(json_string_value(f), field) == 0)
            seen = true;
    }
    if (!seen) {
        char *text = json_dumps(res->body, 0);
        print_error("no error \"%s\" (field %s) in %s\n", needle,
                    field != NULL ? field : "none", text);
        free(text);
        fail();
    }
    ticketing_http_response_clear(res);
}

size_t http_spec_error_count(const ticketing_http_response *res)
{
    return json_array_size(errors_of(res));
}

const char *http_spec_string(const ticketing_http_response *res,
                             const char *key)
{
    const char *v = json_string_value(json_object_get(res->body, key));
    if (v == NULL)
        fail_msg("response body has no string \"%s\"", key);
    return v;
}
