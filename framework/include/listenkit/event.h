/* SPDX-License-Identifier: MIT */
/*
 * listenkit/event.h — event schemas: decode, validate, encode, read.
 *
 * A schema names a subject ("ticket:updated") and lists its fields. Events
 * travel as JSON objects. Every byte that comes off the bus goes through
 * lk_event_decode() before a listener sees it, and every event a publisher
 * sends goes through lk_event_encode(), which validates first: a listener
 * never gets data that breaks its schema, and a publisher never emits it.
 *
 * Schemas are plain constant data, usually static:
 *
 *     static const char *const statuses[] = {"created", "cancelled", NULL};
 *     static const lk_field ticket_ref[] = {
 *         { .name = "id", .type = LK_FIELD_OBJECTID, .required = true },
 *         LK_FIELD_END
 *     };
 *     static const lk_field order_fields[] = {
 *         { .name = "id",      .type = LK_FIELD_OBJECTID, .required = true },
 *         { .name = "version", .type = LK_FIELD_INTEGER, .required = true,
 *           .min = 0, .max = INT64_MAX, .has_range = true },
 *         { .name = "status",  .type = LK_FIELD_STRING,  .required = true,
 *           .one_of = statuses },
 *         { .name = "ticket",  .type = LK_FIELD_OBJECT,  .required = true,
 *           .fields = ticket_ref, .strict = true },
 *         LK_FIELD_END
 *     };
 *     const lk_schema order_created = { .subject = "order:created",
 *                                       .fields = order_fields };
 *
 * Error messages name the subject, then the field path, then the problem:
 *     ticket:updated: field "version": expected integer, got string
 *
 * JSON values follow jansson's reference rules: "new reference" results
 * must be released with json_decref(); "borrowed" ones must not.
 */
#ifndef LISTENKIT_EVENT_H
#define LISTENKIT_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "listenkit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Payloads larger than this are refused unless a schema sets its own. */
#define LK_DEFAULT_MAX_PAYLOAD ((size_t)1024 * 1024)

/* Nested objects deeper than this are refused (guards the stack). */
#define LK_MAX_NESTING 32

typedef enum lk_field_type {
    LK_FIELD_STRING,
    LK_FIELD_INTEGER, /* a JSON integer that fits int64_t */
    LK_FIELD_NUMBER,  /* integer or real */
    LK_FIELD_BOOLEAN,
    LK_FIELD_OBJECT,
    LK_FIELD_ARRAY,
    LK_FIELD_OBJECTID /* a string of exactly 24 hex digits (a MongoDB
                         ObjectId, as events carry ids); read it with
                         lk_event_oid() (listenkit/store.h) */
} lk_field_type;

struct lk_schema;

typedef struct lk_field {
    const char *name; /* NULL ends a field list (see LK_FIELD_END) */
    lk_field_type type;
    bool required;
    /* An explicit JSON null counts as absent: fine for an optional field,
     * an error for a required one. */
    /* Strings: maximum length in bytes; 0 means no limit. */
    size_t max_length;
    /* Integers and numbers: inclusive bounds, checked when has_range. */
    bool has_range;
    int64_t min;
    int64_t max;
    /* Objects: the nested schema (its subject is ignored); NULL accepts any
     * object, unless `fields` is set. */
    const struct lk_schema *object;
    /* Strings: the allowed values, a NULL-terminated list (a string enum:
     * the course's order status); NULL allows any string. */
    const char *const *one_of;
    /* Objects, without a nested lk_schema: the members' own field list
     * (ended by LK_FIELD_END), and whether members it does not list are
     * refused. Ignored when `object` is set. */
    const struct lk_field *fields;
    bool strict;
} lk_field;

/* Ends a field list. C++ before C++20 has no designated initializers, and
 * an empty brace list zero-fills there without a warning; C11 needs one
 * member named. */
#ifdef __cplusplus
#define LK_FIELD_END {}
#else
#define LK_FIELD_END { .name = NULL }
#endif

typedef struct lk_schema {
    const char *subject;   /* the event's subject; also the error prefix */
    const lk_field *fields; /* terminated by LK_FIELD_END */
    bool strict;           /* reject fields the schema does not list */
    size_t max_payload;    /* bytes; 0 means LK_DEFAULT_MAX_PAYLOAD */
} lk_schema;

/* The human name of a type ("integer"), or of a JSON value's type
 * ("string", "null", ...). */
const char *lk_field_type_str(lk_field_type type);
const char *lk_json_type_str(const json_t *value);

/*
 * Parses `len` bytes of `data` as one JSON object and validates it against
 * `schema`. Refuses, with LK_ERR_INVALID unless said otherwise:
 *   - a NULL schema, data or out, or len 0;
 *   - a payload over the schema's limit (LK_ERR_TOO_LARGE);
 *   - invalid JSON or invalid UTF-8 (message has line, column and offset);
 *   - embedded NUL bytes (raw or as \u0000), trailing garbage, a top-level
 *     non-object;
 *   - duplicate keys in any object: parsers disagree on which one wins, so
 *     two services could read the same event differently;
 *   - a missing required field, a wrong type, an integer outside its range
 *     or outside int64_t, a string longer than max_length, a string not
 *     in its one_of list, an ObjectId field that is not 24 hex digits;
 *   - an unknown field, when the schema (or a nested one) is strict;
 *   - nesting deeper than LK_MAX_NESTING (objects and arrays, anywhere).
 * An event with several problems reports the first one met: members in the
 * object's order (a member's own problems before its children's), then a
 * missing required field, first in schema order.
 * Memory running out while parsing is LK_ERR_NOMEM (the bytes may well be
 * valid: try again later), never LK_ERR_INVALID.
 * On success *out is a new reference to the object; on failure *out is NULL.
 * Thread-safe (schemas are read-only).
 */
lk_status lk_event_decode(const lk_schema *schema, const void *data,
                          size_t len, json_t **out, lk_error *err);

/* Validates an already-built JSON value against `schema` (same rules as
 * decode, minus the byte-level ones; a string holding a NUL byte is
 * refused, as decode would refuse its encoding). `data` is borrowed. */
lk_status lk_event_validate(const lk_schema *schema, const json_t *data,
                            lk_error *err);

/*
 * Validates `data` (borrowed) and encodes it as compact JSON with sorted
 * keys, so equal events give equal bytes. On success *out is a malloc'd
 * NUL-terminated string the caller frees with lk_free() (listenkit/alloc.h;
 * free() while no allocator is set), and *len (if not NULL) its length
 * without the NUL. On failure *out is NULL and *len 0; LK_ERR_NOMEM when
 * memory ran out.
 * An encoding larger than the schema's limit is refused (LK_ERR_TOO_LARGE).
 */
lk_status lk_event_encode(const lk_schema *schema, const json_t *data,
                          char **out, size_t *len, lk_error *err);

/*
 * Typed getters, so listener code reads events without jansson boilerplate.
 * `path` is a field name or a dotted path into nested objects ("ticket.id").
 * They never fail loudly: an absent field or one of another type yields
 * the fallback (NULL, 0, false). After lk_event_decode() the schema already
 * guarantees required fields and types, so the fallback only shows for
 * optional fields. Strings are borrowed from `data`.
 */
const json_t *lk_event_get(const json_t *data, const char *path);
bool lk_event_has(const json_t *data, const char *path);
const char *lk_event_string(const json_t *data, const char *path);
int64_t lk_event_int(const json_t *data, const char *path);
double lk_event_number(const json_t *data, const char *path);
bool lk_event_bool(const json_t *data, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_EVENT_H */
