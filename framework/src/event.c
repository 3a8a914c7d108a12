/* SPDX-License-Identifier: MIT */
/* event.c — schema validation for events in (decode) and out (encode).
 *
 * One walk does the work for both directions: lk_event_validate(). Decode
 * adds the byte-level checks (size, NUL bytes, JSON syntax, UTF-8) that only
 * raw input can fail; encode adds the size limit on the way out. */
#include "listenkit/event.h"

#include "listenkit/alloc-private.h"
#include "listenkit/alloc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Where a value sits: a chain of frames on the walk's own stack, one per
 * key or array element. The dotted text ("ticket.price", "tags[2]") is only
 * formatted when an error names it, so a valid event costs no formatting. */
typedef struct field_path {
    const struct field_path *parent; /* NULL: the event itself */
    const char *name;                /* the key; NULL for an array element */
    size_t index;                    /* the element, when name is NULL */
} field_path;

/* The formatted path, truncated if absurdly long: it only appears in error
 * messages. */
#define PATH_MAX_LEN 200

typedef struct path_buf {
    char text[PATH_MAX_LEN + 2];
} path_buf;

static void path_format(const field_path *at, path_buf *out)
{
    if (at == NULL) {
        out->text[0] = '\0';
        return;
    }
    path_buf parent;
    path_format(at->parent, &parent);
    if (at->name == NULL)
        snprintf(out->text, sizeof out->text, "%.*s[%zu]", PATH_MAX_LEN - 24,
                 parent.text, at->index);
    else if (parent.text[0] == '\0')
        snprintf(out->text, sizeof out->text, "%.*s", PATH_MAX_LEN, at->name);
    else
        snprintf(out->text, sizeof out->text, "%.*s.%.*s", PATH_MAX_LEN / 2,
                 parent.text, PATH_MAX_LEN / 2, at->name);
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
    case LK_FIELD_OBJECTID: return "ObjectId";
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

/* What every step of one walk shares: the schema whose subject starts each
 * message, and whether the tree came straight from jansson's parser. A
 * parsed tree holds no string with a NUL byte (decode refuses raw NULs, and
 * jansson refuses \u0000 without JSON_ALLOW_NUL, which decode never
 * passes), so its strings need no strlen each; a tree built in code may. */
typedef struct walk {
    const lk_schema *top;
    bool parsed;
} walk;

/* Refuses the value at `at` with "<subject>: field \"<path>\": <problem>".
 * The path is formatted here, on the error path only. */
static lk_status field_error(lk_error *err, const walk *w,
                             const field_path *at, const char *fmt, ...)
    LK_PRINTF(4, 5);

static lk_status field_error(lk_error *err, const walk *w,
                             const field_path *at, const char *fmt, ...)
{
    if (err == NULL)
        return LK_ERR_INVALID;
    char problem[LK_ERROR_MESSAGE_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    path_buf path;
    path_format(at, &path);
    return lk_error_set(err, LK_ERR_INVALID, "%s: field \"%s\": %s",
                        subject_of(w->top), path.text, problem);
}

/* ---- the walk ---------------------------------------------------------------- */

/* One walk checks both what the schema says about the fields it lists and
 * what holds for every value, listed or not: too deep a tree would blow a
 * later recursive consumer's stack, and a string with an embedded NUL would
 * be cut short by every C string function downstream (and cannot be
 * decoded again: jansson refuses \u0000 by default). `depth` is the depth
 * of the value being checked; the event itself is at depth 1. */

static lk_status nesting_error(const walk *w, const field_path *at,
                               lk_error *err)
{
    return field_error(err, w, at, "nesting deeper than %d levels",
                       LK_MAX_NESTING);
}

static lk_status check_string(const walk *w, const json_t *v,
                              const field_path *at, lk_error *err)
{
    if (!w->parsed && strlen(json_string_value(v)) != json_string_length(v))
        return field_error(err, w, at, "string contains a NUL byte");
    return LK_OK;
}

/* A value no schema describes: only depth and NUL bytes are checked. */
static lk_status check_tree(const walk *w, const json_t *value,
                            const field_path *at, int depth, lk_error *err)
{
    if (depth > LK_MAX_NESTING)
        return nesting_error(w, at, err);
    lk_status s = LK_OK;
    if (json_is_object(value)) {
        const char *key;
        json_t *child;
        json_object_foreach((json_t *)value, key, child) {
            field_path sub = {.parent = at, .name = key};
            s = check_tree(w, child, &sub, depth + 1, err);
            if (s != LK_OK)
                break;
        }
    } else if (json_is_array(value)) {
        size_t i;
        json_t *child;
        json_array_foreach(value, i, child) {
            field_path sub = {.parent = at, .index = i};
            s = check_tree(w, child, &sub, depth + 1, err);
            if (s != LK_OK)
                break;
        }
    } else if (json_is_string(value)) {
        s = check_string(w, value, at, err);
    }
    return s;
}

static lk_status validate_object(const lk_schema *schema,
                                 const walk *w, const json_t *obj,
                                 const field_path *at, int depth,
                                 lk_error *err);

static bool type_matches(lk_field_type type, const json_t *v)
{
    switch (type) {
    case LK_FIELD_STRING: return json_is_string(v);
    case LK_FIELD_INTEGER: return json_is_integer(v);
    case LK_FIELD_NUMBER: return json_is_number(v);
    case LK_FIELD_BOOLEAN: return json_is_boolean(v);
    case LK_FIELD_OBJECT: return json_is_object(v);
    case LK_FIELD_ARRAY: return json_is_array(v);
    case LK_FIELD_OBJECTID: return json_is_string(v);
    }
    return false;
}

static lk_status check_range(const walk *w, const lk_field *f,
                             const json_t *v, const field_path *at,
                             lk_error *err)
{
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n < f->min || n > f->max)
            return field_error(err, w, at,
                               "%" PRId64 " is out of range [%" PRId64
                               ", %" PRId64 "]",
                               (int64_t)n, f->min, f->max);
        return LK_OK;
    }
    /* A real: compare as double. The bounds convert exactly up to 2^53,
     * which is where prices and counts live. */
    double d = json_real_value(v);
    if (d < (double)f->min || d > (double)f->max)
        return field_error(err, w, at,
                           "%.15g is out of range [%" PRId64 ", %" PRId64 "]",
                           d, f->min, f->max);
    return LK_OK;
}

