# ngx_signalr_module: build, test and run.
#
#   make          build/ngx_http_signalr_module.so for Debian's nginx, with the
#                 distribution's hardening flags (dpkg-buildflags
#                 hardening=+all), warnings not fatal; NGINX_SRC=<nginx source
#                 tree> builds it against another nginx: a Debian nginx-dev tree
#                 with its conf_flags, an nginx.org tree with the configure
#                 arguments of `$(NGINX) -V` (util/build-module.sh)
#   make test     install what is missing, build, run every test suite: unit,
#                 emulator-test, fuzz, compile-check, build-test, hardening, prove,
#                 prove-asan, badinput, prove-hup, valgrind (its default files)
#                 (stock nginx), matrix-prove, stress, e2e, deb-test (as root or
#                 through sudo: the package on the stock nginx)
#   make stress   wrk load and reloads under load (util/stress.sh; STRESS_TIME,
#                 STRESS_RUNS)
#   make unit     the plain-C unit tests (AddressSanitizer)
#   make prove    the Test::Nginx suites t/*.t against $(NGINX) (default the
#                 stock /usr/sbin/nginx), the module built with -Werror from
#                 $(NGINX_SRC) (one version alone: make prove NGINX=<nginx
#                 binary> NGINX_SRC=<its source tree>)
#   make prove-asan  the same with AddressSanitizer: the module built with it,
#                 loaded into $(NGINX_ASAN) (default $(NGINX), libasan preloaded)
#                 or into an nginx built with ASan itself (no preload)
#   make prove-hup   the same as prove, configurations reloaded with SIGHUP
#   make badinput    generated bad requests to negotiate, trigger and output
#                 with the ASan module (util/badinput/): no crash, no ASan
#                 report, no 5xx, not even from a trigger's route
#                 (BADINPUT_COUNT, BADINPUT_SEED: default 2, "random" for a
#                 new one; BADINPUT_DEADLINE, default 300 s)
#   make valgrind    the same as prove with nginx under valgrind's memcheck
#                 (VALGRIND_TESTS: the .t files, default a subset; "all"
#                 for every one); fails on any report left after
#                 t/valgrind.suppress (util/valgrind-check)
#   make matrix-deps build/matrix/ (util/matrix.sh, cached between runs): the
#                 nginx 1.26.x of Debian 13 built from Debian's pristine source,
#                 once more with ASan throughout, and sid's nginx-dev headers
#   make compile-check  the module with -Werror against $(NGINX_SRC), the
#                 1.26.x source and sid's nginx-dev headers (compile only)
#   make build-test  rebuilds after a changed header or config (t/build/)
#   make hardening   the hardening of build/ngx_http_signalr_module.so (readelf:
#                 BIND_NOW, relro, stack protector, _FORTIFY_SOURCE)
#   make matrix-prove  prove, prove-asan (ASan nginx) and prove-hup against the
#                 built nginx 1.26.x
#   make matrix   compile-check and matrix-prove
#   make run      the chat room example on http://127.0.0.1:8080/
#   make e2e      SignalR clients and Chromium against nginx and the emulator
#   make fuzz     the fuzz entry points, briefly (clang's libFuzzer)
#   make bench    requests/s of the module against plain nginx and njs

SHELL      := /bin/bash
NGINX_SRC  ?= /usr/share/nginx/src
NGINX      ?= /usr/sbin/nginx
NGINX_ASAN ?= $(NGINX)
# nginx reads NGINX from its environment (sockets inherited in a binary
# upgrade): never export it, a recipe that needs it says so
unexport NGINX NGINX_ASAN
BUILD      := $(CURDIR)/build
NGX_VERSION := $(shell sed -n 's/^\#define NGINX_VERSION *"\(.*\)"/\1/p' \
                   $(NGINX_SRC)/src/core/nginx.h 2>/dev/null)
