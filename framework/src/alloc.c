/* SPDX-License-Identifier: MIT */
/* alloc.c — the allocator in force, and the bridges that hand it to jansson
 * and libbson with the caller's name attached (see listenkit/alloc.h). */
#include "listenkit/alloc.h"
#include "listenkit/alloc-private.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bson/bson.h>
#include <jansson.h>

/* ---- the C library's, the default ----------------------------------------- */

static void *libc_malloc(size_t size, lk_alloc_caller caller, void *ctx)
{
    (void)caller, (void)ctx;
    return malloc(size);
}

static void *libc_realloc(void *ptr, size_t size, lk_alloc_caller caller,
                          void *ctx)
{
    (void)caller, (void)ctx;
    return realloc(ptr, size);
}

static void *libc_aligned_alloc(size_t alignment, size_t size,
                                lk_alloc_caller caller, void *ctx)
{
    (void)caller, (void)ctx;
    return aligned_alloc(alignment, size);
}

static void libc_free(void *ptr, void *ctx)
{
    (void)ctx;
    free(ptr);
}

static const lk_allocator libc_allocator = {
    .malloc = libc_malloc,
    .realloc = libc_realloc,
    .aligned_alloc = libc_aligned_alloc,
    .free = libc_free,
};

/* Written only by lk_set_allocator, before threads start (alloc.h). */
static lk_allocator current = {
    .malloc = libc_malloc,
    .realloc = libc_realloc,
    .aligned_alloc = libc_aligned_alloc,
    .free = libc_free,
};

/* ---- the shared rules: no 0-byte requests, NULL handled here ---------------- */

/* Per thread, so a decode on one thread never blames another's failure. */
static _Thread_local unsigned long failures;

unsigned long lk_alloc_failures_(void) { return failures; }

static void *counted(void *p)
{
    if (p == NULL)
        failures++;
    return p;
}

static void *do_malloc(size_t size, lk_alloc_caller caller)
{
    return counted(current.malloc(size == 0 ? 1 : size, caller, current.ctx));
}

static void *do_calloc(size_t n, size_t size, lk_alloc_caller caller)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    void *p = do_malloc(n * size, caller);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

static void *do_realloc(void *ptr, size_t size, lk_alloc_caller caller)
{
    if (ptr == NULL)
        return do_malloc(size, caller);
    return counted(
        current.realloc(ptr, size == 0 ? 1 : size, caller, current.ctx));
}

static void do_free(void *ptr)
{
    if (ptr != NULL)
        current.free(ptr, current.ctx);
}

/* ---- listenkit's calls ------------------------------------------------------ */

void *lk_malloc(size_t size) { return do_malloc(size, LK_ALLOC_LISTENKIT); }

void *lk_calloc(size_t n, size_t size)
{
    return do_calloc(n, size, LK_ALLOC_LISTENKIT);
}

void *lk_realloc(void *ptr, size_t size)
{
    return do_realloc(ptr, size, LK_ALLOC_LISTENKIT);
}

void lk_free(void *ptr) { do_free(ptr); }

char *lk_strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *copy = lk_malloc(n);
    if (copy != NULL)
        memcpy(copy, s, n);
    return copy;
}

/* ---- jansson's bridge: it only ever mallocs and frees ------------------------ */

static void *json_bridge_malloc(size_t size)
{
    return do_malloc(size, LK_ALLOC_JANSSON);
}

/* ---- libbson's bridge ------------------------------------------------------- */

static void *bson_bridge_malloc(size_t size)
{
    return do_malloc(size, LK_ALLOC_LIBBSON);
}

static void *bson_bridge_calloc(size_t n, size_t size)
{
    return do_calloc(n, size, LK_ALLOC_LIBBSON);
}

/* bson_realloc(mem, 0) frees and returns NULL; keep that meaning. */
static void *bson_bridge_realloc(void *ptr, size_t size)
{
    if (size == 0) {
        do_free(ptr);
        return NULL;
    }
    return do_realloc(ptr, size, LK_ALLOC_LIBBSON);
}

/* C11's aligned_alloc (and most allocators) want a size that is a
 * multiple of the alignment: rounded up here. */
static void *do_aligned_alloc(size_t alignment, size_t size,
                              lk_alloc_caller caller)
{
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        return NULL;
    if (size == 0)
        size = 1;
    if (size > SIZE_MAX - alignment)
        return NULL;
    size = (size + alignment - 1) / alignment * alignment;
    return counted(current.aligned_alloc(alignment, size, caller,
                                         current.ctx));
}

void *lk_aligned_alloc_(size_t alignment, size_t size)
{
    return do_aligned_alloc(alignment, size, LK_ALLOC_LISTENKIT);
}

static void *bson_bridge_aligned_alloc(size_t alignment, size_t size)
{
    return do_aligned_alloc(alignment, size, LK_ALLOC_LIBBSON);
}

static void bridge_free(void *ptr) { do_free(ptr); }

lk_status lk_set_allocator(const lk_allocator *allocator, lk_error *err)
{
    if (allocator != NULL &&
        (allocator->malloc == NULL || allocator->realloc == NULL ||
         allocator->aligned_alloc == NULL || allocator->free == NULL))
        return lk_error_set(err, LK_ERR_INVALID,
                            "set_allocator: malloc, realloc, aligned_alloc "
                            "and free are all required");
    current = allocator != NULL ? *allocator : libc_allocator;
    if (allocator == NULL) {
        json_set_alloc_funcs(malloc, free);
        bson_mem_restore_vtable();
        return LK_OK;
    }
    json_set_alloc_funcs(json_bridge_malloc, bridge_free);
    bson_mem_vtable_t vtable = {
        .malloc = bson_bridge_malloc,
        .calloc = bson_bridge_calloc,
        .realloc = bson_bridge_realloc,
        .free = bridge_free,
        .aligned_alloc = bson_bridge_aligned_alloc,
    };
    bson_mem_set_vtable(&vtable);
    return LK_OK;
}
