#!/bin/bash
# Instructions per request in the nginx worker, under callgrind: the module
# against the plain nginx way of the same hop, and njs (make bench). Each
# path runs in its own nginx (master_process off) twice, with 1 and with
# 1 + N requests on one keepalive connection; the difference over N is
# what one request costs, start-up and exit left out. The app behind the
# routes and the REST location is a second, unmeasured nginx.
#
#   util/bench/instructions.sh <module.so> [N]
set -euo pipefail
cd "$(dirname "$0")/../.."

module=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
n=${2:-200}
work=$PWD/build/bench/instr
port=18991
app=18992
njs=/usr/lib/nginx/modules/ngx_http_js_module.so
key=Xb2Qy7mN4pLr8sTv1wZk6dHf3jGc9aEu5oIqRtYvBnM=
cid=0f9c97a2f0bf4706afe87a14e0797b11

rm -rf "$work" && mkdir -p "$work/app/logs"
command -v valgrind >/dev/null || { echo "instructions: no valgrind" >&2; exit 1; }

# the app: answers routes and REST calls, not measured
cat > "$work/app/nginx.conf" <<END
daemon on; master_process on; worker_processes 1;
error_log $work/app/logs/error.log error; pid $work/app/logs/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$app;
        location / { default_type application/json; return 200 '"ok"'; }
        location /api/ { return 202; }
    }
}
END
/usr/sbin/nginx -p "$work/app/" -c "$work/app/nginx.conf"
trap '/usr/sbin/nginx -p "$work/app/" -c "$work/app/nginx.conf" -s stop' EXIT

# the signature of $cid with $key
sig=sha256=$(printf %s "$cid" | openssl dgst -sha256 -hmac "$key" -r | cut -d' ' -f1)

measure() {   # <name> <count> <curl arguments...>
    local name=$1 count=$2 d
    shift 2
    d=$work/$name${STATUS:+-status}-$count
    mkdir -p "$d/logs"
    sed -e "s|@D@|$d|g" -e "s|@MODULE@|$module|g" -e "s|@PORT@|$port|g" \
        -e "s|@APP@|$app|g" -e "s|@KEY@|$key|g" -e "s|@NJS@|$njs|g" \
        -e "s|@JS@|$PWD/util/bench/negotiate.js|g" \
        -e "s|@STATUS@|${STATUS:-}|g" \
        util/bench/instructions.conf > "$d/nginx.conf"
    valgrind --tool=callgrind --callgrind-out-file="$d/cg.out" \
        /usr/sbin/nginx -p "$d/" -c "$d/nginx.conf" > "$d/valgrind.log" 2>&1 &
    local vg=$! i urls=()
    for i in $(seq 100); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/ready" && break
        sleep 0.2
    done
    if [ ! -s "$d/logs/nginx.pid" ]; then
        kill "$vg" 2>/dev/null || true
        echo "instructions: nginx for /$name did not start:" >&2
        tail -5 "$d/valgrind.log" "$d/logs/error.log" >&2 || true
        return 1
    fi
    for i in $(seq "$count"); do
        urls+=("http://127.0.0.1:$port/$name?user=alice")
    done
    # every answer must be a success, or an error page would be measured
    if ! curl -sf "$@" "${urls[@]}" >/dev/null; then
        kill -QUIT "$(cat "$d/logs/nginx.pid")"
        wait "$vg" || true
        echo "instructions: /$name did not answer with success" >&2
        return 1
    fi
    kill -QUIT "$(cat "$d/logs/nginx.pid")"
    wait "$vg" || true
    sed -n 's/^summary: //p; s/^totals: //p' "$d/cg.out" | head -1
}

per_request() {  # <name> <curl arguments...>
    local a b
    a=$(measure "$1" 1 "${@:2}") || exit 1
    b=$(measure "$1" $((n + 1)) "${@:2}") || exit 1
    echo $(( (b - a) / n ))
}

upstream=(-H "X-ASRS-Connection-Id: $cid" -H "X-ASRS-Hub: chat"
          -H "X-ASRS-Category: messages" -H "X-ASRS-Event: broadcast"
          -H "X-ASRS-Signature: $sig" -H "Content-Type: application/json"
          -d '{"type":1,"invocationId":"0","target":"broadcast","arguments":["hello"]}')
send=(-H "Content-Type: application/json" -d '{"target":"t","groupName":"g","arguments":[1]}')

plain=$(per_request plain)
neg=$(per_request negotiate)
js=$(per_request njs)
proxy=$(per_request proxy "${upstream[@]}")
trig=$(per_request upstream "${upstream[@]}")
rest=$(per_request rest "${send[@]}")
out=$(per_request out "${send[@]}")

# the same with the status page's counters on (docs/status.md)
STATUS="signalr_status_zone 1m;"
sneg=$(per_request negotiate)
strig=$(per_request upstream "${upstream[@]}")
sout=$(per_request out "${send[@]}")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

cat <<END
instructions per request in the worker (callgrind, $n requests, keepalive)

negotiate: module $neg, return 200 of the same body $plain: $(ratio "$neg" "$plain")x; njs $js: $(ratio "$neg" "$js")x
trigger:   module $trig, proxy_pass of the same call $proxy: $(ratio "$trig" "$proxy")x
output:    module $out, proxy_pass of the same JSON $rest: $(ratio "$out" "$rest")x

with the status page's counters on (signalr_status_zone):
negotiate: $sneg (+$((sneg - neg))), trigger: $strig (+$((strig - trig))), output: $sout (+$((sout - out)))
END
