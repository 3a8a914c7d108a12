/* SPDX-License-Identifier: MIT */
/* service.c — wiring a tickets service to its store and bus. */
#include "tickets/tickets.h"

#include <string.h>

lk_status tickets_service_init(tickets_service *svc, lk_bus *bus,
                               lk_store *store, lk_error *err)
{
    const lk_collection_opts opts = {.occ = LK_OCC_UPDATE_IF_CURRENT};
    if (svc == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "tickets: service is NULL");
    memset(svc, 0, sizeof *svc);
    svc->bus = bus;
    lk_status s = lk_store_collection(store, TICKETS_COLLECTION, &opts,
                                      &svc->tickets, err);
    if (s == LK_OK)
        s = lk_outbox_new(store, bus, NULL, &svc->outbox, err);
    if (s == LK_OK)
        s = lk_outbox_watch(svc->outbox, svc->tickets, err);
    if (s != LK_OK) {
        tickets_service_close(svc);
        lk_error_prefix(err, "tickets");
    }
    return s;
}

void tickets_service_close(tickets_service *svc)
{
    if (svc == NULL)
        return;
    lk_outbox_free(svc->outbox);
    svc->outbox = NULL;
}

lk_status tickets_listen_all(tickets_service *svc, lk_error *err)
{
    static const lk_listener_def *const defs[] = {&tickets_order_created_listener,
                                                  &tickets_order_cancelled_listener};
    _Static_assert(sizeof defs / sizeof defs[0] ==
                       sizeof svc->listeners / sizeof svc->listeners[0],
                   "one lk_listener per listener def");
    if (svc == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "tickets: service is NULL");
    return ticketing_listen_all("tickets", svc->listeners, defs, svc->defs,
                                sizeof defs / sizeof defs[0], &svc->listen,
                                svc->bus, svc, err);
}

lk_status tickets_start(void *svc_, lk_bus *bus, lk_store *store,
                        const ticketing_config *cfg, ticketing_running *out,
                        lk_error *err)
{
    tickets_service *svc = svc_;
    lk_status s = tickets_service_init(svc, bus, store, err);
    if (s == LK_OK) {
        svc->listen.ack_wait_ms = cfg->ack_wait_ms;
        svc->listen.max_deliver = cfg->max_deliver;
        s = tickets_listen_all(svc, err);
    }
    out->outbox = svc->outbox;
    out->probe = svc->tickets;
    return s;
}

void tickets_stop(void *svc)
{
    tickets_service_close(svc);
}
