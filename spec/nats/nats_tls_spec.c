/* SPDX-License-Identifier: MIT */
/*
 * nats_tls_spec.c — a tls:// URL is a demand: against a server without TLS
 * the connect fails, saying so, instead of going on in plaintext; the
 * client certificate and key options are checked like every other file
 * option, and work against a server that verifies clients (certificates
 * made by the openssl command for each run).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "listenkit.h"
#include "listenkit/nats.h"
#include "nats_server.h"

static spec_nats_server server;

static int group_setup(void **state)
{
    return spec_nats_group_setup(state, &server);
}

static int group_teardown(void **state)
{
    return spec_nats_group_teardown(state, &server);
}

/* server.url with its scheme swapped for tls:// */
static void tls_url(char *buf, size_t size)
{
    const char *rest = strstr(server.url, "://");
    snprintf(buf, size, "tls%s", rest != NULL ? rest : "://127.0.0.1:4222");
}

static void test_a_tls_url_against_a_server_without_tls_fails_saying_so(void **state)
{
    (void)state;
    char url[300];
    lk_error err = {0};
    lk_bus *bus = NULL;
    spec_nats_server_require(&server);
    tls_url(url, sizeof url);
    lk_status s = lk_nats_bus_connect(&bus, url, NULL, &err);
    if (s == LK_OK) {
        lk_bus_free(bus);
        fail_msg("%s connected in plaintext", url);
    }
    assert_int_equal(s, LK_ERR_IO);
    assert_null(bus);
    assert_non_null(strstr(err.message, url));
    assert_non_null(strstr(err.message, "TLS required"));
    assert_non_null(strstr(err.message, "plaintext"));
}

/* One tls:// entry in a list is enough: no entry is tried in plaintext. */
static void test_one_tls_entry_makes_the_whole_list_require_tls(void **state)
{
    (void)state;
    char url[600], tls[300];
    lk_error err = {0};
    lk_bus *bus = NULL;
    spec_nats_server_require(&server);
    tls_url(tls, sizeof tls);
    snprintf(url, sizeof url, "%s,%s", server.url, tls);
    lk_status s = lk_nats_bus_connect(&bus, url, NULL, &err);
    lk_bus_free(bus);
    assert_int_equal(s, LK_ERR_IO);
    /* the list reaches the plaintext server, which is refused as such */
    assert_non_null(strstr(err.message, "refusing to connect in plaintext"));
}

static void test_a_nats_url_still_connects_in_plaintext(void **state)
{
    (void)state;
    lk_error err = {0};
    lk_bus *bus = NULL;
    spec_nats_server_require(&server);
    lk_status s = lk_nats_bus_connect(&bus, server.url, NULL, &err);
    lk_bus_free(bus);
    assert_int_equal(s, LK_OK);
}

static void test_a_client_certificate_needs_its_key_and_the_other_way_round(void **state)
{
    (void)state;
    lk_error err = {0};
    lk_bus *bus = NULL;
    lk_nats_opts opts = {.tls_cert_file = "/etc/hostname"};
    assert_int_equal(lk_nats_bus_connect(&bus, "tls://127.0.0.1:1", &opts, &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "tls_cert_file and tls_key_file go together"));
    opts = (lk_nats_opts){.tls_key_file = "/etc/hostname"};
    assert_int_equal(lk_nats_bus_connect(&bus, "tls://127.0.0.1:1", &opts, &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "got tls_key_file without tls_cert_file"));
}

static void test_unreadable_certificate_or_key_files_are_named(void **state)
{
    (void)state;
    lk_error err = {0};
    lk_bus *bus = NULL;
    lk_nats_opts opts = {.tls_cert_file = "/nonexistent/client.pem",
                         .tls_key_file = "/etc/hostname"};
    assert_int_equal(lk_nats_bus_connect(&bus, "tls://127.0.0.1:1", &opts, &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "tls_cert_file \"/nonexistent/client.pem\""));
    opts = (lk_nats_opts){.tls_cert_file = "/etc/hostname",
                          .tls_key_file = "/nonexistent/client.key"};
    assert_int_equal(lk_nats_bus_connect(&bus, "tls://127.0.0.1:1", &opts, &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "tls_key_file \"/nonexistent/client.key\""));
}

static void test_a_certificate_file_that_is_not_one_fails_naming_the_options(void **state)
{
    (void)state;
    char path[] = "/tmp/lk-tls-spec-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not a certificate\n", 18), 18);
    close(fd);
    lk_error err = {0};
    lk_bus *bus = NULL;
    lk_nats_opts opts = {.tls_cert_file = path, .tls_key_file = path};
    lk_status s = lk_nats_bus_connect(&bus, "tls://127.0.0.1:1", &opts, &err);
    unlink(path);
    assert_true(s == LK_ERR_IO || s == LK_ERR_INVALID || s == LK_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "tls_cert_file/tls_key_file"));
}

/* ---- a server that speaks TLS ------------------------------------------------ */

