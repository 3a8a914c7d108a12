/* event.c — schema validation for events in (decode) and out (encode).
 *
 * One walk does the work for both directions: lk_event_validate(). Decode
 * adds the byte-level checks (size, NUL bytes, JSON syntax, UTF-8) that only
 * raw input can fail; encode adds the size limit on the way out. */
#include "listenkit/event.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* A dotted field path ("ticket.price"), truncated if absurdly long: it only
 * appears in error messages. */
#define PATH_MAX_LEN 200

typedef struct path_buf {
    char text[PATH_MAX_LEN + 2];
} path_buf;

static void path_join(path_buf *out, const char *parent, const char *name)
{
    if (parent == NULL || parent[0] == '\0')
        snprintf(out->text, sizeof out->text, "%.*s", PATH_MAX_LEN, name);
    else
        snprintf(out->text, sizeof out->text, "%.*s.%.*s", PATH_MAX_LEN / 2,
                 parent, PATH_MAX_LEN / 2, name);
}

static const char *subject_of(const lk_schema *schema)
{
    return schema->subject != NULL ? schema->subject : "(no subject)";
}

static size_t payload_limit(const lk_schema *schema)
{
    return schema->max_payload != 0 ? schema->max_payload
                                    : LK_DEFAULT_MAX_PAYLOAD;
}

const char *lk_field_type_str(lk_field_type type)
{
    switch (type) {
    case LK_FIELD_STRING: return "string";
    case LK_FIELD_INTEGER: return "integer";
    case LK_FIELD_NUMBER: return "number";
    case LK_FIELD_BOOLEAN: return "boolean";
    case LK_FIELD_OBJECT: return "object";
    case LK_FIELD_ARRAY: return "array";
    }
    return "unknown type";
}

const char *lk_json_type_str(const json_t *value)
{
    if (value == NULL)
        return "nothing";
    switch (json_typeof(value)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "real";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "unknown";
}

/* ---- checks on the whole tree: depth and NUL bytes ------------------------ */

/* Walks every value (not only the ones the schema lists): too deep a tree
 * would blow a later recursive consumer's stack, and a string with an
 * embedded NUL would be cut short by every C string function downstream
 * (and cannot be decoded again: jansson refuses \u0000 by default). */
static lk_status check_tree(const lk_schema *schema, const json_t *value,
                            const char *path, int depth, lk_error *err)
{
    if (depth > LK_MAX_NESTING)
        return lk_error_set(err, LK_ERR_INVALID,
                            "%s: field \"%s\": nesting deeper than %d levels",
                            subject_of(schema), path, LK_MAX_NESTING);
    lk_status s = LK_OK;
    if (json_is_object(value)) {
        const char *key;
        json_t *child;
        json_object_foreach((json_t *)value, key, child) {
            path_buf sub;
            path_join(&sub, path, key);
            s = check_tree(schema, child, sub.text, depth + 1, err);
            if (s != LK_OK)
                break;
        }
    } else if (json_is_array(value)) {
        size_t i;
        json_t *child;
        json_array_foreach(value, i, child) {
            path_buf sub;
            snprintf(sub.text, sizeof sub.text, "%.*s[%zu]", PATH_MAX_LEN - 24,
                     path, i);
            s = check_tree(schema, child, sub.text, depth + 1, err);
            if (s != LK_OK)
                break;
        }
    } else if (json_is_string(value)) {
        if (strlen(json_string_value(value)) != json_string_length(value))
            s = lk_error_set(err, LK_ERR_INVALID,
                             "%s: field \"%s\": string contains a NUL byte",
                             subject_of(schema), path);
    }
    return s;
}

/* ---- checks against the schema ------------------------------------------- */

static lk_status validate_object(const lk_schema *schema,
                                 const lk_schema *top, const json_t *obj,
                                 const char *path, lk_error *err);

static bool type_matches(lk_field_type type, const json_t *v)
{
    switch (type) {
    case LK_FIELD_STRING: return json_is_string(v);
    case LK_FIELD_INTEGER: return json_is_integer(v);
    case LK_FIELD_NUMBER: return json_is_number(v);
    case LK_FIELD_BOOLEAN: return json_is_boolean(v);
    case LK_FIELD_OBJECT: return json_is_object(v);
    case LK_FIELD_ARRAY: return json_is_array(v);
    }
    return false;
}

static lk_status check_range(const lk_schema *top, const lk_field *f,
                             const json_t *v, const char *path, lk_error *err)
{
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n < f->min || n > f->max)
            return lk_error_set(err, LK_ERR_INVALID,
                                "%s: field \"%s\": %" PRId64
                                " is out of range [%" PRId64 ", %" PRId64 "]",
                                subject_of(top), path, (int64_t)n, f->min,
                                f->max);
        return LK_OK;
    }
    /* A real: compare as double. The bounds convert exactly up to 2^53,
     * which is where prices and counts live. */
    double d = json_real_value(v);
    if (d < (double)f->min || d > (double)f->max)
        return lk_error_set(err, LK_ERR_INVALID,
                            "%s: field \"%s\": %.15g is out of range [%" PRId64
                            ", %" PRId64 "]",
                            subject_of(top), path, d, f->min, f->max);
    return LK_OK;
}

