#!/bin/bash
# The nginx versions the module is tested against besides Debian 12's 1.22.1,
# fetched from Debian's archive and built under build/matrix/ (kept between
# runs: nothing is fetched or built again when it is there).
#
#   util/matrix.sh [build]   fetch what is missing and build it
#   util/matrix.sh refresh   forget what was fetched and built, then build
#   util/matrix.sh paths     print the Make variables of what is built
#
# What it makes:
#
#   build/matrix/trixie       nginx 1.26.x of Debian 13 (trixie): the pristine
#                             nginx.org source (Debian's orig tarball, SHA-256
#                             checked against trixie's Sources) built with
#                             Debian's configure arguments (paths under
#                             build/, --with-compat), sbin/nginx, modules/
#   build/matrix/trixie-asan  the same nginx built entirely with
#                             -fsanitize=address (and NGX_DEBUG_PALLOC, so that
#                             AddressSanitizer sees every pool allocation)
#   build/matrix/trixie-src   its source tree (NGINX_SRC of module builds)
#   build/matrix/sid-dev      the nginx-dev headers of Debian sid, the newest
#                             nginx Debian carries (compile-only: no binary)
#
# njs (ngx_http_js_module.so) is built into trixie/modules when Debian's njs
# source (libnginx-mod-js) orig tarball of trixie can be downloaded; when it
# cannot, the test that needs it skips and says so.
#
# Debian's archive is reached through a temporary apt configuration in a
# temporary directory (its own sources, lists and cache): nothing under
# /etc/apt or /var/lib/apt is touched.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
M=$repo/build/matrix
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
STABLE_SERIES=${STABLE_SERIES:-1.26}    # nginx of Debian 13
jobs=$(nproc 2>/dev/null || echo 2)

log() { echo "matrix: $*" >&2; }
die() { echo "matrix: error: $*" >&2; exit 1; }

# ---- a temporary apt configuration (deb-src trixie, deb sid) --------------

apt_tmp=
APT=()
apt_setup() {
    [ -n "$apt_tmp" ] && return
    apt_tmp=$(mktemp -d)
    trap 'rm -rf "$apt_tmp"' EXIT
    mkdir -p "$apt_tmp/sources" "$apt_tmp/prefs" "$apt_tmp/lists/partial" \
             "$apt_tmp/cache/archives/partial"
    cat > "$apt_tmp/sources/matrix.sources" <<EOF
Types: deb-src
URIs: $MIRROR
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $MIRROR
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    APT=(-o Dir::Etc::sourcelist=/dev/null
         -o Dir::Etc::sourceparts="$apt_tmp/sources"
         -o Dir::Etc::preferences=/dev/null
         -o Dir::Etc::preferencesparts="$apt_tmp/prefs"
         -o Dir::State::Lists="$apt_tmp/lists"
         -o Dir::Cache="$apt_tmp/cache"
         -o Acquire::Languages=none)
    # the sandbox user cannot write into a root-only temporary directory
    [ "$(id -u)" = 0 ] && APT+=(-o APT::Sandbox::User=root)
    log "apt-get update (temporary sources: trixie deb-src, sid deb)"
    apt-get "${APT[@]}" update -qq >/dev/null \
        || die "apt-get update of the temporary sources failed"
}

# the SHA-256 that the index lists for file $3 of source package $1 version $2
src_sha256() {
    apt-cache "${APT[@]}" showsrc "$1" | awk -v ver="$2" -v file="$3" '
        /^Version:/ { v = $2 }
        /^[A-Za-z0-9-]+:/ { sect = $1 }
        /^ / && sect == "Checksums-Sha256:" && v == ver && $3 == file { print $1; exit }'
}

# newest version (dpkg's order) of source package $1 matching the regexp $2
src_version() {
    local v best=
    for v in $(apt-cache "${APT[@]}" showsrc "$1" | sed -n 's/^Version: //p' \
               | grep -E "$2"); do
        if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then
            best=$v
        fi
    done
    echo "$best"
}

