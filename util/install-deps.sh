#!/bin/sh
# Installs everything the build and the test suites need on Debian 12
# (bookworm): Debian packages only, plus Test::Nginx from Debian's
# libtest-nginx-perl, which only sid carries (fetched through a temporary
# sid apt source that is removed again before anything is installed).
set -eu

export DEBIAN_FRONTEND=noninteractive
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

need=""
for p in nginx nginx-dev libjansson-dev libssl-dev pkg-config make gcc \
         libasan8 perl libtest-base-perl libtest-longstring-perl \
         libtext-diff-perl liblist-moreutils-perl liburi-perl \
         libhttp-message-perl libipc-run3-perl libjson-pp-perl \
         clang libclang-rt-14-dev curl ca-certificates chromium python3 \
         libnginx-mod-http-js \
         build-essential debhelper dpkg-dev iproute2 \
         libpcre2-dev zlib1g-dev binutils debian-archive-keyring valgrind \
         wrk procps openssl
do
    dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
# (libpcre2-dev, zlib1g-dev: the nginx 1.26.x that util/matrix.sh builds;
# binutils: make hardening's readelf; debian-archive-keyring: the temporary
# apt sources of util/matrix.sh; valgrind: make valgrind; wrk, and procps's
# pgrep, iproute2's ss, openssl's dgst, curl and python3: make stress)
# the emulator, the end-to-end tests and make run need Node.js and npm;
# Debian's are installed only when there is none already
command -v node >/dev/null 2>&1 || need="$need nodejs"
command -v npm >/dev/null 2>&1 || need="$need npm"

# one EXIT trap for everything this script must undo, whichever step fails;
# a signal exits through it too (dash runs EXIT traps only on exit)
rm_policy=
tmp=
cleanup() {
    [ -z "$rm_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d
    [ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

if [ -n "$need" ] || ! perl -MTest::Nginx::Socket -e1 2>/dev/null; then
    $SUDO apt-get update -qq
fi

if [ -n "$need" ]; then
    # stop the stock nginx from grabbing port 80 when the package installs
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
        $SUDO chmod +x /usr/sbin/policy-rc.d
        rm_policy=1
    fi
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

if ! perl -MTest::Nginx::Socket -e1 2>/dev/null; then
    # sid's package, fetched through an apt configuration of its own in a
    # temporary directory: nothing under /etc/apt or /var/lib/apt changes
    tmp=$(mktemp -d)
    chmod 755 "$tmp"
    mkdir -p "$tmp/sources" "$tmp/prefs" "$tmp/lists/partial" \
             "$tmp/cache/archives/partial" "$tmp/deb"
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: sid\n%s\n%s\n' \
        'Components: main' \
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
        > "$tmp/sources/sid.sources"
    set -- -o Dir::Etc::sourcelist=/dev/null \
           -o Dir::Etc::sourceparts="$tmp/sources" \
           -o Dir::Etc::preferences=/dev/null \
           -o Dir::Etc::preferencesparts="$tmp/prefs" \
           -o Dir::State::Lists="$tmp/lists" \
           -o Dir::Cache="$tmp/cache" \
           -o Acquire::Languages=none
    [ "$(id -u)" = 0 ] && set -- "$@" -o APT::Sandbox::User=root
    apt-get "$@" update -qq
    (cd "$tmp/deb" && apt-get "$@" download libtest-nginx-perl)
    $SUDO apt-get install -y -qq --no-install-recommends "$tmp"/deb/libtest-nginx-perl_*.deb >/dev/null
fi

perl -MTest::Nginx::Socket -e1

# promtool (t/014-status.t checks the status page's Prometheus text with
# "promtool check metrics"): only that binary, taken out of bookworm's
# prometheus package into build/tools/; installing the package would start
# a Prometheus server
tools="$(cd "$(dirname "$0")/.." && pwd)/build/tools"
if ! "$tools/promtool" --version >/dev/null 2>&1; then
    [ -n "$tmp" ] || tmp=$(mktemp -d)
    chmod 755 "$tmp"
    rm -rf "$tmp/prom" && mkdir -p "$tmp/prom/deb" "$tmp/prom/x"
    chmod 777 "$tmp/prom/deb"
    (cd "$tmp/prom/deb" && apt-get download prometheus >/dev/null 2>&1) || {
        $SUDO apt-get update -qq
        (cd "$tmp/prom/deb" && apt-get download prometheus >/dev/null)
    }
    dpkg-deb -x "$tmp"/prom/deb/prometheus_*.deb "$tmp/prom/x"
    mkdir -p "$tools"
    cp "$tmp/prom/x/usr/bin/promtool" "$tools/promtool.new"
    mv "$tools/promtool.new" "$tools/promtool"
fi
"$tools/promtool" --version >/dev/null

echo "install-deps: ok"
