/* SPDX-License-Identifier: MIT */
/*
 * main.c — the tickets service as a program (see common/program.h):
 *
 *     JWT_KEY=... DATABASE_URL=postgresql://... NATS_URL=nats://... tickets
 *
 * Serves POST/GET /api/tickets and GET/PUT /api/tickets/:id on PORT,
 * listens to order:created and order:cancelled, keeps its tickets in
 * PostgreSQL; `tickets --help` lists every variable.
 */
#include "common/program.h"
#include "tickets/tickets.h"

int main(int argc, char **argv)
{
    tickets_service svc = {0};
    const ticketing_program p = {"tickets", &svc, tickets_start, tickets_stop,
                                 tickets_routes};
    return ticketing_main(&p, argc, argv);
}
