/* SPDX-License-Identifier: MIT */
/* note_outbox.h — the outbox specs' record: a "note" {_id, version, title}
 * whose saves emit note:saved {id, version, title} (a strict schema). One
 * definition for every outbox spec, so they all hold the outbox to the
 * same event. */
#ifndef SPEC_NOTE_OUTBOX_H
#define SPEC_NOTE_OUTBOX_H

#include "listenkit.h"

/* The note:saved schema: id, version and title required, nothing else. */
extern const lk_schema spec_note_saved;

/* Builds note:saved from the document as stored. A title that is missing
 * or not a string becomes null, which the schema refuses (how the specs
 * make an event that cannot be sent); LK_ERR_NOMEM when the event cannot
 * be built. */
extern const lk_outbox_event spec_note_ev;

#endif
