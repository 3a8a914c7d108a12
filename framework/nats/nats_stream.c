/* SPDX-License-Identifier: MIT */
/*
 * nats_stream.c — make sure the bus's stream captures a subject.
 *
 * Subjects are added as they are first used, so a service needs no list of
 * them up front. Several buses (replicas, other processes) may add subjects
 * to the same stream at once; an update replaces the whole subject list, so
 * two racing updates can lose one subject. Hence the loop: read the stream,
 * add what is missing, and read again until the subject is really there.
 *
 * Checks are single-flight: one thread of a bus asks the server at a time,
 * WITHOUT holding stream_mu, and threads that need the same subject
 * meanwhile wait for its answer instead of asking again. So when a cluster
 * elects a stream leader (the stream then answers nothing for a while),
 * N publishers cost one round trip, not N timeouts one after another.
 */
#include "nats_private.h"

#include <stdlib.h>
#include <string.h>

#include "listenkit/log.h"

#define ENSURE_ATTEMPTS 8
/* How long a re-check (after "no responders") waits for the stream's
 * answer: a stream that is there but electing a leader answers nothing, and
 * the publish would rather retry than wait out its whole timeout here. */
#define RECHECK_WAIT_MS 1000
#define NS_PER_MS INT64_C(1000000)

/* ---- limits --------------------------------------------------------------- */

lk_status lk_nats_limits_check(const lk_nats_stream_limits *l, lk_error *err)
{
    if (l->max_age_ms < -1 || l->max_age_ms > INT64_MAX / NS_PER_MS)
        return lk_error_set(err, LK_ERR_INVALID,
                            "connect: stream_limits.max_age_ms must be -1 "
                            "(none), 0 (default) or a positive count of ms "
                            "within int64 nanoseconds, got %lld",
                            (long long)l->max_age_ms);
    if (l->max_bytes < -1)
        return lk_error_set(err, LK_ERR_INVALID,
                            "connect: stream_limits.max_bytes must be -1 "
                            "(none), 0 (default) or positive, got %lld",
                            (long long)l->max_bytes);
    if (l->discard != LK_NATS_DISCARD_DEFAULT &&
        l->discard != LK_NATS_DISCARD_OLD && l->discard != LK_NATS_DISCARD_NEW)
        return lk_error_set(err, LK_ERR_INVALID,
                            "connect: stream_limits.discard must be one of "
                            "LK_NATS_DISCARD_*, got %d",
                            (int)l->discard);
    return LK_OK;
}

lk_nats_stream_limits lk_nats_limits_resolve(const lk_nats_stream_limits *l)
{
    lk_nats_stream_limits r = *l;
    if (r.max_age_ms == 0)
        r.max_age_ms = LK_NATS_DEFAULT_MAX_AGE_MS;
    if (r.max_bytes == 0)
        r.max_bytes = LK_NATS_DEFAULT_MAX_BYTES;
    if (r.discard == LK_NATS_DISCARD_DEFAULT)
        r.discard = LK_NATS_DISCARD_OLD;
    return r;
}

/* JetStream's spelling of "none": MaxAge 0, MaxBytes -1. */
static int64_t js_max_age(const lk_nats_stream_limits *l)
{
    return l->max_age_ms > 0 ? l->max_age_ms * NS_PER_MS : 0;
}

static int64_t js_max_bytes(const lk_nats_stream_limits *l)
{
    return l->max_bytes > 0 ? l->max_bytes : -1;
}

static jsDiscardPolicy js_discard(const lk_nats_stream_limits *l)
{
    return l->discard == LK_NATS_DISCARD_NEW ? js_DiscardNew : js_DiscardOld;
}

static void apply_limits(jsStreamConfig *cfg, const lk_nats_stream_limits *l)
{
    cfg->MaxAge = js_max_age(l);
    cfg->MaxBytes = js_max_bytes(l);
    cfg->Discard = js_discard(l);
}

static bool has_limits(const jsStreamConfig *cfg, const lk_nats_stream_limits *l)
{
    int64_t bytes = cfg->MaxBytes > 0 ? cfg->MaxBytes : -1;
    return cfg->MaxAge == js_max_age(l) && bytes == js_max_bytes(l) &&
           cfg->Discard == js_discard(l);
}

