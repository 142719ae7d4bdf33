#!/bin/sh
# Installs the npm packages of the end-to-end tests and of the emulator
# (npm ci, from the lockfiles) when node_modules is missing or older than
# the lockfile. Run from anywhere; used by make e2e.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
for dir in "$root/util/emulator" "$root/t/e2e"; do
    [ -f "$dir/package-lock.json" ] || continue
    if [ ! -f "$dir/node_modules/.package-lock.json" ] \
       || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        echo "npm ci in ${dir#"$root"/}"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
done
