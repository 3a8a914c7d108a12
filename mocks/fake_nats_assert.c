/* SPDX-License-Identifier: MIT */
/*
 * fake_nats_assert.c — lk_fake_nats_assert_published: "publish #i went to
 * this subject and its JSON holds these fields", compared field by field so
 * that a failure says which field differs and shows expected against actual,
 * as jest's toMatchObject does.
 *
 * Only the fields the expected JSON lists are compared: objects match when
 * every listed member matches (extra members of the actual object are fine,
 * at any depth); arrays must have the same length and match element by
 * element; numbers compare by value (2 matches 2.0); everything else must be
 * equal.
 */
#include "fake_nats.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The differences found, one line each; a fixed buffer is plenty, since a
 * spec lists a handful of fields (longer reports are cut short). */
typedef struct diff {
    char text[2048];
    size_t used;
    int count;
} diff;

static void diff_add(diff *d, const char *path, const char *fmt, ...)
    LK_PRINTF(3, 4);

static void diff_add(diff *d, const char *path, const char *fmt, ...)
{
    d->count++;
    if (d->used >= sizeof d->text - 1)
        return;
    int n = snprintf(d->text + d->used, sizeof d->text - d->used,
                     "    field \"%s\": ", path);
    if (n > 0)
        d->used += (size_t)n;
    if (d->used >= sizeof d->text - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(d->text + d->used, sizeof d->text - d->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        d->used += (size_t)n;
    if (d->used < sizeof d->text - 1)
        d->text[d->used++] = '\n';
    d->text[d->used < sizeof d->text ? d->used : sizeof d->text - 1] = '\0';
}

/* Compact JSON text of `v`, cut at 400 bytes; the caller frees it. */
static char *dump(const json_t *v)
{
    if (v == NULL)
        return NULL;
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (s != NULL && strlen(s) > 400)
        strcpy(s + 396, "...");
    return s;
}

static void match(const json_t *want, const json_t *got, const char *path,
                  diff *d)
{
    char sub[256];
    if (json_is_number(want) && json_is_number(got)) {
        if (json_number_value(want) != json_number_value(got) ||
            (json_is_integer(want) && json_is_integer(got) &&
             json_integer_value(want) != json_integer_value(got)))
            goto differ;
        return;
    }
    if (json_is_object(want) && json_is_object(got)) {
        const char *key;
        json_t *w;
        json_object_foreach((json_t *)want, key, w) {
            snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", key);
            const json_t *g = json_object_get(got, key);
            if (g == NULL) {
                char *ws = dump(w);
                diff_add(d, sub, "expected %s, missing", ws != NULL ? ws : "?");
                free(ws);
            } else {
                match(w, g, sub, d);
            }
        }
        return;
    }
    if (json_is_array(want) && json_is_array(got)) {
        if (json_array_size(want) != json_array_size(got)) {
            diff_add(d, path[0] ? path : "(event)",
                     "expected %zu element(s), got %zu", json_array_size(want),
                     json_array_size(got));
            return;
        }
        size_t i;
        json_t *w;
        json_array_foreach(want, i, w) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            match(w, json_array_get(got, i), sub, d);
        }
        return;
    }
    if (json_equal((json_t *)want, (json_t *)got))
        return;
differ:;
    char *ws = dump(want), *gs = dump(got);
    diff_add(d, path[0] ? path : "(event)", "expected %s, got %s",
             ws != NULL ? ws : "?", gs != NULL ? gs : "?");
    free(ws);
    free(gs);
}

void lk_fake_nats_assert_published_at(const char *file, int line,
                                      const lk_fake_nats *nats, size_t i,
                                      const char *subject, const char *fmt,
                                      ...)
{
    size_t count = lk_fake_nats_published_count(nats);
    if (i >= count) {
        print_error("lk_fake_nats: expected publish #%zu on \"%s\", but only "
                    "%zu message(s) were published\n",
                    i, subject != NULL ? subject : "(any)", count);
        for (size_t k = 0; k < count && k < 10; k++)
            print_error("    #%zu %s\n", k,
                        lk_fake_nats_published_subject(nats, k));
        _fail(file, line);
        return;
    }
    const char *got_subject = lk_fake_nats_published_subject(nats, i);
    if (subject != NULL && strcmp(got_subject, subject) != 0) {
        print_error("lk_fake_nats: publish #%zu went to \"%s\", expected "
                    "\"%s\"\n    data: %s\n",
                    i, got_subject, subject,
                    lk_fake_nats_published_data(nats, i, NULL));
        _fail(file, line);
        return;
    }
    if (fmt == NULL)
        return; /* the subject was all the caller asked about */

    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    json_error_t je;
    json_t *want = n >= 0 && (size_t)n < sizeof text
                       ? json_loads(text, JSON_DECODE_ANY, &je)
                       : NULL;
    if (want == NULL) {
        print_error("lk_fake_nats_assert_published: the expected JSON does "
                    "not parse (%s): %.200s\n",
                    n >= 0 && (size_t)n < sizeof text ? je.text : "too long",
                    text);
        _fail(file, line);
        return;
    }
    const json_t *got = lk_fake_nats_published_json(nats, i);
    if (got == NULL) {
        print_error("lk_fake_nats: publish #%zu on \"%s\" is not JSON: %.200s\n",
                    i, got_subject, lk_fake_nats_published_data(nats, i, NULL));
        json_decref(want);
        _fail(file, line);
        return;
    }
    diff d = {.text = "", .used = 0, .count = 0};
    match(want, got, "", &d);
    if (d.count == 0) {
        json_decref(want);
        return;
    }
    char *ws = dump(want), *gs = dump(got);
    print_error("lk_fake_nats: publish #%zu on \"%s\" differs in %d listed "
                "field(s):\n%s"
                "  expected (listed fields only): %s\n"
                "  actual:                        %s\n",
                i, got_subject, d.count, d.text, ws != NULL ? ws : "?",
                gs != NULL ? gs : "?");
    free(ws);
    free(gs);
    json_decref(want);
    _fail(file, line);
}
