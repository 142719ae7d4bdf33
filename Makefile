# ngx_signalr_module: build, test and run.
#
#   make          build build/ngx_http_signalr_module.so for Debian's nginx
#   make test     install what is missing, build, run every test suite
#   make unit     the plain-C unit tests (AddressSanitizer)
#   make run      the chat room example on http://127.0.0.1:8080/
#   make e2e      SignalR clients and Chromium against nginx and the emulator
#   make fuzz     the fuzz entry points, briefly (clang's libFuzzer)
#   make bench    requests/s of the module against plain nginx and njs

SHELL      := /bin/bash
NGINX_SRC  ?= /usr/share/nginx/src
NGINX      ?= /usr/sbin/nginx
BUILD      := $(CURDIR)/build
MODULE     := $(BUILD)/ngx_http_signalr_module.so
MODULE_ASAN := $(BUILD)/asan/ngx_http_signalr_module.so
SRC        := $(wildcard ngx_signalr_module/*.c ngx_signalr_module/*.h) config
LIB_SRC    := $(wildcard ngx_signalr_module/signalr_*.c)
UNIT_TESTS := $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(wildcard t/unit/test_*.c))
FUZZERS    := $(patsubst t/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard t/fuzz/fuzz_*.c))
LIBASAN    := $(shell gcc -print-file-name=libasan.so)
FUZZ_RUNS  ?= 20000
CFLAGS_UNIT := -std=c99 -g -O1 -Wall -Wextra -Werror \
               -fsanitize=address,undefined -fno-omit-frame-pointer \
               -Ingx_signalr_module

.PHONY: all module-asan deps test unit fuzz prove prove-asan prove-hup emulator-test bench clean

all: $(MODULE)

module-asan: $(MODULE_ASAN)

deps:
	bash util/install-deps.sh

# $(1): build directory, $(2): extra compiler flags, $(3): extra linker flags
define build_module
	@mkdir -p $(1)
	@if [ ! -f $(1)/nginx/configure ]; then \
	    rm -rf $(1)/nginx && cp -a $(NGINX_SRC) $(1)/nginx; fi
	cd $(1)/nginx && source ./conf_flags && \
	    ./configure "$${NGX_CONF_FLAGS[@]}" \
	        --with-cc-opt="$(2)" --with-ld-opt="$(3)" \
	        --add-dynamic-module=$(CURDIR) > $(1)/configure.log 2>&1 \
	    || { tail -20 $(1)/configure.log; exit 1; }
	$(MAKE) -C $(1)/nginx -f objs/Makefile modules
	cp $(1)/nginx/objs/ngx_http_signalr_module.so $(1)/
endef

$(MODULE): $(SRC)
	$(call build_module,$(BUILD),-g -O2 -Wall -Werror,)

$(MODULE_ASAN): $(SRC)
	$(call build_module,$(BUILD)/asan,-g -O1 -fsanitize=address -fno-omit-frame-pointer,-fsanitize=address)

$(BUILD)/unit/%: t/unit/%.c t/unit/unit.h $(LIB_SRC) $(wildcard ngx_signalr_module/signalr_*.h)
	@mkdir -p $(BUILD)/unit
	gcc $(CFLAGS_UNIT) -o $@ $< $(LIB_SRC) -ljansson -lcrypto -lm

unit: $(UNIT_TESTS)
	@fail=0; for t in $(UNIT_TESTS); do \
	    echo "== $$(basename $$t)"; $$t | grep -v '^ok' || fail=1; \
	    [ "$${PIPESTATUS[0]}" = 0 ] || fail=1; \
	done; exit $$fail

$(BUILD)/fuzz/%: t/fuzz/%.c $(LIB_SRC)
	@mkdir -p $(BUILD)/fuzz
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Ingx_signalr_module \
	    -o $@ $< $(LIB_SRC) -ljansson -lcrypto -lm

fuzz: $(FUZZERS)
	@for f in $(FUZZERS); do \
	    echo "== $$(basename $$f) ($(FUZZ_RUNS) runs)"; \
	    mkdir -p $(BUILD)/fuzz/corpus-$$(basename $$f); \
	    $$f -runs=$(FUZZ_RUNS) -max_len=4096 \
	        $(BUILD)/fuzz/corpus-$$(basename $$f) 2>&1 | tail -2 \
	        || exit 1; \
	done

TEST_ENV = TEST_NGINX_BINARY=$(NGINX) TEST_NGINX_SERVROOT=$(BUILD)/servroot

prove: $(MODULE)
	$(TEST_ENV) TEST_NGINX_LOAD_MODULES=$(MODULE) prove -r t/

prove-asan: $(MODULE_ASAN)
	rm -rf $(BUILD)/asan-logs && mkdir -p $(BUILD)/asan-logs
	$(TEST_ENV) TEST_NGINX_LOAD_MODULES=$(MODULE_ASAN) \
	    TEST_NGINX_LD_PRELOAD=$(LIBASAN) \
	    ASAN_OPTIONS=detect_leaks=0:log_path=$(BUILD)/asan-logs/asan \
	    prove -r t/
	@if ls $(BUILD)/asan-logs/asan* >/dev/null 2>&1; then \
	    cat $(BUILD)/asan-logs/asan*; \
	    echo "AddressSanitizer reported errors"; exit 1; fi

# the configuration reloaded (SIGHUP) between tests instead of a restart
prove-hup: $(MODULE)
	$(TEST_ENV) TEST_NGINX_USE_HUP=1 TEST_NGINX_LOAD_MODULES=$(MODULE) \
	    prove -r t/

# the local SignalR Service emulator's own tests (Node.js, npm packages)
emulator-test:
	cd util/emulator && npm ci --no-audit --no-fund --loglevel=error
	node --test util/emulator/test/

test: deps
	$(MAKE) unit
	$(MAKE) emulator-test
	$(MAKE) fuzz
	$(MAKE) prove
	$(MAKE) prove-asan
	$(MAKE) prove-hup
	$(MAKE) e2e

bench: $(MODULE)
	bash util/bench.sh

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
#   make deb-test  (root) that package installed into the stock nginx, used,
#                  purged; /etc/nginx must be left exactly as it was

.PHONY: dist deb deb-test

DEB_FROM ?= head

dist:
	bash util/dist.sh

deb:
	DEB_FROM=$(DEB_FROM) bash util/deb.sh

deb-test: deb
	bash util/deb-test.sh
