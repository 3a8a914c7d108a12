/* SPDX-License-Identifier: MIT */
/*
 * scenario/publish_retry.h — a publish that outlasts a transient fault.
 *
 * A server paused for a few seconds makes a publish time out; a restart
 * makes it fail with "disconnected". Neither means the event is lost for
 * good, and the scenario must not abort on them: it tries again, after a
 * growing delay, for up to a budget. Every try carries the same message id
 * (Nats-Msg-Id), so a publish that timed out although the server stored
 * it is not stored twice when it is tried again.
 */
#ifndef TICKETING_SCENARIO_PUBLISH_RETRY_H
#define TICKETING_SCENARIO_PUBLISH_RETRY_H

#include <stdint.h>

#include "listenkit.h"

/* First and largest delay between tries. */
#define SCENARIO_PUBLISH_RETRY_FIRST_MS 50
#define SCENARIO_PUBLISH_RETRY_MAX_MS 1000

/*
 * Publishes on `bus`; on LK_ERR_TIMEOUT or LK_ERR_IO tries again until
 * `budget_ms` passed. `msg_id` is used for every try (opts->msg_id wins
 * when the caller gave one). Each retry is logged at warn (rate-limited).
 * Returns the last try's status; `*tries` (may be NULL) how many it took.
 */
lk_status scenario_publish_retrying(lk_bus *bus, const char *subject,
                                    const void *data, size_t len,
                                    const lk_publish_opts *opts,
                                    const char *msg_id, int64_t budget_ms,
                                    int *tries, lk_error *err);

/*
 * Relays what `outbox` holds pending (lk_outbox_relay: one batch per pass,
 * a failed event stays pending and goes again with its msg id) until
 * nothing is pending; a pass failing with LK_ERR_TIMEOUT or LK_ERR_IO is
 * tried again as above until `budget_ms` passed. *sent (may be NULL): the
 * events acknowledged over every pass.
 */
lk_status scenario_relay_retrying(lk_outbox *outbox, int64_t budget_ms,
                                  size_t *sent, lk_error *err);

#endif /* TICKETING_SCENARIO_PUBLISH_RETRY_H */
