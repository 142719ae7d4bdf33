#!/usr/bin/env bash
# make stress: ngx_signalr_module under load, on 127.0.0.1 only.
#
# 1. load: wrk (-t2 -c256, STRESS_TIME seconds a run, STRESS_RUNS runs) against
#    nginx with two workers, one path after the other: negotiate, a signed
#    trigger mix (a connected event, a JSON and a MessagePack invocation),
#    an output mix (a broadcast, and a group add with a group send), the
#    routes and REST calls proxied to a stand-in nginx (util/stress/app.conf,
#    not measured), and all-close: the three, each request on a connection
#    of its own (connection setup and teardown, under the memory checks).
#    Every run must have: no answer outside 2xx and no socket
#    error (wrk, util/stress/mix.lua counting each answer), every request
#    nginx logged answered 2xx and sent whole (but for those cut by wrk's
#    exit: 499, or a 2xx not sent whole; at most one a connection), no
#    [error], [crit], [alert] or [emerg] line in the error log, the same two
#    workers; no worker's VmRSS may grow, within the runs after the
#    first (the warm-up), by more than STRESS_RSS_TOL_KB (2048) kB or
#    STRESS_RSS_TOL_PCT (10) %; and the workers' RssAnon, added, may not
#    grow from after run 2 to after the last run (wrk's connections closed)
#    by more than STRESS_RR_TOL_KB (4096) kB or STRESS_RR_TOL_PCT (10) %
#    (see "Memory" below).
# 2. reloads under load: wrk against the three paths together while the
#    master gets SIGHUP every STRESS_HUP_EVERY (0.5) seconds, twice: on
#    keepalive connections, then with a connection per request. No answer
#    outside 2xx, no connect error and no timeout; every request nginx logged
#    answered 2xx (as above); each reload's two old workers exit (the master
#    ends with its two current workers, within 30 s), with code 0; no
#    [alert], [crit], [emerg] or [error] line, no worker exited on a signal.
#    On keepalive connections wrk's read and write errors are counted, and
#    bounded (256 a reload), not failed: a worker that exits after a reload
#    closes its keepalive connections, which wrk may find closed as it sends
#    the next request (a request nginx never read: the access log shows
#    every request it read answered). With a connection per request: none.
# 3. the status page's counters, which the reloads keep, against the access
#    log: tokens issued, upstream calls answered and cut.
#
# Every wait is bounded: each curl (10 s), wrk (its duration and 30 s),
# the access log's last writes (30 s), the old workers' exits (30 s), the
# start (20 s) and each stop (10 s, then KILL). After each load the
# access log is read only once its buffers are written (settle_access).
#
# Prints a summary and exits non-zero on any failed check. Every process
# it starts is stopped on exit, whatever happened.
#
#   NGINX (/usr/sbin/nginx), MODULE (build/ngx_http_signalr_module.so),
#   STRESS_TIME (15), STRESS_RUNS (3, at least 3), STRESS_PORT (8910; the
#   stand-in on the next port), STRESS_HUP_EVERY (0.5), STRESS_PATHS (the
#   paths of the load runs: "negotiate trigger output all-close")
set -euo pipefail
cd "$(dirname "$0")/.."

NGINX_BIN=${NGINX:-/usr/sbin/nginx}
# nginx itself reads NGINX from its environment (inherited sockets)
unset NGINX
MODULE=${MODULE:-$PWD/build/ngx_http_signalr_module.so}
T=${STRESS_TIME:-15}
RUNS=${STRESS_RUNS:-3}
PORT=${STRESS_PORT:-8910}
APP=$((PORT + 1))
HUP_EVERY=${STRESS_HUP_EVERY:-0.5}
RSS_TOL_KB=${STRESS_RSS_TOL_KB:-2048}
RSS_TOL_PCT=${STRESS_RSS_TOL_PCT:-10}
RR_TOL_KB=${STRESS_RR_TOL_KB:-4096}
RR_TOL_PCT=${STRESS_RR_TOL_PCT:-10}
THREADS=2
CONNS=256
W=$PWD/build/stress
KEY=Xb2Qy7mN4pLr8sTv1wZk6dHf3jGc9aEu5oIqRtYvBnM=
URL=http://127.0.0.1:$PORT

