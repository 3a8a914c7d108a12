/* SPDX-License-Identifier: MIT */
/*
 * ticketing-scenario — runs the concurrency scenario once and reports.
 * Everything it does is in the scenario library; this file only wires the
 * command line, the terminal and the exit status. See --help.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "listenkit/nats.h"
#include "scenario/scenario.h"

/* One line, rewritten in place: only when a person is watching. */
static void show_progress(const ticketing_scenario_progress *p, void *closure)
{
    (void)closure;
    fprintf(stdout, "\r  %-10s %d/%d tickets, %llu deliveries   ", p->phase,
            p->tickets_done, p->tickets, (unsigned long long)p->deliveries);
    fflush(stdout);
}

static void clear_progress(void)
{
    fprintf(stdout, "\r%70s\r", "");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    ticketing_scenario_cli cli;
    lk_error err;
    if (ticketing_scenario_parse_args(argc, argv, &cli, &err) != LK_OK) {
        fprintf(stderr, "ticketing-scenario: %s\n", err.message);
        fprintf(stderr, "try: %s --help\n", argv[0]);
        return 2;
    }
    if (cli.help) {
        ticketing_scenario_usage(stdout, argv[0]);
        return 0;
    }
    /* The naive listeners' failures ("not found", duplicate inserts) are the
     * point of the run, reported in the table; keep them out of the way
     * unless LK_LOG asks for them. */
    if (getenv("LK_LOG") == NULL)
        lk_log_set_level(LK_LOG_ERROR);

    bool tty = !cli.json && isatty(STDOUT_FILENO);
    if (tty)
        cli.opts.progress = show_progress;

    ticketing_scenario_result r;
    lk_status s = ticketing_scenario_run(&cli.opts, &r, &err);
    lk_nats_library_close(); /* every bus is freed: libnats' threads go */
    if (tty)
        clear_progress();
    if (s != LK_OK) {
        fprintf(stderr, "ticketing-scenario: %s\n", err.message);
        return 1;
    }
    if (cli.json) {
        char *text = ticketing_scenario_result_json_text(&r);
        if (text == NULL) {
            fprintf(stderr, "ticketing-scenario: out of memory\n");
            return 1;
        }
        puts(text);
        free(text);
    } else {
        ticketing_scenario_print_table(&r, stdout);
    }
    /* Naive runs exist to show the mismatches: completing is success. */
    return r.naive || r.converged ? 0 : 1;
}
