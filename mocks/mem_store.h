/*
 * mocks/mem_store.h — an in-memory, Mongo-like lk_store.
 *
 * Collections of BSON documents with the filter language and the OCC
 * contract of listenkit/store.h, in process memory: fast, deterministic,
 * nothing to start. Lookups by `_id` do not scan. Every document handed out
 * is a deep copy. The store is thread-safe (one lock per store), so several
 * listeners on libnats threads may share it.
 *
 * What it does not model is listed in mocks/README.md; each such thing is a
 * clear LK_ERR_INVALID / LK_ERR_UNSUPPORTED at run time, never ignored.
 */
#ifndef LISTENKIT_MOCKS_MEM_STORE_H
#define LISTENKIT_MOCKS_MEM_STORE_H

#include "listenkit/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A new, empty store; NULL on OOM. Free with lk_store_free(). */
lk_store *lk_mem_store_new(void);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_MOCKS_MEM_STORE_H */
