/* SPDX-License-Identifier: MIT */
/*
 * http_client.h — a small HTTP client for specs (libcurl): one request,
 * its status, Content-Type and body.
 *
 *     reply r;
 *     perform(&(request){"POST", url, "{\"title\":\"x\"}", token, false}, &r);
 *     assert_int_equal(r.status, 201);
 *
 * curl_global_init() is the spec's (a group setup), as libcurl asks.
 */
#ifndef HTTP_CLIENT_H
#define HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct reply {
    long status;
    char body[8192];   /* truncated to fit, NUL-terminated */
    size_t len;
    char content_type[64];
} reply;

typedef struct request {
    const char *method;
    const char *url;
    const char *body;   /* NULL: none */
    const char *token;  /* NULL: no Authorization header */
    bool chunked;       /* send the body without a Content-Length */
} request;

/* Performs `rq` (10 s at most); false when the connection itself failed. */
bool perform(const request *rq, reply *r);

#endif /* HTTP_CLIENT_H */