die() { echo "stress: $*" >&2; exit 1; }

# every curl bounded: 5 s to connect, <seconds> (default 10) in all
hcurl() { command curl --connect-timeout 5 --max-time "${CURL_MAX:-10}" "$@"; }

command -v wrk >/dev/null || die "no wrk (make deps)"
[ -x "$NGINX_BIN" ] || die "$NGINX_BIN is missing (make deps)"
[ -f "$MODULE" ] || die "$MODULE is missing (make)"
[ "$RUNS" -ge 3 ] 2>/dev/null || die "STRESS_RUNS must be 3 or more"
for p in "$PORT" "$APP"; do
    if ss -Hltn "sport = :$p" | grep -q .; then
        die "port $p is taken (STRESS_PORT=<another port>)"
    fi
done

master=
app=
wrk_pid=

# stops a process this script started (wrk): TERM, then KILL after 5 s
stop_pid() {
    local pid=$1 _
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# stops an nginx this script started: TERM, then KILL after 10 s
stop_nginx() {
    local pid=$1 kids _
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kids=$(pgrep -P "$pid" || true)
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "stress: nginx $pid did not stop: killed" >&2
        # shellcheck disable=SC2086
        kill -KILL "$pid" $kids 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT
    [ -z "$wrk_pid" ] || stop_pid "$wrk_pid"
    [ -z "$master" ] || stop_nginx "$master"
    [ -z "$app" ] || stop_nginx "$app"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

rm -rf "$W" && mkdir -p "$W/logs" "$W/app" "$W/tmp"
fill() {
    sed -e "s|@W@|$W|g" -e "s|@MODULE@|$MODULE|g" -e "s|@PORT@|$PORT|g" \
        -e "s|@APP@|$APP|g" -e "s|@KEY@|$KEY|g" "$1" > "$2"
}
fill util/stress/nginx.conf "$W/nginx.conf"
fill util/stress/app.conf "$W/app.conf"

"$NGINX_BIN" -t -q -p "$W/" -c "$W/nginx.conf" -e "$W/logs/error.log" \
    || die "the configuration does not load: $W/nginx.conf"

"$NGINX_BIN" -p "$W/app/" -c "$W/app.conf" -e "$W/app/error.log" &
app=$!
# glibc's heap trim off: a worker's VmRSS is its heap's high-water mark
# (the memory check below)
GLIBC_TUNABLES=${STRESS_GLIBC_TUNABLES-glibc.malloc.trim_threshold=4294967295} "$NGINX_BIN" -p "$W/" -c "$W/nginx.conf" -e "$W/logs/error.log" &
master=$!

workers() { pgrep -P "$master" | sort -n | tr '\n' ' ' | sed 's/ $//'; }
nworkers() { pgrep -P "$master" | wc -l; }
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# RssAnon: the heap and other private memory, not the shared zones' pages
anon() { awk '/^RssAnon:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# both nginx answer and the two workers are up, within 20 s
ready=
deadline=$(( SECONDS + 20 ))
while [ "$SECONDS" -lt "$deadline" ]; do
    if CURL_MAX=2 hcurl -sf -o /dev/null "$URL/ready" \
       && CURL_MAX=2 hcurl -s -o /dev/null "http://127.0.0.1:$APP/" \
       && [ "$(nworkers)" = 2 ]; then
        ready=1; break
    fi
    kill -0 "$master" 2>/dev/null || break
    sleep 0.1
done
[ -n "$ready" ] || { tail -5 "$W/logs/error.log" "$W/app/error.log" >&2 || true; die "nginx did not start"; }

# the trigger's connection ids, each with its signature (openssl)
signed=()
for cid in 0f9c97a2f0bf4706afe87a14e0797b11 stress-conn-1 stress-conn-2 stress-conn-3; do
    sig=sha256=$(printf %s "$cid" | openssl dgst -sha256 -hmac "$KEY" -r | cut -d' ' -f1)
    signed+=("$cid" "$sig")
done

failures=()
fail() { failures+=("$*"); echo "stress: FAIL: $*" >&2; }

# ---- each request kind answers as it should, once, before any load --------
cid=${signed[0]} sig=${signed[1]}
up=(-H "X-ASRS-Hub: chat" -H "X-ASRS-Connection-Id: $cid" -H "X-ASRS-Signature: $sig"
    -H "X-ASRS-User-Id: alice")
smoke() {  # <name> <expected status> <expected body: regex, hex:<bytes> or ""> <curl args...>
    local name=$1 want=$2 body=$3 got ok=1
    shift 3
    got=$(hcurl -s -o "$W/smoke.out" -w '%{http_code}' "$@") || got=curl-failed
    case $body in
        '') [ ! -s "$W/smoke.out" ] || ok= ;;
        hex:*) [ "$(od -An -v -tx1 "$W/smoke.out" | tr -d ' \n')" = "${body#hex:}" ] || ok= ;;
        *) grep -Eq "$body" "$W/smoke.out" || ok= ;;
    esac
    if [ "$got" != "$want" ] || [ -z "$ok" ]; then
        fail "smoke: $name answered $got: $(head -c 200 "$W/smoke.out" | od -An -c | head -3 | tr -s ' ')"
    fi
}
smoke negotiate 200 '"accessToken":"ey' "$URL/negotiate?user=alice"
smoke connected 200 '' "${up[@]}" -H "X-ASRS-Category: connections" \
    -H "X-ASRS-Event: connected" -H "Content-Type: application/json" \
    --data-binary '{"type":10}' "$URL/upstream"
