/* SPDX-License-Identifier: MIT */
/* notes.h — the project's code: a listener that keeps a replica of notes
 * another service owns, and tells the world it did. */
#ifndef NOTES_H
#define NOTES_H

#include "listenkit.h"

typedef struct notes_ctx {
    lk_collection *notes; /* external versions: the owner counts them */
} notes_ctx;

extern const lk_schema notes_created;   /* note:created {id, text, version} */
extern const lk_schema notes_saved;     /* note:saved {id, version} */
extern const lk_listener_def notes_created_listener;

#endif /* NOTES_H */
