#!/bin/bash
# util/build-module.sh builds again what changed: a header that every file
# includes (the version) and the module's config (a new source file). Runs
# in a copy of the tracked files, against nginx-dev's tree or NGINX_SRC.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
src=${NGINX_SRC:-/usr/share/nginx/src}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "not ok - $*"; exit 1; }

(cd "$repo" && git ls-files -z | xargs -0 cp --parents -t "$tmp" 2>/dev/null) \
    || (cd "$repo" && tar cf - --exclude=./build --exclude=./.git . ) \
           | (cd "$tmp" && tar xf -)

build() {
    NGINX= bash "$tmp/util/build-module.sh" "$src" "$tmp/work" \
        > "$tmp/build.log" 2>&1 || { tail -20 "$tmp/build.log"; fail "build"; }
}

so=$tmp/work/ngx_http_signalr_module.so

build
has() { strings "$so" > "$tmp/strings"; grep -q "$1" "$tmp/strings"; }

has "ngx_signalr_module/" || fail "first build: no version"
echo "ok - first build"

sed -i 's/#define NGX_HTTP_SIGNALR_VERSION .*/#define NGX_HTTP_SIGNALR_VERSION  "9.8.7"/' \
    "$tmp/ngx_signalr_module/ngx_http_signalr_version.h"
build
has "ngx_signalr_module/9.8.7" \
    || fail "a changed version header was not built again"
echo "ok - a changed header is built again"

printf 'int ngx_http_signalr_build_check(void);\nint ngx_http_signalr_build_check(void) { return 1; }\n' \
    > "$tmp/ngx_signalr_module/ngx_http_signalr_build_check.c"
sed -i 's|^ngx_module_srcs="\$SIGNALR_SRC/ngx_http_signalr_module.c \\|ngx_module_srcs="$SIGNALR_SRC/ngx_http_signalr_module.c $SIGNALR_SRC/ngx_http_signalr_build_check.c \\|' \
    "$tmp/config"
grep -q ngx_http_signalr_build_check.c "$tmp/config" || fail "the test could not edit config"
build
nm -D --defined-only "$so" > "$tmp/symbols"
grep -q ngx_http_signalr_build_check "$tmp/symbols" \
    || fail "a source added to config was not built (no configure run)"
echo "ok - a changed config configures again"
