/*
 * nats_stream.c — make sure the bus's stream captures a subject.
 *
 * Subjects are added as they are first used, so a service needs no list of
 * them up front. Several buses (replicas, other processes) may add subjects
 * to the same stream at once; an update replaces the whole subject list, so
 * two racing updates can lose one subject. Hence the loop: read the stream,
 * add what is missing, and read again until the subject is really there.
 */
#include "nats_private.h"

#include <stdlib.h>
#include <string.h>

#include "listenkit/log.h"

#define ENSURE_ATTEMPTS 8

/* NATS subject matching: `*` matches one token, `>` the rest (>= 1). */
static bool subject_matches(const char *pattern, const char *subject)
{
    const char *p = pattern, *s = subject;
    for (;;) {
        size_t pl = strcspn(p, "."), sl = strcspn(s, ".");
        if (pl == 1 && p[0] == '>')
            return sl > 0;
        if (!(pl == 1 && p[0] == '*') && (pl != sl || strncmp(p, s, pl) != 0))
            return false;
        p += pl;
        s += sl;
        if (*p == '\0' || *s == '\0')
            return *p == '\0' && *s == '\0';
        p++;
        s++;
    }
}

/* A stream made without subjects listens on its own name, and the server
 * then lists that name as its subject: the list says it all. */
static bool config_captures(const jsStreamConfig *cfg, const char *subject)
{
    for (int i = 0; i < cfg->SubjectsLen; i++)
        if (cfg->Subjects[i] != NULL && subject_matches(cfg->Subjects[i], subject))
            return true;
    return false;
}

static bool cache_has(const lk_nats_bus *b, const char *subject)
{
    for (size_t i = 0; i < b->n_subjects; i++)
        if (strcmp(b->subjects[i], subject) == 0)
            return true;
    return false;
}

static void cache_forget(lk_nats_bus *b, const char *subject)
{
    for (size_t i = 0; i < b->n_subjects; i++) {
        if (strcmp(b->subjects[i], subject) == 0) {
            free(b->subjects[i]);
            b->subjects[i] = b->subjects[--b->n_subjects];
            return;
        }
    }
}

static lk_status cache_add(lk_nats_bus *b, const char *subject, lk_error *err)
{
    if (b->n_subjects == b->cap_subjects) {
        size_t cap = b->cap_subjects ? b->cap_subjects * 2 : 8;
        char **grown = realloc(b->subjects, cap * sizeof *grown);
        if (grown == NULL)
            return lk_error_set(err, LK_ERR_NOMEM, "stream: out of memory");
        b->subjects = grown;
        b->cap_subjects = cap;
    }
    char *copy = strdup(subject);
    if (copy == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "stream: out of memory");
    b->subjects[b->n_subjects++] = copy;
    return LK_OK;
}

void lk_nats_stream_cache_free(lk_nats_bus *b)
{
    for (size_t i = 0; i < b->n_subjects; i++)
        free(b->subjects[i]);
    free(b->subjects);
    b->subjects = NULL;
    b->n_subjects = b->cap_subjects = 0;
}

/* Creates the stream for `subject`. Someone else creating it meanwhile is
 * fine: the caller reads it again. */
static lk_status add_stream(lk_nats_bus *b, const char *subject, lk_error *err)
{
    jsStreamConfig cfg;
    jsErrCode jerr = 0;
    const char *subjects[1] = {subject};

    jsStreamConfig_Init(&cfg);
    cfg.Name = b->stream;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    natsStatus s = js_AddStream(NULL, b->js, &cfg, NULL, &jerr);
    if (s != NATS_OK && jerr != JSStreamNameExistErr)
        return lk_nats_error(err, s, jerr, "stream %s: cannot create it for %s",
                             b->stream, subject);
    if (s == NATS_OK)
        lk_log(LK_LOG_INFO, "nats: created stream %s for %s", b->stream,
               subject);
    return LK_OK;
}

static lk_status add_subject(lk_nats_bus *b, jsStreamInfo *si,
                             const char *subject, lk_error *err)
{
    jsStreamConfig *cfg = si->Config;
    int n = cfg->SubjectsLen;
    const char **subjects = malloc(((size_t)n + 1) * sizeof *subjects);
    if (subjects == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "stream %s: out of memory",
                            b->stream);
    for (int i = 0; i < n; i++)
        subjects[i] = cfg->Subjects[i];
    subjects[n] = subject;

    /* Update with the server's own config, only the subject list changed;
     * the original list is put back so jsStreamInfo_Destroy frees it. */
    const char **saved = cfg->Subjects;
    cfg->Subjects = subjects;
    cfg->SubjectsLen = n + 1;
    jsErrCode jerr = 0;
    natsStatus s = js_UpdateStream(NULL, b->js, cfg, NULL, &jerr);
    cfg->Subjects = saved;
    cfg->SubjectsLen = n;
    free(subjects);
    if (s != NATS_OK)
        return lk_nats_error(err, s, jerr, "stream %s: cannot add subject %s",
                             b->stream, subject);
    lk_log(LK_LOG_INFO, "nats: stream %s now captures %s", b->stream, subject);
    return LK_OK;
}

/* One round: true in *done when the stream captures `subject`. */
static lk_status ensure_once(lk_nats_bus *b, const char *subject, bool *done,
                             lk_error *err)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, b->js, b->stream, NULL, &jerr);

    *done = false;
    if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr)
        return add_stream(b, subject, err); /* *done next round */
    if (s != NATS_OK)
        return lk_nats_error(err, s, jerr, "stream %s: cannot read it",
                             b->stream);
    lk_status st = LK_OK;
    if (config_captures(si->Config, subject))
        *done = true;
    else
        st = add_subject(b, si, subject, err);
    jsStreamInfo_Destroy(si);
    return st;
}

lk_status lk_nats_stream_ensure(lk_nats_bus *b, const char *subject,
                                bool forget, lk_error *err)
{
    lk_status st = LK_OK;
    bool done = false;

    pthread_mutex_lock(&b->stream_mu);
    if (forget)
        cache_forget(b, subject);
    done = cache_has(b, subject);
    for (int i = 0; st == LK_OK && !done && i < ENSURE_ATTEMPTS; i++)
        st = ensure_once(b, subject, &done, err);
    if (st == LK_OK && !done)
        st = lk_error_set(err, LK_ERR_IO,
                          "stream %s: subject %s still missing after %d "
                          "attempts (concurrent stream updates?)",
                          b->stream, subject, ENSURE_ATTEMPTS);
    if (st == LK_OK && !cache_has(b, subject))
        st = cache_add(b, subject, err);
    pthread_mutex_unlock(&b->stream_mu);
    return st;
}
