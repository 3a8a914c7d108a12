# SPDX-License-Identifier: MIT
# listenkit — one entry point.
#
#   make demo            the concurrency scenario: the bug, then the fix
#   make test            every spec; ends with "N passed, N failed"
#   make test SAN=1      the same under ASan+UBSan (build-san/)
#   make test TSAN=1     the specs that run threads, under ThreadSanitizer
#                        (build-tsan/)
#   make test REPORT=junit   also JUnit XML per spec (build/reports/)
#   make test ONLY=fake_msg_spec   one spec file (or ONLY=<spec>:<test>, or
#                        ONLY=<test>: that test wherever it is)
#   make coverage        instrumented run + reports under coverage/
#   make bench           benchmarks against raw-library baselines (-O2)
#   make fuzz            libFuzzer on every tools/fuzz/fuzz_*.c (clang),
#                        FUZZ_SECONDS each
#   make install PREFIX=/usr/local DESTDIR=   headers, libraries, listenkit.pc
#   make deps            check/install build dependencies (run by the above)
#
# Layout: every folder below is a layer and builds into one static library;
# its .c files are found by wildcard, so adding a file needs no edit here.

.DEFAULT_GOAL := all
SHELL := /bin/bash

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif

# ---- build flavours: one directory each, so they never mix objects -------
# (clang builds get their own: `CC=clang make test` after a gcc build must
# compile everything again, not reuse gcc's objects)
CCDIR := $(if $(findstring clang,$(notdir $(CC))),-clang)
ifeq ($(SAN),1)
BUILD   ?= build-san$(CCDIR)
FLAVOUR := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAV  := -fsanitize=address,undefined
else ifeq ($(TSAN),1)
BUILD   ?= build-tsan$(CCDIR)
FLAVOUR := -O1 -fsanitize=thread -fno-omit-frame-pointer
LDFLAV  := -fsanitize=thread
else ifeq ($(COV),1)
BUILD   ?= build-cov$(CCDIR)
# atomic counters: specs drive the store from several threads at once
FLAVOUR := -O0 --coverage -fprofile-update=atomic
LDFLAV  := --coverage
else ifeq ($(OPT),1)
BUILD   ?= build-opt$(CCDIR)
FLAVOUR := -O2 -DNDEBUG -grecord-gcc-switches  # clang records -O2 for install_spec only with it
LDFLAV  :=
else
BUILD   ?= build$(CCDIR)
FLAVOUR := -O0
LDFLAV  :=
endif

PKGS := jansson libbson-1.0 cmocka libnats libmicrohttpd libjwt libcurl libpq
# Flags of the modules pkg-config finds, module by module: one missing
# module must not take the others' flags with it (the compiler would then
# blame <bson/bson.h>). What is missing is named by check-modules.
PKGS_FOUND   := $(foreach m,$(PKGS),$(if $(shell pkg-config --exists $(m) 2>/dev/null && echo y),$(m)))
PKGS_MISSING := $(filter-out $(PKGS_FOUND),$(PKGS))
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS_FOUND) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS_FOUND) 2>/dev/null)

WARN     := -std=c11 -Wall -Wextra -Wpedantic -Werror
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -Iframework/include -Imocks -Iservices -Itools -Ispec/support
# -fPIC: the same objects make the static and the shared libraries
CFLAGS   += $(WARN) -g $(FLAVOUR) -fPIC -MMD -MP $(PKG_CFLAGS)
LDFLAGS  += $(LDFLAV)
LDLIBS   += $(PKG_LIBS) -lpthread -lm