/* A string enum: `v` must be one of f->one_of. The message lists the
 * allowed values (the first few, if there are many). */
static lk_status check_one_of(const walk *w, const lk_field *f,
                              const json_t *v, const field_path *at,
                              lk_error *err)
{
    const char *text = json_string_value(v);
    for (const char *const *p = f->one_of; *p != NULL; p++)
        if (strcmp(*p, text) == 0)
            return LK_OK;
    char allowed[160];
    size_t used = 0;
    allowed[0] = '\0';
    for (const char *const *p = f->one_of; *p != NULL && used < 120; p++) {
        int n = snprintf(allowed + used, sizeof allowed - used, "%s\"%s\"",
                         p == f->one_of ? "" : ", ", *p);
        used = n < 0 ? used : used + (size_t)n;
    }
    if (used >= sizeof allowed)
        used = sizeof allowed - 1;
    return field_error(err, w, at, "\"%.40s%s\" is not one of %s%s", text,
                       strlen(text) > 40 ? "..." : "", allowed,
                       used >= 120 ? ", ..." : "");
}

/* 1 for a hex digit: a lookup per byte, no branch, for every id field of
 * every event. */
static const unsigned char hex_digit[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1,
    ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['A'] = 1, ['B'] = 1,
    ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1};

/* 24 hex digits, as MongoDB's ObjectId prints (lk_oid_parse's rule). */
static lk_status check_objectid(const walk *w, const json_t *v,
                                const field_path *at, lk_error *err)
{
    const char *text = json_string_value(v);
    size_t len = json_string_length(v);
    unsigned hex = len == 24;
    for (size_t i = 0; len == 24 && i < 24; i++)
        hex &= hex_digit[(unsigned char)text[i]];
    if (hex)
        return LK_OK;
    return field_error(err, w, at,
                       "expected a 24-character hex ObjectId, got \"%.32s%s\"",
                       text, len > 32 ? "..." : "");
}

