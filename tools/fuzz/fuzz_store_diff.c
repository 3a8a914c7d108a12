/* SPDX-License-Identifier: MIT */
/*
 * fuzz_store_diff.c — differential libFuzzer target: the memory store and
 * the PostgreSQL store (pushdown on, unless LK_PG_PUSHDOWN=0) are given the
 * same documents and the same filters; every insert and save must end
 * with the same status, and count, find (with skip/limit), find_one and
 * delete must give the same statuses and the same _ids in the same order.
 * Any difference prints the documents, the filter and both answers, then
 * aborts (libFuzzer keeps the input as a crash file).
 *
 * An input is one of:
 *   - extended JSON (it starts with '{'), the readable form the seed corpus
 *     uses: {"docs": [...], "saves": [...], "filters": [...], "skip": n,
 *     "limit": n}; docs are inserted (one without an _id gets ObjectId
 *     number i, see oid_of), then saves saved, then each filter asked;
 *   - anything else: bytes that drive a generator of documents (every BSON
 *     type the evaluator orders, nested documents and arrays, null and
 *     missing fields, -0, NaN, int64 past 2^53) and filters (every
 *     operator, dotted paths, $and/$or, now and then a bad one).
 *
 * The collection has two unique paths: "u", so that equality on it is
 * pushed down to SQL like equality on _id, and the dotted "c.a", which is
 * not (both stores must refuse the same duplicates all the same).
 *
 * The server: LK_PG_URL's, else a throwaway cluster started in
 * LLVMFuzzerInitialize (spec/support/pg_server: our child, following this
 * process's death) and stopped, with its schema, at exit. No server: a
 * failure under CI=true, else a loud skip.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listenkit.h"
#include "listenkit/pg.h"
#include "mem_store.h"
#include "pg_server.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DOCS 8
#define MAX_FILTERS 3
#define MAX_IDS 64

static spec_pg_server server;
static char schema[64];
static lk_store *pg_store;
static lk_collection *pg_coll;
static bool skipping; /* no server, not in CI: every input passes */

static const char *const unique_paths[] = {"u", "c.a", NULL};
static const lk_collection_opts coll_opts = {.unique = unique_paths};

/* ---- setup and teardown ------------------------------------------------- */

static void teardown(void)
{
    lk_store_free(pg_store);
    pg_store = NULL;
    if (server.ok && schema[0] != '\0')
        spec_pg_drop_schema(server.url, schema);
    spec_pg_server_stop(&server);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    lk_error err = {0};
    const char *ci = getenv("CI");
    lk_log_set_level(LK_LOG_ERROR);
    if (!spec_pg_server_start(&server)) {
        if (ci != NULL && strcmp(ci, "true") == 0) {
            fprintf(stderr, "fuzz_store_diff: no PostgreSQL in CI: %s\n",
                    server.reason);
            exit(1);
        }
        fprintf(stderr, "fuzz_store_diff: SKIPPED: no PostgreSQL: %s; set "
                        "LK_PG_URL or PG_BIN_DIR, or run make deps\n",
                server.reason);
        skipping = true;
        return 0;
    }
    atexit(teardown);
    spec_pg_unique_name(schema, sizeof schema, "fuzz_diff");
    lk_pg_opts o = {.schema = schema, .pool_size = 1};
    if (lk_pg_store_connect(&pg_store, server.url, &o, &err) != LK_OK ||
        lk_store_collection(pg_store, "docs", &coll_opts, &pg_coll, &err) !=
            LK_OK) {
        fprintf(stderr, "fuzz_store_diff: PostgreSQL store: %s\n",
                err.message);
        exit(1);
    }
    return 0;
}

/* ---- the generator ------------------------------------------------------ */

typedef struct src {
    const uint8_t *p;
    size_t n;
} src;

/* The next choice in 0..mod-1 (0 once the bytes run out). */
static unsigned pick(src *s, unsigned mod)
{
    if (s->n == 0)
        return 0;
    s->n--;
    return *s->p++ % mod;
}

/* ObjectId number i: document i's _id when it has none of its own, and
 * the ObjectIds filters and values use. */
static bson_oid_t oid_of(unsigned i)
{
    bson_oid_t id;
    memset(id.bytes, 0, sizeof id.bytes);
    id.bytes[0] = 0x65;
    id.bytes[11] = (uint8_t)i;
    return id;
}

