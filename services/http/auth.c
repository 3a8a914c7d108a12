/* SPDX-License-Identifier: MIT */
/* auth.c — the course's currentUser: an HS256 JWT {id, email} (libjwt). */
#include "http/http.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <jwt.h>

/* The token after "Bearer " (case-insensitive scheme, as RFC 6750 allows),
 * or NULL. */
static const char *bearer_token(const char *authorization)
{
    if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7) != 0)
        return NULL;
    const char *t = authorization + 7;
    while (*t == ' ')
        t++;
    return *t != '\0' ? t : NULL;
}

static lk_status copy_claim(jwt_t *jwt, const char *name, char *buf,
                            size_t size, lk_error *err)
{
    const char *v = jwt_get_grant(jwt, name);
    size_t len = v != NULL ? strnlen(v, size) : 0;
    if (len == 0 || len >= size)
        return lk_error_set(err, LK_ERR_FORBIDDEN,
                            "token: claim \"%s\" is missing, empty or longer "
                            "than %zu bytes",
                            name, size - 1);
    memcpy(buf, v, len + 1);
    return LK_OK;
}

lk_status ticketing_http_user_from_bearer(const char *authorization,
                                          const unsigned char *key,
                                          size_t key_len, ticketing_user *out,
                                          lk_error *err)
{
    jwt_t *jwt = NULL;
    if (out == NULL || key == NULL || key_len == 0 || key_len > INT32_MAX)
        return lk_error_set(err, LK_ERR_INVALID,
                            "token: out and a key are required");
    memset(out, 0, sizeof *out);
    const char *token = bearer_token(authorization);
    if (token == NULL)
        return lk_error_set(err, LK_ERR_FORBIDDEN,
                            "token: no \"Authorization: Bearer\" header");
    /* jwt_decode verifies the signature with the key; the algorithm is
     * checked after, so a token signed another way ("none", RS256 with our
     * secret as a public key) never passes. */
    if (jwt_decode(&jwt, token, key, (int)key_len) != 0 || jwt == NULL)
        return lk_error_set(err, LK_ERR_FORBIDDEN,
                            "token: not a valid signed JWT");
    lk_status s = jwt_get_alg(jwt) == JWT_ALG_HS256
                      ? LK_OK
                      : lk_error_set(err, LK_ERR_FORBIDDEN,
                                     "token: algorithm is not HS256");
    if (s == LK_OK)
        s = copy_claim(jwt, "id", out->id, sizeof out->id, err);
    if (s == LK_OK)
        s = copy_claim(jwt, "email", out->email, sizeof out->email, err);
    if (s != LK_OK)
        memset(out, 0, sizeof *out);
    jwt_free(jwt);
    return s;
}

char *ticketing_http_sign_user(const ticketing_user *user,
                               const unsigned char *key, size_t key_len)
{
    jwt_t *jwt = NULL;
    char *token = NULL;
    if (user == NULL || key == NULL || key_len == 0 || key_len > INT32_MAX ||
        jwt_new(&jwt) != 0)
        return NULL;
    if (jwt_add_grant(jwt, "id", user->id) == 0 &&
        jwt_add_grant(jwt, "email", user->email) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_HS256, key, (int)key_len) == 0)
        token = jwt_encode_str(jwt);
    jwt_free(jwt);
    return token;
}
