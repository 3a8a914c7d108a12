#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
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

echo "[==========] Running 10 test(s)."

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
elif ! out=$(cc -std=c11 -Wall -Werror -o "$tmp/demo" "$tmp/demo.c" $flags -Wl,-rpath,"$tmp/prefix/lib" 2>&1); then
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
    if ! flags=$(PKG_CONFIG_PATH="${prefix:-$tmp/prefix}/lib/pkgconfig" pkg-config --cflags --libs "$module" 2>&1); then
        fail "$name" "pkg-config $module: $flags"
    elif ! out=$(cc -std=c11 -Wall -Werror -D_POSIX_C_SOURCE=200809L -o "$tmp/$module" "$tmp/$module.c" $flags -Wl,-rpath,"${prefix:-$tmp/prefix}/lib" 2>&1); then
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

# ---- 5: shared libraries beside the static ones, optimized --------------------
echo "[ RUN      ] shared_libraries_have_a_versioned_soname_and_are_optimized"
major=${want%%.*}
bad=
for pc in listenkit listenkit-mocks listenkit-nats listenkit-pg; do
    so="$stage/opt/lk/lib/lib$pc.so.${want%% *}"
    if [ ! -f "$so" ] || [ ! -f "$stage/opt/lk/lib/lib$pc.a" ] || [ ! -L "$stage/opt/lk/lib/lib$pc.so" ]; then
        bad="$bad; lib$pc: .a, .so.${want%% *} or .so link missing"
    elif ! readelf -d "$so" | grep -q "SONAME.*\[lib$pc\.so\.$major\]"; then
        bad="$bad; $so: soname is not lib$pc.so.$major"
    fi
done
if [ -z "$bad" ] && ! readelf --debug-dump=info "$stage/opt/lk/lib/liblistenkit.so.${want%% *}" 2>/dev/null |
        grep -m1 DW_AT_producer | grep -q -- '-O2'; then
    bad="the installed core was not built with -O2"
fi
if [ -n "$bad" ]; then fail shared_libraries_have_a_versioned_soname_and_are_optimized "$bad"
else pass shared_libraries_have_a_versioned_soname_and_are_optimized; fi

# ---- 6, 7: without libnats (and libpq), the core and the doubles install -------
# PKG_CONFIG_LIBDIR narrows pkg-config to the modules linked into $pcdir.
pc_only() { # dir module...: a pkg-config search path holding only those
    local dir=$1 m; shift; mkdir -p "$dir"
    for m in "$@"; do ln -sf "$(pkg-config --variable pcfiledir "$m")/$m.pc" "$dir/"; done
}
pc_only "$tmp/pc-core" jansson libbson-1.0 cmocka
echo "[ RUN      ] install_without_libnats_installs_the_core_and_the_doubles"
if ! PKG_CONFIG_LIBDIR="$tmp/pc-core" make -s install "${flavour[@]}" PREFIX="$tmp/p2" BUILD="$tmp/build" \
        >"$tmp/p2.log" 2>&1; then
    fail install_without_libnats_installs_the_core_and_the_doubles "make install failed: $(tail -n 20 "$tmp/p2.log")"
elif [ ! -f "$tmp/p2/lib/pkgconfig/listenkit-mocks.pc" ] || [ -e "$tmp/p2/lib/pkgconfig/listenkit-nats.pc" ] ||
     [ -e "$tmp/p2/lib/liblistenkit-nats.a" ]; then
    fail install_without_libnats_installs_the_core_and_the_doubles "installed: $(ls "$tmp/p2/lib" "$tmp/p2/lib/pkgconfig")"
else
    pass install_without_libnats_installs_the_core_and_the_doubles
fi
prefix="$tmp/p2" build_and_run listenkit-mocks doubles_installed_without_libnats_build_and_run '
#include <listenkit.h>
#include <fake_nats.h>
#include <stdio.h>
int main(void) {
    lk_fake_nats *nats = lk_fake_nats_new();
    lk_status p = lk_bus_publish(lk_fake_nats_bus(nats), "a:b", "{}", 2, NULL, NULL);
    printf("%s %zu\n", lk_status_name(p), lk_fake_nats_published_count(nats));
    lk_fake_nats_free(nats);
    return 0;
}' "OK 1"

# ---- 8: a missing module is named, not blamed on a header ---------------------
pc_only "$tmp/pc-nobson" jansson cmocka
echo "[ RUN      ] install_names_a_missing_module"
if PKG_CONFIG_LIBDIR="$tmp/pc-nobson" make -s install "${flavour[@]}" PREFIX="$tmp/p3" BUILD="$tmp/build" \
        >"$tmp/p3.log" 2>&1; then
    fail install_names_a_missing_module "make install succeeded without libbson"
elif ! grep -q "pkg-config cannot find: libbson-1.0" "$tmp/p3.log" || grep -q "bson/bson.h" "$tmp/p3.log"; then
    fail install_names_a_missing_module "the error does not name libbson-1.0: $(tail -n 5 "$tmp/p3.log")"
else
    pass install_names_a_missing_module
fi

echo "[==========] $((passed + failed)) test(s) run."
[ "$passed" -gt 0 ] && echo "[  PASSED  ] $passed test(s)."
if [ "$failed" -gt 0 ]; then
    echo "[  FAILED  ] $failed test(s)"
    exit 1
fi
exit 0
