/* SPDX-License-Identifier: MIT */
/*
 * nats_tls.c — TLS for the adapter's connection.
 *
 * A tls:// URL is a demand, not a hint: libnats alone would connect in
 * plaintext to a server that does not offer TLS, sending credentials and
 * events in the clear. So any tls:// entry (or a CA, client certificate or
 * key option) makes the connection secure, and a server without TLS is
 * refused with an error that says so.
 */
#include "nats_private.h"

#include <string.h>

bool lk_nats_url_wants_tls(const char *url)
{
    for (const char *p = url; *p != '\0'; p += strcspn(p, ",")) {
        p += *p == ',';
        while (*p == ' ')
            p++;
        if (strncmp(p, "tls://", 6) == 0)
            return true;
    }
    return false;
}

static lk_status tls_option(natsStatus s, const char *what, lk_error *err)
{
    if (s == NATS_OK)
        return LK_OK;
    if (s == NATS_ILLEGAL_STATE) /* libnats built without TLS */
        return lk_nats_error(err, s, 0, "connect: %s not supported here",
                             what);
    return lk_nats_error(err, s, 0, "connect: option %s", what);
}

lk_status lk_nats_tls_options(natsOptions *no, const char *url,
                              const lk_nats_opts *o, lk_error *err)
{
    bool want = lk_nats_url_wants_tls(url) || o->tls_ca_file != NULL ||
                o->tls_cert_file != NULL;
    lk_status st = LK_OK;
    if (want)
        st = tls_option(natsOptions_SetSecure(no, true), "TLS", err);
    if (st == LK_OK && o->tls_ca_file != NULL)
        st = tls_option(natsOptions_LoadCATrustedCertificates(no, o->tls_ca_file),
                        "tls_ca_file", err);
    if (st == LK_OK && o->tls_cert_file != NULL)
        st = tls_option(natsOptions_LoadCertificatesChain(no, o->tls_cert_file,
                                                          o->tls_key_file),
                        "tls_cert_file/tls_key_file", err);
    return st;
}

lk_status lk_nats_tls_error(lk_error *err, natsStatus s, const char *url)
{
    if (s == NATS_SECURE_CONNECTION_WANTED)
        return lk_error_set(err, LK_ERR_IO,
                            "connect %s: TLS required (tls:// or a TLS "
                            "option) but the server does not offer TLS; "
                            "refusing to connect in plaintext",
                            url);
    if (s == NATS_SECURE_CONNECTION_REQUIRED)
        return lk_error_set(err, LK_ERR_IO,
                            "connect %s: the server requires TLS; use a "
                            "tls:// URL",
                            url);
    /* With several entries libnats reports only that none worked; a
     * plaintext-only server among them is one way to get there. */
    if (s == NATS_NO_SERVER && lk_nats_url_wants_tls(url))
        return lk_nats_error(err, s, 0,
                             "connect %s (TLS is required for every entry: "
                             "no plaintext fallback)",
                             url);
    return lk_nats_error(err, s, 0, "connect %s", url);
}
