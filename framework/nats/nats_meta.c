/* SPDX-License-Identifier: MIT */
/*
 * nats_meta.c — the JetStream metadata of a delivery, read in place from
 * its reply subject.
 *
 * natsMsg_GetMetaData answers the same question with an allocated struct
 * and copies of the stream and consumer names: three allocations and
 * frees per delivery, for the three numbers an lk_msg carries. The subject
 * has one of two shapes (libnats reads both):
 *
 *   $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.
 *           <timestamp ns>.<pending>                               (v1)
 *   $JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.
 *           <stream seq>.<consumer seq>.<timestamp ns>.<pending>[.<more>]
 *                                                                   (v2)
 */
#include "nats_private.h"

#include <string.h>

#define ACK_PREFIX "$JS.ACK."
#define MAX_TOKENS 9 /* after the prefix; later ones are not read */

/* A decimal number of `len` digits; false when there are none, any other
 * byte, or more than fits. Up to 19 digits cannot overflow, so only a
 * 20th is checked. */
static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 20)
        return false;
    size_t safe = len < 19 ? len : 19;
    for (size_t i = 0; i < safe; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9)
            return false;
        v = v * 10 + d;
    }
    if (len == 20) {
        unsigned d = (unsigned)(unsigned char)s[19] - '0';
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool lk_nats_ack_meta(const char *reply, lk_nats_meta *meta)
{
    size_t plen = sizeof ACK_PREFIX - 1;
    if (reply == NULL || strncmp(reply, ACK_PREFIX, plen) != 0)
        return false;
    /* strchr per token: the stream and consumer names are long, and the
     * library's scan is wide; stop after the ninth token. */
    const char *start[MAX_TOKENS];
    size_t len[MAX_TOKENS];
    size_t n = 0;
    const char *tok = reply + plen;
    for (;;) {
        const char *dot = strchr(tok, '.');
        start[n] = tok;
        len[n] = dot != NULL ? (size_t)(dot - tok) : strlen(tok);
        n++;
        if (dot == NULL || n == MAX_TOKENS)
            break; /* the end, or v2 with more after <pending>: not read */
        tok = dot + 1;
    }
    size_t first; /* index of <delivered> */
    if (n == 7)
        first = 2;
    else if (n == MAX_TOKENS)
        first = 4;
    else
        return false;
    /* <consumer seq> and <pending> are not needed: not parsed. */
    uint64_t delivered = 0, sseq = 0, tm = 0;
    if (!parse_u64(start[first], len[first], &delivered) ||
        !parse_u64(start[first + 1], len[first + 1], &sseq) ||
        !parse_u64(start[first + 3], len[first + 3], &tm) ||
        tm > (uint64_t)INT64_MAX)
        return false;
    meta->delivered = delivered;
    meta->stream_seq = sseq;
    meta->timestamp_ns = (int64_t)tm;
    return true;
}
