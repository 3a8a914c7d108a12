/* SPDX-License-Identifier: MIT */
/*
 * common/stop_signals.h — how the service programs wait for SIGINT/SIGTERM.
 *
 * No signal handler and no global flag: the signals are blocked in the main
 * thread before any other thread starts (libnats' threads inherit the mask,
 * so none of them is interrupted), then the main thread waits for one with
 * sigwait():
 *
 *     sigset_t stop;
 *     ticketing_block_stop_signals(&stop, &err);   // first thing in main()
 *     ...connect, listen...
 *     int sig = ticketing_wait_for_stop_signal(&stop);
 *     ...drain, free...
 */
#ifndef TICKETING_STOP_SIGNALS_H
#define TICKETING_STOP_SIGNALS_H

#include <signal.h>

#include "listenkit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fills `set` with SIGINT and SIGTERM and blocks them in the calling thread.
 * LK_ERR_IO naming the failing call when the mask cannot be set. */
lk_status ticketing_block_stop_signals(sigset_t *set, lk_error *err);

/* Waits until one of `set` (blocked before) is pending and returns it;
 * -1 when sigwait fails. */
int ticketing_wait_for_stop_signal(const sigset_t *set);

#ifdef __cplusplus
}
#endif

#endif /* TICKETING_STOP_SIGNALS_H */
