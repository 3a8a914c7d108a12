/* SPDX-License-Identifier: MIT */
/*
 * http/http.h — the services' HTTP front: requests, responses, routes, the
 * course's error shape and its current user.
 *
 * A route handler is a plain function over (service, request) -> response:
 *
 *     static void get_ticket(void *svc, const ticketing_http_request *req,
 *                            ticketing_http_response *res)
 *     {
 *         ...look up req->param in the service's store...
 *         ticketing_http_json(res, 200, ticket_json);   // takes the ref
 *     }
 *     const ticketing_http_route tickets_routes[] = {
 *         {"GET", "/api/tickets/:id", get_ticket, false},
 *         {NULL, NULL, NULL, false}};
 *
 * so specs call ticketing_http_dispatch() with a request they build, no
 * socket involved; http/server.h puts the same table behind libmicrohttpd.
 *
 * Why a layer of its own under services/ and not in framework/: the
 * framework's concepts are the bus, the listener and the store (its core
 * needs only jansson and libbson, its adapters are the bus's and the
 * store's). HTTP, JWT identities and the course's error body are the worked
 * example's conventions; no listener needs them. The layer points down only
 * (framework headers, jansson, libmicrohttpd, libjwt); common/ (the program
 * shell) and tickets/, orders/ (their routes) sit on top of it.
 *
 * Errors go out in the course's shape, always JSON:
 *     {"errors": [{"message": "Title is required", "field": "title"}]}
 * ("field" is left out when no field is to blame.)
 */
#ifndef TICKETING_HTTP_H
#define TICKETING_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "listenkit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bodies larger than this are refused with 413 before they are parsed. */
#define TICKETING_HTTP_MAX_BODY 16384

/* The course's currentUser: the JWT payload {id, email}. */
#define TICKETING_HTTP_USER_ID_MAX 64
#define TICKETING_HTTP_EMAIL_MAX 254
typedef struct ticketing_user {
    char id[TICKETING_HTTP_USER_ID_MAX + 1];
    char email[TICKETING_HTTP_EMAIL_MAX + 1];
} ticketing_user;

typedef struct ticketing_http_request {
    const char *method;         /* "GET", "POST", ... */
    const char *path;           /* "/api/tickets/5f..." (no query string) */
    const char *body;           /* may be NULL when body_len is 0 */
    size_t body_len;
    const ticketing_user *user; /* NULL: no valid token came with it */
    const char *param;          /* the ":id" segment; set by dispatch */
} ticketing_http_request;

typedef struct ticketing_http_response {
    int status;
    json_t *body; /* owned by the response; NULL: no body (204) */
} ticketing_http_response;

typedef void (*ticketing_http_handler)(void *svc,
                                       const ticketing_http_request *req,
                                       ticketing_http_response *res);

typedef struct ticketing_http_route {
    const char *method;  /* NULL ends a table */
    const char *pattern; /* "/api/tickets" or "/api/tickets/:id" (one
                            parameter, as the last segment) */
    ticketing_http_handler handler;
    bool requires_user;  /* 401 "Not authorized" without a current user,
                            before the handler runs */
} ticketing_http_route;

/*
 * Finds the route for req->method and req->path in `routes` (ended by a
 * NULL method), sets req->param and runs its handler on `svc`. Answers
 * itself: 404 {"errors":[{"message":"Not Found"}]} for a path no route has,
 * 405 "Method not allowed" for a known path with another method, 401 for a
 * route that requires a user when req->user is NULL. A handler that leaves
 * the status 0 becomes a 500. `res` is reset first; release it with
 * ticketing_http_response_clear().
 */
void ticketing_http_dispatch(const ticketing_http_route *routes, void *svc,
                             ticketing_http_request *req,
                             ticketing_http_response *res);

/* Frees the body and zeroes `res`. NULL is ignored. */
void ticketing_http_response_clear(ticketing_http_response *res);

/* Sets the status and the body (a new reference, stolen; NULL: none). A
 * NULL body with a status that needs one (anything but 204) means memory
 * ran out: the response becomes a 500 without a body. */
void ticketing_http_json(ticketing_http_response *res, int status,
                         json_t *body);

/* The course's error body with one error; `field` may be NULL. */
void ticketing_http_error(ticketing_http_response *res, int status,
                          const char *message, const char *field);

/* Adds one more error to an error response (a validation that found
 * several problems); starts the body when there is none yet. */
void ticketing_http_add_error(ticketing_http_response *res, int status,
                              const char *message, const char *field);

/*
 * The response for a command's failure: LK_ERR_INVALID 400, LK_ERR_NOT_FOUND
 * 404 "Not Found", LK_ERR_FORBIDDEN 401 "Not authorized", LK_ERR_VERSION 409
 * (someone saved in between: try again), anything else 500 "Something went
 * wrong" with the real reason logged at error level, not sent. A 400 or
 * 409 carries e->message (which names the record, never a secret).
 */
void ticketing_http_from_status(ticketing_http_response *res, lk_status s,
                                const lk_error *e);

/* 500 "Something went wrong" for a failure that is not the caller's (a
 * stored record that cannot be shown); e->message goes to the log. */
void ticketing_http_server_error(ticketing_http_response *res,
                                 const lk_error *e);

/*
 * Parses the body as one JSON object. On failure answers 400 (empty body,
 * invalid JSON — the message has the line and column —, not an object) and
 * returns NULL; on success a new reference the caller releases.
 */
json_t *ticketing_http_body_object(const ticketing_http_request *req,
                                   ticketing_http_response *res);

/*
 * The current user from an Authorization header value ("Bearer <jwt>"),
 * verified as HS256 with `key` (key_len bytes). LK_ERR_FORBIDDEN when the
 * header is absent or not a Bearer token, the signature or algorithm is
 * wrong, or the payload lacks a string "id" (non-empty, at most
 * TICKETING_HTTP_USER_ID_MAX bytes) or "email"; the message never quotes
 * the token. LK_ERR_INVALID for a NULL `out` or key.
 */
lk_status ticketing_http_user_from_bearer(const char *authorization,
                                          const unsigned char *key,
                                          size_t key_len, ticketing_user *out,
                                          lk_error *err);

/* A signed HS256 token for `user` (what the course's auth service hands
 * out): malloc'd, free() it. NULL when libjwt fails. For specs and tools. */
char *ticketing_http_sign_user(const ticketing_user *user,
                               const unsigned char *key, size_t key_len);

/* Makes the JSON form of one stored document (borrowed) for a list; *out
 * is a new reference. */
typedef lk_status (*ticketing_http_to_json_fn)(void *ctx, const bson_t *doc,
                                               json_t **out, lk_error *err);

/* Answers 200 with a JSON array of to_json(doc) for the first `limit`
 * documents of `coll` matching `filter` (borrowed), in store order. A
 * store failure is answered as ticketing_http_from_status words it; a
 * document to_json refuses is a ticketing_http_server_error. */
void ticketing_http_list(ticketing_http_response *res, lk_collection *coll,
                         const bson_t *filter, int64_t limit,
                         ticketing_http_to_json_fn to_json, void *ctx);

/* ---- small readers for route handlers ---------------------------------- */

/* True when `path` (a pattern segment "/api/tickets/:id" matched against
 * a request path) matches; *param gets the start of the parameter. */
bool ticketing_http_match(const char *pattern, const char *path,
                          const char **param);

#ifdef __cplusplus
}
#endif

#endif /* TICKETING_HTTP_H */