/* A member the schema lists (`v` is present, maybe JSON null). */
static lk_status validate_field(const walk *w, const lk_field *f,
                                const json_t *v, const field_path *at,
                                int depth, lk_error *err)
{
    if (depth > LK_MAX_NESTING)
        return nesting_error(w, at, err);
    if (json_is_null(v))
        return f->required ? field_error(err, w, at, "required %s is null",
                                         lk_field_type_str(f->type))
                           : LK_OK;
    if (!type_matches(f->type, v))
        return field_error(err, w, at, "expected %s, got %s",
                           lk_field_type_str(f->type), lk_json_type_str(v));
    switch (f->type) {
    case LK_FIELD_STRING: {
        lk_status s = check_string(w, v, at, err);
        if (s == LK_OK && f->max_length != 0 &&
            json_string_length(v) > f->max_length)
            s = field_error(err, w, at,
                            "string of %zu bytes is longer than max length "
                            "%zu",
                            json_string_length(v), f->max_length);
        if (s == LK_OK && f->one_of != NULL)
            s = check_one_of(w, f, v, at, err);
        return s;
    }
    case LK_FIELD_OBJECTID:
        return check_objectid(w, v, at, err);
    case LK_FIELD_INTEGER:
    case LK_FIELD_NUMBER:
        return f->has_range ? check_range(w, f, v, at, err) : LK_OK;
    case LK_FIELD_OBJECT:
        if (f->object != NULL)
            return validate_object(f->object, w, v, at, depth, err);
        if (f->fields != NULL) {
            /* the member list alone: a schema of the moment, no subject */
            const lk_schema nested = {.fields = f->fields,
                                      .strict = f->strict};
            return validate_object(&nested, w, v, at, depth, err);
        }
        return check_tree(w, v, at, depth, err);
    case LK_FIELD_ARRAY:
        return check_tree(w, v, at, depth, err);
    case LK_FIELD_BOOLEAN:
        break; /* the type is all there is to check */
    }
    return LK_OK;
}

/* A linear scan: schemas list a handful of fields, and comparing names
 * costs less than hashing them; the first byte rules out most of them
 * without a call. */