static lk_status validate_field(const lk_schema *top, const lk_field *f,
                                const json_t *v, const char *path,
                                lk_error *err)
{
    if (v == NULL || json_is_null(v)) {
        if (!f->required)
            return LK_OK;
        return lk_error_set(err, LK_ERR_INVALID,
                            "%s: field \"%s\": required %s is %s",
                            subject_of(top), path, lk_field_type_str(f->type),
                            v == NULL ? "missing" : "null");
    }
    if (!type_matches(f->type, v))
        return lk_error_set(err, LK_ERR_INVALID,
                            "%s: field \"%s\": expected %s, got %s",
                            subject_of(top), path, lk_field_type_str(f->type),
                            lk_json_type_str(v));
    switch (f->type) {
    case LK_FIELD_STRING:
        if (f->max_length != 0 && json_string_length(v) > f->max_length)
            return lk_error_set(err, LK_ERR_INVALID,
                                "%s: field \"%s\": string of %zu bytes is "
                                "longer than max length %zu",
                                subject_of(top), path, json_string_length(v),
                                f->max_length);
        return LK_OK;
    case LK_FIELD_INTEGER:
    case LK_FIELD_NUMBER:
        return f->has_range ? check_range(top, f, v, path, err) : LK_OK;
    case LK_FIELD_OBJECT:
        return f->object != NULL
                   ? validate_object(f->object, top, v, path, err)
                   : LK_OK;
    case LK_FIELD_BOOLEAN:
    case LK_FIELD_ARRAY:
        return LK_OK;
    }
    return LK_OK;
}

