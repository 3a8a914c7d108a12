#!/usr/bin/env bash
# install_spec.sh — what a user of the installed library relies on:
#   1. after `make install PREFIX=<tmp>`, a small program built with
#      `pkg-config --cflags --libs listenkit` compiles, links and runs;
#   2. so do programs built with `listenkit-mocks` (the doubles),
#      `listenkit-nats` (the adapter) and `listenkit-pg` (the store)
#      alone: each module brings everything its static library needs;
#   3. `make uninstall` with the same PREFIX leaves no listenkit file behind.
# It builds into its own BUILD dir under the temporary prefix, so it never
# disturbs the build that is running it.
set -u
cd "$(dirname "$0")/../.." || exit 1

# Run from `make test SAN=1`, the outer make's variables arrive through
# MAKEFLAGS; a user's install is the plain flavour, so drop them.
unset MAKEFLAGS MFLAGS MAKELEVEL
flavour=(SAN= COV= OPT=)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
pass() { echo "[       OK ] $1"; passed=$((passed + 1)); }
fail() { echo "[  FAILED  ] $1: $2"; failed=$((failed + 1)); }

echo "[==========] Running 6 test(s)."

# ---- 1: install, then build and run a program against the prefix ----------
# The program touches the event and the store helpers: the library is static,
# so everything those objects need must come from pkg-config --libs.
echo "[ RUN      ] installed_library_builds_and_runs_a_program"
cat >"$tmp/demo.c" <<'C'
#include <listenkit.h>
#include <stdio.h>
static const lk_field fields[] = {
    {.name = "id", .type = LK_FIELD_STRING, .required = true}, LK_FIELD_END};
static const lk_schema demo = {.subject = "demo:event", .fields = fields};
int main(void) {
    json_t *v = NULL;
    lk_status s = lk_event_decode(&demo, "{\"id\":\"x1\"}", 11, &v, NULL);
    bson_t *doc = BCON_NEW("version", BCON_DOUBLE(3.0));
    int64_t version = 0;
    lk_status b = lk_bson_get_int64(doc, "version", &version, NULL);
    printf("%s %s %s %s %lld\n", lk_version(), lk_status_name(s),
           lk_event_string(v, "id"), lk_status_name(b), (long long)version);
    json_decref(v);
    bson_destroy(doc);
    return s != LK_OK || b != LK_OK;
}
C
want="$(sed -n 's/.*LK_VERSION_STRING "\(.*\)"/\1/p' framework/include/listenkit/version.h) OK x1 OK 3"
if ! make -s install "${flavour[@]}" PREFIX="$tmp/prefix" BUILD="$tmp/build" >"$tmp/install.log" 2>&1; then
    fail installed_library_builds_and_runs_a_program "make install failed: $(tail -n 20 "$tmp/install.log")"
elif ! flags=$(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs listenkit 2>&1); then
    fail installed_library_builds_and_runs_a_program "pkg-config: $flags"
elif ! out=$(cc -std=c11 -Wall -Werror -o "$tmp/demo" "$tmp/demo.c" $flags 2>&1); then
    fail installed_library_builds_and_runs_a_program "compile/link with '$flags' failed: $out"
elif ! got=$("$tmp/demo" 2>&1) || [ "$got" != "$want" ]; then
    fail installed_library_builds_and_runs_a_program "program printed '$got', expected '$want'"
elif [ ! -f "$tmp/prefix/include/listenkit.h" ] || [ ! -f "$tmp/prefix/include/listenkit/event.h" ] ||
     [ ! -f "$tmp/prefix/lib/liblistenkit.a" ]; then
    fail installed_library_builds_and_runs_a_program "headers or library missing under the prefix"
elif private=$(find "$tmp/prefix/include" -name '*-private.h') && [ -n "$private" ]; then
    fail installed_library_builds_and_runs_a_program "private headers installed: $private"
else
    pass installed_library_builds_and_runs_a_program
fi

# ---- 2: each further module links on its own --------------------------------
# module, test name, program, expected output
build_and_run() {
    local module=$1 name=$2 src=$3 want=$4 flags out got
    echo "[ RUN      ] $name"
    printf '%s\n' "$src" >"$tmp/$module.c"
    if ! flags=$(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs "$module" 2>&1); then
        fail "$name" "pkg-config $module: $flags"
    elif ! out=$(cc -std=c11 -Wall -Werror -D_POSIX_C_SOURCE=200809L -o "$tmp/$module" "$tmp/$module.c" $flags 2>&1); then
        fail "$name" "compile/link with '$flags' failed: $out"
    elif ! got=$("$tmp/$module" 2>&1) || [ "$got" != "$want" ]; then
        fail "$name" "program printed '$got', expected '$want'"
    else
        pass "$name"
    fi
}

