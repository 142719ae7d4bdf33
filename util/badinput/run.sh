#!/bin/bash
# make badinput: util/badinput/badinput.py against the module built with
# AddressSanitizer (docs/testing.md). Starts the nginx under test
# (nginx.conf.in: two workers, master in the foreground, its stderr kept)
# and a stand-in SignalR service (rest.conf.in, a plain nginx), sends the
# generated requests, stops both, and fails on:
#   - an answer >= 500, a request without an answer or left unfinished, a
#     trigger route that answered 5xx (the trigger turns it into 200 with the
#     Completion "Invocation failed.": the error log's "signalr: route ...
#     answered 5xx" lines), or requests left unsent at the deadline (the
#     generator; it stops early after BADINPUT_MAX_UNFINISHED such requests),
#   - an error-log line "signalr: route ... answered 5xx" (the same, again),
#   - a worker that exited on a signal, an [alert] or [emerg] in the log,
#   - any AddressSanitizer report (ASAN_OPTIONS log_path, and nginx's stderr).
#
# Environment: MODULE (the ASan .so, required), NGINX (default
# /usr/sbin/nginx), ASAN_PRELOAD (libasan to preload, empty for an nginx
# built with ASan), BADINPUT_COUNT (default 4000 here, 20000 from make),
# BADINPUT_SEED (default 2, so that runs repeat; "random" for a new one,
# printed), BADINPUT_DEADLINE (seconds of sending, default 300: no request is
# started after it), BADINPUT_MAX_UNFINISHED (stop after this many requests
# unanswered or unfinished, default 20), BADINPUT_PORT (default 8741; the
# stand-in takes the next port), BADINPUT_JOBS (parallel connections, default
# 4), OUT (default build/badinput).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MODULE=${MODULE:?MODULE names the module built with AddressSanitizer}
nginx=${NGINX:-/usr/sbin/nginx}
# nginx reads NGINX from its environment (sockets of a binary upgrade)
unset NGINX
ASAN_PRELOAD=${ASAN_PRELOAD-}
COUNT=${BADINPUT_COUNT:-4000}
SEED=${BADINPUT_SEED:-2}
[ "$SEED" = random ] && SEED=$(( $(od -An -N4 -tu4 /dev/urandom) ))
case $SEED in
    ''|*[!0-9]*) echo "badinput: BADINPUT_SEED is a number or \"random\", not \"$SEED\""; exit 1 ;;
esac
DEADLINE=${BADINPUT_DEADLINE:-300}
MAX_UNFINISHED=${BADINPUT_MAX_UNFINISHED:-20}
PORT=${BADINPUT_PORT:-8741}
REST_PORT=$((PORT + 1))
JOBS=${BADINPUT_JOBS:-4}
OUT=${OUT:-$root/build/badinput}

rm -rf "$OUT"
mkdir -p "$OUT/logs" "$OUT/tmp" "$OUT/asan"
# the workers write ASan's reports
chmod 1777 "$OUT/asan"
echo "$SEED" > "$OUT/seed"

user_line=
[ "$(id -u)" = 0 ] && user_line='user root;'
fill() {
    sed -e "s|@MODULE@|$MODULE|g" -e "s|@PREFIX@|$OUT|g" -e "s|@PORT@|$PORT|g" \
        -e "s|@REST_PORT@|$REST_PORT|g" -e "s|@USER@|$user_line|g" "$1" > "$2"
}
fill "$here/nginx.conf.in" "$OUT/nginx.conf"
fill "$here/rest.conf.in" "$OUT/rest.conf"

nginx_pid=
rest_pid=
stop() {
    local pid kids=
    # the workers, to kill them too: they outlive a master killed with SIGKILL
    for pid in $nginx_pid $rest_pid; do
        kids="$kids $(pgrep -P "$pid" 2>/dev/null)"
    done
    for pid in $nginx_pid $rest_pid; do
        kill -QUIT "$pid" 2>/dev/null
    done
    for pid in $nginx_pid $rest_pid; do
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "badinput: nginx $pid did not stop in 20 s: killed, with its workers"
            kill -KILL "$pid" 2>/dev/null
        fi
    done
    # workers still there (of a killed master, or one that hangs after its
    # master exited): only the pids found above, children of our two nginx
    for pid in $kids; do
        if kill -0 "$pid" 2>/dev/null; then
            echo "badinput: nginx worker $pid still runs: killed"
            kill -KILL "$pid" 2>/dev/null
        fi
    done
    nginx_pid=
    rest_pid=
}
trap stop EXIT

