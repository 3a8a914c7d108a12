/* SPDX-License-Identifier: MIT */
/*
 * scenario_spec.c — the concurrency scenario behind `make demo`, at small
 * sizes: versioned orders listeners converge whatever the seed, the naive
 * ones lose updates, the report adds up, and the command line refuses what
 * it cannot run with a message naming the option.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "fake_nats.h"
#include "nats_server.h"
#include "scenario/counting_bus.h"
#include "scenario/scenario.h"

#define SEEDS 200

/* Small and quick, with every fault switched on. */
static ticketing_scenario_opts small_opts(uint64_t seed, bool naive)
{
    ticketing_scenario_opts o;
    ticketing_scenario_opts_init(&o);
    o.replicas = 4;
    o.tickets = 12;
    o.updates = 2;
    o.seed = seed;
    o.reorder_window = 4;
    o.duplicate_rate = 0.05;
    o.naive = naive;
    return o;
}

static spec_nats_server nats_server;

static int group_setup(void **state)
{
    (void)state;
    /* Naive listeners fail on purpose ("not found", duplicate inserts). */
    lk_log_set_level(LK_LOG_OFF);
    spec_nats_server_start(&nats_server);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    spec_nats_server_stop(&nats_server);
    spec_nats_library_close();
    lk_log_reset();
    return 0;
}

/* ---- convergence -------------------------------------------------------------- */

static void test_versioned_listeners_converge_for_every_seed(void **state)
{
    (void)state;
    uint64_t redeliveries = 0, duplicates = 0;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        ticketing_scenario_opts o = small_opts(seed, false);
        ticketing_scenario_result r;
        lk_error err;
        lk_status s = ticketing_scenario_run(&o, &r, &err);
        if (s != LK_OK)
            fail_msg("seed %llu: %s", (unsigned long long)seed, err.message);
        if (!r.converged)
            fail_msg("seed %llu: %llu mismatches (lost update %llu, version "
                     "only %llu, missing %llu)",
                     (unsigned long long)seed,
                     (unsigned long long)r.mismatches,
                     (unsigned long long)r.stale,
                     (unsigned long long)r.version_only,
                     (unsigned long long)r.missing);
        assert_int_equal(r.mismatches, 0);
        redeliveries += r.redeliveries;
        duplicates += r.duplicates;
    }
    /* Converging means something only if the faults really happened. */
    assert_true(redeliveries > 0);
    assert_true(duplicates > 0);
}

static void test_naive_listeners_lose_updates_for_some_seeds(void **state)
{
    (void)state;
    uint64_t stale = 0;
    int seeds_with_mismatch = 0;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        ticketing_scenario_opts o = small_opts(seed, true);
        ticketing_scenario_result r;
        lk_error err;
        lk_status s = ticketing_scenario_run(&o, &r, &err);
        if (s != LK_OK)
            fail_msg("seed %llu: %s", (unsigned long long)seed, err.message);
        assert_int_equal(r.mismatches, r.missing + r.stale + r.version_only);
        assert_int_equal(r.converged, r.mismatches == 0);
        stale += r.stale;
        seeds_with_mismatch += r.mismatches > 0;
    }
    /* A real lost update: a replica keeps an older title/price. */
    assert_true(stale > 0);
    assert_true(seeds_with_mismatch > 0);
}

static void test_naive_listeners_converge_without_reordering_or_duplicates(
    void **state)
{
    (void)state;
    /* The bug needs concurrency: in stream order the naive code is right. */
    for (uint64_t seed = 1; seed <= 20; seed++) {
        ticketing_scenario_opts o = small_opts(seed, true);
        o.reorder_window = 0;
        o.duplicate_rate = 0.0;
        ticketing_scenario_result r;
        assert_int_equal(ticketing_scenario_run(&o, &r, NULL), LK_OK);
        assert_int_equal(r.mismatches, 0);
        assert_int_equal(r.duplicates, 0);
    }
}

static void test_same_seed_gives_the_same_run(void **state)
{
    (void)state;
    ticketing_scenario_opts o = small_opts(7, true);
    ticketing_scenario_result a, b;
    assert_int_equal(ticketing_scenario_run(&o, &a, NULL), LK_OK);
    assert_int_equal(ticketing_scenario_run(&o, &b, NULL), LK_OK);
    assert_int_equal(a.deliveries, b.deliveries);
    assert_int_equal(a.redeliveries, b.redeliveries);
    assert_int_equal(a.duplicates, b.duplicates);
    assert_int_equal(a.mismatches, b.mismatches);
    assert_int_equal(a.virtual_ms, b.virtual_ms);
}

/* ---- report ------------------------------------------------------------------------- */

