/* SPDX-License-Identifier: MIT */
/* redact.c — credentials in URLs become "***" (see listenkit/redact.h). */
#include "listenkit/redact.h"

#include <string.h>

/* Characters that end a userinfo candidate without an '@': the URL's
 * host/path part, or the end of the URL in prose, lists and quotes. */
static int ends_userinfo(char c)
{
    return c == '\0' || c == '/' || c == '?' || c == '#' || c == ' ' ||
           c == '\t' || c == '\n' || c == '"' || c == '\'' || c == '<' ||
           c == '>' || c == ',' || c == ';' || c == ')' || c == ']';
}

/* If a userinfo starts at `p` (just after "://"), its length up to the
 * last '@' of the authority (a password may hold an '@' of its own);
 * else 0. */
static size_t userinfo_len(const char *p)
{
    size_t n = 0, at = 0;
    for (; !ends_userinfo(p[n]); n++)
        if (p[n] == '@')
            at = n;
    return at;
}

/* Appends `n` bytes of `s` to out[*w...], never past size-1; counts the
 * full length in *w either way. */
static void put(char *out, size_t size, size_t *w, const char *s, size_t n)
{
    if (*w + 1 < size) {
        size_t room = size - 1 - *w;
        memcpy(out + *w, s, n < room ? n : room);
    }
    *w += n;
}

size_t lk_redact(const char *in, char *out, size_t size)
{
    size_t w = 0;
    const char *p = in;
    for (;;) {
        const char *scheme_end = strstr(p, "://");
        if (scheme_end == NULL)
            break;
        const char *info = scheme_end + 3;
        put(out, size, &w, p, (size_t)(info - p));
        size_t n = userinfo_len(info);
        if (n > 0) {
            const char *colon = memchr(info, ':', n);
            if (colon != NULL)
                put(out, size, &w, info, (size_t)(colon - info) + 1);
            put(out, size, &w, "***", 3);
        }
        p = info + n;
    }
    put(out, size, &w, p, strlen(p));
    if (size > 0)
        out[w < size ? w : size - 1] = '\0';
    return w;
}

int lk_redact_needed(const char *text)
{
    for (const char *p = strstr(text, "://"); p != NULL;
         p = strstr(p + 3, "://"))
        if (userinfo_len(p + 3) > 0)
            return 1;
    return 0;
}