build_and_run listenkit-mocks installed_doubles_build_and_run_a_program '
#include <listenkit.h>
#include <fake_nats.h>
#include <mem_store.h>
#include <stdio.h>
int main(void) {
    lk_store *store = lk_mem_store_new();
    lk_collection *c = NULL;
    lk_store_collection(store, "t", NULL, &c, NULL);
    bson_t *doc = BCON_NEW("price", BCON_DOUBLE(10.5));
    lk_collection_insert(c, doc, NULL, NULL);
    bson_t *filter = BCON_NEW("price", "{", "$gt", BCON_INT32(10), "}");
    int64_t n = 0;
    lk_status s = lk_collection_count(c, filter, &n, NULL);
    lk_fake_nats *nats = lk_fake_nats_new();
    lk_status p = lk_bus_publish(lk_fake_nats_bus(nats), "a:b", "{}", 2, NULL, NULL);
    printf("%s %lld %s %zu\n", lk_status_name(s), (long long)n, lk_status_name(p),
           lk_fake_nats_published_count(nats));
    lk_fake_nats_free(nats);
    bson_destroy(filter);
    bson_destroy(doc);
    lk_store_free(store);
    return 0;
}' "OK 1 OK 1"

build_and_run listenkit-nats installed_nats_adapter_builds_and_reports_a_refused_connection '
#include <listenkit.h>
#include <listenkit/nats.h>
#include <nats/nats.h>
#include <stdio.h>
int main(void) {
    lk_bus *bus = NULL;
    lk_error err;
    lk_nats_opts o = {.reconnect_attempts = 0};
    lk_status s = lk_nats_bus_connect(&bus, "nats://127.0.0.1:1", &o, &err);
    printf("%s %d\n", lk_status_name(s), bus == NULL);
    nats_Close();
    return 0;
}' "ERR_IO 1"

build_and_run listenkit-pg installed_pg_store_builds_and_reports_a_refused_connection '
#include <listenkit.h>
#include <listenkit/pg.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    lk_store *store = NULL;
    lk_error err;
    lk_status s = lk_pg_store_connect(&store, "postgresql://u:pw@127.0.0.1:1/db", NULL, &err);
    printf("%s %d %d\n", lk_status_name(s), store == NULL, strstr(err.message, "127.0.0.1:1") != NULL);
    return 0;
}' "ERR_IO 1 1"

# ---- 3: uninstall removes it all -------------------------------------------
echo "[ RUN      ] uninstall_removes_every_installed_file"
if ! make -s uninstall "${flavour[@]}" PREFIX="$tmp/prefix" BUILD="$tmp/build" >"$tmp/uninstall.log" 2>&1; then
    fail uninstall_removes_every_installed_file "make uninstall failed: $(tail -n 20 "$tmp/uninstall.log")"
else
    left=$(find "$tmp/prefix" -type f 2>/dev/null)
    if [ -n "$left" ]; then
        fail uninstall_removes_every_installed_file "left behind: $left"
    else
        pass uninstall_removes_every_installed_file
    fi
fi

# ---- 4: DESTDIR stages the install without changing the paths in .pc -------
echo "[ RUN      ] destdir_stages_the_install_for_packagers"
stage="$tmp/stage"
if ! make -s install "${flavour[@]}" DESTDIR="$stage" PREFIX=/opt/lk BUILD="$tmp/build" >"$tmp/stage.log" 2>&1; then
    fail destdir_stages_the_install_for_packagers "make install DESTDIR failed: $(tail -n 20 "$tmp/stage.log")"
elif [ ! -f "$stage/opt/lk/lib/liblistenkit.a" ] || [ ! -f "$stage/opt/lk/include/listenkit/listener.h" ]; then
    fail destdir_stages_the_install_for_packagers "nothing under $stage/opt/lk"
elif ! grep -qx 'prefix=/opt/lk' "$stage/opt/lk/lib/pkgconfig/listenkit.pc"; then
    fail destdir_stages_the_install_for_packagers "listenkit.pc does not say prefix=/opt/lk"
else
    pass destdir_stages_the_install_for_packagers
fi

echo "[==========] $((passed + failed)) test(s) run."
[ "$passed" -gt 0 ] && echo "[  PASSED  ] $passed test(s)."
if [ "$failed" -gt 0 ]; then
    echo "[  FAILED  ] $failed test(s)"
    exit 1
fi
exit 0