static json_int_t json_int_at(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("JSON key \"%s\" is missing or not an integer", key);
    return json_integer_value(v);
}

static void test_json_output_parses_and_its_counts_add_up(void **state)
{
    (void)state;
    ticketing_scenario_opts o = small_opts(3, false);
    ticketing_scenario_result r;
    assert_int_equal(ticketing_scenario_run(&o, &r, NULL), LK_OK);
    char *text = ticketing_scenario_result_json_text(&r);
    assert_non_null(text);
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (j == NULL)
        fail_msg("JSON does not parse: %s", jerr.text);
    assert_true(json_is_object(j));

    assert_string_equal(json_string_value(json_object_get(j, "mode")),
                        "versioned");
    assert_string_equal(json_string_value(json_object_get(j, "bus")),
                        "fake-nats");
    json_int_t tickets = json_int_at(j, "tickets");
    json_int_t updates = json_int_at(j, "updates");
    assert_int_equal(tickets, o.tickets);
    assert_int_equal(updates, o.updates);
    assert_int_equal(json_int_at(j, "replicas"), o.replicas);
    assert_int_equal(json_int_at(j, "seed"), 3);
    /* Every command published exactly one event, the broker saw them all. */
    assert_int_equal(json_int_at(j, "published"),
                     tickets * (1 + updates) +
                         json_int_at(j, "published_by_listeners"));
    assert_int_equal(json_int_at(j, "published_by_commands"),
                     tickets * (1 + updates));
    /* Each event reaches the orders-service group at least once. */
    assert_true(json_int_at(j, "deliveries") >= json_int_at(j, "published"));
    assert_true(json_int_at(j, "redeliveries") <
                json_int_at(j, "deliveries"));
    assert_int_equal(json_int_at(j, "mismatches"),
                     json_int_at(j, "missing") + json_int_at(j, "stale") +
                         json_int_at(j, "version_only"));
    assert_true(json_is_true(json_object_get(j, "converged")));
    assert_true(json_is_real(json_object_get(j, "elapsed_s")));
    assert_true(json_is_real(json_object_get(j, "deliveries_per_s")));
    /* The same numbers as the struct. */
    assert_int_equal(json_int_at(j, "deliveries"), r.deliveries);
    assert_int_equal(json_int_at(j, "dead_letters"), r.dead_letters);
    assert_int_equal(json_int_at(j, "duplicates"), r.duplicates);
    json_decref(j);
}