/* A CA, a server certificate for 127.0.0.1 and a client certificate, all
 * signed by that CA, made with the openssl command into `dir`. */
static bool make_certs(const char *dir)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "set -e; cd '%s'; exec >openssl.log 2>&1; "
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
             "  -subj /CN=listenkit-spec-ca -keyout ca.key -out ca.pem; "
             "printf 'subjectAltName=IP:127.0.0.1\\n' >server.ext; "
             "printf 'extendedKeyUsage=clientAuth\\n' >client.ext; "
             "for who in server client; do "
             "  openssl req -newkey rsa:2048 -nodes -subj /CN=$who "
             "    -keyout $who.key -out $who.csr; "
             "  openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key "
             "    -CAcreateserial -days 2 -extfile $who.ext -out $who.pem; "
             "done",
             dir);
    return system(cmd) == 0;
}

typedef struct tls_setup {
    char dir[128];
    char file[6][192]; /* ca.pem server.pem server.key client.pem client.key */
    spec_nats_server srv;
    char url[300];
} tls_setup;

static void remove_certs(tls_setup *t)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
    if (t->dir[0] != '\0' && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", t->dir);
}

/* Certificates, then a TLS server (clients verified when `verify`). */
static void start_tls_server(tls_setup *t, bool verify)
{
    static const char *const names[] = {"ca.pem", "server.pem", "server.key",
                                        "client.pem", "client.key"};
    char dir[sizeof t->dir] = "/tmp/lk-tls-spec-XXXXXX";
    assert_non_null(mkdtemp(dir));
    memcpy(t->dir, dir, sizeof dir);
    for (int i = 0; i < 5; i++)
        snprintf(t->file[i], sizeof t->file[i], "%s/%s", dir, names[i]);
    if (!make_certs(t->dir)) {
        remove_certs(t);
        fail_msg("openssl could not make the spec's certificates (see "
                 "tools/deps.sh: openssl)");
    }
    spec_nats_server_spawn_tls(&t->srv, t->file[1], t->file[2], t->file[0],
                               verify);
    if (!t->srv.ok)
        remove_certs(t);
    spec_nats_server_require(&t->srv);
    snprintf(t->url, sizeof t->url, "tls://127.0.0.1:%d", t->srv.port);
}

static void stop_tls_server(tls_setup *t)
{
    spec_nats_server_stop(&t->srv);
    remove_certs(t);
}

static void test_a_tls_url_with_the_ca_connects_and_publishes(void **state)
{
    (void)state;
    tls_setup *t = calloc(1, sizeof *t);
    assert_non_null(t);
    lk_error err = {0};
    lk_bus *bus = NULL;
    start_tls_server(t, false);
    lk_nats_opts opts = {.tls_ca_file = t->file[0]};
    lk_status s = lk_nats_bus_connect(&bus, t->url, &opts, &err);
    lk_status p = s == LK_OK ? lk_bus_publish(bus, "tls.spec", "1", 1, NULL, &err)
                             : s;
    lk_bus_free(bus);
    stop_tls_server(t);
    free(t);
    if (s != LK_OK || p != LK_OK)
        fail_msg("%s", err.message);
}

static void test_a_server_that_verifies_clients_needs_the_client_certificate(void **state)
{
    (void)state;
    tls_setup *t = calloc(1, sizeof *t);
    assert_non_null(t);
    lk_error without = {0}, with = {0};
    lk_bus *bus = NULL;
    start_tls_server(t, true);
    lk_nats_opts opts = {.tls_ca_file = t->file[0]};
    lk_status refused = lk_nats_bus_connect(&bus, t->url, &opts, &without);
    lk_bus_free(bus);
    bus = NULL;
    opts.tls_cert_file = t->file[3];
    opts.tls_key_file = t->file[4];
    lk_status s = lk_nats_bus_connect(&bus, t->url, &opts, &with);
    lk_status p = s == LK_OK ? lk_bus_publish(bus, "tls.spec", "1", 1, NULL, &with)
                             : s;
    lk_bus_free(bus);
    stop_tls_server(t);
    free(t);
    assert_int_equal(refused, LK_ERR_IO);
    if (s != LK_OK || p != LK_OK)
        fail_msg("with the client certificate: %s", with.message);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_tls_url_against_a_server_without_tls_fails_saying_so),
        cmocka_unit_test(test_one_tls_entry_makes_the_whole_list_require_tls),
        cmocka_unit_test(test_a_nats_url_still_connects_in_plaintext),
        cmocka_unit_test(test_a_client_certificate_needs_its_key_and_the_other_way_round),
        cmocka_unit_test(test_unreadable_certificate_or_key_files_are_named),
        cmocka_unit_test(test_a_certificate_file_that_is_not_one_fails_naming_the_options),
        cmocka_unit_test(test_a_tls_url_with_the_ca_connects_and_publishes),
        cmocka_unit_test(test_a_server_that_verifies_clients_needs_the_client_certificate),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
