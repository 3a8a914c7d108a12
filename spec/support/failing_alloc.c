/* SPDX-License-Identifier: MIT */
/* failing_alloc.c — see failing_alloc.h. Wraps the C library's allocator;
 * the only state is a few atomic counters and the armed k. */
#define _GNU_SOURCE /* dladdr: name the libbson function that allocated */
#include "failing_alloc.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_bool armed;
static atomic_uint_fast64_t attempts;
static uint64_t fail_at; /* written by arm() before `armed` */
static atomic_int_fast64_t live;

/* What the k-th allocation was; written once per arm, by that allocation. */
static atomic_bool reached;
static lk_alloc_caller reached_caller;
static char reached_where[192];

static bool in_libbson(const Dl_info *info)
{
    return info->dli_fname != NULL && strstr(info->dli_fname, "libbson") != NULL;
}

/* "function (file.c:line)" for `offset` in the object `path`, by asking
 * addr2line (binutils); the bare offset when it cannot say. Runs only at
 * the armed allocation, outside the allocator's counting. */
static void describe(const char *path, uintptr_t offset, char *out,
                     size_t size)
{
    snprintf(out, size, "+0x%lx", (unsigned long)offset);
    char cmd[512];
    if (path == NULL || strchr(path, '\'') != NULL ||
        snprintf(cmd, sizeof cmd, "addr2line -f -s -e '%s' 0x%lx 2>/dev/null",
                 path, (unsigned long)offset) >= (int)sizeof cmd)
        return;
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return;
    char fn[128] = "", line[128] = "";
    if (fgets(fn, sizeof fn, p) != NULL && fgets(line, sizeof line, p) != NULL) {
        fn[strcspn(fn, "\n")] = '\0';
        line[strcspn(line, " \n")] = '\0';
        if (fn[0] != '?')
            snprintf(out, size, "%.40s (%.40s)", fn, line);
    }
    pclose(p);
}

/* The outermost libbson function on the stack (the one listenkit or the
 * spec called) and where it was called from. */
static void name_libbson_caller(char *out, size_t size)
{
    void *frames[32];
    int n = backtrace(frames, 32);
    const char *fn = "libbson";
    snprintf(out, size, "%s", fn);
    bool seen = false;
    for (int i = 0; i < n; i++) {
        Dl_info info;
        if (dladdr(frames[i], &info) == 0)
            continue;
        if (in_libbson(&info)) {
            seen = true;
            if (info.dli_sname != NULL)
                fn = info.dli_sname;
            continue;
        }
        if (seen) {
            /* the return address points after the call: -1 is the call */
            uintptr_t off = (uintptr_t)frames[i] - 1 - (uintptr_t)info.dli_fbase;
            char at[128] = "";
            describe(info.dli_fname, off, at, sizeof at);
            snprintf(out, size, "%.48s from %.127s", fn, at);
            return;
        }
    }
    snprintf(out, size, "%s", fn);
}

/* True when this allocation must fail. */
static bool refuse(lk_alloc_caller caller)
{
    if (!atomic_load(&armed))
        return false;
    uint64_t n = atomic_fetch_add(&attempts, 1) + 1;
    if (n != fail_at)
        return false;
    reached_caller = caller;
    if (caller == LK_ALLOC_LIBBSON)
        name_libbson_caller(reached_where, sizeof reached_where);
    else
        reached_where[0] = '\0';
    atomic_store(&reached, true);
    return caller != LK_ALLOC_LIBBSON;
}

static void *track(void *p)
{
    if (p != NULL)
        atomic_fetch_add(&live, 1);
    return p;
}

static void *fa_malloc(size_t size, lk_alloc_caller caller, void *ctx)
{
    (void)ctx;
    return refuse(caller) ? NULL : track(malloc(size));
}

static void *fa_realloc(void *ptr, size_t size, lk_alloc_caller caller,
                        void *ctx)
{
    (void)ctx;
    return refuse(caller) ? NULL : realloc(ptr, size);
}

static void *fa_aligned_alloc(size_t alignment, size_t size,
                              lk_alloc_caller caller, void *ctx)
{
    (void)ctx;
    return refuse(caller) ? NULL : track(aligned_alloc(alignment, size));
}

static void fa_free(void *ptr, void *ctx)
{
    (void)ctx;
    atomic_fetch_sub(&live, 1);
    free(ptr);
}

void failing_alloc_install(void)
{
    static const lk_allocator a = {
        .malloc = fa_malloc,
        .realloc = fa_realloc,
        .aligned_alloc = fa_aligned_alloc,
        .free = fa_free,
    };
    atomic_store(&armed, false);
    (void)lk_set_allocator(&a, NULL);
}

void failing_alloc_uninstall(void)
{
    atomic_store(&armed, false);
    (void)lk_set_allocator(NULL, NULL);
}

void failing_alloc_arm(uint64_t k)
{
    fail_at = k;
    atomic_store(&attempts, 0);
    atomic_store(&reached, false);
    atomic_store(&armed, true);
}

failing_alloc_result failing_alloc_disarm(void)
{
    atomic_store(&armed, false);
    failing_alloc_result r = {.attempts = atomic_load(&attempts),
                              .reached = atomic_load(&reached)};
    if (r.reached) {
        r.caller = reached_caller;
        r.aborts = reached_caller == LK_ALLOC_LIBBSON;
        r.failed = !r.aborts;
        snprintf(r.where, sizeof r.where, "%s", reached_where);
    }
    return r;
}

int64_t failing_alloc_live(void) { return atomic_load(&live); }