static const char *const keys[] = {"a", "b", "c", "u", "0", "1", "x"};
static const char *const paths[] = {"a",   "b",   "c",     "u",   "_id",
                                    "a.b", "a.0", "a.0.b", "b.c", "x.1",
                                    "c.a", "version"};
static const char *const strings[] = {"", "a", "b", "1", "10", "A", "\xc3\xa9"};

static void append_value(bson_t *b, const char *key, src *s, int depth,
                         bool in_filter);

static void append_container(bson_t *b, const char *key, bool array, src *s,
                             int depth, bool in_filter)
{
    bson_t child;
    unsigned n = pick(s, 4);
    if (array)
        bson_append_array_begin(b, key, -1, &child);
    else
        bson_append_document_begin(b, key, -1, &child);
    for (unsigned i = 0; i < n; i++) {
        char index[4];
        snprintf(index, sizeof index, "%u", i);
        append_value(&child, array ? index : keys[pick(s, 7)], s, depth + 1,
                     in_filter);
    }
    if (array)
        bson_append_array_end(b, &child);
    else
        bson_append_document_end(b, &child);
}

static void append_value(bson_t *b, const char *key, src *s, int depth,
                         bool in_filter)
{
    static const int32_t i32[] = {0, 1, -1, 2, 7, INT32_MAX, INT32_MIN};
    static const int64_t i64[] = {0, 1, 2, INT64_C(9007199254740992),
                                  INT64_C(9007199254740993),
                                  -INT64_C(9007199254740993), INT64_MAX,
                                  INT64_MIN};
    static const double dbl[] = {0.0, -0.0, 1.0, 1.5, 2.0, 0.1,
                                 9007199254740992.0, 9007199254740994.0,
                                 NAN, INFINITY, -INFINITY,
                                 9223372036854775808.0};
    static const int64_t dates[] = {0, 1, -1, INT64_C(1700000000000)};
    /* Nested values are scalars past depth 3: deep enough for a.0.b. */
    unsigned kinds = depth < 3 ? 18 : 16;
    unsigned kind = pick(s, kinds);
    /* picked once: BSON_APPEND_UTF8 reads its value twice */
    const char *text = strings[pick(s, 7)];
    switch (kind) {
    case 0: BSON_APPEND_NULL(b, key); break;
    case 1: BSON_APPEND_INT32(b, key, i32[pick(s, 7)]); break;
    case 2: BSON_APPEND_INT64(b, key, i64[pick(s, 8)]); break;
    case 3: BSON_APPEND_DOUBLE(b, key, dbl[pick(s, 12)]); break;
    case 4: BSON_APPEND_UTF8(b, key, text); break;
    case 5: BSON_APPEND_BOOL(b, key, pick(s, 2)); break;
    case 6: {
        bson_oid_t id = oid_of(pick(s, MAX_DOCS + 1));
        BSON_APPEND_OID(b, key, &id);
        break;
    }
    case 7: BSON_APPEND_DATE_TIME(b, key, dates[pick(s, 4)]); break;
    case 8: {
        const char *bytes = strings[pick(s, 3)];
        bson_append_binary(b, key, -1, pick(s, 2) ? BSON_SUBTYPE_BINARY
                                                  : BSON_SUBTYPE_UUID,
                           (const uint8_t *)bytes, (uint32_t)strlen(bytes));
        break;
    }
    case 9: BSON_APPEND_TIMESTAMP(b, key, pick(s, 3), pick(s, 3)); break;
    case 10: BSON_APPEND_UNDEFINED(b, key); break;
    case 11: BSON_APPEND_MINKEY(b, key); break;
    case 12: BSON_APPEND_MAXKEY(b, key); break;
    case 13: BSON_APPEND_SYMBOL(b, key, text); break;
    case 14:
        /* Outside the filter language: stored fine, refused in a filter. */
        if (in_filter && pick(s, 4) != 0)
            BSON_APPEND_INT32(b, key, 1);
        else
            BSON_APPEND_REGEX(b, key, "a", "i");
        break;
    case 15: BSON_APPEND_DOUBLE(b, key, -0.0); break; /* MongoDB: == 0 */
    default: append_container(b, key, pick(s, 2), s, depth, in_filter); break;
    }
}

