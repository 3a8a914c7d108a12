/* SPDX-License-Identifier: MIT */
/* stop_signals_spec.c — the service programs stop on SIGINT and SIGTERM
 * (common/stop_signals.h; specced here, next to the tickets program). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "common/stop_signals.h"

static void assert_stops_on(int signo)
{
    sigset_t stop, old;
    assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &old), 0);
    assert_int_equal(ticketing_block_stop_signals(&stop, NULL), LK_OK);
    assert_true(sigismember(&stop, SIGINT));
    assert_true(sigismember(&stop, SIGTERM));

    /* Blocked: the signal stays pending instead of killing the spec. */
    assert_int_equal(kill(getpid(), signo), 0);
    assert_int_equal(ticketing_wait_for_stop_signal(&stop), signo);

    assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
}

static void test_wait_for_stop_signal_returns_on_sigterm(void **state)
{
    (void)state;
    assert_stops_on(SIGTERM);
}

static void test_wait_for_stop_signal_returns_on_sigint(void **state)
{
    (void)state;
    assert_stops_on(SIGINT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wait_for_stop_signal_returns_on_sigterm),
        cmocka_unit_test(test_wait_for_stop_signal_returns_on_sigint),
    };
    return cmocka_run_group_tests_name("ticketing_stop_signals", tests, NULL,
                                       NULL);
}
