/* SPDX-License-Identifier: MIT */
/* listenkit/bus-private.h — what bus.c shares with batch.c. Not
 * installed (make install skips *-private.h). */
#ifndef LISTENKIT_BUS_PRIVATE_H
#define LISTENKIT_BUS_PRIVATE_H

#include "listenkit/bus.h"

/* The argument checks of lk_bus_publish (a publishable subject, data for
 * a non-zero length), for every way of publishing. */
lk_status lk_bus_check_publish(const char *subject, const void *data,
                               size_t len, lk_error *err);

#endif /* LISTENKIT_BUS_PRIVATE_H */
