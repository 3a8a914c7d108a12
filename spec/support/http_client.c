/* SPDX-License-Identifier: MIT */
/* http_client.c — a small HTTP client for specs (see http_client.h). */
#include "http_client.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

static size_t collect(char *data, size_t size, size_t n, void *closure)
{
    reply *r = closure;
    size_t len = size * n;
    size_t room = sizeof r->body - 1 - r->len;
    memcpy(r->body + r->len, data, len < room ? len : room);
    r->len += len < room ? len : room;
    r->body[r->len] = '\0';
    return len;
}

bool perform(const request *rq, reply *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *headers = NULL;
    char auth[1024];
    memset(r, 0, sizeof *r);
    if (c == NULL)
        return false;
    curl_easy_setopt(c, CURLOPT_URL, rq->url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    if (rq->token != NULL) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", rq->token);
        headers = curl_slist_append(headers, auth);
    }
    if (rq->chunked)
        headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (rq->body != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
    CURLcode rc = curl_easy_perform(c);
    char *ct = NULL;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
        if (ct != NULL)
            snprintf(r->content_type, sizeof r->content_type, "%s", ct);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    return rc == CURLE_OK;
}