static bson_t *gen_doc(src *s, unsigned i)
{
    bson_t *doc = bson_new();
    unsigned first = pick(s, 16);
    if (first == 0) {
        /* no _id: the stores generate different ones, so give it ours */
        bson_oid_t id = oid_of(i);
        BSON_APPEND_OID(doc, "_id", &id);
    } else if (first == 1) {
        BSON_APPEND_UTF8(doc, "_id", "not an ObjectId"); /* refused */
    } else {
        bson_oid_t id = oid_of(first == 2 ? pick(s, MAX_DOCS) : i);
        BSON_APPEND_OID(doc, "_id", &id); /* now and then a taken one */
    }
    unsigned fields = pick(s, 5);
    for (unsigned f = 0; f < fields; f++)
        append_value(doc, keys[pick(s, 7)], s, 1, false);
    return doc;
}

static void gen_filter(bson_t *f, src *s, int depth);

static void gen_ops(bson_t *ops, src *s, int depth)
{
    static const char *const names[] = {"$eq", "$ne",  "$gt",     "$gte",
                                        "$lt", "$lte", "$in",     "$nin",
                                        "$exists", "$not", "$size"};
    unsigned n = 1 + pick(s, 2);
    for (unsigned i = 0; i < n; i++) {
        /* $size: outside the subset, must be refused by both */
        const char *op = names[pick(s, depth < 2 ? 11 : 9) % 11];
        if (strcmp(op, "$in") == 0 || strcmp(op, "$nin") == 0) {
            bson_t list;
            unsigned k = pick(s, 4);
            bson_append_array_begin(ops, op, -1, &list);
            for (unsigned j = 0; j < k; j++) {
                char index[4];
                snprintf(index, sizeof index, "%u", j);
                append_value(&list, index, s, 2, true);
            }
            bson_append_array_end(ops, &list);
        } else if (strcmp(op, "$exists") == 0) {
            if (pick(s, 4) == 0)
                BSON_APPEND_INT32(ops, op, (int32_t)pick(s, 2));
            else
                BSON_APPEND_BOOL(ops, op, pick(s, 2));
        } else if (strcmp(op, "$not") == 0) {
            bson_t inner;
            bson_append_document_begin(ops, op, -1, &inner);
            gen_ops(&inner, s, depth + 1);
            bson_append_document_end(ops, &inner);
        } else {
            append_value(ops, op, s, 1, true);
        }
    }
}

static void gen_clauses(bson_t *f, const char *name, src *s, int depth)
{
    bson_t list;
    unsigned n = 1 + pick(s, 2);
    bson_append_array_begin(f, name, -1, &list);
    for (unsigned i = 0; i < n; i++) {
        char index[4];
        bson_t sub;
        snprintf(index, sizeof index, "%u", i);
        bson_append_document_begin(&list, index, -1, &sub);
        gen_filter(&sub, s, depth + 1);
        bson_append_document_end(&list, &sub);
    }
    bson_append_array_end(f, &list);
}

static void gen_filter(bson_t *f, src *s, int depth)
{
    unsigned n = pick(s, 3) + (depth == 0 ? 0 : 1);
    for (unsigned i = 0; i < n; i++) {
        unsigned kind = pick(s, depth < 2 ? 8 : 6);
        const char *path = paths[pick(s, 12)];
        if (kind < 3) {
            append_value(f, path, s, 1, true); /* equality */
        } else if (kind < 6) {
            bson_t ops;
            bson_append_document_begin(f, path, -1, &ops);
            gen_ops(&ops, s, depth);
            bson_append_document_end(f, &ops);
        } else {
            gen_clauses(f, kind == 6 ? "$and" : "$or", s, depth);
        }
    }
}

/* ---- one case: documents, filters, find options ------------------------- */

typedef struct fcase {
    bson_t *docs[MAX_DOCS];
    size_t n_docs;
    bson_t *saves[MAX_DOCS]; /* saved after the inserts, in order */
    size_t n_saves;
    bson_t *filters[MAX_FILTERS];
    size_t n_filters;
    lk_find_opts find;
} fcase;

static void case_free(fcase *c)
{
    for (size_t i = 0; i < c->n_docs; i++)
        bson_destroy(c->docs[i]);
    for (size_t i = 0; i < c->n_saves; i++)
        bson_destroy(c->saves[i]);
    for (size_t i = 0; i < c->n_filters; i++)
        bson_destroy(c->filters[i]);
}

