/* SPDX-License-Identifier: MIT */
/* bus.c — argument checks every bus shares, then the ops table. */
#include "listenkit/bus.h"

#include "listenkit/bus-private.h"

#include <string.h>

/* A literal token: printable ASCII without spaces (anything else would
 * split the protocol line) and without the wildcard characters. */
static bool literal_token(const char *tok, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)tok[i];
        if (c <= ' ' || c >= 0x7f || c == '*' || c == '>')
            return false;
    }
    return true;
}

/* Walks `subject` token by token ('.' separates them; none may be empty).
 * Each is literal, or with `filter` the whole wildcard "*", or as the last
 * token the whole wildcard ">". */
static bool subject_check(const char *subject, bool filter)
{
    if (subject == NULL)
        return false;
    for (const char *tok = subject;; tok++) {
        size_t n = strcspn(tok, ".");
        bool last = tok[n] == '\0';
        bool wildcard = n == 1 && (tok[0] == '*' || (tok[0] == '>' && last));
        if (n == 0 || !((filter && wildcard) || literal_token(tok, n)))
            return false;
        if (last)
            return true;
        tok += n;
    }
}

bool lk_subject_is_valid(const char *subject)
{
    return subject_check(subject, false);
}

bool lk_subject_filter_is_valid(const char *subject)
{
    return subject_check(subject, true);
}

bool lk_jetstream_name_is_valid(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return false;
    for (const char *p = name; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c >= 0x7f || strchr(".*>/\\", c) != NULL)
            return false;
    }
    return true;
}

static lk_status check_bus(lk_bus *bus, const char *what, lk_error *err)
{
    if (bus == NULL || bus->ops == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "%s: bus is NULL", what);
    return LK_OK;
}

static lk_status check_subject(const char *subject, bool filter,
                               const char *what, lk_error *err)
{
    if (!subject_check(subject, filter))
        return lk_error_set(err, LK_ERR_INVALID, "%s: invalid subject \"%s\"",
                            what, subject != NULL ? subject : "(null)");
    return LK_OK;
}

/* `name` (NULL: not given) must be a valid JetStream name. */
static lk_status check_name(const char *subject, const char *what,
                            const char *name, lk_error *err)
{
    if (name == NULL || lk_jetstream_name_is_valid(name))
        return LK_OK;
    return lk_error_set(err, LK_ERR_INVALID,
                        "subscribe %s: invalid %s \"%s\": JetStream names "
                        "have no spaces, '.', '*', '>', '/' or '\\'",
                        subject, what, name);
}

lk_status lk_bus_check_publish(const char *subject, const void *data,
                               size_t len, lk_error *err)
{
    lk_status s = check_subject(subject, false, "publish", err);
    if (s == LK_OK && data == NULL && len > 0)
        s = lk_error_set(err, LK_ERR_INVALID,
                         "publish %s: data is NULL but length is %zu",
                         subject, len);
    return s;
}

lk_status lk_bus_publish(lk_bus *bus, const char *subject, const void *data,
                         size_t len, const lk_publish_opts *opts,
                         lk_error *err)
{
    lk_status s = check_bus(bus, "publish", err);
    if (s == LK_OK)
        s = lk_bus_check_publish(subject, data, len, err);
    if (s == LK_OK)
        s = bus->ops->publish(bus, subject, data, len, opts, err);
    return s;
}

lk_status lk_bus_subscribe(lk_bus *bus, const char *subject,
                           const lk_subscribe_opts *opts,
                           lk_msg_handler handler, void *closure,
                           lk_error *err)
{
    lk_subscribe_opts defaults = {0};
    lk_status s = check_bus(bus, "subscribe", err);
    /* Wildcards pass here; whether an implementation serves them is its
     * own answer (LK_ERR_UNSUPPORTED when not). */
    if (s == LK_OK)
        s = check_subject(subject, true, "subscribe", err);
    if (s == LK_OK && handler == NULL)
        s = lk_error_set(err, LK_ERR_INVALID, "subscribe %s: handler is NULL",
                         subject);
    if (opts == NULL)
        opts = &defaults;
    if (s == LK_OK && opts->ack_wait_ms < 0)
        s = lk_error_set(err, LK_ERR_INVALID,
                         "subscribe %s: ack_wait_ms must be >= 0, got %lld",
                         subject, (long long)opts->ack_wait_ms);
    if (s == LK_OK && opts->max_deliver < 0)
        s = lk_error_set(err, LK_ERR_INVALID,
                         "subscribe %s: max_deliver must be >= 0, got %d",
                         subject, opts->max_deliver);
    if (s == LK_OK && opts->max_ack_pending < 0)
        s = lk_error_set(err, LK_ERR_INVALID,
                         "subscribe %s: max_ack_pending must be >= 0, got %d",
                         subject, opts->max_ack_pending);
    /* JetStream takes both as names (libnats checks the queue group even
     * beside a durable name), so every implementation would refuse them. */
    if (s == LK_OK)
        s = check_name(subject, "queue group", opts->queue_group, err);
    if (s == LK_OK)
        s = check_name(subject, "durable name", opts->durable_name, err);
    if (s == LK_OK)
        s = bus->ops->subscribe(bus, subject, opts, handler, closure, err);
    return s;
}

lk_status lk_bus_drain(lk_bus *bus, lk_error *err)
{
    lk_status s = check_bus(bus, "drain", err);
    if (s == LK_OK)
        s = bus->ops->drain(bus, err);
    return s;
}

void lk_bus_free(lk_bus *bus)
{
    if (bus != NULL && bus->ops != NULL)
        bus->ops->free(bus);
}
