/* SPDX-License-Identifier: MIT */
/* helpers.c — small things both services' listeners and models need. */
#include "common/ticketing.h"

#include <string.h>

lk_status ticketing_event_oid(const json_t *data, const char *path,
                              bson_oid_t *out, lk_error *err)
{
    return lk_event_oid(data, path, out, err);
}

const char *ticketing_doc_string(const bson_t *doc, const char *key)
{
    bson_iter_t it;
    if (doc == NULL || !bson_iter_init_find(&it, doc, key) ||
        !BSON_ITER_HOLDS_UTF8(&it))
        return NULL;
    return bson_iter_utf8(&it, NULL);
}

double ticketing_doc_number(const bson_t *doc, const char *key,
                            double fallback)
{
    bson_iter_t it;
    if (doc == NULL || !bson_iter_init_find(&it, doc, key) ||
        !BSON_ITER_HOLDS_NUMBER(&it))
        return fallback;
    return bson_iter_as_double(&it);
}

lk_status ticketing_check_text(const char *what, const char *text, size_t max,
                               lk_error *err)
{
    if (text == NULL || text[0] == '\0')
        return lk_error_set(err, LK_ERR_INVALID, "%s must not be empty", what);
    size_t len = strnlen(text, max + 1);
    if (len > max)
        return lk_error_set(err, LK_ERR_INVALID,
                            "%s is longer than %zu bytes", what, max);
    if (!bson_utf8_validate(text, len, false))
        return lk_error_set(err, LK_ERR_INVALID, "%s is not valid UTF-8",
                            what);
    return LK_OK;
}

lk_status ticketing_find_ticket(lk_collection *tickets, const bson_oid_t *id,
                                bson_t **out, lk_error *err)
{
    char hex[25];
    if (id == NULL) {
        if (out != NULL)
            *out = NULL;
        return lk_error_set(err, LK_ERR_INVALID, "ticket id is NULL");
    }
    lk_status s = lk_collection_find_by_id(tickets, id, out, err);
    if (s == LK_ERR_NOT_FOUND) {
        lk_oid_format(id, hex);
        s = lk_error_set(err, LK_ERR_NOT_FOUND, "ticket %s not found", hex);
    }
    return s;
}

lk_status ticketing_listen_all(const char *service, lk_listener *listeners,
                               const lk_listener_def *const *defs,
                               lk_listener_def *defs_out, size_t count,
                               const ticketing_listen_opts *opts, lk_bus *bus,
                               void *ctx, lk_error *err)
{
    lk_status s = LK_OK;
    for (size_t i = 0; s == LK_OK && i < count; i++) {
        defs_out[i] = *defs[i];
        if (opts != NULL && opts->ack_wait_ms != 0)
            defs_out[i].ack_wait_ms = opts->ack_wait_ms;
        if (opts != NULL && opts->max_deliver != 0)
            defs_out[i].max_deliver = opts->max_deliver;
        s = lk_listener_init(&listeners[i], &defs_out[i], bus, ctx, err);
        if (s == LK_OK)
            s = lk_listener_listen(&listeners[i], err);
        if (s != LK_OK)
            lk_error_prefix(err, "%s: listen %s", service,
                            defs[i]->schema->subject);
    }
    return s;
}
