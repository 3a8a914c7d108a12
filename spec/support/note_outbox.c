/* SPDX-License-Identifier: MIT */
/* note_outbox.c — the outbox specs' note record and its event (see
 * note_outbox.h). */
#include "note_outbox.h"

static const lk_field note_fields[] = {
    {.name = "id", .type = LK_FIELD_STRING, .required = true},
    {.name = "version", .type = LK_FIELD_INTEGER, .required = true},
    {.name = "title", .type = LK_FIELD_STRING, .required = true},
    LK_FIELD_END};

const lk_schema spec_note_saved = {
    .subject = "note:saved", .fields = note_fields, .strict = true};

static lk_status note_event(const bson_t *doc, void *ctx, json_t **event,
                            lk_error *err)
{
    bson_oid_t id;
    bson_iter_t it;
    int64_t version = 0;
    char hex[25];
    (void)ctx;
    lk_status s = lk_bson_get_oid(doc, &id, err);
    if (s == LK_OK)
        s = lk_bson_get_int64(doc, "version", &version, err);
    if (s != LK_OK)
        return s;
    lk_oid_format(&id, hex);
    const char *title = bson_iter_init_find(&it, doc, "title") &&
                                BSON_ITER_HOLDS_UTF8(&it)
                            ? bson_iter_utf8(&it, NULL)
                            : NULL;
    *event = json_pack("{s:s, s:I, s:s?}", "id", hex, "version",
                       (json_int_t)version, "title", title);
    return *event != NULL ? LK_OK
                          : lk_error_set(err, LK_ERR_NOMEM, "note event");
}

const lk_outbox_event spec_note_ev = {&spec_note_saved, note_event, NULL};