static void test_table_shows_every_count_by_name(void **state)
{
    (void)state;
    ticketing_scenario_opts o = small_opts(5, true);
    ticketing_scenario_result r;
    assert_int_equal(ticketing_scenario_run(&o, &r, NULL), LK_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    ticketing_scenario_print_table(&r, out);
    fclose(out);
    const char *rows[] = {"mode", "naive", "replicas", "tickets",
                          "events published", "deliveries", "redeliveries",
                          "duplicates", "dead letters", "mismatches",
                          "elapsed", "deliveries/s"};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (strstr(buf, rows[i]) == NULL)
            fail_msg("table lacks \"%s\":\n%s", rows[i], buf);
    char mismatches[64];
    snprintf(mismatches, sizeof mismatches, "%llu of %d",
             (unsigned long long)r.mismatches, o.tickets);
    assert_non_null(strstr(buf, mismatches));
    free(buf);
}

/* ---- counting what a real server does not tell -------------------------------- */

/* Replies as the message says: "ack", "term", or nothing ("silent"). */
static void reply_as_told(lk_msg *msg, void *closure)
{
    (void)closure;
    if (strstr(msg->data, "ack") != NULL)
        lk_msg_ack(msg);
    else if (strstr(msg->data, "term") != NULL)
        lk_msg_term(msg);
}

static void test_counting_bus_agrees_with_the_fake_brokers_own_counts(
    void **state)
{
    (void)state;
    lk_fake_broker_opts bo = {.seed = 11, .duplicate_rate = 0.4};
    lk_fake_nats *nats = lk_fake_nats_new_broker(&bo);
    assert_non_null(nats);
    scenario_bus_counters counters;
    assert_int_equal(scenario_bus_counters_init(&counters, NULL), LK_OK);
    lk_bus *bus = NULL;
    assert_int_equal(scenario_counting_bus_new(lk_fake_nats_bus(nats),
                                               &counters, "run7", &bus, NULL),
                     LK_OK);
    lk_subscribe_opts so = {.queue_group = "g", .max_deliver = 3,
                            .ack_wait_ms = 100, .deliver_all = true};
    assert_int_equal(lk_bus_subscribe(bus, "s", &so, reply_as_told, NULL,
                                      NULL),
                     LK_OK);
    const char *bodies[] = {"\"ack\"", "\"ack\"", "\"ack\"", "\"ack\"",
                            "\"term\"", "\"silent\""};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(lk_bus_publish(bus, "s", bodies[i],
                                        strlen(bodies[i]), NULL, NULL),
                         LK_OK);
    lk_fake_nats_run_until_idle(nats, 0);

    /* The run's own durable, starting at the next message. */
    const lk_fake_subscription_info *info = lk_fake_nats_subscription(nats, 0);
    assert_string_equal(info->durable_name, "g-run7");
    assert_false(info->deliver_all);

    scenario_counts c;
    scenario_bus_counters_get(&counters, &c);
    lk_fake_nats_stats st = lk_fake_nats_get_stats(nats);
    assert_int_equal(c.published, 6);
    assert_int_equal(c.published, st.published);
    assert_int_equal(c.deliveries, st.delivered);
    assert_int_equal(c.redeliveries, st.redelivered);
    /* A lost ack was an ack for the handler: the broker calls it duplicate. */
    assert_int_equal(c.acked, st.acked + st.duplicated);
    assert_int_equal(c.duplicates, st.duplicated);
    assert_int_equal(c.dead_letters, lk_fake_nats_dead_letter_count(nats));
    assert_int_equal(c.dead_letters, 2); /* the termed and the silent one */
    lk_bus_free(bus); /* frees the fake too */
    scenario_bus_counters_destroy(&counters);
}

static void test_scenario_runs_on_a_real_nats_server(void **state)
{
    (void)state;
    spec_nats_server_require(&nats_server);
    ticketing_scenario_opts o = small_opts(1, false);
    o.nats_url = nats_server.url;
    o.replicas = 2;
    o.tickets = 5;
    o.updates = 1;
    o.timeout_ms = 30000;
    ticketing_scenario_result r;
    lk_error err;
    if (ticketing_scenario_run(&o, &r, &err) != LK_OK)
        fail_msg("%s", err.message);
    assert_string_equal(r.bus, "nats");
    assert_int_equal(r.published, 10);
    assert_true(r.deliveries >= 10);
    assert_int_equal(r.acked, 10);
    assert_int_equal(r.mismatches, 0);
    assert_true(r.converged);
    /* Seeded faults belong to the embedded broker: null here. */
    json_t *j = ticketing_scenario_result_json(&r);
    assert_true(json_is_null(json_object_get(j, "seed")));
    assert_true(json_is_null(json_object_get(j, "reorder_window")));
    json_decref(j);
}

/* ---- options -------------------------------------------------------------------------- */

static lk_status parse(ticketing_scenario_cli *cli, lk_error *err, ...)
{
    char *argv[32] = {"ticketing-scenario"};
    int argc = 1;
    va_list ap;
    va_start(ap, err);
    for (char *a; argc < 31 && (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    return ticketing_scenario_parse_args(argc, argv, cli, err);
}

static void test_no_options_give_the_defaults(void **state)
{
    (void)state;
    ticketing_scenario_cli cli;
    assert_int_equal(parse(&cli, NULL, NULL), LK_OK);
    assert_int_equal(cli.opts.replicas, 4);
    assert_int_equal(cli.opts.tickets, 500);
    assert_int_equal(cli.opts.updates, 2);
    assert_false(cli.opts.naive);
    assert_null(cli.opts.nats_url);
    assert_false(cli.json);
    assert_false(cli.help);
}

static void test_options_are_parsed_in_both_spellings(void **state)
{
    (void)state;
    ticketing_scenario_cli cli;
    lk_error err;
    assert_int_equal(parse(&cli, &err, "--replicas=3", "--tickets", "7",
                           "--updates", "0", "--seed", "99",
                           "--reorder-window=2", "--duplicate-rate", "0.25",
                           "--naive", "--json", "--nats",
                           "nats://127.0.0.1:4222", NULL),
                     LK_OK);
    assert_int_equal(cli.opts.replicas, 3);
    assert_int_equal(cli.opts.tickets, 7);
    assert_int_equal(cli.opts.updates, 0);
    assert_int_equal(cli.opts.seed, 99);
    assert_int_equal(cli.opts.reorder_window, 2);
    assert_true(cli.opts.duplicate_rate == 0.25);
    assert_true(cli.opts.naive);
    assert_true(cli.json);
    assert_string_equal(cli.opts.nats_url, "nats://127.0.0.1:4222");
}

static void assert_refused(const char *needle, ...)
{
    char *argv[16] = {"ticketing-scenario"};
    int argc = 1;
    va_list ap;
    va_start(ap, needle);
    for (char *a; argc < 15 && (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    ticketing_scenario_cli cli;
    lk_error err;
    assert_int_equal(ticketing_scenario_parse_args(argc, argv, &cli, &err),
                     LK_ERR_INVALID);
    assert_int_equal(err.status, LK_ERR_INVALID);
    if (strstr(err.message, needle) == NULL)
        fail_msg("message \"%s\" does not name \"%s\"", err.message, needle);
}

static void test_bad_options_are_refused_with_a_message_naming_them(
    void **state)
{
    (void)state;
    assert_refused("--frobnicate", "--frobnicate", NULL);
    assert_refused("--tickets: needs a value", "--tickets", NULL);
    assert_refused("--replicas: expected a whole number, got \"four\"",
                   "--replicas", "four", NULL);
    assert_refused("--replicas: must be between 1 and 64", "--replicas", "0",
                   NULL);
    assert_refused("--tickets", "--tickets", "-5", NULL);
    assert_refused("--updates", "--updates", "12x", NULL);
    assert_refused("--seed", "--seed", "-1", NULL);
    assert_refused("--duplicate-rate", "--duplicate-rate", "1.5", NULL);
    assert_refused("--duplicate-rate", "--duplicate-rate=", NULL);
    assert_refused("--reorder-window", "--reorder-window", "100000", NULL);
    assert_refused("--naive: takes no value", "--naive=yes", NULL);
    assert_refused("--nats: the value is empty", "--nats", "", NULL);
    assert_refused("unexpected argument \"500\"", "500", NULL);
}

static void test_help_lists_every_option_with_its_default(void **state)
{
    (void)state;
    ticketing_scenario_cli cli;
    assert_int_equal(parse(&cli, NULL, "--help", NULL), LK_OK);
    assert_true(cli.help);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    ticketing_scenario_usage(out, "ticketing-scenario");
    fclose(out);
    const char *expect[] = {"--replicas N", "[4]", "--tickets N", "[500]",
                            "--updates N", "[2]", "--seed", "--reorder-window",
                            "--duplicate-rate", "--naive", "--json", "--nats",
                            "--help"};
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
        if (strstr(buf, expect[i]) == NULL)
            fail_msg("usage lacks \"%s\"", expect[i]);
    free(buf);
}

static void test_run_refuses_bad_options_before_starting(void **state)
{
    (void)state;
    ticketing_scenario_opts o = small_opts(1, false);
    o.replicas = 0;
    ticketing_scenario_result r;
    lk_error err;
    assert_int_equal(ticketing_scenario_run(&o, &r, &err), LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "replicas"));
    o = small_opts(1, false);
    o.duplicate_rate = -0.1;
    assert_int_equal(ticketing_scenario_run(&o, &r, &err), LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "duplicate-rate"));
    assert_int_equal(ticketing_scenario_run(NULL, &r, &err), LK_ERR_INVALID);
    assert_int_equal(ticketing_scenario_run(&o, NULL, &err), LK_ERR_INVALID);
}

static void test_unreachable_nats_server_is_a_clear_error(void **state)
{
    (void)state;
    ticketing_scenario_opts o = small_opts(1, false);
    o.nats_url = "nats://127.0.0.1:1"; /* nothing listens on port 1 */
    ticketing_scenario_result r;
    lk_error err;
    lk_status s = ticketing_scenario_run(&o, &r, &err);
    assert_int_not_equal(s, LK_OK);
    if (strstr(err.message, "nats") == NULL)
        fail_msg("message \"%s\" does not say nats", err.message);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versioned_listeners_converge_for_every_seed),
        cmocka_unit_test(test_naive_listeners_lose_updates_for_some_seeds),
        cmocka_unit_test(
            test_naive_listeners_converge_without_reordering_or_duplicates),
        cmocka_unit_test(test_same_seed_gives_the_same_run),
        cmocka_unit_test(test_json_output_parses_and_its_counts_add_up),
        cmocka_unit_test(test_table_shows_every_count_by_name),
        cmocka_unit_test(
            test_counting_bus_agrees_with_the_fake_brokers_own_counts),
        cmocka_unit_test(test_scenario_runs_on_a_real_nats_server),
        cmocka_unit_test(test_no_options_give_the_defaults),
        cmocka_unit_test(test_options_are_parsed_in_both_spellings),
        cmocka_unit_test(
            test_bad_options_are_refused_with_a_message_naming_them),
        cmocka_unit_test(test_help_lists_every_option_with_its_default),
        cmocka_unit_test(test_run_refuses_bad_options_before_starting),
        cmocka_unit_test(test_unreachable_nats_server_is_a_clear_error),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