MODULE     := $(BUILD)/ngx_http_signalr_module.so
# test builds (-Werror) per nginx version: build/test/<version>[-asan]/
TEST_BUILD := $(BUILD)/test/$(NGX_VERSION)
MODULE_TEST := $(TEST_BUILD)/ngx_http_signalr_module.so
MODULE_ASAN := $(TEST_BUILD)-asan/ngx_http_signalr_module.so
SRC        := $(wildcard ngx_signalr_module/*.c ngx_signalr_module/*.h) config
LIB_SRC    := $(wildcard ngx_signalr_module/signalr_*.c)
UNIT_TESTS := $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(wildcard t/unit/test_*.c))
# the HMAC on OpenSSL's EVP_MAC, as where its low-level digests are not built
UNIT_TESTS += $(BUILD)/unit/test_jwt-evp
FUZZERS    := $(patsubst t/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard t/fuzz/fuzz_*.c))
LIBASAN    := $(shell gcc -print-file-name=libasan.so)
FUZZ_RUNS  ?= 20000
CFLAGS_UNIT := -std=c99 -g -O1 -Wall -Wextra -Werror \
               -fsanitize=address,undefined -fno-omit-frame-pointer \
               -Ingx_signalr_module
ASAN_CFLAGS := -g -O1 -fsanitize=address -fno-omit-frame-pointer

# the version matrix (util/matrix.sh): nginx 1.26.x of Debian 13, built
MATRIX     := $(BUILD)/matrix
TRIXIE     := NGINX=$(MATRIX)/trixie/sbin/nginx NGINX_SRC=$(MATRIX)/trixie-src \
              NGINX_ASAN=$(MATRIX)/trixie-asan/sbin/nginx
SID_SRC    := $(MATRIX)/sid-dev

.PHONY: all module-test module-asan deps test unit fuzz prove prove-asan \
        prove-hup emulator-test bench clean matrix matrix-deps matrix-prove \
        compile-check build-test hardening fuzz-long fuzz-merge valgrind \
        badinput FORCE

all: $(MODULE)

module-test: $(MODULE_TEST)

module-asan: $(MODULE_ASAN)

# and checks that it left apt's configuration and policy-rc.d as they were,
# and no list of sid in apt's lists (it fetches sid's Test::Nginx through an
# apt setup of its own)
APT_STATE = { find /etc/apt -type f -exec sha256sum {} +; \
              ls -l /usr/sbin/policy-rc.d; } 2>/dev/null | sort

deps:
	@mkdir -p $(BUILD)
	@$(APT_STATE) > $(BUILD)/apt-state.before || true
	bash util/install-deps.sh
	@$(APT_STATE) > $(BUILD)/apt-state.after || true
	@diff -u $(BUILD)/apt-state.before $(BUILD)/apt-state.after \
	    || { echo "deps: install-deps.sh changed apt's configuration"; exit 1; }
	@if ls /var/lib/apt/lists | grep -q '_sid_'; then \
	    echo "deps: apt's lists hold sid"; exit 1; fi

# util/build-module.sh runs every time: it reconfigures only when the
# configure arguments change, and nginx's make rebuilds what changed
$(MODULE): FORCE
	NGINX=$(NGINX) bash util/build-module.sh $(NGINX_SRC) $(BUILD)/release
	cp $(BUILD)/release/ngx_http_signalr_module.so $@

$(MODULE_TEST): FORCE
	WERROR=1 NGINX=$(NGINX) bash util/build-module.sh $(NGINX_SRC) $(TEST_BUILD)

$(MODULE_ASAN): FORCE
	WERROR=1 NGINX=$(NGINX_ASAN) EXTRA_CFLAGS="$(ASAN_CFLAGS)" \
	    EXTRA_LDFLAGS=-fsanitize=address \
	    bash util/build-module.sh $(NGINX_SRC) $(TEST_BUILD)-asan

$(BUILD)/unit/%: t/unit/%.c t/unit/unit.h $(LIB_SRC) $(wildcard ngx_signalr_module/signalr_*.h)
	@mkdir -p $(BUILD)/unit
	gcc $(CFLAGS_UNIT) -o $@ $< $(LIB_SRC) -ljansson -lcrypto -lm

$(BUILD)/unit/test_jwt-evp: t/unit/test_jwt.c t/unit/unit.h $(LIB_SRC) $(wildcard ngx_signalr_module/signalr_*.h)
	@mkdir -p $(BUILD)/unit
	gcc $(CFLAGS_UNIT) -DSIGNALR_HMAC_EVP -o $@ $< $(LIB_SRC) -ljansson -lcrypto -lm

unit: $(UNIT_TESTS)
	@fail=0; for t in $(UNIT_TESTS); do \
	    echo "== $$(basename $$t)"; $$t | grep -v '^ok' || fail=1; \
	    [ "$${PIPESTATUS[0]}" = 0 ] || fail=1; \
	done; exit $$fail

$(BUILD)/fuzz/%: t/fuzz/%.c $(LIB_SRC)
	@mkdir -p $(BUILD)/fuzz
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Ingx_signalr_module \
	    -o $@ $< $(LIB_SRC) -ljansson -lcrypto -lm

# each target starts from its committed seeds (t/fuzz/corpus/<target>/, kept
# small with "make fuzz-merge"); what a run finds is kept under build/fuzz/
fuzz: $(FUZZERS)
	@for f in $(FUZZERS); do \
	    t=$$(basename $$f); \
	    echo "== $$t ($(FUZZ_RUNS) runs)"; \
	    mkdir -p $(BUILD)/fuzz/corpus-$$t t/fuzz/corpus/$$t; \
	    $$f -runs=$(FUZZ_RUNS) -max_len=4096 \
	        $(BUILD)/fuzz/corpus-$$t t/fuzz/corpus/$$t 2>&1 | tail -2; \
	    [ "$${PIPESTATUS[0]}" = 0 ] || exit 1; \
	done

# FUZZ_TIME seconds per target (default 10 minutes: over 10 M executions of
# the slowest target, MessagePack, on one core here): executions,
# coverage and crashes per target; a crash's input is kept as
# build/fuzz/crash-<target>-*
FUZZ_TIME ?= 600
fuzz-long: $(FUZZERS)
	@fail=""; for f in $(FUZZERS); do \
	    t=$$(basename $$f); \
	    mkdir -p $(BUILD)/fuzz/corpus-$$t t/fuzz/corpus/$$t; \
	    $$f -max_total_time=$(FUZZ_TIME) -max_len=4096 -print_final_stats=1 \
	        -artifact_prefix=$(BUILD)/fuzz/crash-$$t- \
	        $(BUILD)/fuzz/corpus-$$t t/fuzz/corpus/$$t \
	        > $(BUILD)/fuzz/long-$$t.log 2>&1 || fail="$$fail $$t"; \
	    echo "== $$t: $$(grep -o 'stat::number_of_executed_units: *[0-9]*' $(BUILD)/fuzz/long-$$t.log | grep -o '[0-9]*$$') executions, $$(grep -o 'cov: [0-9]*' $(BUILD)/fuzz/long-$$t.log | tail -1), $$(ls $(BUILD)/fuzz/crash-$$t-* 2>/dev/null | wc -l) crashes"; \
	done; [ -z "$$fail" ] || { echo "fuzz-long: crashes in$$fail"; exit 1; }

# the committed seeds, minimised against what runs found
fuzz-merge: $(FUZZERS)
	@for f in $(FUZZERS); do \
	    t=$$(basename $$f); \
	    mkdir -p $(BUILD)/fuzz/merged-$$t; rm -f $(BUILD)/fuzz/merged-$$t/*; \
	    $$f -merge=1 -max_len=4096 $(BUILD)/fuzz/merged-$$t t/fuzz/corpus/$$t \
	        $(BUILD)/fuzz/corpus-$$t > /dev/null 2>&1 || exit 1; \
	    rm -rf t/fuzz/corpus/$$t && mv $(BUILD)/fuzz/merged-$$t t/fuzz/corpus/$$t; \
	    echo "== $$t: $$(ls t/fuzz/corpus/$$t | wc -l) seeds"; \
	done

TEST_ENV = TEST_NGINX_BINARY=$(NGINX) TEST_NGINX_SERVROOT=$(BUILD)/servroot

prove: $(MODULE_TEST)
	@echo "prove: $$($(NGINX) -v 2>&1 | sed 's/.*: //') ($(NGINX))"
	$(TEST_ENV) TEST_NGINX_LOAD_MODULES=$(MODULE_TEST) prove -r t/

# an nginx built with AddressSanitizer links libasan itself; into any other
# the module's libasan is preloaded (the ASan nginx of util/matrix.sh has
# the ASan defaults that dynamic modules need built in)
ASAN_PRELOAD = $(if $(shell ldd $(NGINX_ASAN) 2>/dev/null | grep libasan),,$(LIBASAN))

prove-asan: $(MODULE_ASAN)
	@echo "prove-asan: $$($(NGINX_ASAN) -v 2>&1 | sed 's/.*: //') ($(NGINX_ASAN)$(if $(ASAN_PRELOAD),$(comma) libasan preloaded$(comma) $(LIBASAN),$(comma) built with ASan))"
	rm -rf $(BUILD)/asan-logs && mkdir -p $(BUILD)/asan-logs
	TEST_NGINX_BINARY=$(NGINX_ASAN) TEST_NGINX_SERVROOT=$(BUILD)/servroot \
	    TEST_NGINX_LOAD_MODULES=$(MODULE_ASAN) \
	    $(if $(ASAN_PRELOAD),TEST_NGINX_LD_PRELOAD=$(ASAN_PRELOAD)) \
	    ASAN_OPTIONS=detect_leaks=0:log_path=$(BUILD)/asan-logs/asan \
	    prove -r t/
	@if ls $(BUILD)/asan-logs/asan* >/dev/null 2>&1; then \
	    head -c 20000 $(BUILD)/asan-logs/asan*; \
	    echo "AddressSanitizer reported errors"; exit 1; fi

comma := ,

# util/badinput/run.sh: BADINPUT_COUNT generated requests (plus truncations
# of valid bodies) from a fixed seed, so that runs repeat (BADINPUT_SEED=random
# for a new one, printed); no request started after BADINPUT_DEADLINE s;
# ports 8741-8742 (BADINPUT_PORT); what failed is kept in build/badinput/
BADINPUT_COUNT ?= 20000
BADINPUT_SEED ?= 2
BADINPUT_DEADLINE ?= 300
badinput: $(MODULE_ASAN)
	MODULE=$(MODULE_ASAN) NGINX=$(NGINX_ASAN) ASAN_PRELOAD=$(ASAN_PRELOAD) \
	    BADINPUT_COUNT=$(BADINPUT_COUNT) BADINPUT_SEED=$(BADINPUT_SEED) \
	    BADINPUT_DEADLINE=$(BADINPUT_DEADLINE) \
	    bash util/badinput/run.sh

# the configuration reloaded (SIGHUP) between tests instead of a restart
prove-hup: $(MODULE_TEST)
	@echo "prove-hup: $$($(NGINX) -v 2>&1 | sed 's/.*: //') ($(NGINX))"
	$(TEST_ENV) TEST_NGINX_USE_HUP=1 TEST_NGINX_LOAD_MODULES=$(MODULE_TEST) \
	    prove -r t/

# nginx under valgrind's memcheck through Test::Nginx's
# TEST_NGINX_USE_VALGRIND, whose value is valgrind's options: Test::Nginx's
# own for "1" (full leak check, definite leaks only, 100 frames, the
# suppression each report would need), verbosity 1 (-v after Test::Nginx's
# -q: each nginx says when memcheck starts and ends) and the suppression
# file under t/ (Test::Nginx itself would only look for ./valgrind.suppress).
# Valgrind writes to prove's stderr, kept in build/valgrind/prove.log;
# util/valgrind-check prints each report with its test and fails on any
# (docs/testing.md). VALGRIND_TESTS: the .t files, or "all": every file on
# Test::Nginx::Socket (the others drive nginx themselves, outside
# Test::Nginx's valgrind: nothing of them would run under memcheck)
VALGRIND_TESTS ?= t/003-trigger.t t/011-entra.t t/012-actions.t t/014-status.t
VALGRIND_FILES = $(if $(filter all,$(VALGRIND_TESTS)),$(shell grep -l '^use Test::Nginx::Socket' t/*.t),$(VALGRIND_TESTS))
VALGRIND_OPTS = -v --tool=memcheck --leak-check=full --keep-debuginfo=yes \
    --show-possibly-lost=no --num-callers=100 --gen-suppressions=all \
    --suppressions=$(CURDIR)/t/valgrind.suppress

valgrind: $(MODULE_TEST)
	@command -v valgrind >/dev/null || { echo "valgrind: no valgrind (make deps)"; exit 1; }
	@echo "valgrind: $$($(NGINX) -v 2>&1 | sed 's/.*: //') ($(NGINX)), $$(valgrind --version): $(VALGRIND_FILES)"
	rm -rf $(BUILD)/valgrind && mkdir -p $(BUILD)/valgrind
	@prove_rc=0; check_rc=0; \
	$(TEST_ENV) TEST_NGINX_LOAD_MODULES=$(MODULE_TEST) \
	    TEST_NGINX_USE_VALGRIND="$(VALGRIND_OPTS)" \
	    prove --timer $(VALGRIND_FILES) 2> $(BUILD)/valgrind/prove.log || prove_rc=1; \
	perl util/valgrind-check --suppressions t/valgrind.suppress \
	    $$([ $$prove_rc = 0 ] || echo --other) $(BUILD)/valgrind/prove.log || check_rc=1; \
	[ $$prove_rc = 0 ] || echo "valgrind: tests failed under memcheck (their diagnostics above)"; \
	[ $$prove_rc = 0 ] && [ $$check_rc = 0 ]

# ---- the version matrix: 1.22.1 (stock), 1.26.x (Debian 13), sid's headers -

# nginx 1.26.x built from Debian's pristine source under build/matrix/ (a
# few minutes, the first time only) and sid's nginx-dev headers
matrix-deps:
	bash util/matrix.sh

# -Werror builds: the stock nginx's tree, 1.26.x, sid's headers (no binary)
compile-check: matrix-deps
	$(MAKE) --no-print-directory module-test
	$(MAKE) --no-print-directory module-test $(TRIXIE)
	$(MAKE) --no-print-directory module-test NGINX_SRC=$(SID_SRC) NGINX=

# util/build-module.sh builds again what a changed header or config needs
build-test:
	NGINX_SRC=$(NGINX_SRC) bash t/build/incremental.sh

# the release build keeps the distribution's hardening
hardening: $(MODULE)
	@f=$(MODULE); fail=0; \
	check() { if eval "$$2"; then echo "hardening: $$1: yes"; \
	          else echo "hardening: $$1: NO"; fail=1; fi; }; \
	check "relro"            "readelf -lW $$f | grep -q GNU_RELRO"; \
	check "BIND_NOW"         "readelf -dW $$f | grep -Eq 'BIND_NOW|FLAGS_1.*NOW'"; \
	check "stack protector"  "readelf -sW $$f | grep -q __stack_chk_fail"; \
	check "_FORTIFY_SOURCE"  "readelf -sW $$f | grep -Eq '__[a-z]+_chk@'"; \
	exit $$fail

# the suites against nginx 1.26.x: every mode runs, the first failure fails
matrix-prove: matrix-deps
	@fail=""; \
	$(MAKE) --no-print-directory prove $(TRIXIE) || fail="$$fail prove"; \
	$(MAKE) --no-print-directory prove-asan $(TRIXIE) || fail="$$fail prove-asan"; \
	$(MAKE) --no-print-directory prove-hup $(TRIXIE) || fail="$$fail prove-hup"; \
	if [ -n "$$fail" ]; then echo "matrix-prove: failed against 1.26.x:$$fail"; exit 1; fi

matrix: compile-check matrix-prove

# the local SignalR Service emulator's own tests (Node.js, npm packages)
emulator-test:
	cd util/emulator && npm ci --no-audit --no-fund --loglevel=error
	node --test util/emulator/test/

test: deps
	$(MAKE) unit
	$(MAKE) emulator-test
	$(MAKE) fuzz
	$(MAKE) compile-check
	$(MAKE) build-test
	$(MAKE) hardening
	$(MAKE) prove
	$(MAKE) prove-asan
	$(MAKE) badinput
	$(MAKE) prove-hup
	$(MAKE) valgrind
	$(MAKE) matrix-prove
	$(MAKE) stress
	$(MAKE) e2e
	$(MAKE) deb-test

bench: $(MODULE)
	bash util/bench.sh

# make stress: wrk (-t2 -c256) against nginx with two workers and the release
# module, on 127.0.0.1:8910-8911 (util/stress.sh): negotiate, a signed trigger
# mix, an output mix and the three with a connection per request, STRESS_TIME
# seconds a run, STRESS_RUNS (3 or more) runs each (no answer but 2xx, no
# socket error, no error in the log, no worker memory growth within a run
# nor from run 2 to the last), then the three under SIGHUP every 0.5 s (old workers exit, no
# failed answer); prints a summary, fails on any failed check
.PHONY: stress
STRESS_TIME ?= 15
STRESS_RUNS ?= 3
stress: $(MODULE)
	NGINX=$(NGINX) MODULE=$(MODULE) STRESS_TIME=$(STRESS_TIME) \
	    STRESS_RUNS=$(STRESS_RUNS) bash util/stress.sh

clean:
	rm -rf $(BUILD)

# ---- make run, and the end-to-end tests -----------------------------------

.PHONY: run e2e

# the chat room of docs/examples/chat at http://127.0.0.1:8080/ with the
# bundled emulator, or the service of AzureSignalRConnectionString; Ctrl-C
# stops it (util/run.sh app: the Python app example instead)
run: deps $(MODULE)
	NGINX=$(NGINX) MODULE=$(MODULE) bash util/run.sh

# one test file at a time where node's test runner can be told so
E2E_FLAGS = $(shell node --test-concurrency=1 -e 0 >/dev/null 2>&1 && echo --test-concurrency=1)

# real SignalR clients (JSON, MessagePack) and headless Chromium against
# nginx with the module and the emulator (t/e2e/)
e2e: $(MODULE)
	sh t/e2e/npm-deps.sh
	NGINX=$(NGINX) SIGNALR_MODULE=$(MODULE) node --test $(E2E_FLAGS) t/e2e/*.test.js

# ---- release and Debian package: make dist, make deb, make deb-test --------
# (the packaging section: LICENSE, CHANGELOG.md, debian/, util/dist.sh,
# util/deb.sh, util/deb-test.sh, util/pkg-version.sh)
#
#   make dist      build/ngx_signalr_module-<version>.tar.gz and .sha256, of HEAD
#   make deb       build/deb/libnginx-mod-http-signalr_<version>-1_<arch>.deb by
#                  dpkg-buildpackage -us -uc -b in a copy of HEAD under build/deb/
#                  (DEB_FROM=worktree: of the working tree), Test::Nginx suites
#                  run during the build without network
#   make deb-test  (root, or through sudo) that package installed into the
#                  stock nginx, used, purged; /etc/nginx must be left exactly
#                  as it was

.PHONY: dist deb deb-test

DEB_FROM ?= head

dist:
	bash util/dist.sh

deb:
	DEB_FROM=$(DEB_FROM) bash util/deb.sh

# dpkg -i needs root: through sudo for another user, as make deps does
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

deb-test: deb
	$(SUDO) bash util/deb-test.sh
