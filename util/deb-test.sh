#!/bin/bash
# make deb-test: the package of make deb on the stock nginx, as root.
#
#   1. its Depends names exactly the nginx-abi-* the installed nginx Provides
#   2. apt accepts it next to this nginx, and refuses it next to an nginx of
#      another ABI (a simulation on a copy of dpkg's status file in which
#      nginx provides another nginx-abi-*; nothing is installed)
#   3. dpkg -i installs the module, its load line and the modules-enabled
#      link, and starts, stops or reloads no nginx
#   4. nginx -t passes on the stock configuration, which now loads it
#   5. an nginx on a loopback port, with a minimal configuration loading the
#      module through the package's link, answers a negotiate call with the
#      right URL and a token signed with the connection string's key
#   6. dpkg --purge removes it all, and /etc/nginx is exactly as it was
#
# Maintainer scripts run with a policy-rc.d that denies every init action
# (an existing one that does not deny is set aside and put back), so the
# nginx-reload trigger neither starts nor reloads a system nginx, running or
# not. The stock nginx's own state is never touched.
set -uo pipefail
cd "$(dirname "$0")/.."

pkg=libnginx-mod-http-signalr
arch=$(dpkg --print-architecture)
deb=${1:-$(ls build/deb/${pkg}_*_"$arch".deb 2>/dev/null | head -1)}
conf=mod-http-signalr.conf
link=/etc/nginx/modules-enabled/50-$conf
so=/usr/lib/nginx/modules/ngx_http_signalr_module.so

die() { echo "deb-test: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (dpkg -i)"
[ -n "$deb" ] && [ -f "$deb" ] || die "no package in build/deb/: run make deb"
dpkg -s nginx >/dev/null 2>&1 || die "the nginx package is not installed"
if dpkg -s "$pkg" >/dev/null 2>&1; then
    die "$pkg is installed already; this test installs and purges it itself:" \
        "dpkg --purge $pkg first"
fi

passed=0 failed=0
ok()     { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
check()  { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }

tmp=$(mktemp -d)
chmod 755 "$tmp"    # the test nginx's workers run as nobody
policy=/usr/sbin/policy-rc.d
policy_saved=
test_nginx=

cleanup() {
    if [ -n "$test_nginx" ] && [ -f "$tmp/nginx.pid" ]; then
        kill -QUIT "$(cat "$tmp/nginx.pid")" 2>/dev/null
        for _ in $(seq 50); do [ -f "$tmp/nginx.pid" ] || break; sleep 0.1; done
    fi
    if dpkg -s "$pkg" >/dev/null 2>&1; then
        timeout 120 dpkg --purge "$pkg" >/dev/null 2>&1
    fi
    case $policy_saved in
        none) rm -f "$policy" ;;
        '') ;;
        *) mv -f "$policy_saved" "$policy" ;;
    esac
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# a checksum listing of /etc/nginx: every path, its type, mode, owner, link
# target, and for files the SHA-256 of their content
etc_listing() {
    find /etc/nginx -printf '%p %y %m %u:%g %l\n' | LC_ALL=C sort
    find /etc/nginx -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
}
# the system nginx (the stock pid file) and its workers; other nginx
# processes on the machine (test suites) are no business of this test
nginx_pids() {
    local master
    master=$(cat /run/nginx.pid 2>/dev/null) || return 0
    kill -0 "$master" 2>/dev/null || return 0
    echo "$master $(pgrep -P "$master" | sort | tr '\n' ' ')"
}

etc_listing > "$tmp/etc.before"
pids_before=$(nginx_pids)
echo "deb-test: $deb"

# ---- 1, 2: the nginx ABI ---------------------------------------------------
abi=$(dpkg-query -W -f='${Provides}' nginx | tr ',' '\n' | sed -n 's/^ *\(nginx-abi-[^ ]*\).*/\1/p')
dep_abi=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -n 's/^ *\(nginx-abi-[^ ]*\).*/\1/p')
echo "deb-test: nginx $(dpkg-query -W -f='${Version}' nginx) provides $abi;" \
     "the package depends on $dep_abi"
check "Depends names exactly the nginx ABI of the installed nginx ($abi)" \
    test -n "$abi" -a "$dep_abi" = "$abi"

# apt, simulating only (-s), on a copy of dpkg's status without other nginx
# modules (which would fail on the changed ABI too) and without the archive
apt_simulate() { # $1: the nginx-abi-* the installed nginx provides there
    local db=$tmp/apt-$1
    mkdir -p "$db/lists/partial" "$db/sources.d"
    : > "$db/sources.list"
    awk -v abi="$1" -v old="$abi" '
        BEGIN { RS = ""; ORS = "\n\n" }
        /(^|\n)Package: libnginx-mod-/ { next }
        /(^|\n)Package: nginx\n/ { gsub(old, abi) }
        { print }' /var/lib/dpkg/status > "$db/status"
    apt-get -s -o Dir::State::status="$db/status" -o Dir::State::lists="$db/lists" \
        -o Dir::Etc::sourcelist="$db/sources.list" \
        -o Dir::Etc::sourceparts="$db/sources.d" \
        -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
        install "$(realpath "$deb")" > "$db/out" 2>&1
}
other_abi=nginx-abi-1.99.0-1
if apt_simulate "$abi"; then
    ok "apt accepts the package next to the nginx providing $abi"
else
    cat "$tmp/apt-$abi/out"; not_ok "apt accepts the package next to this nginx"
fi
if ! apt_simulate "$other_abi" \
   && grep -q "$pkg : Depends: $abi but it is not installable" "$tmp/apt-$other_abi/out"; then
    ok "apt refuses the package next to an nginx providing $other_abi:" \
       "$(grep -o "$pkg : Depends: .*" "$tmp/apt-$other_abi/out")"
