/* SPDX-License-Identifier: MIT */
/*
 * report.c — the result as a table for people and as JSON for programs.
 */
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario.h"

json_t *ticketing_scenario_result_json(const ticketing_scenario_result *r)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
#define SET(key, value)                                                       \
    do {                                                                      \
        if (json_object_set_new(o, key, value) != 0) {                        \
            json_decref(o);                                                   \
            return NULL;                                                      \
        }                                                                     \
    } while (0)
#define UINT(key, value) SET(key, json_integer((json_int_t)(value)))
    /* Seeded faults and the virtual clock exist on the embedded broker
     * only; on a real server they are null, not a made-up number. */
    bool fake = r->bus != NULL && strcmp(r->bus, "fake-nats") == 0;
#define FAKE_ONLY(key, value) SET(key, fake ? (value) : json_null())
    SET("mode", json_string(ticketing_scenario_mode(r)));
    SET("bus", json_string(r->bus != NULL ? r->bus : ""));
    FAKE_ONLY("seed", json_integer((json_int_t)r->seed));
    UINT("replicas", r->replicas);
    UINT("tickets", r->tickets);
    UINT("updates", r->updates);
    FAKE_ONLY("reorder_window", json_integer((json_int_t)r->reorder_window));
    FAKE_ONLY("duplicate_rate", json_real(r->duplicate_rate));
    UINT("published", r->published);
    UINT("published_by_commands", r->published_by_commands);
    UINT("published_by_listeners", r->published_by_listeners);
    UINT("deliveries", r->deliveries);
    UINT("redeliveries", r->redeliveries);
    UINT("duplicates", r->duplicates);
    UINT("acked", r->acked);
    UINT("dead_letters", r->dead_letters);
    UINT("mismatches", r->mismatches);
    UINT("missing", r->missing);
    UINT("stale", r->stale);
    UINT("version_only", r->version_only);
    SET("converged", json_boolean(r->converged));
    SET("elapsed_s", json_real(r->elapsed_s));
    SET("deliveries_per_s", json_real(r->deliveries_per_s));
    FAKE_ONLY("virtual_ms", json_integer((json_int_t)r->virtual_ms));
#undef FAKE_ONLY
#undef UINT
#undef SET
    return o;
}

char *ticketing_scenario_result_json_text(const ticketing_scenario_result *r)
{
    json_t *o = ticketing_scenario_result_json(r);
    if (o == NULL)
        return NULL;
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(o);
    return text;
}

void ticketing_scenario_print_table(const ticketing_scenario_result *r,
                                    FILE *out)
{
    const char *row = "  %-18s %s\n";
    char v[160];
    fprintf(out, "  %-18s %s (%s)\n", "mode", ticketing_scenario_mode(r),
            r->bus != NULL ? r->bus : "?");
    snprintf(v, sizeof v, "%d (orders-service queue group)", r->replicas);
    fprintf(out, row, "replicas", v);
    snprintf(v, sizeof v, "%d, each updated %d time%s", r->tickets,
             r->updates, r->updates == 1 ? "" : "s");
    fprintf(out, row, "tickets", v);
    /* Seeded faults exist only on the embedded broker. */
    if (r->bus != NULL && strcmp(r->bus, "fake-nats") == 0) {
        snprintf(v, sizeof v, "seed %llu, reorder window %zu, duplicate rate %g",
                 (unsigned long long)r->seed, r->reorder_window,
                 r->duplicate_rate);
        fprintf(out, row, "faults", v);
    }
    snprintf(v, sizeof v, "%llu (%llu by commands, %llu by listeners)",
             (unsigned long long)r->published,
             (unsigned long long)r->published_by_commands,
             (unsigned long long)r->published_by_listeners);
    fprintf(out, row, "events published", v);
    snprintf(v, sizeof v, "%llu (%llu acked)",
             (unsigned long long)r->deliveries, (unsigned long long)r->acked);
    fprintf(out, row, "deliveries", v);
    snprintf(v, sizeof v, "%llu", (unsigned long long)r->redeliveries);
    fprintf(out, row, "redeliveries", v);
    snprintf(v, sizeof v, "%llu", (unsigned long long)r->duplicates);
    fprintf(out, row, "duplicates", v);
    snprintf(v, sizeof v, "%llu", (unsigned long long)r->dead_letters);
    fprintf(out, row, "dead letters", v);
    snprintf(v, sizeof v,
             "%llu of %d (lost update %llu, version only %llu, missing %llu)",
             (unsigned long long)r->mismatches, r->tickets,
             (unsigned long long)r->stale,
             (unsigned long long)r->version_only,
             (unsigned long long)r->missing);
    fprintf(out, row, "mismatches", v);
    snprintf(v, sizeof v, "%.3f s", r->elapsed_s);
    if (r->virtual_ms > 0)
        snprintf(v, sizeof v, "%.3f s (virtual clock %.1f s)", r->elapsed_s,
                 (double)r->virtual_ms / 1000.0);
    fprintf(out, row, "elapsed", v);
    snprintf(v, sizeof v, "%.0f", r->deliveries_per_s);
    fprintf(out, row, "deliveries/s", v);
}
