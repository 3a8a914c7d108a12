/* SPDX-License-Identifier: MIT */
/*
 * cli.c — the ticketing-scenario command line: parsing and usage. In the
 * library (not main.c) so the spec can hold it to its messages.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario.h"

typedef enum opt_kind { OPT_FLAG, OPT_INT, OPT_U64, OPT_SIZE, OPT_RATE,
                        OPT_MS, OPT_STRING } opt_kind;

typedef struct opt_spec {
    const char *name; /* without the leading "--" */
    opt_kind kind;
    size_t offset;    /* into ticketing_scenario_cli */
    long long min, max; /* whole numbers: inclusive bounds */
} opt_spec;

#define CLI_FIELD(f) offsetof(ticketing_scenario_cli, f)

static const opt_spec opt_specs[] = {
    {"replicas", OPT_INT, CLI_FIELD(opts.replicas), 1,
     TICKETING_SCENARIO_MAX_REPLICAS},
    {"tickets", OPT_INT, CLI_FIELD(opts.tickets), 1,
     TICKETING_SCENARIO_MAX_TICKETS},
    {"updates", OPT_INT, CLI_FIELD(opts.updates), 0,
     TICKETING_SCENARIO_MAX_UPDATES},
    {"seed", OPT_U64, CLI_FIELD(opts.seed), 0, 0},
    {"reorder-window", OPT_SIZE, CLI_FIELD(opts.reorder_window), 0,
     TICKETING_SCENARIO_MAX_REORDER_WINDOW},
    {"duplicate-rate", OPT_RATE, CLI_FIELD(opts.duplicate_rate), 0, 0},
    {"ack-wait", OPT_MS, CLI_FIELD(opts.ack_wait_ms), 0, 86400000},
    {"timeout", OPT_MS, CLI_FIELD(opts.timeout_ms), 1, 86400000},
    {"nats", OPT_STRING, CLI_FIELD(opts.nats_url), 0, 0},
    {"naive", OPT_FLAG, CLI_FIELD(opts.naive), 0, 0},
    {"json", OPT_FLAG, CLI_FIELD(json), 0, 0},
    {"help", OPT_FLAG, CLI_FIELD(help), 0, 0},
};

void ticketing_scenario_usage(FILE *out, const char *program)
{
    fprintf(out,
        "usage: %s [options]\n"
        "\n"
        "The course's concurrency scenario: one tickets service and N orders\n"
        "replicas in the orders-service queue group sharing one store; T tickets\n"
        "created and updated U times (prices 5, 10, 15, ...); deliveries are\n"
        "reordered, duplicated and redelivered; then every replica is compared\n"
        "with its ticket (title, price, version).\n"
        "\n"
        "options (default in brackets):\n"
        "  --replicas N          orders replicas in the queue group [%d]\n"
        "  --tickets N           tickets to create [%d]\n"
        "  --updates N           updates per ticket [%d]\n"
        "  --seed N              seed of the broker and the schedule [%d]\n"
        "  --reorder-window N    pick each delivery among the first N due\n"
        "                        messages; 0 or 1: in order [%d]\n"
        "  --duplicate-rate X    chance that an ack is lost, so the message is\n"
        "                        delivered again; 0 <= X < 1 [%g]\n"
        "  --naive               the course's first listeners, no version check\n"
        "  --json                print the result as one JSON object\n"
        "  --nats URL            a real NATS JetStream server instead of the\n"
        "                        embedded broker (reorder/duplicates: the real ones)\n"
        "  --ack-wait MS         ack wait of the naive listeners [%d]\n"
        "  --timeout MS          with --nats: longest wait to settle [%d]\n"
        "  --help                this text\n"
        "\n"
        "exit status: 0 when the run completed and (versioned) every replica\n"
        "matched, or (--naive) it completed; 1 when versioned replicas\n"
        "disagree or the run failed; 2 on bad options.\n",
        program != NULL ? program : "ticketing-scenario",
        TICKETING_SCENARIO_DEFAULT_REPLICAS, TICKETING_SCENARIO_DEFAULT_TICKETS,
        TICKETING_SCENARIO_DEFAULT_UPDATES, TICKETING_SCENARIO_DEFAULT_SEED,
        TICKETING_SCENARIO_DEFAULT_REORDER_WINDOW,
        TICKETING_SCENARIO_DEFAULT_DUPLICATE_RATE, LK_DEFAULT_ACK_WAIT_MS,
        TICKETING_SCENARIO_DEFAULT_TIMEOUT_MS);
}

