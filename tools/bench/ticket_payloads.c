/* SPDX-License-Identifier: MIT */
/* ticket_payloads.c — ticket:updated events, and the field reads a listener
 * does on them: once with listenkit's getters, once by hand with jansson. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listenkit/event.h"

static void hex24(bench_rng *rng, char out[25])
{
    static const char digits[] = "0123456789abcdef";
    uint64_t a = bench_rng_next(rng), b = bench_rng_next(rng);
    for (int i = 0; i < 16; i++)
        out[i] = digits[(a >> (i * 4)) & 15];
    for (int i = 0; i < 8; i++)
        out[16 + i] = digits[(b >> (i * 4)) & 15];
    out[24] = '\0';
}

bool bench_payloads_make(bench_payloads *p, size_t count, uint64_t seed)
{
    bench_rng rng = {seed};
    memset(p, 0, sizeof *p);
    p->data = calloc(count, sizeof *p->data);
    p->len = calloc(count, sizeof *p->len);
    if (p->data == NULL || p->len == NULL) {
        bench_payloads_free(p);
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        char id[25], user[25], order[25], buf[256];
        hex24(&rng, id);
        hex24(&rng, user);
        hex24(&rng, order);
        double price = (double)(bench_rng_next(&rng) % 20000) / 4.0;
        long version = (long)(1 + i % 40);
        /* Sorted keys, compact: as lk_event_encode() writes them. */
        int n;
        if (i % 2)
            n = snprintf(buf, sizeof buf,
                         "{\"id\":\"%s\",\"orderId\":\"%s\",\"price\":%.2f,"
                         "\"title\":\"Concert #%zu\",\"userId\":\"%s\","
                         "\"version\":%ld}",
                         id, order, price, i, user, version);
        else
            n = snprintf(buf, sizeof buf,
                         "{\"id\":\"%s\",\"price\":%.2f,\"title\":\"Concert "
                         "#%zu\",\"userId\":\"%s\",\"version\":%ld}",
                         id, price, i, user, version);
        p->data[i] = malloc((size_t)n + 1);
        if (p->data[i] == NULL) {
            p->count = i;
            bench_payloads_free(p);
            return false;
        }
        memcpy(p->data[i], buf, (size_t)n + 1);
        p->len[i] = (size_t)n;
        p->total_bytes += (size_t)n;
    }
    p->count = count;
    return true;
}

void bench_payloads_free(bench_payloads *p)
{
    for (size_t i = 0; p->data != NULL && i < p->count; i++)
        free(p->data[i]);
    free(p->data);
    free(p->len);
    memset(p, 0, sizeof *p);
}

static uint64_t double_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

uint64_t bench_read_ticket_lk(const json_t *data)
{
    uint64_t sum = 0;
    sum = bench_mix(sum, bench_str_sum(lk_event_string(data, "id")));
    sum = bench_mix(sum, (uint64_t)lk_event_int(data, "version"));
    sum = bench_mix(sum, bench_str_sum(lk_event_string(data, "title")));
    sum = bench_mix(sum, double_bits(lk_event_number(data, "price")));
    sum = bench_mix(sum, bench_str_sum(lk_event_string(data, "userId")));
    sum = bench_mix(sum, bench_str_sum(lk_event_string(data, "orderId")));
    return sum;
}

/* A string field, present and a string (or absent and optional). */
static bool raw_string(const json_t *obj, const char *key, bool required,
                       const char **out)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return !required;
    if (!json_is_string(v))
        return false;
    *out = json_string_value(v);
    return true;
}

bool bench_read_ticket_raw(const json_t *data, uint64_t *sum)
{
    const char *id, *title, *user, *order;
    const json_t *version = json_object_get(data, "version");
    const json_t *price = json_object_get(data, "price");
    /* The checks a careful hand-written listener makes before trusting an
     * event: presence and type of each field it reads. The schema makes
     * more for listenkit (24-hex ids, title and userId lengths, the price
     * range, unknown fields and duplicate keys refused), not paid here. */
    if (!json_is_object(data) || !raw_string(data, "id", true, &id) ||
        !raw_string(data, "title", true, &title) ||
        !raw_string(data, "userId", true, &user) ||
        !raw_string(data, "orderId", false, &order) ||
        !json_is_integer(version) || json_integer_value(version) < 0 ||
        !json_is_number(price))
        return false;
    uint64_t s = 0;
    s = bench_mix(s, bench_str_sum(id));
    s = bench_mix(s, (uint64_t)json_integer_value(version));
    s = bench_mix(s, bench_str_sum(title));
    s = bench_mix(s, double_bits(json_number_value(price)));
    s = bench_mix(s, bench_str_sum(user));
    s = bench_mix(s, bench_str_sum(order));
    *sum = s;
    return true;
}
