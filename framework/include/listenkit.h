/* SPDX-License-Identifier: MIT */
/*
 * listenkit.h — the one header to include.
 *
 * listenkit: event listeners for NATS-based microservices, and the test
 * doubles to write them spec-first. The core needs jansson and libbson only;
 * the NATS adapter (listenkit/nats.h) and the doubles (mocks/) are separate.
 */
#ifndef LISTENKIT_H
#define LISTENKIT_H

#include "listenkit/version.h"
#include "listenkit/alloc.h"
#include "listenkit/error.h"
#include "listenkit/log.h"
#include "listenkit/redact.h"
#include "listenkit/event.h"
#include "listenkit/msg.h"
#include "listenkit/bus.h"
#include "listenkit/batch.h"
#include "listenkit/store.h"
#include "listenkit/retry.h"
#include "listenkit/listener.h"
#include "listenkit/publisher.h"
#include "listenkit/outbox.h"

#endif /* LISTENKIT_H */