static void case_generate(fcase *c, const uint8_t *data, size_t size)
{
    src s = {data, size};
    c->n_docs = 1 + pick(&s, MAX_DOCS);
    for (size_t i = 0; i < c->n_docs; i++)
        c->docs[i] = gen_doc(&s, (unsigned)i);
    /* A save of an inserted _id with new fields, carrying version 0 (the
     * stored one) or 1 (stale): order and unique keys after a save. */
    c->n_saves = pick(&s, 3);
    for (size_t i = 0; i < c->n_saves; i++) {
        c->saves[i] = gen_doc(&s, pick(&s, (unsigned)c->n_docs));
        BSON_APPEND_INT32(c->saves[i], "version", (int32_t)(pick(&s, 4) == 0));
    }
    c->n_filters = 1 + pick(&s, MAX_FILTERS);
    for (size_t i = 0; i < c->n_filters; i++) {
        c->filters[i] = bson_new();
        gen_filter(c->filters[i], &s, 0);
    }
    c->find.skip = pick(&s, 4) == 0 ? pick(&s, 3) : 0;
    c->find.limit = pick(&s, 4) == 0 ? pick(&s, 3) : 0;
}

/* An array field of `root` as new documents, at most `max`. */
static size_t json_list(const bson_t *root, const char *name, bson_t **out,
                        size_t max)
{
    bson_iter_t it, list;
    size_t n = 0;
    if (!bson_iter_init_find(&it, root, name) || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &list))
        return 0;
    while (n < max && bson_iter_next(&list)) {
        const uint8_t *data;
        uint32_t len;
        if (!BSON_ITER_HOLDS_DOCUMENT(&list))
            continue;
        bson_iter_document(&list, &len, &data);
        out[n++] = bson_new_from_data(data, len);
    }
    return n;
}

static bool case_from_json(fcase *c, const uint8_t *data, size_t size)
{
    bson_t *root = bson_new_from_json(data, (ssize_t)size, NULL);
    if (root == NULL)
        return false;
    c->n_docs = json_list(root, "docs", c->docs, MAX_DOCS);
    c->n_filters = json_list(root, "filters", c->filters, MAX_FILTERS);
    c->n_saves = json_list(root, "saves", c->saves, MAX_DOCS);
    for (size_t i = 0; i < c->n_docs; i++) {
        bson_iter_t it;
        if (bson_iter_init_find(&it, c->docs[i], "_id"))
            continue;
        bson_oid_t id = oid_of((unsigned)i);
        bson_t *with = bson_new();
        BSON_APPEND_OID(with, "_id", &id);
        bson_concat(with, c->docs[i]);
        bson_destroy(c->docs[i]);
        c->docs[i] = with;
    }
    int64_t v;
    if (lk_bson_get_int64(root, "skip", &v, NULL) == LK_OK && v >= 0 && v < 9)
        c->find.skip = v;
    if (lk_bson_get_int64(root, "limit", &v, NULL) == LK_OK && v >= 0 &&
        v < 9)
        c->find.limit = v;
    bson_destroy(root);
    return c->n_docs > 0 || c->n_filters > 0;
}

/* ---- comparing the two stores ------------------------------------------- */

typedef struct answer {
    lk_status status;
    int64_t number; /* count or deleted */
    size_t n_ids;
    bson_oid_t ids[MAX_IDS];
} answer;

static void print_json(const char *label, const bson_t *doc)
{
    char *text = bson_as_canonical_extended_json(doc, NULL);
    fprintf(stderr, "  %s %s\n", label, text != NULL ? text : "(not BSON)");
    bson_free(text);
}

static void print_answer(const char *store, const answer *a)
{
    fprintf(stderr, "  %-8s status %s, n %lld, ids [", store,
            lk_status_name(a->status), (long long)a->number);
    for (size_t i = 0; i < a->n_ids; i++) {
        char hex[25];
        lk_oid_format(&a->ids[i], hex);
        fprintf(stderr, "%s%s", i ? ", " : "", hex);
    }
    fprintf(stderr, "]\n");
}

static void diverged(const char *what, const fcase *c, const bson_t *filter,
                     const answer *mem, const answer *pg)
{
    fprintf(stderr, "fuzz_store_diff: the stores differ on %s\n", what);
    for (size_t i = 0; i < c->n_docs; i++)
        print_json("doc   ", c->docs[i]);
    if (filter != NULL)
        print_json("filter", filter);
    fprintf(stderr, "  find opts: skip %lld, limit %lld\n",
            (long long)c->find.skip, (long long)c->find.limit);
    print_answer("memory", mem);
    print_answer("postgres", pg);
    teardown(); /* libFuzzer's crash path skips atexit */
    abort();
}

