/* SPDX-License-Identifier: MIT */
/*
 * listenkit/alloc.h — one allocator for listenkit, jansson and libbson.
 *
 * By default everything allocates with the C library. lk_set_allocator()
 * routes every allocation the listenkit core and the doubles in mocks/
 * make through the caller's functions, and hands the
 * same functions to jansson (json_set_alloc_funcs) and libbson
 * (bson_mem_set_vtable), so one allocator sees the whole process's JSON and
 * BSON memory. Each call tells the allocator who is asking (lk_alloc_caller),
 * because the three take a NULL differently:
 *
 *   LK_ALLOC_LISTENKIT  listenkit's own allocations: a NULL becomes
 *                       LK_ERR_NOMEM from the call, which changes nothing
 *                       (a store keeps its documents, a bus its messages);
 *   LK_ALLOC_JANSSON    jansson's: the jansson call fails and listenkit
 *                       reports LK_ERR_NOMEM (never "invalid JSON"): a
 *                       listener leaves such a message for redelivery and
 *                       never terms it;
 *   LK_ALLOC_LIBBSON    libbson's: bson_malloc() and bson_realloc() ABORT
 *                       the process when the allocator returns NULL. That
 *                       is libbson's design (its API has no failure path for
 *                       a growing document), not something listenkit can
 *                       catch. An allocator that must not abort the process
 *                       serves these calls from a reserve, or fails them
 *                       only where a crash is acceptable. The memory store
 *                       keeps documents, and the snapshots its cursors
 *                       read, in its own (LK_ALLOC_LISTENKIT) buffers, so
 *                       only the copies it hands out through `bson_t **out`
 *                       (insert, save, find_one: the caller bson_destroy()s
 *                       them) and the documents callers build come from
 *                       libbson. spec/services/oom_sweep_spec.c and its
 *                       siblings count and name every such point.
 *
 * The NATS adapter's own small buffers, libnats and libpq keep the C
 * library's (the libraries have no hook).
 *
 * jansson, when an allocation fails mid-parse, sometimes carries on with a
 * byte of the text dropped; listenkit counts refused allocations around
 * every parse and encode, so such a result is LK_ERR_NOMEM, never a
 * silently different event. That count needs this hook: without
 * lk_set_allocator(), only the failures jansson itself reports are seen.
 *
 * Ownership: memory from one allocator must go back to the same one. So
 * install the allocator once, at start-up, before anything (listenkit,
 * jansson, libbson) has allocated, and keep it until the process ends; a
 * block allocated before the switch would otherwise reach the new `free`.
 * Memory listenkit hands out as "free with free()" (lk_event_encode's text)
 * goes back through lk_free() instead; the two are the same while no
 * allocator is set.
 *
 * Threads: lk_set_allocator() is not thread-safe; call it before starting
 * threads (like lk_log_set_handler). The functions it installs are then
 * called from any thread at once, so they must be thread-safe themselves.
 */
#ifndef LISTENKIT_ALLOC_H
#define LISTENKIT_ALLOC_H

#include <stddef.h>

#include "listenkit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Who asks for the memory: tells the allocator what a NULL will do. */
typedef enum lk_alloc_caller {
    LK_ALLOC_LISTENKIT, /* NULL: the call returns LK_ERR_NOMEM */
    LK_ALLOC_JANSSON,   /* NULL: listenkit reports LK_ERR_NOMEM */
    LK_ALLOC_LIBBSON    /* NULL: libbson aborts the process */
} lk_alloc_caller;

typedef struct lk_allocator {
    /* `size` bytes aligned for any type, or NULL. Never called with 0. */
    void *(*malloc)(size_t size, lk_alloc_caller caller, void *ctx);
    /* Resizes `ptr` (never NULL: a NULL ptr goes to malloc) to `size`
     * bytes (never 0), or returns NULL and leaves `ptr` as it was. */
    void *(*realloc)(void *ptr, size_t size, lk_alloc_caller caller,
                     void *ctx);
    /* `size` bytes aligned to `alignment` (a power of two larger than
     * malloc's; libbson wants 128 for a bson_t), released by `free` like
     * the others; `size` is a multiple of `alignment`. */
    void *(*aligned_alloc)(size_t alignment, size_t size,
                           lk_alloc_caller caller, void *ctx);
    /* Releases a block from any of the three (never NULL). */
    void (*free)(void *ptr, void *ctx);
    void *ctx; /* passed to every call, untouched by listenkit */
} lk_allocator;

/*
 * Installs `allocator` (copied: the struct may go away, `ctx` must not) for
 * listenkit, jansson and libbson; NULL restores the C library's. A struct
 * with a NULL function is refused with LK_ERR_INVALID and the allocator in
 * force stays. See Ownership and Threads above: once, at start-up.
 */
lk_status lk_set_allocator(const lk_allocator *allocator, lk_error *err);

/* listenkit's allocation calls, through the allocator in force. They
 * behave like their C library namesakes, except: a size of 0 is taken as
 * 1 (never a NULL that is not a failure); lk_calloc() returns NULL when
 * n * size overflows; lk_free(NULL) does nothing; lk_strdup(NULL) is
 * NULL. */
void *lk_malloc(size_t size);
void *lk_calloc(size_t n, size_t size);
void *lk_realloc(void *ptr, size_t size);
void lk_free(void *ptr);
char *lk_strdup(const char *s);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_ALLOC_H */