static const lk_field *find_field(const lk_schema *schema, const char *name)
{
    for (const lk_field *f = schema->fields; f != NULL && f->name != NULL; f++)
        if (f->name[0] == name[0] && strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

static size_t required_count(const lk_schema *schema)
{
    size_t n = 0;
    for (const lk_field *f = schema->fields; f != NULL && f->name != NULL; f++)
        n += f->required;
    return n;
}

/* The first required field, in schema order, that `obj` lacks. */
static lk_status check_missing(const lk_schema *schema, const walk *w,
                               const json_t *obj, const field_path *at,
                               lk_error *err)
{
    for (const lk_field *f = schema->fields; f != NULL && f->name != NULL;
         f++) {
        if (f->required && json_object_get(obj, f->name) == NULL) {
            field_path sub = {.parent = at, .name = f->name};
            return field_error(err, w, &sub, "required %s is missing",
                               lk_field_type_str(f->type));
        }
    }
    return LK_OK;
}

/* `schema` is the (possibly nested) schema for `obj`, which sits at `at`
 * (NULL for the event itself) at `depth`; `top` gives the subject every
 * message starts with. Members are checked in the object's order; a
 * missing required field is reported after them. */
static lk_status validate_object(const lk_schema *schema,
                                 const walk *w, const json_t *obj,
                                 const field_path *at, int depth,
                                 lk_error *err)
{
    size_t required_seen = 0;
    const char *key;
    json_t *child;
    json_object_foreach((json_t *)obj, key, child) {
        field_path sub = {.parent = at, .name = key};
        const lk_field *f = find_field(schema, key);
        lk_status s;
        if (f != NULL) {
            s = validate_field(w, f, child, &sub, depth + 1, err);
            required_seen += f->required;
        } else if (schema->strict) {
            s = field_error(err, w, &sub,
                            "unknown field (the schema is strict)");
        } else {
            s = check_tree(w, child, &sub, depth + 1, err);
        }
        if (s != LK_OK)
            return s;
    }
    if (required_seen == required_count(schema))
        return LK_OK;
    return check_missing(schema, w, obj, at, err);
}

static lk_status validate_root(const lk_schema *schema, const json_t *data,
                               bool parsed, lk_error *err)
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
    const walk w = {.top = schema, .parsed = parsed};
    return validate_object(schema, &w, data, NULL, 1, err);
}

lk_status lk_event_validate(const lk_schema *schema, const json_t *data,
                            lk_error *err)
{
    return validate_root(schema, data, false, err);
}

/* ---- decode ---------------------------------------------------------------- */

static bool is_json_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_number_char(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' ||
           c == 'e' || c == 'E';
}

static size_t skip_blanks_back(const char *text, size_t p)
{
    while (p > 0 && is_json_blank(text[p - 1]))
        p--;
    return p;
}

/* jansson's "too big integer" names neither field nor key, only a byte.
 * The key is found by scanning back from where the parser stopped (just
 * past the number): the number, blanks, ':', blanks, the key's closing
 * quote, its text, its opening quote, and '{' or ',' before it. Everything
 * before the number parsed, so that is the member's key. A key holding an
 * escape or a control byte is not decoded here (NULL: the caller keeps the
 * position message), nor is anything that does not have exactly this shape
 * — an array element, a top-level number. */
static const char *overflow_key(const char *text, size_t len, int position,
                                size_t *key_len)
{
    if (position <= 0 || (size_t)position > len)
        return NULL;
    size_t p = (size_t)position;
    while (p > 0 && is_number_char(text[p - 1]))
        p--;
    if (p == (size_t)position)
        return NULL;
    p = skip_blanks_back(text, p);
    if (p == 0 || text[p - 1] != ':')
        return NULL;
    p = skip_blanks_back(text, p - 1);
    if (p == 0 || text[p - 1] != '"')
        return NULL;
    size_t close = p - 1;
    size_t open = close;
    while (open > 0 && text[open - 1] != '"') {
        unsigned char c = (unsigned char)text[open - 1];
        if (c == '\\' || c < 0x20)
            return NULL;
        open--;
    }
    if (open == 0)
        return NULL;
    open--; /* the opening quote */
    p = skip_blanks_back(text, open);
    if (p == 0 || (text[p - 1] != '{' && text[p - 1] != ','))
        return NULL;
    *key_len = close - open - 1;
    return text + open + 1;
}

static lk_status parse_error(const lk_schema *schema, const char *text,
                             size_t len, const json_error_t *je,
                             lk_error *err)
{
    size_t key_len = 0;
    const char *key = NULL;
    /* "too big integer" / "too big negative integer"; a real overflow
     * ("real number overflow") shares the code but is no int64 matter. */
    if (json_error_code(je) == json_error_numeric_overflow &&
        strncmp(je->text, "too big", 7) == 0)
        key = overflow_key(text, len, je->position, &key_len);
    if (key != NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "%s: field \"%.*s\": integer out of range (does "
                            "not fit int64)",
                            subject_of(schema),
                            (int)(key_len < PATH_MAX_LEN ? key_len
                                                         : PATH_MAX_LEN),
                            key);
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
    unsigned long failures = lk_alloc_failures_();
    json_t *root = json_loadb(data, len,
                              JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    /* An allocation refused during the parse: jansson reports some as a
     * syntax error (the input is not to blame: a listener must not term a
     * valid event for it), and survives others with the text cut short (a
     * lexer byte dropped: "4c5d" read as "4cd"), so even a parsed value is
     * not the event. */
    if (lk_alloc_failures_() != failures ||
        (root == NULL && json_error_code(&je) == json_error_out_of_memory)) {
        json_decref(root);
        return lk_error_set(err, LK_ERR_NOMEM,
                            "%s: out of memory decoding %zu bytes",
                            subject_of(schema), len);
    }
    if (root == NULL)
        return parse_error(schema, data, len, &je, err);
    lk_status s = validate_root(schema, root, true, err);
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
    unsigned long failures = lk_alloc_failures_();
    char *text = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
    if (lk_alloc_failures_() != failures) { /* no half-written text */
        lk_free(text);
        text = NULL;
    }
    if (text == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "%s: cannot encode the event",
                            subject_of(schema));
    size_t n = strlen(text);
    if (n > payload_limit(schema)) {
        lk_free(text);
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
