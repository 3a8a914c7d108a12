/* SPDX-License-Identifier: MIT */
/*
 * mocks/fake_msg.h — a message you make by hand and inspect afterwards.
 *
 * The double for one JetStream delivery: build it from a subject and JSON
 * text, hand it to a listener (lk_listener_dispatch or your on_message), then
 * ask what the listener replied:
 *
 *     lk_msg *msg = lk_fake_msg_new("ticket:created", "{\"id\":\"...\"}");
 *     assert_int_equal(lk_listener_dispatch(&listener, msg), LK_OK);
 *     assert_int_equal(lk_fake_msg_ack_count(msg), 1);
 *     lk_fake_msg_free(msg);
 *
 * Strict mode makes cmocka itself police the ack: after
 * lk_fake_msg_expect_ack(msg) the test fails unless exactly one ack happens
 * before the test ends; after lk_fake_msg_expect_no_ack(msg) any ack fails
 * the test at once. (Both use cmocka's expect_function_call machinery, so
 * the usual cmocka rules apply: call them inside a running cmocka test.)
 *
 * Everything here counts calls; nothing sleeps or talks to a server.
 * Depends on listenkit's public headers and cmocka only.
 */
#ifndef LISTENKIT_MOCKS_FAKE_MSG_H
#define LISTENKIT_MOCKS_FAKE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "listenkit/error.h"
#include "listenkit/msg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A new message on `subject` whose data is a copy of the NUL-terminated
 * `json` (any text: invalid JSON is how specs test bad payloads). Stream
 * sequence 1, delivery count 1, timestamp 0. Returns NULL on OOM or NULL
 * subject/json. Free with lk_fake_msg_free() (or lk_msg_free()). */
lk_msg *lk_fake_msg_new(const char *subject, const char *json);

/* The same from `len` raw bytes (may contain NULs or invalid UTF-8). */
lk_msg *lk_fake_msg_new_bytes(const char *subject, const void *data,
                              size_t len);

/* The same with printf-style formatting of the data. */
lk_msg *lk_fake_msg_newf(const char *subject, const char *fmt, ...)
    LK_PRINTF(2, 3);

/* NULL is ignored. */
void lk_fake_msg_free(lk_msg *msg);

/* True when `msg` was made by lk_fake_msg_new*. The functions below accept
 * only such messages; given another they do nothing and return 0. */
bool lk_fake_msg_is_fake(const lk_msg *msg);

void lk_fake_msg_set_stream_seq(lk_msg *msg, uint64_t seq);
void lk_fake_msg_set_delivery_count(lk_msg *msg, uint64_t count);
void lk_fake_msg_set_timestamp(lk_msg *msg, int64_t ms);

/* How often each reply was made (including failed ack attempts). */
int lk_fake_msg_ack_count(const lk_msg *msg);
int lk_fake_msg_nak_count(const lk_msg *msg);
int lk_fake_msg_term_count(const lk_msg *msg);
int lk_fake_msg_in_progress_count(const lk_msg *msg);
/* The delay of the last nak, -1 when there was none. */
int64_t lk_fake_msg_last_nak_delay(const lk_msg *msg);

/* Strict mode (see above). Each lk_fake_msg_expect_ack() expects one more
 * ack. A failed ack attempt (lk_fake_msg_fail_ack) still counts as the ack
 * the test expected: the listener did call it. Do not mix the two on one
 * message. Both are macros that pass the caller's file and line, so every
 * strict failure names the message's subject and stream sequence and points
 * at the test's own line:
 *   - an unwanted ack (after expect_no_ack) or one ack too many fails at the
 *     ack, at the line of the expect_* call;
 *   - a missing ack fails when the message is freed (lk_fake_msg_free, in
 *     the test body), at the line of the expect_ack call:
 *       spec/x_spec.c:41: error: lk_fake_msg: "ticket:created" (stream
 *       seq 7) got 0 of the 1 ack(s) lk_fake_msg_expect_ack() expected
 *     A message the test never frees is still caught by cmocka when the test
 *     ends, with cmocka's own (less helpful) message at the same line. */
void lk_fake_msg_expect_ack(lk_msg *msg);
void lk_fake_msg_expect_ack_at(lk_msg *msg, const char *file, int line);
#define lk_fake_msg_expect_ack(msg) \
    lk_fake_msg_expect_ack_at((msg), __FILE__, __LINE__)
void lk_fake_msg_expect_no_ack(lk_msg *msg);
void lk_fake_msg_expect_no_ack_at(lk_msg *msg, const char *file, int line);
#define lk_fake_msg_expect_no_ack(msg) \
    lk_fake_msg_expect_no_ack_at((msg), __FILE__, __LINE__)

/* The next ack returns `status` (and is counted, but does not count as
 * acknowledged: lk_fake_msg_acked() stays false). LK_OK clears it. */
void lk_fake_msg_fail_ack(lk_msg *msg, lk_status status);

/* True once an ack succeeded. */
bool lk_fake_msg_acked(const lk_msg *msg);

/* What became of the message, as JetStream would see it: the first final
 * reply wins (a term after an ack changes nothing), and a failed ack is no
 * reply. The same whoever replied: lk_listener_dispatch terming bad data,
 * on_message acking, or on_message ending with lk_listener_term. */
typedef enum lk_fake_outcome {
    LK_FAKE_UNANSWERED, /* no reply (or only in-progress): redelivered after
                           the ack wait */
    LK_FAKE_ACKED,
    LK_FAKE_NAKED, /* redelivered after the nak's delay */
    LK_FAKE_TERMED /* never delivered again */
} lk_fake_outcome;

lk_fake_outcome lk_fake_msg_outcome(const lk_msg *msg);

/* "left for redelivery", "acked", "naked", "termed". */
const char *lk_fake_outcome_str(lk_fake_outcome outcome);

/* Fails the running cmocka test unless `msg`'s outcome is `expected`:
 *   spec/x_spec.c:52: error: lk_fake_msg: "ticket:updated" (stream seq 3)
 *   was left for redelivery, expected termed
 * (cmocka-only, like strict mode). */
#define assert_lk_outcome(msg, expected) \
    lk_fake_msg_assert_outcome_at((msg), (expected), __FILE__, __LINE__)
void lk_fake_msg_assert_outcome_at(const lk_msg *msg, lk_fake_outcome expected,
                                   const char *file, int line);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_MOCKS_FAKE_MSG_H */
