/* SPDX-License-Identifier: MIT */
/*
 * nats_abort.c — crash a bus on purpose, for specs: close the connection
 * without draining, as a process killed with SIGKILL would.
 *
 * Deliveries a handler got and never replied to stay un-acked on the
 * server, which sends them again after their ack wait to whichever member
 * of the queue group is left; that is the behaviour the bus contract plays
 * on the fake (lk_fake_nats_abort) and on the server alike. Ephemeral
 * consumers are not deleted (the server removes them once inactive).
 */
#include "nats_private.h"

lk_status lk_nats_bus_abort(lk_bus *bus)
{
    if (!lk_nats_bus_is_nats(bus))
        return LK_ERR_INVALID;
    lk_nats_bus *b = (lk_nats_bus *)bus;
    pthread_mutex_lock(&b->mu);
    bool open = b->state == LK_NATS_OPEN;
    if (open)
        b->state = LK_NATS_DRAINING; /* publish/subscribe: LK_ERR_CLOSED */
    pthread_mutex_unlock(&b->mu);
    if (!open)
        return LK_ERR_CLOSED;
    /* No subscription drain, no flush: what libnats still buffers is lost,
     * as in a crash. lk_bus_free later waits for the closed callback. */
    natsConnection_Close(b->nc);
    return LK_OK;
}
