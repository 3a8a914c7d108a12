/* SPDX-License-Identifier: MIT */
/* listenkit/version.h — the library's version, at compile and at run time. */
#ifndef LISTENKIT_VERSION_H
#define LISTENKIT_VERSION_H

#define LK_VERSION_MAJOR 0
#define LK_VERSION_MINOR 1
#define LK_VERSION_PATCH 0
#define LK_VERSION_STRING "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library linked in (may differ from the header's). */
const char *lk_version(void);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_VERSION_H */
