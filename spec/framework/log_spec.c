/* SPDX-License-Identifier: MIT */
/* log_spec.c — the pluggable logger: the level comes from LK_LOG (read
 * lazily, so a program may setenv first) unless set in code; lines at or
 * above it reach the handler, one line each (controls escaped), repeated
 * warnings rate-limited, stderr lines timestamped; specs capture them with
 * spec_log. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include <cmocka.h>

#include "listenkit.h"
#include "spec_log.h"
#include "spec_proc.h"

/* Every test starts from the start-up state: no LK_LOG, nothing set. */
static int fresh(void **state)
{
    (void)state;
    unsetenv("LK_LOG");
    lk_log_reset();
    return 0;
}

static int restore(void **state)
{
    (void)state;
    spec_log_capture_stop();
    unsetenv("LK_LOG");
    return 0;
}

typedef struct seen {
    int count;
    lk_log_level level;
    char line[2048];
} seen;

static void remember(void *closure, lk_log_level level, const char *line)
{
    seen *s = closure;
    s->count++;
    s->level = level;
    snprintf(s->line, sizeof s->line, "%s", line);
}

static void test_level_defaults_to_warn(void **state)
{
    (void)state;
    assert_int_equal(lk_log_get_level(), LK_LOG_WARN);
}

static void test_level_is_read_from_env_after_setenv(void **state)
{
    (void)state;
    setenv("LK_LOG", "debug", 1);
    assert_int_equal(lk_log_get_level(), LK_LOG_DEBUG);
    setenv("LK_LOG", "ERROR", 1); /* case-insensitive, read lazily */
    assert_int_equal(lk_log_get_level(), LK_LOG_ERROR);
}

static void test_unknown_env_level_falls_back_to_warn(void **state)
{
    (void)state;
    setenv("LK_LOG", "verbose", 1);
    assert_int_equal(lk_log_get_level(), LK_LOG_WARN);
}

static void test_unknown_env_level_is_reported_once(void **state)
{
    (void)state;
    seen s = {0};
    lk_log_set_handler(remember, &s);
    setenv("LK_LOG", "verbose", 1);
    lk_log(LK_LOG_WARN, "first");
    lk_log(LK_LOG_WARN, "second");
    /* the complaint, then the two lines: not one complaint per line */
    assert_int_equal(s.count, 3);
    assert_string_equal(s.line, "second");
    lk_log_reset();
    lk_log_set_handler(remember, &s);
    s.count = 0;
    (void)lk_log_get_level();
    assert_int_equal(s.count, 1);
    assert_int_equal(s.level, LK_LOG_WARN);
    assert_non_null(strstr(s.line, "LK_LOG=\"verbose\" is not a level"));
    assert_non_null(strstr(s.line, "using warn"));
}

static void test_level_set_in_code_wins_over_env(void **state)
{
    (void)state;
    setenv("LK_LOG", "debug", 1);
    lk_log_set_level(LK_LOG_OFF);
    assert_int_equal(lk_log_get_level(), LK_LOG_OFF);
    lk_log_reset();
    assert_int_equal(lk_log_get_level(), LK_LOG_DEBUG);
}

static void test_env_level_filters_lines(void **state)
{
    (void)state;
    seen s = {0};
    setenv("LK_LOG", "error", 1);
    lk_log_set_handler(remember, &s);
    lk_log(LK_LOG_WARN, "dropped");
    assert_int_equal(s.count, 0);
    lk_log(LK_LOG_ERROR, "kept %d", 1);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.line, "kept 1");
    assert_int_equal(s.level, LK_LOG_ERROR);
}

static void test_parse_accepts_every_level_name(void **state)
{
    (void)state;
    static const char *names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i <= (int)LK_LOG_OFF; i++) {
        lk_log_level out = (lk_log_level)-1;
        assert_int_equal(lk_log_level_parse(names[i], &out), LK_OK);
        assert_int_equal(out, (lk_log_level)i);
        assert_string_equal(lk_log_level_str((lk_log_level)i), names[i]);
    }
    lk_log_level out = LK_LOG_INFO;
    assert_int_equal(lk_log_level_parse("Warn", &out), LK_OK);
    assert_int_equal(out, LK_LOG_WARN);
}

