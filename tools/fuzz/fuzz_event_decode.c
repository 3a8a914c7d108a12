/* SPDX-License-Identifier: MIT */
/*
 * fuzz_event_decode.c — libFuzzer target: any bytes through the decoder
 * every listener sits behind, against each ticketing schema (nested,
 * strict, limits). Decoding must answer with a status and, on error, a
 * message — never crash, leak or read out of bounds. What decodes must also
 * re-encode (a publisher can send whatever a listener accepted).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/ticketing.h"

static const lk_schema *const schemas[] = {
    &ticketing_ticket_created, &ticketing_ticket_updated,
    &ticketing_order_created, &ticketing_order_cancelled};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < sizeof schemas / sizeof schemas[0]; i++) {
        json_t *event = NULL;
        lk_error err;
        lk_status s = lk_event_decode(schemas[i], data, size, &event, &err);
        if (s != LK_OK) {
            if (event != NULL || err.status != s || err.message[0] == '\0')
                abort(); /* an error must come with its message, no value */
            continue;
        }
        char *text = NULL;
        if (lk_event_encode(schemas[i], event, &text, NULL, &err) != LK_OK)
            abort(); /* accepted in, refused out: the schema disagrees */
        free(text);
        json_decref(event);
    }
    return 0;
}
