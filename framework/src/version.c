/* SPDX-License-Identifier: MIT */
/* version.c — the version of the library actually linked. */
#include "listenkit/version.h"

const char *lk_version(void) { return LK_VERSION_STRING; }