/* Parses a whole decimal integer in [min, max]. */
static lk_status parse_integer(const char *name, const char *text,
                               long long min, long long max, long long *out,
                               lk_error *err)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (text[0] == '\0' || *end != '\0' || errno == ERANGE)
        return lk_error_set(err, LK_ERR_INVALID,
                            "--%s: expected a whole number, got \"%s\"", name,
                            text);
    if (v < min || v > max)
        return lk_error_set(err, LK_ERR_INVALID,
                            "--%s: must be between %lld and %lld, got %s",
                            name, min, max, text);
    *out = v;
    return LK_OK;
}

static lk_status parse_u64(const char *name, const char *text, uint64_t *out,
                           lk_error *err)
{
    char *end = NULL;
    errno = 0;
    if (text[0] == '-' || text[0] == '\0')
        return lk_error_set(err, LK_ERR_INVALID,
                            "--%s: expected a whole number >= 0, got \"%s\"",
                            name, text);
    unsigned long long v = strtoull(text, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return lk_error_set(err, LK_ERR_INVALID,
                            "--%s: expected a whole number >= 0, got \"%s\"",
                            name, text);
    *out = (uint64_t)v;
    return LK_OK;
}

static lk_status parse_rate(const char *name, const char *text, double *out,
                            lk_error *err)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (text[0] == '\0' || *end != '\0' || errno == ERANGE)
        return lk_error_set(err, LK_ERR_INVALID,
                            "--%s: expected a number, got \"%s\"", name, text);
    if (!(v >= 0.0 && v < 1.0))
        return lk_error_set(err, LK_ERR_INVALID,
                            "--%s: must be at least 0 and below 1, got %s",
                            name, text);
    *out = v;
    return LK_OK;
}

/* Stores `value` (the option's text; NULL for flags) into the field. */
static lk_status apply(const opt_spec *o, const char *value,
                       ticketing_scenario_cli *cli, lk_error *err)
{
    char *field = (char *)cli + o->offset;
    long long n = 0;
    lk_status s = LK_OK;
    switch (o->kind) {
    case OPT_FLAG:
        *(bool *)field = true;
        break;
    case OPT_INT:
        s = parse_integer(o->name, value, o->min, o->max, &n, err);
        if (s == LK_OK)
            *(int *)(void *)field = (int)n;
        break;
    case OPT_U64:
        s = parse_u64(o->name, value, (uint64_t *)(void *)field, err);
        break;
    case OPT_SIZE:
        s = parse_integer(o->name, value, o->min, o->max, &n, err);
        if (s == LK_OK)
            *(size_t *)(void *)field = (size_t)n;
        break;
    case OPT_RATE:
        s = parse_rate(o->name, value, (double *)(void *)field, err);
        break;
    case OPT_MS:
        s = parse_integer(o->name, value, o->min, o->max, &n, err);
        if (s == LK_OK)
            *(int64_t *)(void *)field = (int64_t)n;
        break;
    case OPT_STRING:
        if (value[0] == '\0')
            s = lk_error_set(err, LK_ERR_INVALID, "--%s: the value is empty",
                             o->name);
        else
            *(const char **)(void *)field = value;
        break;
    }
    return s;
}

static const opt_spec *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof opt_specs / sizeof opt_specs[0]; i++)
        if (strlen(opt_specs[i].name) == len &&
            strncmp(opt_specs[i].name, name, len) == 0)
            return &opt_specs[i];
    return NULL;
}

lk_status ticketing_scenario_parse_args(int argc, char **argv,
                                        ticketing_scenario_cli *cli,
                                        lk_error *err)
{
    if (cli == NULL || argc < 0 || (argc > 0 && argv == NULL))
        return lk_error_set(err, LK_ERR_INVALID,
                            "parse args: cli and argv are required");
    memset(cli, 0, sizeof *cli);
    ticketing_scenario_opts_init(&cli->opts);
    lk_status s = LK_OK;
    for (int i = 1; s == LK_OK && i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
            return lk_error_set(err, LK_ERR_INVALID,
                                "unexpected argument \"%s\" (options start "
                                "with --; see --help)", arg);
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
        const opt_spec *o = find_opt(name, len);
        if (o == NULL)
            return lk_error_set(err, LK_ERR_INVALID,
                                "unknown option \"--%.*s\" (see --help)",
                                (int)len, name);
        const char *value = NULL;
        if (o->kind == OPT_FLAG) {
            if (eq != NULL)
                return lk_error_set(err, LK_ERR_INVALID,
                                    "--%s: takes no value", o->name);
        } else if (eq != NULL) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            return lk_error_set(err, LK_ERR_INVALID, "--%s: needs a value",
                                o->name);
        }
        s = apply(o, value, cli, err);
    }
    if (s == LK_OK && !cli->help)
        s = ticketing_scenario_opts_check(&cli->opts, err);
    return s;
}