static void test_parse_refuses_unknown_text_and_keeps_out(void **state)
{
    (void)state;
    lk_log_level out = LK_LOG_INFO;
    assert_int_equal(lk_log_level_parse("loud", &out), LK_ERR_INVALID);
    assert_int_equal(out, LK_LOG_INFO);
    assert_int_equal(lk_log_level_parse("", &out), LK_ERR_INVALID);
    assert_int_equal(lk_log_level_parse(NULL, &out), LK_ERR_INVALID);
    assert_int_equal(lk_log_level_parse("warn", NULL), LK_ERR_INVALID);
    assert_int_equal(out, LK_LOG_INFO);
}

static void test_level_str_names_out_of_range_as_unknown(void **state)
{
    (void)state;
    assert_string_equal(lk_log_level_str((lk_log_level)7), "unknown");
}

static void test_handler_gets_lines_at_or_above_level(void **state)
{
    (void)state;
    seen s = {0};
    lk_log_set_handler(remember, &s);
    lk_log_set_level(LK_LOG_INFO);
    lk_log(LK_LOG_DEBUG, "no");
    assert_int_equal(s.count, 0);
    lk_log(LK_LOG_INFO, "subject %s seq %d", "ticket:created", 7);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.level, LK_LOG_INFO);
    assert_string_equal(s.line, "subject ticket:created seq 7");
    lk_log(LK_LOG_ERROR, "yes");
    assert_int_equal(s.count, 2);
}

static void test_off_silences_everything(void **state)
{
    (void)state;
    seen s = {0};
    lk_log_set_handler(remember, &s);
    lk_log_set_level(LK_LOG_OFF);
    lk_log(LK_LOG_ERROR, "nothing");
    lk_log_set_level(LK_LOG_DEBUG);
    lk_log(LK_LOG_OFF, "OFF is no message level");
    assert_int_equal(s.count, 0);
}

static void test_long_lines_are_truncated_to_1k(void **state)
{
    (void)state;
    seen s = {0};
    char big[3000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    lk_log_set_handler(remember, &s);
    lk_log(LK_LOG_ERROR, "%s", big);
    assert_int_equal(s.count, 1);
    assert_int_equal(strlen(s.line), 1023);
}

/* Wide text outside ASCII cannot be converted in the "C" locale every
 * program starts in, so the line cannot be formatted: its format shows
 * which line it was. */
static void test_a_line_that_cannot_be_formatted_logs_its_format(void **state)
{
    (void)state;
    static const wchar_t unconvertible[] = {0xe9, 0};
    seen s = {0};
    lk_log_set_handler(remember, &s);
    lk_log(LK_LOG_ERROR, "title %ls", unconvertible);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.level, LK_LOG_ERROR);
    assert_string_equal(s.line, "title %ls");
}

/* Also: installing a NULL handler brings the stderr default back. */
static void test_default_handler_writes_one_line_to_stderr(void **state)
{
    (void)state;
    seen s = {0};
    lk_log_set_handler(remember, &s);
    lk_log_set_handler(NULL, NULL);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    lk_log(LK_LOG_ERROR, "disk %s", "full");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char buf[256] = {0};
    rewind(tmp);
    size_t n = fread(buf, 1, sizeof buf - 1, tmp);
    fclose(tmp);
    buf[n] = '\0';
    /* "2026-12-01T09:15:17.123Z listenkit error: disk full\n" */
    assert_int_equal(strlen(buf), 24 + strlen(" listenkit error: disk full\n"));
    assert_string_equal(buf + 24, " listenkit error: disk full\n");
    assert_true(buf[4] == '-' && buf[7] == '-' && buf[10] == 'T');
    assert_true(buf[13] == ':' && buf[16] == ':' && buf[19] == '.');
    assert_int_equal(buf[23], 'Z');
    assert_int_equal(s.count, 0);
}

/* A JSON key from the wire holding a newline and an escape sequence: the
 * handler gets one line, the controls spelled out, nothing raw. */