static const lk_field *find_field(const lk_schema *schema, const char *name)
{
    for (const lk_field *f = schema->fields; f != NULL && f->name != NULL; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

/* `schema` is the (possibly nested) schema for `obj`; `top` gives the
 * subject every message starts with; `path` is where `obj` sits ("" for
 * the event itself). */
static lk_status validate_object(const lk_schema *schema,
                                 const lk_schema *top, const json_t *obj,
                                 const char *path, lk_error *err)
{
    lk_status s = LK_OK;
    for (const lk_field *f = schema->fields;
         s == LK_OK && f != NULL && f->name != NULL; f++) {
        path_buf sub;
        path_join(&sub, path, f->name);
        s = validate_field(top, f, json_object_get(obj, f->name), sub.text,
                           err);
    }
    if (s == LK_OK && schema->strict) {
        const char *key;
        json_t *child;
        json_object_foreach((json_t *)obj, key, child) {
            if (find_field(schema, key) == NULL) {
                path_buf sub;
                path_join(&sub, path, key);
                s = lk_error_set(err, LK_ERR_INVALID,
                                 "%s: field \"%s\": unknown field (the "
                                 "schema is strict)",
                                 subject_of(top), sub.text);
                break;
            }
        }
    }
    return s;
}

lk_status lk_event_validate(const lk_schema *schema, const json_t *data,
                            lk_error *err)
{
    if (schema == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "event: schema is NULL");
    if (data == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "%s: event data is NULL",
                            subject_of(schema));
    if (!json_is_object(data))
        return lk_error_set(err, LK_ERR_INVALID,
                            "%s: expected a JSON object, got %s",
                            subject_of(schema), lk_json_type_str(data));
    lk_status s = check_tree(schema, data, "", 1, err);
    if (s == LK_OK)
        s = validate_object(schema, schema, data, "", err);
    return s;
}

/* ---- decode ---------------------------------------------------------------- */

static lk_status parse_error(const lk_schema *schema, const json_error_t *je,
                             lk_error *err)
{
    const char *what = json_error_code(je) == json_error_invalid_utf8
                           ? "invalid UTF-8"
                           : "invalid JSON";
    return lk_error_set(err, LK_ERR_INVALID,
                        "%s: %s at line %d, column %d (byte %d): %s",
                        subject_of(schema), what, je->line, je->column,
                        je->position, je->text);
}

lk_status lk_event_decode(const lk_schema *schema, const void *data,
                          size_t len, json_t **out, lk_error *err)
{
    json_error_t je;
    const void *nul;

    if (out != NULL)
        *out = NULL;
    if (schema == NULL || out == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "event: schema and out must not be NULL");
    if (data == NULL || len == 0)
        return lk_error_set(err, LK_ERR_INVALID, "%s: empty payload",
                            subject_of(schema));
    if (len > payload_limit(schema))
        return lk_error_set(err, LK_ERR_TOO_LARGE,
                            "%s: payload of %zu bytes exceeds the limit of "
                            "%zu bytes",
                            subject_of(schema), len, payload_limit(schema));
    /* jansson would stop at the NUL with a vaguer message; say it plainly. */
    nul = memchr(data, '\0', len);
    if (nul != NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "%s: invalid JSON: NUL byte at byte %td",
                            subject_of(schema),
                            (const char *)nul - (const char *)data);

    /* Duplicate keys are refused: which one wins differs between parsers, so
     * two services could read the same event differently. Trailing bytes
     * after the value are refused too (no JSON_DISABLE_EOF_CHECK). Any
     * top-level value parses, so a scalar gets the same clear "expected a
     * JSON object" as an array. */
    json_t *root = json_loadb(data, len,
                              JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (root == NULL)
        return parse_error(schema, &je, err);
    lk_status s = lk_event_validate(schema, root, err);
    if (s != LK_OK) {
        json_decref(root);
        return s;
    }
    *out = root;
    return LK_OK;
}

/* ---- encode ---------------------------------------------------------------- */

lk_status lk_event_encode(const lk_schema *schema, const json_t *data,
                          char **out, size_t *len, lk_error *err)
{
    if (out != NULL)
        *out = NULL;
    if (len != NULL)
        *len = 0;
    if (out == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "event: out must not be NULL");
    lk_status s = lk_event_validate(schema, data, err);
    if (s != LK_OK)
        return s;
    char *text = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "%s: cannot encode the event",
                            subject_of(schema));
    size_t n = strlen(text);
    if (n > payload_limit(schema)) {
        free(text);
        return lk_error_set(err, LK_ERR_TOO_LARGE,
                            "%s: encoded event of %zu bytes exceeds the limit "
                            "of %zu bytes",
                            subject_of(schema), n, payload_limit(schema));
    }
    *out = text;
    if (len != NULL)
        *len = n;
    return LK_OK;
}

/* ---- getters --------------------------------------------------------------- */

const json_t *lk_event_get(const json_t *data, const char *path)
{
    if (data == NULL || path == NULL)
        return NULL;
    const json_t *cur = data;
    const char *p = path;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
        if (!json_is_object(cur))
            return NULL;
        cur = json_object_getn(cur, p, n);
        if (cur == NULL || dot == NULL)
            return cur;
        p = dot + 1;
    }
}

bool lk_event_has(const json_t *data, const char *path)
{
    const json_t *v = lk_event_get(data, path);
    return v != NULL && !json_is_null(v);
}

const char *lk_event_string(const json_t *data, const char *path)
{
    return json_string_value(lk_event_get(data, path));
}

int64_t lk_event_int(const json_t *data, const char *path)
{
    const json_t *v = lk_event_get(data, path);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

double lk_event_number(const json_t *data, const char *path)
{
    return json_number_value(lk_event_get(data, path));
}

bool lk_event_bool(const json_t *data, const char *path)
{
    return json_is_true(lk_event_get(data, path));
}
