/*
 * main.c — the orders service as a program (see common/program.h):
 *
 *     orders [nats-url]      (default: $NATS_URL, else nats://127.0.0.1:4222)
 *
 * Listens until SIGINT or SIGTERM, then drains the bus and exits. The HTTP
 * routes that would call orders_create/orders_cancel are not part of it.
 */
#include "common/program.h"
#include "orders/orders.h"

int main(int argc, char **argv)
{
    orders_service svc = {0};
    return ticketing_run_program("orders", argc > 1 ? argv[1] : NULL,
                                 orders_start, orders_stop, &svc);
}
