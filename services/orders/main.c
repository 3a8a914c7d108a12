/* SPDX-License-Identifier: MIT */
/*
 * main.c — the orders service as a program (see common/program.h):
 *
 *     JWT_KEY=... DATABASE_URL=postgresql://... NATS_URL=nats://... orders
 *
 * Serves POST/GET /api/orders and GET/DELETE /api/orders/:id on PORT,
 * keeps its ticket replica in step (ticket:created, ticket:updated), keeps
 * orders and the replica in PostgreSQL; `orders --help` lists every
 * variable.
 */
#include "common/program.h"
#include "orders/orders.h"

int main(int argc, char **argv)
{
    orders_service svc = {0};
    const ticketing_program p = {"orders", &svc, orders_start, orders_stop,
                                 orders_routes};
    return ticketing_main(&p, argc, argv);
}
