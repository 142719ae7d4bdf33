#!/bin/bash
# Builds ngx_http_signalr_module.so against an nginx source tree.
#
#   util/build-module.sh <nginx source dir> [<work dir>]
#
# The tree is copied to <work dir>/nginx (default build/module/<version>),
# configured with --add-dynamic-module=<this repository>, and the module
# ends up as <work dir>/ngx_http_signalr_module.so. Configure arguments:
#
#   - a Debian nginx-dev tree (/usr/share/nginx/src, it has conf_flags): its
#     conf_flags, the arguments Debian's own nginx was built with;
#   - any other tree (nginx.org's): the exact configure arguments that
#     `$NGINX -V` prints (NGINX: the nginx binary that is to load the module,
#     which must be of the tree's version), plus --with-compat. This is the
#     route for nginx.org's packages and the official container image.
#     NGINX= (empty) builds with --with-compat alone.
#
# Compiler flags: the distribution's hardening flags (dpkg-buildflags with
# hardening=+all on Debian: stack protector, _FORTIFY_SOURCE, relro,
# BIND_NOW), or the binary's own --with-cc-opt/--with-ld-opt on the nginx -V
# route, then $EXTRA_CFLAGS / $EXTRA_LDFLAGS. nginx's configure always adds
# -Werror; WERROR=0 (the default) turns it off again with -Wno-error, so
# that a newer compiler's new warning does not break a user's build, and
# WERROR=1 (the test builds) keeps it.
set -euo pipefail

die() { echo "build-module.sh: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: $0 <nginx source dir> [<work dir>]"
src=$(cd "$1" && pwd) || die "no such directory: $1"
[ -x "$src/configure" ] && [ -f "$src/src/core/nginx.h" ] \
    || die "$src is not an nginx source tree (no configure, src/core/nginx.h)"

repo=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^#define NGINX_VERSION *"\(.*\)"/\1/p' "$src/src/core/nginx.h")
work=${2:-$repo/build/module/$version}
mkdir -p "$work"
work=$(cd "$work" && pwd)

NGINX=${NGINX-/usr/sbin/nginx}
WERROR=${WERROR:-0}
EXTRA_CFLAGS=${EXTRA_CFLAGS:-}
EXTRA_LDFLAGS=${EXTRA_LDFLAGS:-}

# the distribution's hardening flags, as Debian's nginx is built with them
cflags="" ldflags=""
if command -v dpkg-buildflags >/dev/null 2>&1; then
    export DEB_BUILD_MAINT_OPTIONS=${DEB_BUILD_MAINT_OPTIONS:-hardening=+all}
    cflags="$(cd "$repo" && dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
    ldflags=$(dpkg-buildflags --get LDFLAGS)
fi

args=()
if [ -f "$src/conf_flags" ]; then
    route="conf_flags of $src"
    # shellcheck disable=SC1091
    NGX_CONF_FLAGS=()
    source "$src/conf_flags"
    for a in "${NGX_CONF_FLAGS[@]}"; do
        case $a in
            # newer conf_flags carry dpkg-buildflags' flags themselves
            --with-cc-opt=*) cflags=${a#--with-cc-opt=} ;;
            --with-ld-opt=*) ldflags=${a#--with-ld-opt=} ;;
            *) args+=("$a") ;;
        esac
    done
elif [ -n "$NGINX" ]; then
    route="configure arguments of $NGINX -V"
    [ -x "$NGINX" ] || command -v "$NGINX" >/dev/null \
        || die "$src has no conf_flags and NGINX=$NGINX is no nginx binary;" \
               "set NGINX to the nginx that is to load the module"
    v=$("$NGINX" -V 2>&1)
    bin_version=$(printf '%s\n' "$v" | sed -n 's|^nginx version: [^/]*/\([^ ]*\).*|\1|p')
    [ "$bin_version" = "$version" ] \
        || die "$NGINX is nginx $bin_version, $src is nginx $version: a" \
               "module only loads into the version it was built for (set" \
               "NGINX to an nginx $version binary, or NGINX= for --with-compat alone)"
    conf=$(printf '%s\n' "$v" | sed -n 's/^configure arguments: //p')
    # split as the shell would (nginx -V single-quotes values with spaces),
    # without evaluating anything
    mapfile -t bin_args < <(printf '%s' "$conf" | xargs -r printf '%s\n')
    cflags="" ldflags=""
    for a in "${bin_args[@]}"; do
        case $a in
            --with-cc-opt=*) cflags=${a#--with-cc-opt=} ;;
            --with-ld-opt=*) ldflags=${a#--with-ld-opt=} ;;
            --add-module=*|--add-dynamic-module=*)
                echo "build-module.sh: note: $NGINX was built with $a (left out)" >&2 ;;
            *) args+=("$a") ;;
        esac
    done
    printf '%s\n' "${args[@]}" | grep -qx -- --with-compat || args+=(--with-compat)
else
    route="--with-compat alone"
    args=(--with-compat)
fi

if [ "$WERROR" = 1 ]; then
    cflags="$cflags -Werror"
else
    cflags="-Wno-error $cflags"
fi
cflags="$cflags $EXTRA_CFLAGS"
ldflags="$ldflags $EXTRA_LDFLAGS"
args+=("--with-cc-opt=$cflags" "--with-ld-opt=$ldflags" "--add-dynamic-module=$repo")

# a fresh copy of the tree when it is another tree or another version
if [ "$(cat "$work/source" 2>/dev/null)" != "$src $version" ] \
   || [ ! -x "$work/nginx/configure" ]; then
    rm -rf "$work/nginx" "$work/configured"
    mkdir -p "$work/nginx"
    cp -a "$src/." "$work/nginx/"
    printf '%s\n' "$src $version" > "$work/source"
fi

echo "build-module.sh: nginx $version ($src), $route"
cd "$work/nginx"
# configured again when the arguments or the module's config (its list of
# sources and headers) change
stamp=$(printf '%s\n' "${args[@]}"; sha256sum < "$repo/config")
if [ "$(cat "$work/configured" 2>/dev/null)" != "$stamp" ] \
   || [ ! -f objs/Makefile ]; then
    ./configure "${args[@]}" > "$work/configure.log" 2>&1 \
        || { tail -20 "$work/configure.log"; die "configure failed (log: $work/configure.log)"; }
    printf '%s\n' "$stamp" > "$work/configured"
fi
make -f objs/Makefile -j"$(nproc 2>/dev/null || echo 2)" modules
cp objs/ngx_http_signalr_module.so "$work/"
echo "build-module.sh: $work/ngx_http_signalr_module.so"
