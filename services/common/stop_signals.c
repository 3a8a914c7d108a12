/* SPDX-License-Identifier: MIT */
/* stop_signals.c — block SIGINT/SIGTERM, then wait for one (see
 * common/stop_signals.h). */
#include "common/stop_signals.h"

#include <pthread.h>
#include <string.h>

lk_status ticketing_block_stop_signals(sigset_t *set, lk_error *err)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    int rc = pthread_sigmask(SIG_BLOCK, set, NULL);
    return rc == 0 ? LK_OK
                   : lk_error_set(err, LK_ERR_IO, "pthread_sigmask: %s",
                                  strerror(rc));
}

int ticketing_wait_for_stop_signal(const sigset_t *set)
{
    int sig = -1;
    return sigwait(set, &sig) == 0 ? sig : -1;
}
