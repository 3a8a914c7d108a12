/* SPDX-License-Identifier: MIT */
/*
 * fake_msg.c — a hand-made lk_msg that counts the replies it gets.
 *
 * The replies only count (and, in strict mode, report to cmocka); nothing is
 * sent anywhere. Strict mode fails the test with a message that names the
 * message's subject and sequence, at the line of the test that set it up:
 * an unwanted or extra ack at the call, a missing ack when the message is
 * freed. Each expected ack is also registered with cmocka's function-call
 * expectations, as a net for a message the test never frees.
 */
#include "fake_msg.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "listenkit/alloc.h"

/* The name strict mode registers with cmocka. A static string on purpose:
 * cmocka keeps the pointer until the test ends, which may be after the
 * message was freed. */
static const char STRICT_ACK_CALL[] = "lk_fake_msg_ack";

typedef enum strict_mode { STRICT_OFF, STRICT_ACK, STRICT_NO_ACK } strict_mode;

typedef struct fake_msg {
    lk_msg base; /* first: an lk_msg * is a fake_msg * */
    char *subject;
    char *data;
    int acks, naks, terms, in_progress;
    int64_t last_nak_delay;
    bool acked;
    lk_status fail_next_ack;
    strict_mode strict;
    int strict_expected; /* acks announced to cmocka so far */
    int strict_seen;     /* acks reported to cmocka so far */
    const char *strict_file; /* the test's line that set strict mode */
    int strict_line;
    lk_fake_outcome outcome; /* the first final reply */
} fake_msg;

static lk_status fake_ack(lk_msg *msg);
static lk_status fake_nak(lk_msg *msg, int64_t delay_ms);
static lk_status fake_term(lk_msg *msg);
static lk_status fake_in_progress(lk_msg *msg);

static const lk_msg_ops fake_msg_ops = {
    .ack = fake_ack,
    .nak = fake_nak,
    .term = fake_term,
    .in_progress = fake_in_progress,
    .free = lk_fake_msg_free,
};

/* The fake behind `msg`, or NULL when it is not one of ours. */
static fake_msg *as_fake(const lk_msg *msg)
{
    if (msg == NULL || msg->ops != &fake_msg_ops)
        return NULL;
    return (fake_msg *)(uintptr_t)msg;
}

bool lk_fake_msg_is_fake(const lk_msg *msg) { return as_fake(msg) != NULL; }

lk_msg *lk_fake_msg_new_bytes(const char *subject, const void *data,
                              size_t len)
{
    if (subject == NULL || (data == NULL && len > 0))
        return NULL;
    fake_msg *f = lk_calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    size_t sublen = strlen(subject);
    f->subject = lk_malloc(sublen + 1);
    f->data = lk_malloc(len + 1); /* +1: NUL-terminated for convenience */
    if (f->subject == NULL || f->data == NULL) {
        lk_free(f->subject);
        lk_free(f->data);
        lk_free(f);
        return NULL;
    }
    memcpy(f->subject, subject, sublen + 1);
    if (len > 0)
        memcpy(f->data, data, len);
    f->data[len] = '\0';
    f->base.ops = &fake_msg_ops;
    f->base.subject = f->subject;
    f->base.data = f->data;
    f->base.length = len;
    f->base.stream_seq = 1;
    f->base.delivery_count = 1;
    f->base.timestamp_ms = 0;
    f->last_nak_delay = -1;
    f->fail_next_ack = LK_OK;
    return &f->base;
}

lk_msg *lk_fake_msg_new(const char *subject, const char *json)
{
    if (json == NULL)
        return NULL;
    return lk_fake_msg_new_bytes(subject, json, strlen(json));
}

