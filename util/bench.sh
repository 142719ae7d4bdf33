#!/usr/bin/env bash
# Benchmarks ngx_signalr_module against plain nginx and njs in one run, on
# one pinned nginx worker, and prints ratios (make bench). Loopback only;
# each measurement is bounded by DURATION seconds.
set -euo pipefail

cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}
PORT=${PORT:-18990}
PREFIX=$PWD/build/bench
MODULE=$PWD/build/ngx_http_signalr_module.so

for p in wrk libnginx-mod-http-js valgrind; do
    dpkg -s "$p" >/dev/null 2>&1 || {
        apt-get update -qq && apt-get install -y -qq --no-install-recommends \
            wrk libnginx-mod-http-js valgrind >/dev/null; break; }
done

rm -rf "$PREFIX" && mkdir -p "$PREFIX"
cp util/bench/negotiate.js "$PREFIX/"
sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@MODULE@|$MODULE|g" -e "s|@PORT@|$PORT|g" \
    util/bench/nginx.conf > "$PREFIX/nginx.conf"

/usr/sbin/nginx -p "$PREFIX" -c "$PREFIX/nginx.conf"
trap '/usr/sbin/nginx -p "$PREFIX" -c "$PREFIX/nginx.conf" -s stop' EXIT
sleep 0.5

url=http://127.0.0.1:$PORT
curl -sf "$url/negotiate?user=alice" >/dev/null
curl -sf "$url/njs?user=alice" >/dev/null

rps() {
    taskset -c 1 wrk -t1 -c50 -d"${DURATION}s" "$@" 2>/dev/null \
        | awk '/Requests\/sec/ {print $2}'
}

plain=$(rps "$url/plain")
neg=$(rps "$url/negotiate?user=alice")
njs=$(rps "$url/njs?user=alice")
post=$(rps -s util/bench/trigger.lua "$url/post")
trig=$(rps -s util/bench/trigger.lua "$url/upstream")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

cat <<END
requests/s, one nginx worker on CPU 0, wrk -t1 -c50 -d${DURATION}s on CPU 1

negotiate (plain fixed body)   $plain
negotiate (signalr_negotiate)  $neg   ($(ratio "$neg" "$plain") of plain, $(ratio "$neg" "$njs")x njs)
negotiate (njs js_content)     $njs   ($(ratio "$njs" "$plain") of plain)
upstream POST (plain 204)      $post
upstream POST (signalr_trigger) $trig  ($(ratio "$trig" "$post") of plain; verify, parse, route subrequest, answer)
END

# the same paths counted in instructions (callgrind), which repeat exactly
# whatever else the machine does
echo
bash util/bench/instructions.sh "$MODULE" "${BENCH_REQUESTS:-200}"
