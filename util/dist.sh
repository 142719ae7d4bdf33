#!/bin/sh
# make dist: build/ngx_signalr_module-<version>.tar.gz of the committed tree
# (HEAD, through git archive, so never build output or uncommitted files)
# and its SHA-256 sum, build/ngx_signalr_module-<version>.tar.gz.sha256
# (check with: cd build && sha256sum -c ngx_signalr_module-*.tar.gz.sha256).
# The tests stay in: distributions run them when they package the module.
set -eu
cd "$(dirname "$0")/.."

build=$PWD/build
mkdir -p "$build"

if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
    echo "dist: note: uncommitted changes are not in the tarball (it is HEAD)" >&2
fi

tmp=$(mktemp -d "$build/dist.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# the version and its consistency checked on exactly what goes out
git archive --format=tar HEAD -- ngx_signalr_module/ngx_http_signalr_version.h \
    debian/changelog CHANGELOG.md | tar -x -C "$tmp"
version=$(sh util/pkg-version.sh "$tmp")

name=ngx_signalr_module-$version
# what users of a release do not need: the CI entry point, git's own files
git archive --format=tar --prefix="$name/" HEAD -- . \
    ':(exclude).ci' ':(exclude,glob)**/.gitignore' ':(exclude).gitattributes' \
    | gzip -9n > "$tmp/$name.tar.gz"
mv "$tmp/$name.tar.gz" "$build/$name.tar.gz"
(cd "$build" && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")

echo "dist: build/$name.tar.gz ($(wc -c < "$build/$name.tar.gz") bytes," \
     "$(tar -tzf "$build/$name.tar.gz" | grep -vc '/$') files, commit" \
     "$(git rev-parse --short HEAD))"
echo "dist: build/$name.tar.gz.sha256: $(cut -d' ' -f1 "$build/$name.tar.gz.sha256")"
