/*
 * main.c — the tickets service as a program (see common/program.h):
 *
 *     tickets [nats-url]      (default: $NATS_URL, else nats://127.0.0.1:4222)
 *
 * Listens until SIGINT or SIGTERM, then drains the bus and exits. The HTTP
 * routes that would call tickets_create/tickets_update are not part of it.
 */
#include "common/program.h"
#include "tickets/tickets.h"

static lk_status start_tickets(void *svc, lk_bus *bus, lk_store *store,
                            lk_error *err)
{
    lk_status s = tickets_service_init(svc, bus, store, err);
    if (s == LK_OK)
        s = tickets_listen_all(svc, err);
    return s;
}

int main(int argc, char **argv)
{
    tickets_service svc;
    return ticketing_run_program("tickets", argc > 1 ? argv[1] : NULL,
                                 start_tickets, &svc);
}