else
    cat "$tmp/apt-$other_abi/out"; not_ok "apt refuses the package next to another nginx ABI"
fi

# ---- 3: install, with no init action allowed -------------------------------
if [ -e "$policy" ]; then
    if "$policy" nginx reload >/dev/null 2>&1; [ $? = 101 ]; then
        policy_saved=
    else
        policy_saved=$tmp/policy-rc.d.saved
        mv "$policy" "$policy_saved"
    fi
else
    policy_saved=none
fi
if [ "$policy_saved" ]; then
    printf '#!/bin/sh\n# make deb-test: no init actions\nexit 101\n' > "$policy"
    chmod 755 "$policy"
fi

if DEBIAN_FRONTEND=noninteractive timeout 120 dpkg -i "$deb" > "$tmp/install.log" 2>&1; then
    ok "dpkg -i $(basename "$deb")"
else
    cat "$tmp/install.log"; not_ok "dpkg -i $(basename "$deb")"
fi
installed() {
    [ -f "$so" ] && [ -f /usr/share/nginx/modules-available/$conf ] &&
    grep -qx "load_module modules/ngx_http_signalr_module.so;" \
        /usr/share/nginx/modules-available/$conf &&
    [ "$(readlink "$link")" = /usr/share/nginx/modules-available/$conf ]
}
check "the module, its load line and the link $link are installed" installed
check "no system nginx was started, stopped or reloaded (its pids: ${pids_before:-none running})" \
    test "$(nginx_pids)" = "$pids_before"

# ---- 4: the stock configuration loads it -----------------------------------
stock_loads() {
    nginx -t -q 2>"$tmp/t.err" &&
    nginx -T > "$tmp/T.out" 2>/dev/null &&
    grep -qx "load_module modules/ngx_http_signalr_module.so;" "$tmp/T.out"
}
if stock_loads; then ok "nginx -t: the stock configuration loads the module"
else cat "$tmp/t.err"; not_ok "nginx -t with the stock configuration"; fi

# ---- 5: a negotiate answer from a running nginx -----------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
key=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH
mkdir -p "$tmp/logs"
cat > "$tmp/nginx.conf" <<EOF
include $link;
pid $tmp/nginx.pid;
error_log $tmp/logs/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $tmp/body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    signalr_endpoint "Endpoint=http://localhost;Port=8999;AccessKey=$key;Version=1.0;";
    server {
        listen 127.0.0.1:$port;
        location = /api/negotiate {
            signalr_negotiate chat;
        }
    }
}
EOF
negotiate() {
    nginx -t -q -c "$tmp/nginx.conf" || return 1
    nginx -c "$tmp/nginx.conf" || return 1
    test_nginx=1
    curl -sS --max-time 10 -X POST -o "$tmp/negotiate.json" -w '%{http_code}\n' \
        "http://127.0.0.1:$port/api/negotiate?negotiateVersion=1" > "$tmp/status" || return 1
    [ "$(cat "$tmp/status")" = 200 ] || { echo "status $(cat "$tmp/status")"; return 1; }
    python3 - "$tmp/negotiate.json" "$key" <<'EOF'
import base64, hashlib, hmac, json, sys
answer = json.load(open(sys.argv[1]))
assert answer["url"] == "http://localhost:8999/client/?hub=chat", answer["url"]
head, body, sig = answer["accessToken"].split(".")
def b64(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
want = hmac.new(sys.argv[2].encode(), (head + "." + body).encode(), hashlib.sha256).digest()
assert hmac.compare_digest(b64(sig), want), "the token's signature does not verify"
assert json.loads(b64(head)) == {"alg": "HS256", "typ": "JWT"}
claims = json.loads(b64(body))
assert claims["aud"] == "http://localhost/client/?hub=chat", claims["aud"]
assert claims["exp"] > claims["nbf"]
EOF
}
if negotiate; then
    ok "a running nginx (127.0.0.1:$port) answers negotiate: url and a token signed with the key"
else
    cat "$tmp/negotiate.json" "$tmp/logs/error.log" 2>/dev/null
    not_ok "negotiate answer from nginx on 127.0.0.1:$port"
fi
if [ -n "$test_nginx" ]; then
    nginx -c "$tmp/nginx.conf" -s quit 2>/dev/null
    for _ in $(seq 50); do [ -f "$tmp/nginx.pid" ] || break; sleep 0.1; done
    test_nginx=
fi

# ---- 6: purge, and /etc/nginx as it was ------------------------------------
if DEBIAN_FRONTEND=noninteractive timeout 120 dpkg --purge "$pkg" > "$tmp/purge.log" 2>&1; then
    ok "dpkg --purge $pkg"
else
    cat "$tmp/purge.log"; not_ok "dpkg --purge $pkg"
fi
gone() {
    [ ! -e "$so" ] && [ ! -e /usr/share/nginx/modules-available/$conf ] &&
    [ ! -L "$link" ] && [ ! -L "$link.removed" ] && nginx -t -q
}
check "the module, its load line and its link are gone; nginx -t passes" gone
etc_listing > "$tmp/etc.after"
if diff -u "$tmp/etc.before" "$tmp/etc.after"; then
    ok "/etc/nginx is exactly as before ($(wc -l < "$tmp/etc.before") lines of listing)"
else
    not_ok "/etc/nginx changed"
fi
check "still no system nginx started, stopped or reloaded" test "$(nginx_pids)" = "$pids_before"

echo "deb-test: $passed passed, $failed failed"
[ "$failed" = 0 ]