# downloads the orig tarball of source package $1 version $2 into $M/dl and
# checks it against the index; prints its path, or fails
fetch_orig() {
    local pkg=$1 ver=$2 upstream=${2#*:} file sum want
    upstream=${upstream%-*}
    file=${pkg}_${upstream}.orig.tar.gz
    want=$(src_sha256 "$pkg" "$ver" "$file")
    [ -n "$want" ] || { log "$pkg $ver: the index lists no $file"; return 1; }
    mkdir -p "$M/dl"
    if [ ! -f "$M/dl/$file" ]; then
        # Debian's .dsc and debian.tar may be gone from the pool (404) while
        # the orig tarball, shared by every revision, is still there
        (cd "$apt_tmp" && apt-get "${APT[@]}" source --download-only -qq \
            "$pkg=$ver" >/dev/null 2>&1) || true
        [ -f "$apt_tmp/$file" ] || { log "$pkg $ver: $file did not download"; return 1; }
        sum=$(sha256sum "$apt_tmp/$file" | cut -d' ' -f1)
        if [ "$sum" != "$want" ]; then
            rm -f "$apt_tmp/$file"
            die "$file: SHA-256 $sum, trixie's Sources say $want: refused"
        fi
        mv "$apt_tmp/$file" "$M/dl/$file"
    fi
    # the cached copy is checked again (the index is at hand anyway)
    sum=$(sha256sum "$M/dl/$file" | cut -d' ' -f1)
    [ "$sum" = "$want" ] || die "$M/dl/$file: SHA-256 $sum, expected $want: refused"
    log "$file: SHA-256 $sum matches trixie's Sources"
    echo "$M/dl/$file"
}

# ---- nginx of trixie --------------------------------------------------------

# Debian's configure arguments (conf_flags of nginx-dev, plus the static HTTP
# modules of Debian's nginx binary) with every path under prefix $1
nginx_args() {
    local p=$1
    echo --prefix="$p" --conf-path="$p/conf/nginx.conf" \
        --http-log-path="$p/logs/access.log" --error-log-path=stderr \
        --lock-path="$p/logs/nginx.lock" --pid-path="$p/logs/nginx.pid" \
        --modules-path="$p/modules" \
        --http-client-body-temp-path="$p/tmp/body" \
        --http-fastcgi-temp-path="$p/tmp/fastcgi" \
        --http-proxy-temp-path="$p/tmp/proxy" \
        --http-scgi-temp-path="$p/tmp/scgi" \
        --http-uwsgi-temp-path="$p/tmp/uwsgi" \
        --with-compat --with-debug --with-pcre-jit --with-threads \
        --with-http_ssl_module --with-http_stub_status_module \
        --with-http_realip_module --with-http_auth_request_module \
        --with-http_v2_module --with-http_v3_module --with-http_dav_module \
        --with-http_slice_module --with-http_addition_module \
        --with-http_gunzip_module --with-http_gzip_static_module \
        --with-http_sub_module --with-http_secure_link_module
}

# build_nginx <source tree> <prefix> <cc-opt> <ld-opt> [njs dir]
build_nginx() {
    local src=$1 prefix=$2 ccopt=$3 ldopt=$4 njs=${5:-} work t0
    work=$M/work/$(basename "$prefix")
    t0=$(date +%s)
    rm -rf "$work" "$prefix"
    mkdir -p "$M/work"
    mkdir -p "$work"
    cp -a "$src/." "$work/"
    # shellcheck disable=SC2046
    (cd "$work" && ./configure $(nginx_args "$prefix") \
        --with-cc-opt="$ccopt" --with-ld-opt="$ldopt" \
        ${njs:+--add-dynamic-module="$njs/nginx"} > "$work.configure.log" 2>&1) \
        || { tail -20 "$work.configure.log"; die "configure of $prefix failed"; }
    make -C "$work" -j"$jobs" > "$work.make.log" 2>&1 \
        || { tail -30 "$work.make.log"; die "build of $prefix failed (log: $work.make.log)"; }
    make -C "$work" install > /dev/null
    mkdir -p "$prefix/modules" "$prefix/tmp"
    rm -rf "$work"
    log "built $("$prefix/sbin/nginx" -v 2>&1 | sed 's/.*: //') in $prefix ($(( $(date +%s) - t0 ))s)"
}

# the recipe of the builds: a build of an older recipe is made again
RECIPE=2
have_nginx() {
    [ -x "$1/sbin/nginx" ] && "$1/sbin/nginx" -v >/dev/null 2>&1 \
        && [ "$(cat "$1/matrix-recipe" 2>/dev/null)" = "$RECIPE" ]
}

# fetch: trixie's nginx 1.26.x source (and njs's when it downloads) into
# $M/src, sid's nginx-dev headers into $M/sid-dev
fetch() {
    apt_setup
    local ver tarball upstream njs_ver njs_tar dev_ver deb want sum
    ver=$(src_version nginx "^${STABLE_SERIES//./\\.}\\.")
    [ -n "$ver" ] || die "trixie's Sources list no nginx $STABLE_SERIES.x"
    upstream=${ver%-*}
    log "trixie's nginx: $ver"
    tarball=$(fetch_orig nginx "$ver") || die "could not fetch nginx $ver's source"
    rm -rf "$M/src/nginx-$upstream" && mkdir -p "$M/src"
    tar -xzf "$tarball" -C "$M/src"
    [ -f "$M/src/nginx-$upstream/src/core/nginx.h" ] || die "$tarball: no nginx-$upstream/"
    ln -sfn "src/nginx-$upstream" "$M/trixie-src"
    echo "$ver" > "$M/trixie-version"

    # njs for the test that needs it, when its source is to be had
    rm -rf "$M/src/njs"
    njs_ver=$(src_version libnginx-mod-js .)
    if [ -n "$njs_ver" ] && njs_tar=$(fetch_orig libnginx-mod-js "$njs_ver"); then
        mkdir -p "$M/src/njs"
        tar -xzf "$njs_tar" -C "$M/src/njs" --strip-components=1
        echo "njs ${njs_ver%-*} (Debian's libnginx-mod-js $njs_ver)" > "$M/njs-status"
    else
        echo "no njs: the orig tarball of Debian's libnginx-mod-js ${njs_ver:-(not listed)} does not download" > "$M/njs-status"
    fi
    log "$(cat "$M/njs-status")"

    # the headers of sid's nginx-dev
    dev_ver=$(apt-cache "${APT[@]}" madison nginx-dev | awk -F' *[|] *' '{print $2}' \
        | sort -V | tail -1)
    [ -n "$dev_ver" ] || die "sid lists no nginx-dev"
    log "sid's nginx-dev: $dev_ver"
    (cd "$apt_tmp" && apt-get "${APT[@]}" download -qq "nginx-dev=$dev_ver" >/dev/null) \
        || die "could not download nginx-dev $dev_ver"
    deb=$(ls "$apt_tmp"/nginx-dev_*.deb)
    want=$(apt-cache "${APT[@]}" show "nginx-dev=$dev_ver" | sed -n 's/^SHA256: //p' | head -1)
    sum=$(sha256sum "$deb" | cut -d' ' -f1)
    if [ -z "$want" ] || [ "$sum" != "$want" ]; then
        die "$(basename "$deb"): SHA-256 $sum, sid's Packages say ${want:-nothing}: refused"
    fi
    rm -rf "$M/nginx-dev-$dev_ver"
    mkdir -p "$M/nginx-dev-$dev_ver"
    dpkg-deb -x "$deb" "$M/nginx-dev-$dev_ver"
    ln -sfn "nginx-dev-$dev_ver/usr/share/nginx/src" "$M/sid-dev"
    echo "$dev_ver" > "$M/sid-dev-version"
}

build() {
    if [ ! -f "$M/trixie-src/src/core/nginx.h" ] || [ ! -f "$M/sid-dev/src/core/nginx.h" ] \
       || [ ! -f "$M/njs-status" ]; then
        fetch
    fi
    local upstream njs_dir="" cflags cppflags ldflags
    upstream=$(sed -n 's/^#define NGINX_VERSION *"\(.*\)"/\1/p' "$M/trixie-src/src/core/nginx.h")
    [ -f "$M/src/njs/nginx/config" ] && njs_dir=$M/src/njs

    export DEB_BUILD_MAINT_OPTIONS=hardening=+all
    cflags=$(cd "$repo" && dpkg-buildflags --get CFLAGS)
    cppflags=$(dpkg-buildflags --get CPPFLAGS)
    ldflags=$(dpkg-buildflags --get LDFLAGS)
    # njs's optional libraries left out
    export NJS_LIBXSLT=NO NJS_QUICKJS=NO

    if ! have_nginx "$M/trixie"; then
        build_nginx "$M/trixie-src/" "$M/nginx-$upstream" \
            "$cflags -fPIC $cppflags" "$ldflags -fPIC" "$njs_dir"
        echo "$RECIPE" > "$M/nginx-$upstream/matrix-recipe"
        ln -sfn "nginx-$upstream" "$M/trixie"
    fi
    if ! have_nginx "$M/trixie-asan"; then
        # AddressSanitizer's defaults built in, so that they hold in every
        # nginx process whatever its environment (nginx passes only TZ and
        # the env directive's variables on to a new binary): the module, like
        # every dynamic module, brings its own ngx_modules and
        # ngx_module_names, which ASan's one-definition-rule check would
        # stop nginx for
        mkdir -p "$M/asan"
        printf '%s\n' 'const char *__asan_default_options(void);' \
            'const char *__asan_default_options(void) { return "detect_odr_violation=0"; }' \
            > "$M/asan/defaults.c"
        gcc -c -O2 -fPIC -o "$M/asan/defaults.o" "$M/asan/defaults.c"
        # NGX_DEBUG_PALLOC: every pool allocation a malloc() of its own,
        # so that ASan sees overruns of pool memory
        build_nginx "$M/trixie-src/" "$M/nginx-$upstream-asan" \
            "$cflags -fPIC $cppflags -O1 -fno-omit-frame-pointer -fsanitize=address -DNGX_DEBUG_PALLOC=1" \
            "$ldflags -fPIC -fsanitize=address $M/asan/defaults.o" "$njs_dir"
        echo "$RECIPE" > "$M/nginx-$upstream-asan/matrix-recipe"
        ln -sfn "nginx-$upstream-asan" "$M/trixie-asan"
    fi
    echo "trixie nginx $(cat "$M/trixie-version") (built $upstream, ASan too)," \
         "sid nginx-dev $(cat "$M/sid-dev-version") (headers); $(cat "$M/njs-status")" \
         > "$M/versions"
    log "$(cat "$M/versions")"
}

case ${1:-build} in
    build) build ;;
    refresh)
        rm -rf "$M"
        build ;;
    paths)
        echo "NGINX=$M/trixie/sbin/nginx NGINX_SRC=$M/trixie-src NGINX_ASAN=$M/trixie-asan/sbin/nginx SID_SRC=$M/sid-dev" ;;
    *) die "usage: $0 [build|refresh|paths]" ;;
esac
