/* SPDX-License-Identifier: MIT */
/* service.c — wiring an orders service to its store and bus. */
#include "orders/orders.h"

#include <string.h>

lk_status orders_service_init(orders_service *svc, lk_bus *bus,
                              lk_store *store, lk_error *err)
{
    /* The replica's versions come from the tickets service's events. */
    const lk_collection_opts replica = {.occ = LK_OCC_EXTERNAL};
    const lk_collection_opts orders = {.occ = LK_OCC_UPDATE_IF_CURRENT};
    if (svc == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "orders: service is NULL");
    memset(svc, 0, sizeof *svc);
    svc->bus = bus;
    svc->expiration_ms = ORDERS_DEFAULT_EXPIRATION_MS;
    lk_status s = lk_store_collection(store, ORDERS_TICKETS_COLLECTION,
                                      &replica, &svc->tickets, err);
    if (s == LK_OK)
        s = lk_store_collection(store, ORDERS_COLLECTION, &orders,
                                &svc->orders, err);
    if (s == LK_OK)
        s = lk_outbox_new(store, bus, NULL, &svc->outbox, err);
    if (s == LK_OK)
        s = lk_outbox_watch(svc->outbox, svc->orders, err);
    if (s != LK_OK) {
        orders_service_close(svc);
        lk_error_prefix(err, "orders");
    }
    return s;
}

void orders_service_close(orders_service *svc)
{
    if (svc == NULL)
        return;
    lk_outbox_free(svc->outbox);
    svc->outbox = NULL;
}

lk_status orders_listen_all(orders_service *svc, lk_error *err)
{
    static const lk_listener_def *const defs[] = {&orders_ticket_created_listener,
                                                  &orders_ticket_updated_listener};
    _Static_assert(sizeof defs / sizeof defs[0] ==
                       sizeof svc->listeners / sizeof svc->listeners[0],
                   "one lk_listener per listener def");
    if (svc == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "orders: service is NULL");
    return ticketing_listen_all("orders", svc->listeners, defs, svc->defs,
                                sizeof defs / sizeof defs[0], &svc->listen,
                                svc->bus, svc, err);
}

lk_status orders_start(void *svc_, lk_bus *bus, lk_store *store,
                        const ticketing_config *cfg, ticketing_running *out,
                        lk_error *err)
{
    orders_service *svc = svc_;
    lk_status s = orders_service_init(svc, bus, store, err);
    if (s == LK_OK) {
        svc->listen.ack_wait_ms = cfg->ack_wait_ms;
        svc->listen.max_deliver = cfg->max_deliver;
    svc->expiration_ms = cfg->expiration_ms;
        s = orders_listen_all(svc, err);
    }
    out->outbox = svc->outbox;
    out->probe = svc->orders;
    return s;
}

void orders_stop(void *svc)
{
    orders_service_close(svc);
}