static void log_limits(const lk_nats_bus *b, const char *what)
{
    lk_log(LK_LOG_INFO,
           "nats: stream %s %s: max age %lld ms, max bytes %lld, discard %s",
           b->stream, what, (long long)b->limits.max_age_ms,
           (long long)b->limits.max_bytes,
           b->limits.discard == LK_NATS_DISCARD_NEW ? "new" : "old");
}

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

static lk_nats_captured *cache_find(lk_nats_bus *b, const char *subject)
{
    for (size_t i = 0; i < b->n_subjects; i++)
        if (strcmp(b->subjects[i].subject, subject) == 0)
            return &b->subjects[i];
    return NULL;
}

static void cache_forget(lk_nats_bus *b, const char *subject)
{
    lk_nats_captured *k = cache_find(b, subject);
    if (k != NULL) {
        free(k->subject);
        *k = b->subjects[--b->n_subjects];
    }
}

/* Notes that a check ending at `now_ms` saw the stream capture `subject`. */
static lk_status cache_set(lk_nats_bus *b, const char *subject, int64_t now_ms,
                           lk_error *err)
{
    lk_nats_captured *k = cache_find(b, subject);
    if (k != NULL) {
        k->checked_ms = now_ms;
        return LK_OK;
    }
    if (b->n_subjects == b->cap_subjects) {
        size_t cap = b->cap_subjects ? b->cap_subjects * 2 : 8;
        lk_nats_captured *grown = realloc(b->subjects, cap * sizeof *grown);
        if (grown == NULL)
            return lk_error_set(err, LK_ERR_NOMEM, "stream: out of memory");
        b->subjects = grown;
        b->cap_subjects = cap;
    }
    char *copy = strdup(subject);
    if (copy == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "stream: out of memory");
    b->subjects[b->n_subjects++] = (lk_nats_captured){copy, now_ms};
    return LK_OK;
}

void lk_nats_stream_cache_free(lk_nats_bus *b)
{
    for (size_t i = 0; i < b->n_subjects; i++)
        free(b->subjects[i].subject);
    free(b->subjects);
    b->subjects = NULL;
    b->n_subjects = b->cap_subjects = 0;
    free(b->check_subject);
    b->check_subject = NULL;
}

/* Creates the stream for `subject`. Someone else creating it meanwhile is
 * fine: the caller reads it again. */
static lk_status add_stream(lk_nats_bus *b, jsOptions *jo, const char *subject,
                            lk_error *err)
{
    jsStreamConfig cfg;
    jsErrCode jerr = 0;
    const char *subjects[1] = {subject};

    jsStreamConfig_Init(&cfg);
    cfg.Name = b->stream;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    apply_limits(&cfg, &b->limits);
    natsStatus s = js_AddStream(NULL, b->js, &cfg, jo, &jerr);
    if (s != NATS_OK && jerr != JSStreamNameExistErr)
        return lk_nats_error(err, s, jerr, "stream %s: cannot create it for %s",
                             b->stream, subject);
    if (s == NATS_OK)
        lk_log(LK_LOG_INFO, "nats: created stream %s for %s", b->stream,
               subject);
    if (s == NATS_OK)
        log_limits(b, "created with limits");
    return LK_OK;
}

/* Updates the stream to the bus's limits and, unless NULL, adds `subject`. */
static lk_status update_stream(lk_nats_bus *b, jsOptions *jo,
                               jsStreamInfo *si, const char *subject,
                               lk_error *err)
{
    jsStreamConfig *cfg = si->Config;
    int n = cfg->SubjectsLen;
    apply_limits(cfg, &b->limits);
    if (subject == NULL) {
        jsErrCode jerr = 0;
        natsStatus s = js_UpdateStream(NULL, b->js, cfg, jo, &jerr);
        if (s != NATS_OK)
            return lk_nats_error(err, s, jerr,
                                 "stream %s: cannot set its limits", b->stream);
        log_limits(b, "limits updated");
        b->limits_checked = true; /* however the server spells them back */
        return LK_OK;
    }
    const char **subjects = malloc(((size_t)n + 1) * sizeof *subjects);
    if (subjects == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "stream %s: out of memory",
                            b->stream);
    for (int i = 0; i < n; i++)
        subjects[i] = cfg->Subjects[i];
    subjects[n] = subject;

    /* Update with the server's own config: only the subject list and the
     * limits changed; the original list is put back so
     * jsStreamInfo_Destroy frees it. */
    const char **saved = cfg->Subjects;
    cfg->Subjects = subjects;
    cfg->SubjectsLen = n + 1;
    jsErrCode jerr = 0;
    natsStatus s = js_UpdateStream(NULL, b->js, cfg, jo, &jerr);
    cfg->Subjects = saved;
    cfg->SubjectsLen = n;
    free(subjects);
    if (s != NATS_OK)
        return lk_nats_error(err, s, jerr, "stream %s: cannot add subject %s",
                             b->stream, subject);
    lk_log(LK_LOG_INFO, "nats: stream %s now captures %s", b->stream, subject);
    b->limits_checked = true;
    return LK_OK;
}