lk_msg *lk_fake_msg_newf(const char *subject, const char *fmt, ...)
{
    if (subject == NULL || fmt == NULL)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *text = lk_malloc((size_t)n + 1);
    if (text == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    va_end(ap);
    lk_msg *msg = lk_fake_msg_new_bytes(subject, text, (size_t)n);
    lk_free(text);
    return msg;
}

void lk_fake_msg_free(lk_msg *msg)
{
    fake_msg *f = as_fake(msg);
    if (f == NULL)
        return;
    int missing = f->strict == STRICT_ACK ? f->strict_expected - f->strict_seen
                                          : 0;
    int expected = f->strict_expected;
    const char *file = f->strict_file;
    int line = f->strict_line;
    unsigned long long seq = (unsigned long long)f->base.stream_seq;
    char subject[128];
    snprintf(subject, sizeof subject, "%s", f->subject);
    lk_free(f->subject);
    lk_free(f->data);
    lk_free(f);
    if (missing > 0) {
        /* Settle cmocka's own expectations first, or it would report the
         * same miss again, without naming the message. */
        for (int i = 0; i < missing; i++)
            _function_called(STRICT_ACK_CALL, file, line);
        print_error("lk_fake_msg: \"%s\" (stream seq %llu) got %d of the "
                    "%d ack(s) lk_fake_msg_expect_ack() expected\n",
                    subject, seq, expected - missing, expected);
        _fail(file, line);
    }
}

void lk_fake_msg_set_stream_seq(lk_msg *msg, uint64_t seq)
{
    fake_msg *f = as_fake(msg);
    if (f != NULL)
        f->base.stream_seq = seq;
}

void lk_fake_msg_set_delivery_count(lk_msg *msg, uint64_t count)
{
    fake_msg *f = as_fake(msg);
    if (f != NULL)
        f->base.delivery_count = count;
}

void lk_fake_msg_set_timestamp(lk_msg *msg, int64_t ms)
{
    fake_msg *f = as_fake(msg);
    if (f != NULL)
        f->base.timestamp_ms = ms;
}

int lk_fake_msg_ack_count(const lk_msg *msg)
{
    const fake_msg *f = as_fake(msg);
    return f != NULL ? f->acks : 0;
}

int lk_fake_msg_nak_count(const lk_msg *msg)
{
    const fake_msg *f = as_fake(msg);
    return f != NULL ? f->naks : 0;
}

int lk_fake_msg_term_count(const lk_msg *msg)
{
    const fake_msg *f = as_fake(msg);
    return f != NULL ? f->terms : 0;
}

int lk_fake_msg_in_progress_count(const lk_msg *msg)
{
    const fake_msg *f = as_fake(msg);
    return f != NULL ? f->in_progress : 0;
}

int64_t lk_fake_msg_last_nak_delay(const lk_msg *msg)
{
    const fake_msg *f = as_fake(msg);
    return f != NULL ? f->last_nak_delay : -1;
}

bool lk_fake_msg_acked(const lk_msg *msg)
{
    const fake_msg *f = as_fake(msg);
    return f != NULL && f->acked;
}

/* `file` must outlive the test (cmocka keeps the pointer): __FILE__ does. */
void lk_fake_msg_expect_ack_at(lk_msg *msg, const char *file, int line)
{
    fake_msg *f = as_fake(msg);
    if (f == NULL)
        return;
    f->strict = STRICT_ACK;
    f->strict_expected++;
    f->strict_file = file != NULL ? file : __FILE__;
    f->strict_line = line;
    /* cmocka reports this expectation as left over when the test ends
     * without the matching ack. */
    _expect_function_call(STRICT_ACK_CALL, file != NULL ? file : __FILE__,
                          line, 1);
}

/* The plain function, for callers that take its address. */
void (lk_fake_msg_expect_ack)(lk_msg *msg)
{
    lk_fake_msg_expect_ack_at(msg, __FILE__, __LINE__);
}

void lk_fake_msg_expect_no_ack_at(lk_msg *msg, const char *file, int line)
{
    fake_msg *f = as_fake(msg);
    if (f == NULL)
        return;
    f->strict = STRICT_NO_ACK;
    f->strict_file = file != NULL ? file : __FILE__;
    f->strict_line = line;
}

void (lk_fake_msg_expect_no_ack)(lk_msg *msg)
{
    lk_fake_msg_expect_no_ack_at(msg, __FILE__, __LINE__);
}

void lk_fake_msg_fail_ack(lk_msg *msg, lk_status status)
{
    fake_msg *f = as_fake(msg);
    if (f != NULL)
        f->fail_next_ack = status;
}

/* Strict mode: tells cmocka about this ack, failing the running test when
 * it is one too many. Does not return on failure (cmocka longjmps). */
static void strict_report_ack(fake_msg *f)
{
    if (f->strict == STRICT_NO_ACK) {
        print_error("lk_fake_msg: ack on \"%s\" (stream seq %llu) but "
                    "lk_fake_msg_expect_no_ack() was set\n",
                    f->subject, (unsigned long long)f->base.stream_seq);
        _fail(f->strict_file, f->strict_line);
    }
    if (f->strict == STRICT_ACK) {
        if (f->strict_seen >= f->strict_expected) {
            print_error("lk_fake_msg: ack number %d on \"%s\" (stream seq "
                        "%llu) but lk_fake_msg_expect_ack() expected %d\n",
                        f->strict_seen + 1, f->subject,
                        (unsigned long long)f->base.stream_seq,
                        f->strict_expected);
            _fail(f->strict_file, f->strict_line);
        }
        f->strict_seen++;
        _function_called(STRICT_ACK_CALL, __FILE__, __LINE__);
    }
}

static lk_status fake_ack(lk_msg *msg)
{
    fake_msg *f = as_fake(msg);
    f->acks++;
    strict_report_ack(f);
    if (f->fail_next_ack != LK_OK) {
        lk_status s = f->fail_next_ack;
        f->fail_next_ack = LK_OK;
        return s;
    }
    f->acked = true;
    if (f->outcome == LK_FAKE_UNANSWERED)
        f->outcome = LK_FAKE_ACKED;
    return LK_OK;
}

static lk_status fake_nak(lk_msg *msg, int64_t delay_ms)
{
    fake_msg *f = as_fake(msg);
    f->naks++;
    f->last_nak_delay = delay_ms;
    if (f->outcome == LK_FAKE_UNANSWERED)
        f->outcome = LK_FAKE_NAKED;
    return LK_OK;
}

static lk_status fake_term(lk_msg *msg)
{
    fake_msg *f = as_fake(msg);
    f->terms++;
    if (f->outcome == LK_FAKE_UNANSWERED)
        f->outcome = LK_FAKE_TERMED;
    return LK_OK;
}

static lk_status fake_in_progress(lk_msg *msg)
{
    fake_msg *f = as_fake(msg);
    f->in_progress++;
    return LK_OK;
}

lk_fake_outcome lk_fake_msg_outcome(const lk_msg *msg)
{
    const fake_msg *f = as_fake(msg);
    return f != NULL ? f->outcome : LK_FAKE_UNANSWERED;
}

const char *lk_fake_outcome_str(lk_fake_outcome outcome)
{
    switch (outcome) {
    case LK_FAKE_UNANSWERED: return "left for redelivery";
    case LK_FAKE_ACKED: return "acked";
    case LK_FAKE_NAKED: return "naked";
    case LK_FAKE_TERMED: return "termed";
    }
    return "unknown outcome";
}

void lk_fake_msg_assert_outcome_at(const lk_msg *msg, lk_fake_outcome expected,
                                   const char *file, int line)
{
    const fake_msg *f = as_fake(msg);
    if (f == NULL) {
        print_error("lk_fake_msg: assert_lk_outcome on a message that is not "
                    "a fake (expected %s)\n", lk_fake_outcome_str(expected));
        _fail(file, line);
        return;
    }
    if (f->outcome != expected) {
        print_error("lk_fake_msg: \"%s\" (stream seq %llu) was %s, expected "
                    "%s (acks %d, naks %d, terms %d)\n",
                    f->subject, (unsigned long long)f->base.stream_seq,
                    lk_fake_outcome_str(f->outcome),
                    lk_fake_outcome_str(expected), f->acks, f->naks, f->terms);
        _fail(file, line);
    }
}
