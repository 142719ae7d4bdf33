#!/bin/bash
# make deb: build/deb/libnginx-mod-http-signalr_<version>-<rev>_<arch>.deb,
# built as Debian builds its nginx modules (debian/: debhelper 13 with
# dh-sequence-nginx) by dpkg-buildpackage -us -uc -b in a copy of the tree
# under build/deb/, so the work tree stays clean.
#
#   DEB_FROM=head      (default) the copy is the release tarball of make dist
#                      (HEAD): what is shipped is what is built and tested
#   DEB_FROM=worktree  the working tree's tracked and untracked, not ignored,
#                      files instead, uncommitted changes included
#   DEB_BUILD_OPTIONS=nocheck  skips the Test::Nginx suites, as usual, and
#                      sets the nocheck build profile too, so that the test
#                      dependencies (sid's libtest-nginx-perl among them)
#                      are not needed
#
# The build, its tests included, runs without network access (a network
# namespace with only loopback) where unshare(1) is allowed, as on Debian's
# build daemons; the log is build/deb/build.log.
set -euo pipefail
cd "$(dirname "$0")/.."

from=${DEB_FROM:-head}
out=$PWD/build/deb
rm -rf "$out"
mkdir -p "$out"

case $from in
head)
    bash util/dist.sh
    v=$(git show HEAD:ngx_signalr_module/ngx_http_signalr_version.h \
        | sed -n 's/^#define[ 	]*NGX_HTTP_SIGNALR_VERSION[ 	]*"\([^"]*\)".*/\1/p')
    tarball=build/ngx_signalr_module-$v.tar.gz
    tar -xzf "$tarball" -C "$out"
    src=$out/$(basename "$tarball" .tar.gz)
    ;;
worktree)
    src=$out/worktree
    mkdir -p "$src"
    git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
        | tar --null -T - -cf - | tar -xf - -C "$src"
    ;;
*)
    echo "deb: DEB_FROM is head or worktree, not $from" >&2
    exit 1
    ;;
esac

version=$(sh util/pkg-version.sh "$src")
pkg=$(sed -n '1s/^\([^ ]*\) .*/\1/p' "$src/debian/changelog")
srcdir=$out/$pkg-$version
mv "$src" "$srcdir"

# without the suites, their build dependencies are not needed either
case " ${DEB_BUILD_OPTIONS:-} " in
*" nocheck "*)
    export DEB_BUILD_PROFILES="${DEB_BUILD_PROFILES:+$DEB_BUILD_PROFILES }nocheck" ;;
esac

(cd "$srcdir" && dpkg-checkbuilddeps) || {
    echo "deb: missing build dependencies: run make deps (util/install-deps.sh)," >&2
    echo "deb: or build without the test suites: DEB_BUILD_OPTIONS=nocheck make deb" >&2
    exit 1
}

# the suites run in the copy, which has no build/tools/: t/014-status.t
# finds the promtool of make deps through PROMTOOL (and fails without one
# where CI=true)
if [ -z "${PROMTOOL:-}" ] && [ -x build/tools/promtool ]; then
    export PROMTOOL="$PWD/build/tools/promtool"
fi

build=(dpkg-buildpackage -us -uc -b)
if command -v ip >/dev/null && unshare --net true 2>/dev/null; then
    network="none (a network namespace with loopback only)"
    build=(unshare --net sh -c 'ip link set lo up && exec "$@"' sh "${build[@]}")
else
    network="not isolated (unshare is not allowed here)"
fi

echo "deb: dpkg-buildpackage -us -uc -b in ${srcdir#"$PWD"/}, network: $network"
start=$(date +%s)
if ! (cd "$srcdir" && "${build[@]}") > "$out/build.log" 2>&1; then
    tail -60 "$out/build.log"; echo
    echo "deb: the package build failed; the full log is ${out#"$PWD"/}/build.log" >&2
    exit 1
fi
grep -E '^(All tests successful|Files=|Result:)' "$out/build.log" | sed 's/^/deb: prove: /' || true

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
rev=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$srcdir/debian/changelog")
deb=$out/${pkg}_${rev}_$arch.deb
[ -f "$deb" ] || { echo "deb: $deb was not built" >&2; exit 1; }
echo "deb: ${deb#"$PWD"/} ($(stat -c %s "$deb") bytes, built in $(( $(date +%s) - start ))s)"
echo "deb: Depends: $(dpkg-deb -f "$deb" Depends)"