static void test_control_characters_from_input_are_escaped(void **state)
{
    (void)state;
    seen s = {0};
    const char *key = "id\nlistenkit error: forged\x1b[2J\r\t\x7f";
    lk_log_set_handler(remember, &s);
    lk_log(LK_LOG_WARN, "unknown field \"%s\"", key);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.line,
                        "unknown field \"id\\nlistenkit error: forged"
                        "\\x1b[2J\\r\\t\\x7f\"");
    assert_null(strchr(s.line, '\n'));
    assert_null(strchr(s.line, 0x1b));
}

static void test_c1_controls_are_escaped_and_other_utf8_kept(void **state)
{
    (void)state;
    seen s = {0};
    lk_log_set_handler(remember, &s);
    /* U+009B (a CSI for some terminals), then "é" and "€" */
    lk_log(LK_LOG_ERROR, "a\xc2\x9b" "b \xc3\xa9 \xe2\x82\xac");
    assert_string_equal(s.line, "a\\x9bb \xc3\xa9 \xe2\x82\xac");
}

static void test_escape_cuts_at_a_whole_escape(void **state)
{
    (void)state;
    char out[6];
    assert_int_equal(lk_log_escape("ab\ncd", out, sizeof out), 5);
    assert_string_equal(out, "ab\\nc");
    assert_int_equal(lk_log_escape("a\x01", out, 5), 1);
    assert_string_equal(out, "a");
    assert_int_equal(lk_log_escape("x", out, 0), 0);
}

static void test_repeated_warnings_give_one_line_per_interval_with_a_count(void **state)
{
    (void)state;
    seen s = {0};
    lk_log_set_handler(remember, &s);
    lk_log_set_rate_limit(200);
    for (int i = 0; i < 50; i++)
        lk_log(LK_LOG_WARN, "ack of seq %d failed", i);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.line, "ack of seq 0 failed");
    /* another reason is not held back by the first */
    lk_log(LK_LOG_WARN, "disconnected from %s", "x");
    assert_int_equal(s.count, 2);
    spec_sleep_ms(250);
    lk_log(LK_LOG_WARN, "ack of seq %d failed", 50);
    assert_int_equal(s.count, 3);
    assert_string_equal(s.line, "ack of seq 50 failed (and 49 more like this "
                                "since the last one; at most one per 200 ms)");
    lk_log(LK_LOG_WARN, "ack of seq %d failed", 51);
    assert_int_equal(s.count, 3);
}

static void test_info_lines_and_a_zero_interval_are_not_limited(void **state)
{
    (void)state;
    seen s = {0};
    lk_log_set_handler(remember, &s);
    lk_log_set_level(LK_LOG_DEBUG);
    for (int i = 0; i < 5; i++)
        lk_log(LK_LOG_INFO, "delivered %d", i);
    assert_int_equal(s.count, 5);
    lk_log_set_rate_limit(0);
    for (int i = 0; i < 5; i++)
        lk_log(LK_LOG_ERROR, "failed %d", i);
    assert_int_equal(s.count, 10);
}

static void test_the_default_limit_holds_back_a_burst(void **state)
{
    (void)state;
    seen s = {0};
    lk_log_set_handler(remember, &s);
    for (int i = 0; i < 1000; i++)
        lk_log(LK_LOG_ERROR, "flood %d", i);
    assert_int_equal(s.count, 1);
}

/* Threads log while the spec's thread swaps handlers: once set_handler
 * returned, the old handler is never called again (TSan checks the rest). */
typedef struct swap_seen {
    int calls;
} swap_seen;

static void count_call(void *closure, lk_log_level level, const char *line)
{
    (void)level;
    (void)line;
    /* called under the logger's lock; atomic so the test may poll it */
    __atomic_add_fetch(&((swap_seen *)closure)->calls, 1, __ATOMIC_SEQ_CST);
}

/* Waits (bounded: 5 s) until `seen` was called at least once, so a loaded
 * machine that has not scheduled the logging threads yet cannot fail the
 * test; a fixed sleep could. */
static void wait_for_a_call(swap_seen *seen)
{
    for (int i = 0; i < 500 && __atomic_load_n(&seen->calls, __ATOMIC_SEQ_CST) == 0; i++)
        spec_sleep_ms(10);
}

static int stop_logging;

