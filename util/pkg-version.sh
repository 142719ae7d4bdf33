#!/bin/sh
# Prints the module's version, read from ngx_http_signalr_version.h of the
# tree given as $1 (default: the current directory), after checking that
# debian/changelog and CHANGELOG.md of that tree name the same version.
# Used by util/dist.sh and util/deb.sh; fails with a message otherwise.
set -eu

tree=${1:-.}
header=$tree/ngx_signalr_module/ngx_http_signalr_version.h

version=$(sed -n 's/^#define[ 	]*NGX_HTTP_SIGNALR_VERSION[ 	]*"\([^"]*\)".*/\1/p' "$header")
case $version in
    [0-9]*.[0-9]*.[0-9]*) ;;
    *) echo "pkg-version: no version in $header" >&2; exit 1 ;;
esac

# debian/changelog: "libnginx-mod-http-signalr (<version>-<revision>) ..."
deb_version=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$tree/debian/changelog")
if [ "${deb_version%-*}" != "$version" ]; then
    echo "pkg-version: debian/changelog is at $deb_version, the header at $version:" >&2
    echo "pkg-version: add a debian/changelog entry ($version-1)" >&2
    exit 1
fi

if ! grep -q "^## \[$version\]" "$tree/CHANGELOG.md"; then
    echo "pkg-version: CHANGELOG.md has no \"## [$version]\" entry" >&2
    exit 1
fi

echo "$version"
