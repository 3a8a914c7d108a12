/* SPDX-License-Identifier: MIT */
/* notes.c — on note:created, save the note (same id, same version) and
 * publish note:saved; ack only when both worked. */
#include "notes.h"

static const lk_field created_fields[] = {
    {.name = "id", .type = LK_FIELD_STRING, .required = true},
    {.name = "text", .type = LK_FIELD_STRING, .required = true},
    {.name = "version", .type = LK_FIELD_INTEGER, .required = true},
    LK_FIELD_END,
};
const lk_schema notes_created = {.subject = "note:created",
                                 .fields = created_fields};

static const lk_field saved_fields[] = {
    {.name = "id", .type = LK_FIELD_STRING, .required = true},
    {.name = "version", .type = LK_FIELD_INTEGER, .required = true},
    LK_FIELD_END,
};
const lk_schema notes_saved = {.subject = "note:saved",
                               .fields = saved_fields};

static lk_status on_note_created(lk_listener *l, const json_t *data,
                                 lk_msg *msg)
{
    notes_ctx *ctx = l->ctx;
    const char *id_text = lk_event_string(data, "id");
    int64_t version = lk_event_int(data, "version");
    bson_oid_t id;
    bson_t note = BSON_INITIALIZER;
    json_t *event = NULL;
    lk_error err;

    lk_status s = lk_oid_parse(id_text, &id, &err);
    if (s == LK_OK) {
        BSON_APPEND_OID(&note, "_id", &id);
        BSON_APPEND_UTF8(&note, "text", lk_event_string(data, "text"));
        BSON_APPEND_INT64(&note, "version", version);
        s = lk_collection_insert(ctx->notes, &note, NULL, &err);
    }
    if (s == LK_OK) {
        event = json_pack("{s:s, s:I}", "id", id_text, "version",
                          (json_int_t)version);
        s = lk_publish(l->client, &notes_saved, event, &err);
    }
    if (s == LK_OK)
        s = lk_msg_ack(msg);
    json_decref(event);
    bson_destroy(&note);
    return s;
}

const lk_listener_def notes_created_listener = {
    .schema = &notes_created,
    .queue_group = "notes-service",
    .on_message = on_note_created,
};