/* One round: true in *done when the stream captures `subject`. */
static lk_status ensure_once(lk_nats_bus *b, jsOptions *jo,
                             const char *subject, bool *done, lk_error *err)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, b->js, b->stream, jo, &jerr);

    *done = false;
    if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr)
        return add_stream(b, jo, subject, err); /* *done next round */
    if (s != NATS_OK)
        return lk_nats_error(err, s, jerr, "stream %s: cannot read it",
                             b->stream);
    lk_status st = LK_OK;
    if (!config_captures(si->Config, subject))
        st = update_stream(b, jo, si, subject, err); /* *done next round */
    else if (!b->limits_checked && !has_limits(si->Config, &b->limits))
        st = update_stream(b, jo, si, NULL, err);
    else
        *done = b->limits_checked = true;
    jsStreamInfo_Destroy(si);
    return st;
}

/* The rounds of one check, asked of the server by this thread alone (the
 * caller set b->checking); a re-check waits less for each answer. */
static lk_status run_check(lk_nats_bus *b, const char *subject, bool recheck,
                           lk_error *err)
{
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = b->publish_timeout_ms;
    if (recheck && jo.Wait > RECHECK_WAIT_MS)
        jo.Wait = RECHECK_WAIT_MS;
    lk_status st = LK_OK;
    bool done = false;
    for (int i = 0; st == LK_OK && !done && i < ENSURE_ATTEMPTS; i++)
        st = ensure_once(b, &jo, subject, &done, err);
    if (st == LK_OK && !done)
        st = lk_error_set(err, LK_ERR_IO,
                          "stream %s: subject %s still missing after %d "
                          "attempts (concurrent stream updates?)",
                          b->stream, subject, ENSURE_ATTEMPTS);
    return st;
}

lk_status lk_nats_stream_check(lk_nats_bus *b, const char *subject,
                               int64_t failed_ms, lk_error *err)
{
    lk_status st = LK_OK;
    lk_error e = {0};

    pthread_mutex_lock(&b->stream_mu);
    for (;;) {
        lk_nats_captured *k = cache_find(b, subject);
        if (k != NULL && k->checked_ms >= failed_ms)
            goto out; /* known, and not older than the failure */
        if (!b->checking)
            break;
        /* Another thread is asking the server: wait for it. When it asked
         * for this subject, its answer is ours too, failure included (a
         * stream electing a leader would time us out just the same). */
        uint64_t seen = b->checks_done;
        while (b->checks_done == seen)
            pthread_cond_wait(&b->stream_cond, &b->stream_mu);
        if (b->check_subject != NULL &&
            strcmp(b->check_subject, subject) == 0) {
            st = b->check_error.status;
            if (st != LK_OK && err != NULL)
                *err = b->check_error;
            goto out;
        }
    }
    b->checking = true;
    pthread_mutex_unlock(&b->stream_mu);

    st = run_check(b, subject, failed_ms >= 0, &e);

    pthread_mutex_lock(&b->stream_mu);
    if (st == LK_OK)
        st = cache_set(b, subject, lk_nats_now_ms(), &e);
    else if (st != LK_ERR_TIMEOUT)
        cache_forget(b, subject);
    /* A timeout keeps what was known: a stream that does not answer is
     * more likely electing a leader than gone; publishes retry. */
    free(b->check_subject);
    b->check_subject = strdup(subject); /* NULL: waiters ask themselves */
    e.status = st;
    b->check_error = e;
    b->checking = false;
    b->checks_done++;
    pthread_cond_broadcast(&b->stream_cond);
    if (st != LK_OK && err != NULL)
        *err = e;
out:
    pthread_mutex_unlock(&b->stream_mu);
    return st;
}

lk_status lk_nats_stream_ensure(lk_nats_bus *b, const char *subject,
                                bool forget, lk_error *err)
{
    return lk_nats_stream_check(b, subject, forget ? lk_nats_now_ms() : -1,
                                err);
}
