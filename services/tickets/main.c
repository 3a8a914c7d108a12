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

int main(int argc, char **argv)
{
    tickets_service svc = {0};
    return ticketing_run_program("tickets", argc > 1 ? argv[1] : NULL,
                                 tickets_start, tickets_stop, &svc);
}
