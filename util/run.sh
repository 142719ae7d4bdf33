#!/usr/bin/env bash
# make run: the chat room of docs/examples/chat at http://127.0.0.1:8080/,
# served by nginx with the module, and, unless AzureSignalRConnectionString
# is set, the bundled SignalR Service emulator. Ctrl-C stops all of it.
#
#   util/run.sh [chat|app]     chat (default): docs/examples/chat
#                              app: docs/examples/app (a Python app behind nginx)
#
# Environment: AzureSignalRConnectionString (use that service), RUN_PORT
# (8080), EMULATOR_PORT (8888), APP_PORT (3000), OUTPUT_PORT (8081),
# NGINX (/usr/sbin/nginx), MODULE (build/ngx_http_signalr_module.so).
# Everything listens on 127.0.0.1 only; files go to build/run/.
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EXAMPLE=${1:-chat}
RUN_PORT=${RUN_PORT:-8080}
EMULATOR_PORT=${EMULATOR_PORT:-8888}
APP_PORT=${APP_PORT:-3000}
OUTPUT_PORT=${OUTPUT_PORT:-8081}
NGINX_BIN=${NGINX:-/usr/sbin/nginx}
# nginx itself reads NGINX from its environment (inherited sockets)
unset NGINX
MODULE=${MODULE:-$ROOT/build/ngx_http_signalr_module.so}
RUN=$ROOT/build/run
START_TIMEOUT=15    # seconds, for each process to come up

say() { printf 'run: %s\n' "$*"; }
die() { printf 'run: %s\n' "$*" >&2; exit 1; }

case $EXAMPLE in
    chat|app) ;;
    *) die "unknown example \"$EXAMPLE\": chat or app" ;;
esac

[ -f "$MODULE" ] || die "$MODULE is missing: run make first"
[ -x "$NGINX_BIN" ] || die "$NGINX_BIN is missing: run make deps first"
command -v node >/dev/null || die "node is missing: run make deps first"
command -v npm >/dev/null || die "npm is missing: run make deps first"
if [ "$EXAMPLE" = app ]; then
    command -v python3 >/dev/null || die "python3 is missing: run make deps first"
fi

# ---- processes we start, stopped on exit -------------------------------

PIDS=()
NAMES=()