# ---- libraries ------------------------------------------------------------
# name := sources. Order of LIBS is link order (dependents first).
src_core      := $(wildcard framework/src/*.c)
src_nats      := $(wildcard framework/nats/*.c)
src_pg        := $(wildcard framework/pg/*.c)
src_mocks     := $(wildcard mocks/*.c)
src_ticketing := $(filter-out %/main.c,$(wildcard services/http/*.c services/common/*.c services/tickets/*.c services/orders/*.c))
src_scenario  := $(filter-out %/main.c,$(wildcard tools/scenario/*.c))
src_specsupport := $(wildcard spec/support/*.c)

lib_core        := $(BUILD)/lib/liblistenkit.a
lib_nats        := $(BUILD)/lib/liblistenkit-nats.a
lib_pg          := $(BUILD)/lib/liblistenkit-pg.a
lib_mocks       := $(BUILD)/lib/liblistenkit-mocks.a
lib_ticketing   := $(BUILD)/lib/libticketing.a
lib_scenario    := $(BUILD)/lib/libscenario.a
lib_specsupport := $(BUILD)/lib/libspecsupport.a

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

# Only libraries that have sources take part (layers arrive one by one).
LIBS := $(foreach l,specsupport scenario ticketing mocks pg nats core,$(if $(src_$(l)),$(lib_$(l))))

$(foreach l,core nats pg mocks ticketing scenario specsupport,\
  $(eval $(lib_$(l)): $(call obj,$(src_$(l)))))

$(BUILD)/lib/%.a:
	@mkdir -p $(@D)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# ---- programs ---------------------------------------------------------------
# spec/support/ holds helpers (libspecsupport), never spec programs.
SPEC_SRCS := $(shell find spec -name '*_spec.c' -not -path 'spec/support/*' 2>/dev/null | sort)
SPEC_BINS := $(patsubst %.c,$(BUILD)/%,$(SPEC_SRCS))
SPEC_SCRIPTS := $(shell find spec -name '*_spec.sh' -not -path 'spec/support/*' 2>/dev/null | sort)
# make demo-cluster's faults but the replica kill run once, in test-faults
FAULT_SPECS := $(filter-out spec/tools/cluster_kill_replica_spec.sh,$(filter spec/tools/cluster_%,$(SPEC_SCRIPTS)))
SPEC_SCRIPTS := $(filter-out $(FAULT_SPECS),$(SPEC_SCRIPTS))

# TSAN=1 builds and runs only the specs that start threads (the contracts,
# the NATS adapter, the memory store, the logger, the scenario runner): the
# others have nothing to race, and TSan makes everything several times
# slower.
TSAN_SPECS := $(filter $(addprefix $(BUILD)/spec/,contract/% nats/% \
                mocks/mem_store_spec framework/log_spec tools/scenario_spec),$(SPEC_BINS))
RUN_SPECS := $(if $(filter 1,$(TSAN)),$(TSAN_SPECS),$(SPEC_BINS) $(SPEC_SCRIPTS))

BIN_SRCS := $(wildcard services/tickets/main.c services/orders/main.c tools/scenario/main.c tools/cluster/main.c)
BINS := $(if $(wildcard services/tickets/main.c),$(BUILD)/bin/tickets) \
        $(if $(wildcard services/orders/main.c),$(BUILD)/bin/orders) \
        $(if $(wildcard tools/scenario/main.c),$(BUILD)/bin/ticketing-scenario) \
        $(if $(wildcard tools/cluster/main.c),$(BUILD)/bin/lk-cluster)

# spec_filter.o by name: a constructor nobody calls (ONLY=<test>, see spec/run)
SPEC_FILTER := $(BUILD)/obj/spec/support/spec_filter.o
$(BUILD)/spec/%: $(BUILD)/obj/spec/%.o $(SPEC_FILTER) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(SPEC_FILTER) $(LIBS) $(LDLIBS)

# The service programs link the product only, never mocks/ or spec support.
PROG_LIBS := $(foreach l,ticketing pg nats core,$(if $(src_$(l)),$(lib_$(l))))
$(BUILD)/bin/tickets: $(call obj,services/tickets/main.c) $(PROG_LIBS)
$(BUILD)/bin/orders: $(call obj,services/orders/main.c) $(PROG_LIBS)
$(BUILD)/bin/ticketing-scenario: $(call obj,tools/scenario/main.c) $(LIBS)
# lk-cluster (make demo-cluster) talks to the programs; it links no mocks/.
$(BUILD)/bin/lk-cluster: $(call obj,$(wildcard tools/cluster/*.c)) $(PROG_LIBS)
$(BUILD)/bin/%:
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS)

BENCH_SRCS := $(wildcard tools/bench/*.c)
$(BUILD)/bin/bench: $(call obj,$(BENCH_SRCS)) $(LIBS)

.PRECIOUS: $(BUILD)/obj/%.o

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- entry points -------------------------------------------------------------
.PHONY: all deps build specs test run-specs run-services check-modules install-files demo demo-nats demo-cluster test-faults coverage bench fuzz install uninstall clean

all: $(LIBS) $(BINS) $(SPEC_BINS)

deps:
	@tools/deps.sh

build: $(LIBS) $(BINS) $(filter-out %.sh,$(RUN_SPECS))

# Public targets run `deps` first, then a fresh make, so that pkg-config
# flags are read after the dependencies exist.
test: deps
	@$(MAKE) --no-print-directory check-modules MODULES="$(PKGS)"
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory run-specs

run-specs:
	@BUILD=$(BUILD) REPORT=$(REPORT) ONLY=$(ONLY) spec/run $(RUN_SPECS)

SCENARIO_ARGS ?=
demo: deps
	@$(MAKE) --no-print-directory $(BUILD)/bin/ticketing-scenario
	@tools/scenario/demo.sh $(BUILD)/bin/ticketing-scenario $(SCENARIO_ARGS)

# The two programs on a throwaway nats-server and PostgreSQL until Ctrl-C.
run-services: deps
	@$(MAKE) --no-print-directory $(BUILD)/bin/tickets $(BUILD)/bin/orders
	@BUILD=$(BUILD) tools/run-services.sh

# The scenario across real processes: 1 tickets + 4 orders on a throwaway
# nats-server and PostgreSQL, driven over HTTP, judged from the databases.
# CLUSTER_ARGS: a fault flag (--kill-replica, --pause-nats, --restart-nats,
# --restart-pg, --cluster 3), sizes (--tickets N --updates K --clients P --orders M), --json.
CLUSTER_ARGS ?=
demo-cluster: deps
	@$(MAKE) --no-print-directory $(BUILD)/bin/tickets $(BUILD)/bin/orders $(BUILD)/bin/lk-cluster
	@BUILD=$(BUILD) tools/cluster/demo-cluster.sh $(CLUSTER_ARGS)

# Each of demo-cluster's other faults (pause, restart nats-server, restart
# PostgreSQL, --cluster 3 with a node killed) at a small size, and the
# script's start/stop checks (a port taken, a shared PostgreSQL), as specs
# (spec/tools/cluster_*_spec.sh; `make test` runs the replica kill).
test-faults: deps
	@$(MAKE) --no-print-directory $(BUILD)/bin/tickets $(BUILD)/bin/orders $(BUILD)/bin/lk-cluster
	@BUILD=$(BUILD) REPORT=$(REPORT) spec/run $(FAULT_SPECS)

demo-nats: deps
	@$(MAKE) --no-print-directory $(BUILD)/bin/ticketing-scenario
	@tools/scenario/demo-nats.sh $(BUILD)/bin/ticketing-scenario $(SCENARIO_ARGS)

coverage: deps
	@$(MAKE) --no-print-directory COV=1 build
	@find build-cov -name '*.gcda' -delete
	@$(MAKE) --no-print-directory COV=1 run-specs
	@coverage/report.sh

BENCH_ARGS ?=
bench: deps
	@$(MAKE) --no-print-directory OPT=1 build-opt/bin/bench
	@build-opt/bin/bench $(BENCH_ARGS)

# ---- fuzz -------------------------------------------------------------------
# libFuzzer targets (tools/fuzz/fuzz_*.c), built with clang and ASan+UBSan
# from sources instrumented for the fuzzer so it sees every branch (compiled
# once into build-fuzz/obj/, linked into every target). Each runs
# FUZZ_SECONDS from its seed corpus (tools/fuzz/corpus/<name>/); new inputs
# it finds go to build-fuzz/corpus/<name>/, crashes to build-fuzz/.
FUZZ_SECONDS ?= 30
FUZZ_BINS := $(patsubst tools/fuzz/%.c,build-fuzz/%,$(wildcard tools/fuzz/fuzz_*.c))
FUZZ_DEPS := $(src_core) $(src_mocks) services/common/schemas.c services/common/helpers.c
# The store-diff target also runs the PostgreSQL store, on a server it
# starts itself (spec/support/pg_server) unless LK_PG_URL names one.
fuzz_obj = $(patsubst %.c,build-fuzz/obj/%.o,$(1))
build-fuzz/fuzz_store_diff: $(call fuzz_obj,$(src_pg) spec/support/pg_server.c spec/support/spec_proc.c)

build-fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	clang -std=c11 -g -O1 -fsanitize=fuzzer-no-link,address,undefined $(CPPFLAGS) $(PKG_CFLAGS) -c $< -o $@

build-fuzz/%: build-fuzz/obj/tools/fuzz/%.o $(call fuzz_obj,$(FUZZ_DEPS))
	clang -g -fsanitize=fuzzer,address,undefined $^ -o $@ $(PKG_LIBS) -lpthread -lm

.PRECIOUS: build-fuzz/obj/%.o

fuzz: deps
	@command -v clang >/dev/null || { echo "fuzz: needs clang: apt-get install -y clang" >&2; exit 1; }
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@for bin in $(FUZZ_BINS); do \
	    name=$${bin#build-fuzz/fuzz_}; mkdir -p build-fuzz/corpus/$$name; \
	    seeds=../tools/fuzz/corpus/$$name; [ -d tools/fuzz/corpus/$$name ] || seeds=; \
	    echo "fuzz: $$name for $(FUZZ_SECONDS) s"; \
	    (set -o pipefail; cd build-fuzz && ../$$bin -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 \
	        corpus/$$name $$seeds 2>&1 | grep -E '^(stat::number_of_executed_units|stat::peak_rss|==|SUMMARY|#[0-9]+ *DONE)') ; \
	    [ $${PIPESTATUS[0]} -eq 0 ] || { echo "fuzz: $$name FAILED (see build-fuzz/)"; exit 1; }; \
	done

# ---- install ------------------------------------------------------------------
# Four pkg-config modules, one per library, so a user links only what they
# use: listenkit (core: jansson, libbson), listenkit-nats (+ libnats),
# listenkit-pg (+ libpq) and listenkit-mocks (the doubles' headers under include/listenkit-mocks/,
# + cmocka).
LK_VERSION := $(shell sed -n 's/.*LK_VERSION_STRING "\(.*\)"/\1/p' framework/include/listenkit/version.h)
PC_NAMES := listenkit listenkit-nats listenkit-pg listenkit-mocks

# The core and the doubles need jansson, libbson and cmocka; the adapters
# are installed when their library (libnats, libpq) is there too. Installed
# libraries are the optimized flavour (OPT=1), static and shared: each
# lib<name>.so.$(LK_VERSION) has the soname lib<name>.so.$(SO_MAJOR).
SO_MAJOR := $(firstword $(subst ., ,$(LK_VERSION)))
INSTALL_LIBS := core mocks $(if $(filter libnats,$(PKGS_FOUND)),nats) $(if $(filter libpq,$(PKGS_FOUND)),pg)
pc_core := listenkit
pc_nats := listenkit-nats
pc_pg := listenkit-pg
pc_mocks := listenkit-mocks
so = $(BUILD)/lib/lib$(pc_$(1)).so.$(LK_VERSION)
# what each shared library links (the core's own .so first, for the others)
so_libs_core  := $(shell pkg-config --libs jansson libbson-1.0 2>/dev/null) -lpthread -lm
so_libs_mocks := -L$(BUILD)/lib -llistenkit $(shell pkg-config --libs cmocka jansson libbson-1.0 2>/dev/null) -lpthread -lm
so_libs_nats  := -L$(BUILD)/lib -llistenkit $(shell pkg-config --libs libnats jansson libbson-1.0 2>/dev/null) -lpthread
so_libs_pg    := -L$(BUILD)/lib -llistenkit $(shell pkg-config --libs libpq jansson libbson-1.0 2>/dev/null) -lpthread
$(foreach l,mocks nats pg,$(eval $(call so,$(l)): $(call so,core)))
$(foreach l,core mocks nats pg,$(eval $(call so,$(l)): $(call obj,$(src_$(l)))))
$(foreach l,core mocks nats pg,$(eval $(call so,$(l)): SO_LIBS := $(so_libs_$(l))))
$(BUILD)/lib/%.so.$(LK_VERSION):
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,$*.so.$(SO_MAJOR) -Wl,--no-undefined $(LDFLAGS) -o $@ $(filter %.o,$^) $(SO_LIBS)
	ln -sf $*.so.$(LK_VERSION) $(@D)/$*.so.$(SO_MAJOR)
	ln -sf $*.so.$(SO_MAJOR) $(@D)/$*.so

# check-modules MODULES="...": stop with a message naming what is missing
check-modules:
	@missing="$(filter $(MODULES),$(PKGS_MISSING))"; if [ -n "$$missing" ]; then \
	    echo "listenkit: pkg-config cannot find: $$missing" >&2; \
	    echo "  install them (make deps does, as root on Debian) or add their .pc folder to PKG_CONFIG_PATH" >&2; \
	    exit 1; fi

install:
	@$(MAKE) --no-print-directory check-modules MODULES="jansson libbson-1.0 cmocka"
	@$(MAKE) --no-print-directory OPT=1 install-files

install-files: $(foreach l,$(INSTALL_LIBS),$(lib_$(l)) $(call so,$(l)))
	install -d $(DESTDIR)$(PREFIX)/include/listenkit $(DESTDIR)$(PREFIX)/include/listenkit-mocks $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 framework/include/listenkit.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(filter-out %-private.h,$(wildcard framework/include/listenkit/*.h)) $(DESTDIR)$(PREFIX)/include/listenkit/
	install -m 644 $(filter-out %-private.h,$(wildcard mocks/*.h)) $(DESTDIR)$(PREFIX)/include/listenkit-mocks/
	install -m 644 $(filter %.a,$^) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(filter %.so.$(LK_VERSION),$^) $(DESTDIR)$(PREFIX)/lib/
	for l in $(foreach l,$(INSTALL_LIBS),$(pc_$(l))); do \
	    ln -sf lib$$l.so.$(LK_VERSION) $(DESTDIR)$(PREFIX)/lib/lib$$l.so.$(SO_MAJOR) && \
	    ln -sf lib$$l.so.$(SO_MAJOR) $(DESTDIR)$(PREFIX)/lib/lib$$l.so && \
	    sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(LK_VERSION)|g' \
	        framework/$$l.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/$$l.pc || exit 1; \
	done

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/include/listenkit $(DESTDIR)$(PREFIX)/include/listenkit-mocks
	rm -f $(DESTDIR)$(PREFIX)/include/listenkit.h
	rm -f $(foreach pc,$(PC_NAMES),$(DESTDIR)$(PREFIX)/lib/pkgconfig/$(pc).pc)
	rm -f $(foreach pc,$(PC_NAMES),$(DESTDIR)$(PREFIX)/lib/lib$(pc).a $(DESTDIR)$(PREFIX)/lib/lib$(pc).so*)

clean:
	rm -rf build build-san build-cov build-opt build-fuzz build-tsan build-tsan-clang build-clang build-san-clang build-cov-clang build-opt-clang coverage/html coverage/cobertura.xml coverage/summary.txt
