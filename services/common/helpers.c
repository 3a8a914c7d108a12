/* helpers.c — small things both services' listeners and models need. */
#include "common/ticketing.h"

#include <string.h>

lk_status ticketing_event_oid(const json_t *data, const char *path,
                              bson_oid_t *out, lk_error *err)
{
    const char *hex = lk_event_string(data, path);
    if (hex == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "field \"%s\": expected an ObjectId string", path);
    lk_status s = lk_oid_parse(hex, out, err);
    if (s != LK_OK)
        lk_error_prefix(err, "field \"%s\"", path);
    return s;
}

lk_status ticketing_term(lk_msg *msg, const lk_error *err)
{
    lk_status ts = lk_msg_term(msg);
    lk_log(LK_LOG_WARN,
           "terminated %s seq %llu (delivery %llu): %s%s%s", msg->subject,
           (unsigned long long)msg->stream_seq,
           (unsigned long long)msg->delivery_count,
           err != NULL && err->message[0] != '\0' ? err->message
                                                   : "invalid event",
           ts == LK_OK ? "" : "; term failed: ",
           ts == LK_OK ? "" : lk_status_str(ts));
    return ts;
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