# the port must be free: an nginx of an earlier run would answer instead
for p in "$PORT" "$REST_PORT"; do
    if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
        echo "badinput: port $p is taken (BADINPUT_PORT picks another)"; exit 1
    fi
done

"$nginx" -p "$OUT" -c "$OUT/rest.conf" -e "$OUT/logs/rest-error.log" \
    2> "$OUT/logs/rest.stderr" &
rest_pid=$!
LD_PRELOAD=$ASAN_PRELOAD ASAN_OPTIONS=detect_leaks=0:log_path=$OUT/asan/asan \
    "$nginx" -p "$OUT" -c "$OUT/nginx.conf" -e "$OUT/logs/error.log" \
    2> "$OUT/logs/nginx.stderr" &
nginx_pid=$!

# both listen within 30 s (ASan slows the start)
for p in "$PORT" "$REST_PORT"; do
    for i in $(seq 150); do
        (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break
        if [ "$i" = 150 ] || ! kill -0 "$nginx_pid" 2>/dev/null \
           || ! kill -0 "$rest_pid" 2>/dev/null; then
            echo "badinput: nginx did not start on port $p"
            cat "$OUT/logs/nginx.stderr" "$OUT/logs/rest.stderr" \
                "$OUT/logs/error.log" 2>/dev/null | tail -20
            exit 1
        fi
        sleep 0.2
    done
done

echo "badinput: $($nginx -v 2>&1 | sed 's/.*: //') ($nginx${ASAN_PRELOAD:+, libasan preloaded}), module $MODULE"
echo "badinput: seed $SEED (again: make badinput BADINPUT_SEED=$SEED BADINPUT_COUNT=$COUNT), deadline $DEADLINE s"
start=$(date +%s)
# the generator keeps its own deadline (no request started after it, each
# finishes within its 20 s timeout); timeout(1) only in case it hangs itself
timeout -k 10 $((DEADLINE + 120)) \
    python3 "$here/badinput.py" --port "$PORT" --seed "$SEED" --count "$COUNT" \
    --jobs "$JOBS" --out "$OUT" --deadline "$DEADLINE" \
    --max-unfinished "$MAX_UNFINISHED" --error-log "$OUT/logs/error.log"
gen_rc=$?
[ "$gen_rc" = 124 ] && echo "badinput: the generator did not end within $((DEADLINE + 120)) s: stopped"
stop
echo "badinput: $(( $(date +%s) - start )) s in all"

fail=0
[ "$gen_rc" = 0 ] || fail=1
signals=$(grep -c 'exited on signal' "$OUT/logs/error.log")
alerts=$(grep -Ec '\[(alert|emerg)\]' "$OUT/logs/error.log")
crit=$(grep -c '\[crit\]' "$OUT/logs/error.log")
errors=$(grep -c '\[error\]' "$OUT/logs/error.log")
# a trigger route that answered 5xx (logged at error, docs/directives.md):
# the client got 200 or 403 with "Invocation failed.", but a location of
# this module failed on input (the stand-in service always succeeds)
route5xx_re='signalr: route ".*" answered 5[0-9][0-9] to '
route5xx=$(grep -c "$route5xx_re" "$OUT/logs/error.log")
echo "badinput: error log: $signals workers exited on a signal, $alerts [alert]/[emerg], $crit [crit], $errors [error] ($route5xx routes answered 5xx)"
if [ "$signals" != 0 ] || [ "$alerts" != 0 ] || [ "$route5xx" != 0 ]; then
    grep -E "exited on signal|\[(alert|emerg)\]|$route5xx_re" "$OUT/logs/error.log" | head -20
    fail=1
fi
reports=$(ls "$OUT/asan" | wc -l)
stderr_reports=$(grep -c 'AddressSanitizer' "$OUT/logs/nginx.stderr")
echo "badinput: AddressSanitizer reports: $reports in $OUT/asan/, $stderr_reports on nginx's stderr"
if [ "$reports" != 0 ] || [ "$stderr_reports" != 0 ]; then
    head -c 20000 "$OUT"/asan/* "$OUT/logs/nginx.stderr" 2>/dev/null
    fail=1
fi
if [ -s "$OUT/logs/rest-error.log" ] && grep -q 'exited on signal' "$OUT/logs/rest-error.log"; then
    echo "badinput: the stand-in service's worker crashed"; fail=1
fi
if [ "$fail" != 0 ]; then
    echo "badinput: FAILED (seed $SEED; inputs and logs in $OUT)"
    exit 1
fi
echo "badinput: passed (seed $SEED)"