static void *log_a_lot(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&stop_logging, __ATOMIC_SEQ_CST))
        lk_log(LK_LOG_INFO, "from a thread");
    return NULL;
}

static void test_a_handler_swapped_while_threads_log_is_not_called_after(void **state)
{
    (void)state;
    swap_seen a = {0}, b = {0};
    pthread_t t[2];
    lk_log_set_level(LK_LOG_INFO);
    lk_log_set_handler(count_call, &a);
    __atomic_store_n(&stop_logging, 0, __ATOMIC_SEQ_CST);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, log_a_lot, NULL), 0);
    wait_for_a_call(&a);
    lk_log_set_handler(count_call, &b);
    int a_after_swap = a.calls; /* no lock: nothing may call `a` now */
    wait_for_a_call(&b);
    spec_sleep_ms(20);
    __atomic_store_n(&stop_logging, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_true(a_after_swap > 0);
    assert_int_equal(a.calls, a_after_swap);
    assert_true(b.calls > 0);
}

static void test_capture_collects_every_line_from_debug_up(void **state)
{
    (void)state;
    spec_log_capture_start();
    assert_int_equal(lk_log_get_level(), LK_LOG_DEBUG);
    assert_string_equal(spec_log_captured(), "");
    lk_log(LK_LOG_DEBUG, "first %d", 1);
    lk_log(LK_LOG_WARN, "second");
    assert_string_equal(spec_log_captured(), "first 1\nsecond\n");
    assert_int_equal(spec_log_line_count(), 2);
    assert_true(spec_log_contains("second"));
    assert_false(spec_log_contains("third"));
    assert_false(spec_log_contains(NULL));
    spec_log_clear();
    assert_int_equal(spec_log_line_count(), 0);
    lk_log(LK_LOG_INFO, "after clear");
    assert_string_equal(spec_log_captured(), "after clear\n");
}

static void test_capture_grows_past_its_first_buffer(void **state)
{
    (void)state;
    spec_log_capture_start();
    for (int i = 0; i < 200; i++)
        lk_log(LK_LOG_INFO, "line number %03d of many", i);
    assert_int_equal(spec_log_line_count(), 200);
    assert_true(spec_log_contains("line number 000 of many\n"));
    assert_true(spec_log_contains("line number 199 of many\n"));
}

static void test_capture_stop_restores_level_and_handler(void **state)
{
    (void)state;
    spec_log_capture_start();
    spec_log_capture_stop();
    assert_int_equal(lk_log_get_level(), LK_LOG_WARN);
    assert_string_equal(spec_log_captured(), "");
    lk_log_set_level(LK_LOG_OFF);
    lk_log(LK_LOG_ERROR, "not captured");
    assert_int_equal(spec_log_line_count(), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fresh, restore)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_level_defaults_to_warn),
        T(test_level_is_read_from_env_after_setenv),
        T(test_unknown_env_level_falls_back_to_warn),
        T(test_unknown_env_level_is_reported_once),
        T(test_level_set_in_code_wins_over_env),
        T(test_env_level_filters_lines),
        T(test_parse_accepts_every_level_name),
        T(test_parse_refuses_unknown_text_and_keeps_out),
        T(test_level_str_names_out_of_range_as_unknown),
        T(test_handler_gets_lines_at_or_above_level),
        T(test_off_silences_everything),
        T(test_long_lines_are_truncated_to_1k),
        T(test_a_line_that_cannot_be_formatted_logs_its_format),
        T(test_default_handler_writes_one_line_to_stderr),
        T(test_control_characters_from_input_are_escaped),
        T(test_c1_controls_are_escaped_and_other_utf8_kept),
        T(test_escape_cuts_at_a_whole_escape),
        T(test_repeated_warnings_give_one_line_per_interval_with_a_count),
        T(test_info_lines_and_a_zero_interval_are_not_limited),
        T(test_the_default_limit_holds_back_a_burst),
        T(test_a_handler_swapped_while_threads_log_is_not_called_after),
        T(test_capture_collects_every_line_from_debug_up),
        T(test_capture_grows_past_its_first_buffer),
        T(test_capture_stop_restores_level_and_handler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
