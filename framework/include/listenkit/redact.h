/* SPDX-License-Identifier: MIT */
/*
 * listenkit/redact.h — credentials out of every text a user may read.
 *
 * A server URL may carry a user and password ("nats://alice:S3cretPW@host")
 * or a token ("nats://s3cr3t@host"). Everything listenkit prints passes
 * through lk_redact: lk_log redacts each line and lk_error_set each
 * message, so no caller can leak a URL's secret into a log or an error
 * text by forgetting to. Programs that print a URL themselves call it too.
 *
 *     nats://alice:S3cretPW@host:4222  ->  nats://alice:***@host:4222
 *     nats://a:b@h1,nats://c:d@h2      ->  nats://a:***@h1,nats://c:***@h2
 *
 * Any "<scheme>://<userinfo>@" is redacted, wherever it stands in the text;
 * the user name is kept (it helps to tell accounts apart), the password
 * becomes three asterisks; a token (userinfo without ':', as in
 * tls://s3cr3t@host) is replaced whole by the three asterisks.
 */
#ifndef LISTENKIT_REDACT_H
#define LISTENKIT_REDACT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes `in` with every URL's credentials replaced to `out` (at most
 * size-1 bytes and a NUL; `out` must not overlap `in`). Returns the length
 * the whole redacted text needs (like snprintf), so a return >= size means
 * it was cut. `out` may be NULL when size is 0. */
size_t lk_redact(const char *in, char *out, size_t size);

/* True when `text` holds a URL with credentials (what lk_redact changes). */
int lk_redact_needed(const char *text);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_REDACT_H */