cleanup() {
    trap - INT TERM EXIT
    local i pid n
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        pid=${PIDS[$i]}
        kill -0 "$pid" 2>/dev/null || continue
        say "stopping ${NAMES[$i]} (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for ((n = 0; n < 50; n++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap cleanup EXIT

started() { PIDS+=("$1"); NAMES+=("$2"); }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# waits until something listens on the port, or the process dies
wait_port() {
    local port=$1 pid=$2 name=$3 log=$4 n
    for ((n = 0; n < START_TIMEOUT * 10; n++)); do
        port_busy "$port" && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -20 "$log" >&2 || true
            die "$name exited; see $log"
        fi
        sleep 0.1
    done
    tail -20 "$log" >&2 || true
    die "$name did not listen on 127.0.0.1:$port within ${START_TIMEOUT}s; see $log"
}

# ---- npm dependencies (the emulator, and the browser build of the client) --

npm_deps() {
    local dir=$1
    [ -f "$dir/package.json" ] || return 0
    if [ ! -f "$dir/node_modules/.package-lock.json" ] \
       || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        say "installing npm packages in ${dir#"$ROOT"/}"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

npm_deps "$ROOT/util/emulator"

SIGNALR_JS=
for dir in "$ROOT/util/emulator" "$ROOT/t/e2e"; do
    f=$dir/node_modules/@microsoft/signalr/dist/browser/signalr.min.js
    if [ -f "$f" ]; then SIGNALR_JS=$f; break; fi
done
if [ -z "$SIGNALR_JS" ]; then
    npm_deps "$ROOT/t/e2e"
    SIGNALR_JS=$ROOT/t/e2e/node_modules/@microsoft/signalr/dist/browser/signalr.min.js
    [ -f "$SIGNALR_JS" ] || die "the browser build of @microsoft/signalr was not found"
fi

# ---- the served files --------------------------------------------------

for port in "$RUN_PORT" $([ "$EXAMPLE" = app ] && echo "$APP_PORT $OUTPUT_PORT"); do
    port_busy "$port" && die "127.0.0.1:$port is in use (set RUN_PORT, APP_PORT or OUTPUT_PORT)"
done

rm -rf "$RUN"
mkdir -p "$RUN/conf" "$RUN/logs" "$RUN/html/lib"
cp "$SIGNALR_JS" "$RUN/html/lib/signalr.min.js"
[ -f "$SIGNALR_JS.map" ] && cp "$SIGNALR_JS.map" "$RUN/html/lib/"
if [ "$EXAMPLE" = chat ]; then
    cp "$ROOT/docs/examples/chat/index.html" "$RUN/html/index.html"
fi

UPSTREAM_PATH=/runtime/webhooks/signalr

# ---- the service: Azure SignalR Service, or the emulator -----------------

# a key of the connection string (keys are case-insensitive)
cs_get() {
    local want=${1,,} part key value
    local IFS=';'
    for part in $AzureSignalRConnectionString; do
        [[ $part == *=* ]] || continue
        key=${part%%=*}
        value=${part#*=}
        key=${key//[[:space:]]/}
        value=${value#"${value%%[![:space:]]*}"}
        value=${value%"${value##*[![:space:]]}"}
        if [ "${key,,}" = "$want" ]; then
            printf '%s' "$value"
            return
        fi
    done
}

json_string() {
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}

if [ -n "${AzureSignalRConnectionString:-}" ]; then
    SERVICE_KIND=azure
    endpoint=$(cs_get endpoint)
    endpoint=${endpoint%%/}
    [[ $endpoint =~ ^https?://[^/]+ ]] \
        || die "AzureSignalRConnectionString has no Endpoint=http(s)://..."
    SERVICE=${BASH_REMATCH[0]}
    server=$(cs_get serverendpoint)
    port=$(cs_get port)
    if [ -n "$server" ]; then
        # REST calls go to the ServerEndpoint (its path, if any, is not kept)
        [[ $server =~ ^https?://[^/]+ ]] || die "invalid ServerEndpoint"
        SERVICE=${BASH_REMATCH[0]}
    else
        if [ -n "$port" ]; then
            # scheme://host, then the port of the connection string
            [[ $SERVICE =~ ^(https?://[^/:]+) ]] && SERVICE="${BASH_REMATCH[1]}:$port"
        fi
    fi
    UPSTREAM_URL="https://<this nginx's public host>$UPSTREAM_PATH"
    say "using Azure SignalR Service $endpoint (REST calls to $SERVICE)"
else
    SERVICE_KIND=emulator
    say "starting the emulator on 127.0.0.1:$EMULATOR_PORT"
    port_busy "$EMULATOR_PORT" && die "127.0.0.1:$EMULATOR_PORT is in use (set EMULATOR_PORT)"
    : > "$RUN/emulator.out"
    node "$ROOT/util/emulator/emulator.js" --port "$EMULATOR_PORT" \
        --upstream "http://127.0.0.1:$RUN_PORT$UPSTREAM_PATH" \
        > "$RUN/emulator.out" 2> "$RUN/logs/emulator.log" &
    started $! emulator
    emulator_pid=$!
    cs=
    for ((n = 0; n < START_TIMEOUT * 10; n++)); do
        cs=$(head -n 1 "$RUN/emulator.out")
        [[ $cs == Endpoint=* ]] && break
        cs=
        kill -0 "$emulator_pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$cs" ]; then
        tail -20 "$RUN/logs/emulator.log" >&2 || true
        die "the emulator did not start; see $RUN/logs/emulator.log"
    fi
    export AzureSignalRConnectionString=$cs
    endpoint=http://127.0.0.1:$EMULATOR_PORT
    SERVICE=$endpoint
    UPSTREAM_URL=http://127.0.0.1:$RUN_PORT$UPSTREAM_PATH
fi

printf '{"service":%s,"endpoint":%s,"upstream":%s,"upstreamPath":%s}\n' \
    "$(json_string "$SERVICE_KIND")" "$(json_string "$endpoint")" \
    "$(json_string "$UPSTREAM_URL")" "$(json_string "$UPSTREAM_PATH")" \
    > "$RUN/html/config.json"

# ---- the app (example "app") -------------------------------------------

if [ "$EXAMPLE" = app ]; then
    say "starting the app on 127.0.0.1:$APP_PORT"
    python3 -u "$ROOT/docs/examples/app/app.py" --port "$APP_PORT" \
        --output "http://127.0.0.1:$OUTPUT_PORT/signalr/chat" \
        > "$RUN/logs/app.log" 2>&1 &
    started $! app
    wait_port "$APP_PORT" $! app "$RUN/logs/app.log"
fi

# ---- nginx ---------------------------------------------------------------

sed -e "s|@MODULE@|$MODULE|g" -e "s|@PORT@|$RUN_PORT|g" -e "s|@SERVICE@|$SERVICE|g" \
    -e "s|@APP_PORT@|$APP_PORT|g" -e "s|@OUTPUT_PORT@|$OUTPUT_PORT|g" \
    "$ROOT/docs/examples/$EXAMPLE/nginx.conf" > "$RUN/conf/nginx.conf"

"$NGINX_BIN" -t -q -p "$RUN/" -c "$RUN/conf/nginx.conf" -e logs/error.log \
    || die "nginx refused $RUN/conf/nginx.conf"

"$NGINX_BIN" -p "$RUN/" -c "$RUN/conf/nginx.conf" -e logs/error.log &
started $! nginx
nginx_pid=$!
wait_port "$RUN_PORT" "$nginx_pid" nginx "$RUN/logs/error.log"

echo
say "open http://127.0.0.1:$RUN_PORT/"
if [ "$SERVICE_KIND" = azure ]; then
    say "set the service's Upstream URL template (Settings > Upstream, patterns *) to"
    say "    $UPSTREAM_URL"
    say "a public HTTPS URL that reaches 127.0.0.1:$RUN_PORT (a tunnel or a reverse proxy)"
else
    say "emulator: $endpoint (log: $RUN/logs/emulator.log, events: $endpoint/_emulator/log)"
fi
say "nginx log: $RUN/logs/error.log; Ctrl-C stops everything"
echo

# until Ctrl-C, or until one of them dies
set +e
wait -n "${PIDS[@]}"
status=$?
set -e
for i in "${!PIDS[@]}"; do
    if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
        say "${NAMES[$i]} exited (status $status); stopping the rest"
    fi
done
exit 1
