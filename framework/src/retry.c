/* SPDX-License-Identifier: MIT */
/* retry.c — the retry schedule and the dead-letter envelope (retry.h). The
 * dispatcher that applies them lives in listener.c. */
#include "listenkit/retry.h"

#include <string.h>

#include <jansson.h>

#include "listenkit/alloc-private.h"
#include "listenkit/alloc.h"

int64_t lk_retry_delay_ms(int64_t delay_ms, int64_t max_delay_ms,
                          uint64_t delivery_count)
{
    int64_t d = delay_ms > 0 ? delay_ms : LK_RETRY_DEFAULT_DELAY_MS;
    int64_t cap = max_delay_ms > 0 ? max_delay_ms : LK_RETRY_DEFAULT_MAX_DELAY_MS;
    /* Doubling stops at the cap, so it never overflows. */
    for (uint64_t i = 1; i < delivery_count && d < cap; i++)
        d = d > cap / 2 ? cap : d * 2;
    return d < cap ? d : cap;
}

lk_status lk_dead_letter_subject(char *buf, size_t size,
                                 const char *queue_group, const char *subject,
                                 lk_error *err)
{
    if (buf == NULL || queue_group == NULL || queue_group[0] == '\0' ||
        subject == NULL || subject[0] == '\0')
        return lk_error_set(err, LK_ERR_INVALID,
                            "dead letter: buffer, queue group and subject are "
                            "required");
    int n = snprintf(buf, size, LK_DEAD_LETTER_PREFIX ".%s.%s", queue_group,
                     subject);
    if (n < 0 || (size_t)n >= size)
        return lk_error_set(err, LK_ERR_TOO_LARGE,
                            "dead letter: subject for %s in %s does not fit "
                            "in %zu bytes",
                            subject, queue_group, size);
    return LK_OK;
}

lk_status lk_dead_letter_encode(const lk_msg *msg, const char *queue_group,
                                const char *reason, char **out, size_t *len,
                                lk_error *err)
{
    if (msg == NULL || msg->subject == NULL || out == NULL || len == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "dead letter: message and output are required");
    *out = NULL;
    *len = 0;
    unsigned long failures = lk_alloc_failures_();
    json_t *data = json_stringn(msg->data != NULL ? msg->data : "",
                                msg->data != NULL ? msg->length : 0);
    if (data == NULL && lk_alloc_failures_() != failures)
        return lk_error_set(err, LK_ERR_NOMEM, "dead letter: out of memory");
    if (data == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "dead letter: %s seq %llu: data is not UTF-8 text",
                            msg->subject, (unsigned long long)msg->stream_seq);
    json_t *env = json_pack(
        "{s:s, s:o, s:I, s:I, s:I, s:s?, s:s}", "subject", msg->subject,
        "data", data, "stream_seq", (json_int_t)msg->stream_seq, "deliveries",
        (json_int_t)msg->delivery_count, "timestamp_ms",
        (json_int_t)msg->timestamp_ms, "queue_group", queue_group, "reason",
        reason != NULL ? reason : "");
    char *text = env != NULL ? json_dumps(env, JSON_COMPACT) : NULL;
    json_decref(env);
    if (lk_alloc_failures_() != failures) { /* no half-written envelope */
        lk_free(text);
        text = NULL;
    }
    if (text == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "dead letter: out of memory");
    *out = text;
    *len = strlen(text);
    return LK_OK;
}

void lk_dead_letter_clear(lk_dead_letter *dl)
{
    if (dl == NULL)
        return;
    lk_free(dl->subject);
    lk_free(dl->data);
    lk_free(dl->queue_group);
    lk_free(dl->reason);
    memset(dl, 0, sizeof *dl);
}

static char *copy_text(const char *s, size_t n)
{
    char *c = lk_malloc(n + 1);
    if (c != NULL) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

/* The string field `name`, copied into *out (a missing or null optional
 * one leaves *out NULL). */
static lk_status take_string(const json_t *env, const char *name, bool required,
                             char **out, size_t *len, lk_error *err)
{
    const json_t *v = json_object_get(env, name);
    if ((v == NULL || json_is_null(v)) && !required)
        return LK_OK;
    if (!json_is_string(v))
        return lk_error_set(err, LK_ERR_INVALID,
                            "dead letter: field \"%s\": expected string", name);
    size_t n = json_string_length(v);
    *out = copy_text(json_string_value(v), n);
    if (*out == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "dead letter: out of memory");
    if (len != NULL)
        *len = n;
    return LK_OK;
}

static lk_status take_int(const json_t *env, const char *name, int64_t *out,
                          lk_error *err)
{
    const json_t *v = json_object_get(env, name);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return lk_error_set(err, LK_ERR_INVALID,
                            "dead letter: field \"%s\": expected a "
                            "non-negative integer",
                            name);
    *out = json_integer_value(v);
    return LK_OK;
}

lk_status lk_dead_letter_decode(const char *data, size_t len,
                                lk_dead_letter *out, lk_error *err)
{
    if (out == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "dead letter: out is NULL");
    memset(out, 0, sizeof *out);
    if (data == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "dead letter: data is NULL");
    json_error_t jerr;
    unsigned long failures = lk_alloc_failures_();
    json_t *env = json_loadb(data, len, 0, &jerr);
    if (lk_alloc_failures_() != failures ||
        (env == NULL && json_error_code(&jerr) == json_error_out_of_memory)) {
        json_decref(env);
        return lk_error_set(err, LK_ERR_NOMEM, "dead letter: out of memory");
    }
    if (env == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "dead letter: not a JSON object: %s at offset %d",
                            jerr.text, jerr.position);
    int64_t seq = 0, deliveries = 0, ts = 0;
    lk_status s = take_string(env, "subject", true, &out->subject, NULL, err);
    if (s == LK_OK)
        s = take_string(env, "data", true, &out->data, &out->length, err);
    if (s == LK_OK)
        s = take_string(env, "reason", true, &out->reason, NULL, err);
    if (s == LK_OK)
        s = take_string(env, "queue_group", false, &out->queue_group, NULL,
                        err);
    if (s == LK_OK)
        s = take_int(env, "stream_seq", &seq, err);
    if (s == LK_OK)
        s = take_int(env, "deliveries", &deliveries, err);
    if (s == LK_OK)
        s = take_int(env, "timestamp_ms", &ts, err);
    json_decref(env);
    if (s != LK_OK) {
        lk_dead_letter_clear(out);
        return s;
    }
    out->stream_seq = (uint64_t)seq;
    out->deliveries = (uint64_t)deliveries;
    out->timestamp_ms = ts;
    return LK_OK;
}

lk_status lk_dead_letter_replay(lk_bus *bus, const char *data, size_t len,
                                lk_error *err)
{
    lk_dead_letter dl;
    lk_status s = lk_dead_letter_decode(data, len, &dl, err);
    if (s == LK_OK) {
        s = lk_bus_publish(bus, dl.subject, dl.data, dl.length, NULL, err);
        if (s != LK_OK)
            lk_error_prefix(err, "dead letter replay");
    }
    lk_dead_letter_clear(&dl);
    return s;
}
