/* SPDX-License-Identifier: MIT */
/* publisher.c — validate, encode, publish: nothing invalid reaches the bus. */
#include "listenkit/publisher.h"

#include "listenkit/alloc.h"

#include <stdlib.h>
#include <string.h>

lk_status lk_publish(lk_bus *client, const lk_schema *schema,
                     const json_t *data, lk_error *err)
{
    return lk_publish_with(client, schema, data, NULL, err);
}

/* True when the message already says it is about a publish (the bus
 * wrapper's and most implementations' messages start "publish <subject>"
 * or "publish: ..." and name the subject), so no second prefix is added. */
static bool names_publish(const lk_error *err)
{
    return strncmp(err->message, "publish ", 8) == 0 ||
           strncmp(err->message, "publish:", 8) == 0;
}

/* Validates and encodes `data`, then hands it to the bus or the batch
 * (exactly one of them is non-NULL, `what` names it for the NULL check). */
static lk_status publish_to(lk_bus *client, lk_batch *batch, const char *what,
                            const lk_schema *schema, const json_t *data,
                            const lk_publish_opts *opts, lk_error *err)
{
    if (schema == NULL || schema->subject == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "publish: schema or its subject is NULL");
    if (client == NULL && batch == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "publish %s: %s is NULL",
                            schema->subject, what);

    char *text = NULL;
    size_t len = 0;
    lk_status s = lk_event_encode(schema, data, &text, &len, err);
    if (s == LK_OK) {
        s = client != NULL
                ? lk_bus_publish(client, schema->subject, text, len, opts, err)
                : lk_batch_publish(batch, schema->subject, text, len, opts,
                                   err);
        if (s != LK_OK && err != NULL && !names_publish(err))
            lk_error_prefix(err, "publish %s", schema->subject);
    }
    lk_free(text);
    return s;
}

lk_status lk_publish_with(lk_bus *client, const lk_schema *schema,
                          const json_t *data, const lk_publish_opts *opts,
                          lk_error *err)
{
    return publish_to(client, NULL, "client", schema, data, opts, err);
}

lk_status lk_publish_async(lk_batch *batch, const lk_schema *schema,
                           const json_t *data, const lk_publish_opts *opts,
                           lk_error *err)
{
    return publish_to(NULL, batch, "batch", schema, data, opts, err);
}