smoke "JSON invocation" 200 '"result":"ok"' "${up[@]}" -H "X-ASRS-Category: messages" \
    -H "X-ASRS-Event: broadcast" -H "Content-Type: application/json" \
    --data-binary '{"type":1,"invocationId":"0","target":"broadcast","arguments":["hello"]}' \
    "$URL/upstream"
printf '\x96\x01\x80\xa1\x30\xa9broadcast\x91\xa5hello\x90' > "$W/invocation.msgpack"
# its Completion: [3, {}, "0", 3, "ok"], with its VarInt length prefix
smoke "MessagePack invocation" 200 hex:09950380a13003a26f6b "${up[@]}" -H "X-ASRS-Category: messages" \
    -H "X-ASRS-Event: broadcast" -H "Content-Type: application/x-msgpack" \
    --data-binary @"$W/invocation.msgpack" "$URL/upstream"
smoke broadcast 202 '"completed":1,"total":1' -H "Content-Type: application/json" \
    --data-binary '{"target":"t","arguments":[1]}' "$URL/out"
smoke "add, group send" 202 '"completed":2,"total":2' -H "Content-Type: application/json" \
    --data-binary '[{"action":"add","groupName":"g","connectionId":"c"},{"target":"t","groupName":"g","arguments":[1]}]' \
    "$URL/out"