static void compare(const char *what, const fcase *c, const bson_t *filter,
                    const answer *mem, const answer *pg)
{
    if (mem->status != pg->status || mem->number != pg->number ||
        mem->n_ids != pg->n_ids ||
        memcmp(mem->ids, pg->ids, mem->n_ids * sizeof mem->ids[0]) != 0)
        diverged(what, c, filter, mem, pg);
}

static void add_id(answer *a, const bson_t *doc)
{
    if (a->n_ids < MAX_IDS && lk_bson_get_oid(doc, &a->ids[a->n_ids], NULL) ==
                                  LK_OK)
        a->n_ids++;
}

static answer run_find(lk_collection *coll, const bson_t *filter,
                       const lk_find_opts *opts)
{
    answer a = {0};
    lk_cursor *cur = NULL;
    const bson_t *doc;
    a.status = lk_collection_find(coll, filter, opts, &cur, NULL);
    while (a.status == LK_OK && lk_cursor_next(cur, &doc))
        add_id(&a, doc);
    if (a.status == LK_OK)
        a.status = lk_cursor_error(cur, NULL);
    lk_cursor_free(cur);
    return a;
}

static answer run_find_one(lk_collection *coll, const bson_t *filter)
{
    answer a = {0};
    bson_t *doc = NULL;
    a.status = lk_collection_find_one(coll, filter, &doc, NULL);
    if (a.status == LK_OK)
        add_id(&a, doc);
    bson_destroy(doc);
    return a;
}

static answer run_count(lk_collection *coll, const bson_t *filter)
{
    answer a = {0};
    a.status = lk_collection_count(coll, filter, &a.number, NULL);
    return a;
}

static answer run_delete(lk_collection *coll, const bson_t *filter)
{
    answer a = {0};
    a.status = lk_collection_delete(coll, filter, &a.number, NULL);
    return a;
}

typedef lk_status (*write_fn)(lk_collection *coll, const bson_t *doc,
                              bson_t **out, lk_error *err);

/* An insert or a save of `doc` on both stores must end alike. */
static void same_write(const char *what, write_fn fn, lk_collection *mem,
                       const fcase *c, const bson_t *doc)
{
    answer m = {0}, p = {0};
    m.status = fn(mem, doc, NULL, NULL);
    p.status = fn(pg_coll, doc, NULL, NULL);
    if (m.status != p.status) {
        print_json(what, doc);
        diverged(what, c, NULL, &m, &p);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fcase c;
    bson_t all = BSON_INITIALIZER;
    answer m, p;
    if (skipping)
        return 0;
    memset(&c, 0, sizeof c);
    if (size == 0 || data[0] != '{' || !case_from_json(&c, data, size)) {
        case_free(&c);
        memset(&c, 0, sizeof c);
        case_generate(&c, data, size);
    }

    lk_store *mem_store = lk_mem_store_new();
    lk_collection *mem = NULL;
    if (mem_store == NULL ||
        lk_store_collection(mem_store, "docs", &coll_opts, &mem, NULL) !=
            LK_OK ||
        lk_collection_delete(pg_coll, &all, NULL, NULL) != LK_OK) {
        fprintf(stderr, "fuzz_store_diff: cannot reset the stores\n");
        abort();
    }

    for (size_t i = 0; i < c.n_docs; i++)
        same_write("insert", lk_collection_insert, mem, &c, c.docs[i]);
    for (size_t i = 0; i < c.n_saves; i++)
        same_write("save", lk_collection_save, mem, &c, c.saves[i]);
    for (size_t i = 0; i < c.n_filters; i++) {
        const bson_t *f = c.filters[i];
        m = run_count(mem, f);
        p = run_count(pg_coll, f);
        compare("count", &c, f, &m, &p);
        m = run_find(mem, f, &c.find);
        p = run_find(pg_coll, f, &c.find);
        compare("find", &c, f, &m, &p);
        m = run_find_one(mem, f);
        p = run_find_one(pg_coll, f);
        compare("find_one", &c, f, &m, &p);
    }
    if (c.n_filters > 0) {
        const bson_t *f = c.filters[c.n_filters - 1];
        m = run_delete(mem, f);
        p = run_delete(pg_coll, f);
        compare("delete", &c, f, &m, &p);
        m = run_find(mem, &all, NULL);
        p = run_find(pg_coll, &all, NULL);
        compare("what is left after delete", &c, f, &m, &p);
    }
    lk_store_free(mem_store);
    case_free(&c);
    return 0;
}
