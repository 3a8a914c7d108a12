/* SPDX-License-Identifier: MIT */
/* http.c — routing, the course's error body, JSON bodies (see http/http.h). */
#include "http/http.h"

#include <stdio.h>
#include <string.h>

void ticketing_http_response_clear(ticketing_http_response *res)
{
    if (res == NULL)
        return;
    json_decref(res->body);
    res->body = NULL;
    res->status = 0;
}

void ticketing_http_json(ticketing_http_response *res, int status,
                         json_t *body)
{
    ticketing_http_response_clear(res);
    res->status = body == NULL && status != 204 ? 500 : status;
    res->body = body;
}

static json_t *error_entry(const char *message, const char *field)
{
    /* "s*": the field is left out when NULL, as the course's serializer
     * leaves it undefined. */
    return json_pack("{s:s, s:s*}", "message", message, "field", field);
}

void ticketing_http_error(ticketing_http_response *res, int status,
                          const char *message, const char *field)
{
    ticketing_http_json(res, status,
                        json_pack("{s:[o]}", "errors",
                                  error_entry(message, field)));
}

void ticketing_http_add_error(ticketing_http_response *res, int status,
                              const char *message, const char *field)
{
    json_t *errors = res->body != NULL ? json_object_get(res->body, "errors")
                                       : NULL;
    if (!json_is_array(errors) ||
        json_array_append_new(errors, error_entry(message, field)) != 0)
        ticketing_http_error(res, status, message, field);
    res->status = status;
}

void ticketing_http_from_status(ticketing_http_response *res, lk_status s,
                                const lk_error *e)
{
    const char *why = e != NULL && e->message[0] != '\0' ? e->message
                                                         : lk_status_str(s);
    switch (s) {
    case LK_ERR_INVALID:
        ticketing_http_error(res, 400, why, NULL);
        break;
    case LK_ERR_NOT_FOUND:
        ticketing_http_error(res, 404, "Not Found", NULL);
        break;
    case LK_ERR_FORBIDDEN:
        ticketing_http_error(res, 401, "Not authorized", NULL);
        break;
    case LK_ERR_VERSION:
        ticketing_http_error(res, 409, why, NULL);
        break;
    default:
        ticketing_http_server_error(res, e);
        break;
    }
}

void ticketing_http_server_error(ticketing_http_response *res,
                                 const lk_error *e)
{
    /* The reason may name servers or internals: it goes to the log. */
    lk_log(LK_LOG_ERROR, "http: %s (%s)",
           e != NULL ? e->message : "unknown error",
           lk_status_name(e != NULL ? e->status : LK_ERR_STATE));
    ticketing_http_error(res, 500, "Something went wrong", NULL);
}

json_t *ticketing_http_body_object(const ticketing_http_request *req,
                                   ticketing_http_response *res)
{
    json_error_t jerr;
    if (req->body == NULL || req->body_len == 0) {
        ticketing_http_error(res, 400, "a JSON object body is required",
                             NULL);
        return NULL;
    }
    /* No NUL bytes inside, no duplicate keys: what the event decoder
     * refuses, for the same reason (two readers, two answers). */
    json_t *doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES,
                             &jerr);
    if (doc == NULL) {
        char msg[JSON_ERROR_TEXT_LENGTH + 64];
        snprintf(msg, sizeof msg,
                 "body is not valid JSON: %s (line %d, column %d)", jerr.text,
                 jerr.line, jerr.column);
        ticketing_http_error(res, 400, msg, NULL);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        ticketing_http_error(res, 400, "body must be a JSON object", NULL);
        return NULL;
    }
    return doc;
}

void ticketing_http_list(ticketing_http_response *res, lk_collection *coll,
                         const bson_t *filter, int64_t limit,
                         ticketing_http_to_json_fn to_json, void *ctx)
{
    const lk_find_opts opts = {.limit = limit};
    lk_cursor *cur = NULL;
    const bson_t *doc = NULL;
    json_t *list = json_array(); /* NULL (no memory): the append fails */
    lk_error e;
    lk_status s = lk_collection_find(coll, filter, &opts, &cur, &e);
    bool shown = true;
    while (s == LK_OK && shown && lk_cursor_next(cur, &doc)) {
        json_t *one = NULL;
        shown = to_json(ctx, doc, &one, &e) == LK_OK &&
                (json_array_append_new(list, one) == 0 ||
                 lk_error_set(&e, LK_ERR_NOMEM, "list: out of memory") ==
                     LK_OK);
    }
    if (s == LK_OK && shown)
        s = lk_cursor_error(cur, &e);
    if (!shown)
        ticketing_http_server_error(res, &e);
    else if (s == LK_OK)
        ticketing_http_json(res, 200, json_incref(list));
    else
        ticketing_http_from_status(res, s, &e);
    json_decref(list);
    lk_cursor_free(cur);
}

bool ticketing_http_match(const char *pattern, const char *path,
                          const char **param)
{
    const char *colon = strchr(pattern, ':');
    size_t fixed = colon != NULL ? (size_t)(colon - pattern) : strlen(pattern);
    size_t len = strlen(path);
    if (len > 1 && path[len - 1] == '/')
        len--; /* "/api/tickets/" is "/api/tickets", as in express */
    *param = NULL;
    if (len < fixed || strncmp(pattern, path, fixed) != 0)
        return false;
    if (colon == NULL)
        return len == fixed;
    /* One parameter, the last segment: non-empty, no further '/'. */
    const char *p = path + fixed;
    size_t plen = len - fixed;
    if (plen == 0 || memchr(p, '/', plen) != NULL)
        return false;
    *param = p;
    return true;
}

void ticketing_http_dispatch(const ticketing_http_route *routes, void *svc,
                             ticketing_http_request *req,
                             ticketing_http_response *res)
{
    const ticketing_http_route *found = NULL;
    const char *param = NULL;
    bool path_known = false;

    res->status = 0;
    res->body = NULL;
    for (const ticketing_http_route *r = routes;
         r != NULL && r->method != NULL && found == NULL; r++) {
        if (req->path == NULL || req->method == NULL ||
            !ticketing_http_match(r->pattern, req->path, &param))
            continue;
        path_known = true;
        if (strcmp(r->method, req->method) == 0)
            found = r;
    }
    if (found == NULL) {
        if (path_known)
            ticketing_http_error(res, 405, "Method not allowed", NULL);
        else
            ticketing_http_error(res, 404, "Not Found", NULL);
        return;
    }
    if (found->requires_user && req->user == NULL) {
        ticketing_http_error(res, 401, "Not authorized", NULL);
        return;
    }
    /* The parameter without a trailing '/', NUL-terminated for handlers. */
    char buf[128];
    req->param = NULL;
    if (param != NULL) {
        size_t n = strcspn(param, "/");
        if (n >= sizeof buf) {
            ticketing_http_error(res, 404, "Not Found", NULL);
            return;
        }
        memcpy(buf, param, n);
        buf[n] = '\0';
        req->param = buf;
    }
    found->handler(svc, req, res);
    req->param = NULL; /* it pointed at this frame */
    if (res->status == 0)
        ticketing_http_json(res, 500, NULL);
}