if [ ${#failures[@]} -gt 0 ]; then
    die "the requests of the mixes do not answer as they should"
fi

# ---- helpers for a run -----------------------------------------------------

size() { stat -c %s "$1"; }

# the error log's lines since <offset> that match <regex>
log_lines() { tail -c +"$(( $1 + 1 ))" "$W/logs/error.log" | grep -E "$2" || true; }

# the access log since <offset>: "<2xx whole> <499> <2xx not whole> <other>"
# and the statuses of the others
access() {
    tail -c +"$(( $1 + 1 ))" "$W/logs/access.log" | awk '
        $1 ~ /^2/ && $3 == "OK" { ok++; next }
        $1 ~ /^2/ { cut++; next }
        $1 == "499" { gone++; next }
        { other++; s[$1]++ }
        END { l = ""; for (k in s) l = l k ":" s[k] ",";
              printf "%d %d %d %d %s\n", ok, gone, cut, other, (l == "" ? "-" : l) }'
}

# reads wrk's STRESS line from <file> into the w_* variables
parse_wrk() {
    local line
    line=$(grep '^STRESS ' "$1" || true)
    if [ -z "$line" ]; then
        cat "$1" >&2
        fail "wrk printed no counts ($1)"
        line="STRESS requests=0 duration_us=1 responses=0 non2xx=0 connect=0 read=0 write=0 timeout=0 statuses=-"
    fi
    f() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$line"; }
    w_req=$(f requests) w_us=$(f duration_us) w_resp=$(f responses)
    w_bad=$(f non2xx) w_conn=$(f connect) w_read=$(f read) w_write=$(f write)
    w_tmo=$(f timeout) w_st=$(f statuses)
    w_rate=$(awk -v n="$w_req" -v us="$w_us" 'BEGIN { printf "%.0f", n / (us / 1e6) }')
}

wrk_args=(-t"$THREADS" -c"$CONNS" -d"${T}s" --timeout 10s -s util/stress/mix.lua "$URL" --)

# waits, after a load, until the workers have written the access log's
# buffers (buffer=64k flush=1s: a line is written at most a second after
# it was logged): 1.5 s, then until the log's size has not changed for
# 1.5 s (a request that was still waiting for the stand-in is logged when
# it ends), at most 30 s; then reads the log since <offset> into the a_*
# variables. The next window starts where this one ends.
settle_access() {  # <label> <offset>
    local s0 s1 still=0 _
    sleep 1.5
    s0=$(size "$W/logs/access.log")
    for _ in $(seq 57); do
        sleep 0.5
        s1=$(size "$W/logs/access.log")
        if [ "$s1" = "$s0" ]; then
            still=$(( still + 1 ))
            [ "$still" -lt 3 ] || break
        else
            still=0 s0=$s1
        fi
    done
    [ "$still" -ge 3 ] || fail "$1: the access log was still growing 30 s after the load"
    read -r a_ok a_gone a_cut a_other a_st < <(access "$2")
}

rows=()
row() { rows+=("$(printf '%-8s %-10s %3s %9s %7s %7s %11s %15s %-26s %s' "$@")"); }

check_run() {  # <label>: the checks every run has
    local label=$1
    [ "$w_bad" = 0 ] || fail "$label: $w_bad answers outside 2xx (status:count $w_st)"
    [ "$a_other" = 0 ] || fail "$label: nginx logged $a_other answers outside 2xx and 499 (status:count $a_st)"
    [ $(( a_gone + a_cut )) -le $CONNS ] \
        || fail "$label: nginx logged $a_gone 499 and $a_cut 2xx not sent whole: more than wrk's exit cuts ($CONNS)"
    [ "$a_ok" -ge "$w_resp" ] \
        || fail "$label: nginx logged $a_ok whole 2xx answers, wrk counted $w_resp"
    if [ "$w_conn" != 0 ] || [ "$w_tmo" != 0 ]; then
        fail "$label: socket errors: connect $w_conn, timeout $w_tmo"
    fi
}

# ---- 1. load ----------------------------------------------------------------

echo "stress: $("$NGINX_BIN" -v 2>&1 | sed 's/.*: //') ($NGINX_BIN), $MODULE"
echo "stress: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1,2), -t$THREADS -c$CONNS, ${T} s a run, $RUNS runs a path, $(nproc) cores"
gen0=$(workers)
declare -A first_rss grown anon2
rss_lines=()
rr_lines=()

# waits for wrk (bounded: its duration and 30 s more), then reads its counts
wait_wrk() {  # <label> <output file>
    local _
    for _ in $(seq $(( (T + 30) * 10 ))); do
        kill -0 "$wrk_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$wrk_pid" 2>/dev/null; then
        fail "$1: wrk did not end 30 s after its ${T} s"
        stop_pid "$wrk_pid"
    elif ! wait "$wrk_pid"; then
        cat "$2" >&2; fail "$1: wrk failed"
    fi
    wrk_pid=
    parse_wrk "$2"
}

# Memory: each worker's VmRSS a third into each run (its connections made,
# their buffers allocated) and at its end, with glibc's heap trim off
# (GLIBC_TUNABLES above): VmRSS is then the heap's high-water mark, which
# only memory kept from request to request (or a new peak) raises. The
# check is the growth within the runs after the warm-up run, added up. It
# is not the VmRSS after one run against that after another: each run's
# 256 connections are shared between the two workers anew (by which wakes
# first), and a worker that holds more of them than ever before reaches a
# higher mark (here up to 2.8 MB more, with nothing kept).
# The run-to-run check (below, in the loop) is that comparison, for the
# two workers together, and with a tolerance above that noise: RssAnon (the
# heap, not the shared zones' pages) after run 2 against after the last run,
# each read once wrk's connections are closed. It sees what the within-run
# check cannot: memory kept by a connection, its teardown or a request cut
# (499), and the connection-per-request runs (all-close) make a connection
# of every request. Measured noise: 0 to +1.5 MB (a worker's new peak share
# of the connections).
for path in ${STRESS_PATHS:-negotiate trigger output all-close}; do
    for pid in $gen0; do grown[$pid]=0; done
    for run in $(seq "$RUNS"); do
        label="$path run $run"
        eo=$(size "$W/logs/error.log")
        ao=$(size "$W/logs/access.log" 2>/dev/null || echo 0)
        wrk "${wrk_args[@]}" "$path" "${signed[@]}" > "$W/wrk-$path-$run.txt" 2>&1 &
        wrk_pid=$!
        sleep "$(awk -v t="$T" 'BEGIN { print t / 3 }')"
        declare -A mid=()
        for pid in $gen0; do mid[$pid]=$(rss "$pid"); done
        wait_wrk "$label" "$W/wrk-$path-$run.txt"
        settle_access "$label" "$ao"
        check_run "$label"
        w_sock=$(( w_conn + w_read + w_write + w_tmo ))
        [ "$w_sock" = 0 ] \
            || fail "$label: socket errors: connect $w_conn, read $w_read, write $w_write, timeout $w_tmo"
        bad=$(log_lines "$eo" '\[(error|crit|alert|emerg)\]|exited on signal')
        [ -z "$bad" ] || fail "$label: the error log says: $(head -3 <<< "$bad")"
        [ "$(workers)" = "$gen0" ] || fail "$label: the workers changed: $gen0 -> $(workers)"
        rs=""
        an=""
        for pid in $gen0; do an="$an $(anon "$pid")"; done
        for pid in $gen0; do
            r=$(rss "$pid")
            rs="$rs ${mid[$pid]}>$r"
            if [ "$run" = 1 ]; then
                first_rss[$pid]=$r
                continue
            fi
            grown[$pid]=$(( grown[$pid] + r - mid[$pid] ))
            [ "$run" = "$RUNS" ] || continue
            g=${grown[$pid]}
            tol=$(( first_rss[$pid] * RSS_TOL_PCT / 100 ))
            [ "$tol" -ge "$RSS_TOL_KB" ] || tol=$RSS_TOL_KB
            verdict=ok
            if [ "$g" -gt "$tol" ]; then
                verdict=FAIL
                fail "$path: worker $pid's VmRSS grew by $g kB within runs 2 to $RUNS (tolerance $tol kB)"
            fi
            rss_lines+=("$(printf '%-10s worker %-8s %+6d kB within runs 2-%d (tolerance %d kB) %-4s  after run 1: %6s kB, after run %d: %6s kB' \
                "$path" "$pid" "$g" "$RUNS" "$tol" "$verdict" "${first_rss[$pid]}" "$RUNS" "$r")")
        done
        # run to run: the workers' RssAnon, added, after run 2 and after
        # the last run, each read once wrk's connections are closed
        # (settle_access) and the requests cut by its exit have ended
        sum=0
        for a in $an; do sum=$(( sum + a )); done
        if [ "$run" = 2 ]; then
            anon2[$path]=$sum
        elif [ "$run" = "$RUNS" ]; then
            g=$(( sum - anon2[$path] ))
            tol=$(( anon2[$path] * RR_TOL_PCT / 100 ))
            [ "$tol" -ge "$RR_TOL_KB" ] || tol=$RR_TOL_KB
            verdict=ok
            if [ "$g" -gt "$tol" ]; then
                verdict=FAIL
                fail "$path: the workers' RssAnon grew by $g kB from after run 2 to after run $RUNS (tolerance $tol kB)"
            fi
            rr_lines+=("$(printf '%-10s %+7d kB from after run 2 (%d kB) to after run %d (%d kB) (tolerance %d kB) %s' \
                "$path" "$g" "${anon2[$path]}" "$RUNS" "$sum" "$tol" "$verdict")")
        fi
        row load "$path" "$run" "$w_req" "$w_rate" "$w_bad" \
            "$w_conn/$w_read/$w_write/$w_tmo" "$a_ok/$a_gone/$a_cut/$a_other" "${rs# }" "|${an}"
    done
done

# ---- 2. reloads under load --------------------------------------------------
# twice: the three paths on keepalive connections, then each request on a
# connection of its own ("Connection: close"), where no request can meet a
# connection that an exiting worker closes: no socket error at all

master_rss0=$(rss "$master")
reload_lines=()
reload_run() {  # <mix> <label>
    local mix=$1 label=$2 sent=0 max reloads=0 exited=0 left bad rs pid _
    local eo ao
    eo=$(size "$W/logs/error.log")
    ao=$(size "$W/logs/access.log")
    wrk "${wrk_args[@]}" "$mix" "${signed[@]}" > "$W/wrk-$label.txt" 2>&1 &
    wrk_pid=$!
    sleep "$HUP_EVERY"
    max=$(awk -v t="$T" -v e="$HUP_EVERY" 'BEGIN { printf "%d", t / e + 20 }')
    while kill -0 "$wrk_pid" 2>/dev/null && [ "$sent" -lt "$max" ]; do
        kill -HUP "$master"
        sent=$(( sent + 1 ))
        sleep "$HUP_EVERY"
    done
    wait_wrk "$label" "$W/wrk-$label.txt"

    # the old workers exit: two a reload done, until only the current two
    for _ in $(seq 300); do
        reloads=$(log_lines "$eo" '\[notice\] [0-9]+#[0-9]+: reconfiguring$' | wc -l)
        exited=$(log_lines "$eo" 'worker process [0-9]+ exited with code' | wc -l)
        [ "$(nworkers)" = 2 ] && [ "$exited" = $(( 2 * reloads )) ] && break
        sleep 0.1
    done
    left=$(nworkers)
    settle_access "$label" "$ao"
    check_run "$label"
    [ "$left" = 2 ] || fail "$label: the master has $left workers 30 s after the load, not 2: $(workers)"
    [ "$exited" = $(( 2 * reloads )) ] \
        || fail "$label: $exited workers exited after $reloads reloads, not $(( 2 * reloads ))"
    [ "$reloads" -gt 0 ] || fail "$label: the master did not reload ($sent SIGHUP sent)"
    if [ "$mix" = all ]; then
        # each reload can close each connection once, between two requests
        [ $(( w_read + w_write )) -le $(( CONNS * (reloads + 1) )) ] \
            || fail "$label: $w_read read and $w_write write errors: more than $CONNS a reload"
    elif [ $(( w_read + w_write )) != 0 ]; then
        fail "$label: socket errors: read $w_read, write $w_write"
    fi
    bad=$(log_lines "$eo" 'exited with code [1-9]|\[(error|crit|alert|emerg)\]|exited on signal')
    [ -z "$bad" ] || fail "$label: the error log says: $(head -3 <<< "$bad")"
    rs=""
    for pid in $(workers); do rs="$rs $(rss "$pid")"; done
    row reload "$mix" - "$w_req" "$w_rate" "$w_bad" "$w_conn/$w_read/$w_write/$w_tmo" \
        "$a_ok/$a_gone/$a_cut/$a_other" "${rs# }"
    reload_lines+=("$(printf '%-10s %3d SIGHUP sent, %3d reloads done, %3d old workers exited (code 0), %d workers left' \
        "$mix" "$sent" "$reloads" "$exited" "$left")")
}
reload_run all reload
reload_run all-close reload-close
master_rss1=$(rss "$master")

# ---- the counters, kept by every reload, against the access log ------------
# every token issued is a negotiate answered 2xx; every upstream call is
# counted once by its outcome: "answered" for a 2xx, "client_error" for a
# 499 (the smoke requests above are in both)

settle_access counters 0
read -r l_neg l_up_ok l_up_gone < <(awk '
    $2 == "/negotiate" && $1 ~ /^2/ { n++ }
    $2 == "/upstream" && $1 ~ /^2/ { u++ }
    $2 == "/upstream" && $1 == "499" { g++ }
    END { printf "%d %d %d\n", n, u, g }' "$W/logs/access.log")
if hcurl -sf -o "$W/status.json" "$URL/status?format=json"; then
    read -r z_neg z_up_ok z_up_gone z_up_other < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
neg = sum(t["value"] for t in d["negotiate_tokens"])
o = {}
for c in d["trigger_calls"]:
    for k, v in c["outcomes"].items():
        o[k] = o.get(k, 0) + v
ans, ce = o.pop("answered", 0), o.pop("client_error", 0)
print(neg, ans, ce, sum(o.values()))' "$W/status.json")
    [ "$z_neg" = "$l_neg" ] \
        || fail "counters: $z_neg negotiate tokens counted, $l_neg negotiate answers logged"
    if [ "$z_up_ok" != "$l_up_ok" ] || [ "$z_up_gone" != "$l_up_gone" ] \
       || [ "$z_up_other" != 0 ]; then
        fail "counters: upstream calls counted answered $z_up_ok, client_error $z_up_gone, other $z_up_other; logged 2xx $l_up_ok, 499 $l_up_gone"
    fi
else
    fail "counters: the status page did not answer"
fi

# ---- the summary -----------------------------------------------------------

echo
printf '%-8s %-10s %3s %9s %7s %7s %11s %15s %-26s %s\n' phase path run requests 'req/s' \
    non-2xx 'sock c/r/w/t' 'log 2xx/499/cut/other' 'VmRSS kB (a third in>end)' '| RssAnon kB after'
printf '%s\n' "${rows[@]}"
echo
echo "worker VmRSS: growth from a third into each run to its end, added over the runs after the warm-up:"
printf '  %s\n' "${rss_lines[@]}"
echo "workers' RssAnon, added: from after run 2 to after run $RUNS (connections closed):"
printf '  %s\n' "${rr_lines[@]}"
echo
echo "reloads under load (master VmRSS $master_rss0 -> $master_rss1 kB):"
printf '  %s\n' "${reload_lines[@]}"
echo "counters (status zone, kept by the reloads) against the access log: tokens ${z_neg:-?}/$l_neg, upstream calls answered ${z_up_ok:-?}/$l_up_ok, client_error ${z_up_gone:-?}/$l_up_gone"
echo "wrk's read errors under reloads on keepalive connections are connections that an exiting"
echo "worker closed between two requests (nginx logged every request it read: see the log column;"
echo "with a connection per request, none)"
echo
if [ ${#failures[@]} -gt 0 ]; then
    echo "stress: ${#failures[@]} failed checks:"
    printf '  %s\n' "${failures[@]}"
    echo "(logs and wrk's output: $W/)"
    exit 1
fi
echo "stress: ok"
