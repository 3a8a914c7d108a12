#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tools/run-services.sh — the worked example running on real servers until
# Ctrl-C: a throwaway nats-server and PostgreSQL (tools/nats-server.sh,
# tools/pg-server.sh), then build/bin/tickets on :3001 and build/bin/orders
# on :3002, each configured by the environment as `tickets --help` lists.
# It prints a JWT for a user "dev" (HS256 with JWT_KEY) to call the routes
# with. Ctrl-C (or SIGTERM) stops the programs by pid, then both servers.
#
#   make run-services            (or: tools/run-services.sh)
#   TICKETS_PORT=4001 ORDERS_PORT=4002 JWT_KEY=... make run-services
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
pids=()
stop_all() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    tools/pg-server.sh stop
    tools/nats-server.sh stop
}
trap stop_all EXIT
trap 'exit 0' INT TERM

eval "$(tools/nats-server.sh start)" || exit 1
eval "$(tools/pg-server.sh start)" || exit 1
export NATS_URL=$LK_NATS_URL DATABASE_URL=$LK_PG_URL
export JWT_KEY=${JWT_KEY:-dev-jwt-key} LK_LOG=${LK_LOG:-info}
PORT=${TICKETS_PORT:-3001} "$BUILD/bin/tickets" & pids+=($!)
PORT=${ORDERS_PORT:-3002} "$BUILD/bin/orders" & pids+=($!)

# A token of the course's auth service: {"id","email"} signed HS256.
b64() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
head=$(printf '{"alg":"HS256","typ":"JWT"}' | b64)
body=$(printf '{"id":"dev","email":"dev@example.test"}' | b64)
sig=$(printf '%s.%s' "$head" "$body" | openssl dgst -sha256 -hmac "$JWT_KEY" -binary | b64)
cat <<MSG
run-services: nats $NATS_URL, postgres $LK_PG_URL
run-services: tickets on :${TICKETS_PORT:-3001}, orders on :${ORDERS_PORT:-3002}; Ctrl-C stops all
export TOKEN=$head.$body.$sig
MSG
wait
