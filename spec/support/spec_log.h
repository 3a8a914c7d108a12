/* SPDX-License-Identifier: MIT */
/*
 * spec_log.h — capture listenkit log lines in a spec.
 *
 *     spec_log_capture_start();
 *     ...code that logs...
 *     assert_true(spec_log_contains("terminated ticket:created seq 7"));
 *     spec_log_capture_stop();
 *
 * start() installs a capturing lk_log handler, sets the level to debug and
 * turns the rate limit off, so every line is kept; stop() frees the lines and restores the default
 * handler and level (lk_log_reset: stderr, LK_LOG or warn). Captured lines
 * are also counted, so a spec can assert "exactly one line".
 *
 * Thread-safe: lines logged from bus threads are captured under a mutex.
 * Call start/stop from the spec's thread, outside concurrent logging.
 */
#ifndef SPEC_LOG_H
#define SPEC_LOG_H

#include <stdbool.h>
#include <stddef.h>

void spec_log_capture_start(void);

/* Every line captured so far, each ended by '\n' ("" when none). Borrowed:
 * valid until the next log line, clear() or stop(). */
const char *spec_log_captured(void);

/* How many lines were captured so far. */
size_t spec_log_line_count(void);

/* True when some captured text contains `needle`. */
bool spec_log_contains(const char *needle);

/* Waits up to `ms` (polling every 10 ms) for a captured line containing
 * `needle`, as logged from a bus thread; returns spec_log_contains. */
bool spec_log_wait(const char *needle, long ms);

/* Forgets the lines captured so far; capture goes on. */
void spec_log_clear(void);

void spec_log_capture_stop(void);

#endif /* SPEC_LOG_H */
