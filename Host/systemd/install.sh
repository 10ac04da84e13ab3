#!/bin/sh
# Installs eqlactors and its systemd unit.
#
#   Host/systemd/install.sh [--publish-dir DIR]
#
#   DESTDIR   staging root prepended to every path (default: empty, i.e. the live system)
#   PREFIX    install prefix (default /usr/local): PREFIX/lib/eqlactors, PREFIX/bin/eqlactors
#   UNITDIR   systemd unit directory (default /etc/systemd/system)
#
# Without --publish-dir it runs `dotnet publish Host -c Release` (ReadyToRun, for this machine) first. It never overwrites an existing
# /etc/eqlactors/eqlactors.json, and with DESTDIR set it never calls systemctl.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
UNITDIR=${UNITDIR:-/etc/systemd/system}
publish=

while [ $# -gt 0 ]; do
    case $1 in
        --publish-dir) publish=$2; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done

if [ -z "$publish" ]; then
    publish=$(mktemp -d)
    trap 'rm -rf "$publish"' EXIT
    # ReadyToRun for this machine (framework-dependent): most code is compiled ahead of time, the daemon's start and
    # bring-up cost a fraction of the CPU (docs/benchmarks.md, sections 11 and 16)
    dotnet publish "$repo/Host/EqlActors.Host.csproj" -c Release --use-current-runtime --self-contained false \
        -p:PublishReadyToRun=true -o "$publish" --nologo
fi
[ -f "$publish/eqlactors.dll" ] || { echo "install.sh: $publish has no eqlactors.dll" >&2; exit 1; }

lib="$DESTDIR$PREFIX/lib/eqlactors"
rm -rf "$lib.new"
mkdir -p "$lib.new" "$DESTDIR$PREFIX/bin" "$DESTDIR$UNITDIR" "$DESTDIR/etc/eqlactors" "$DESTDIR$PREFIX/share/doc/eqlactors"
cp -R "$publish/." "$lib.new/"
# Swap the whole directory: a running daemon keeps its open files; the next start runs the new build.
rm -rf "$lib.old"
[ -d "$lib" ] && mv "$lib" "$lib.old"
mv "$lib.new" "$lib"
rm -rf "$lib.old"
chmod 0755 "$lib/eqlactors" 2>/dev/null || true
ln -sfn "$PREFIX/lib/eqlactors/eqlactors" "$DESTDIR$PREFIX/bin/eqlactors"

sed "s|^ExecStart=/usr/local/bin/eqlactors|ExecStart=$PREFIX/bin/eqlactors|" "$here/eqlactors.service" > "$DESTDIR$UNITDIR/eqlactors.service"
chmod 0644 "$DESTDIR$UNITDIR/eqlactors.service"
chmod 0755 "$DESTDIR/etc/eqlactors"
for doc in README.md docs/operations.md docs/configuration.md docs/architecture.md; do
    [ -f "$repo/$doc" ] && install -m 0644 "$repo/$doc" "$DESTDIR$PREFIX/share/doc/eqlactors/"
done

echo "installed eqlactors into ${DESTDIR:-/}: $PREFIX/bin/eqlactors, $UNITDIR/eqlactors.service"
if [ -z "$DESTDIR" ]; then
    [ -f /etc/eqlactors/eqlactors.json ] || echo "next: write /etc/eqlactors/eqlactors.json (eqlactors config import-rc ~/.eql-slirprc > ...)"
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        echo "next: systemctl enable --now eqlactors   (an upgrade: systemctl restart eqlactors; running links are adopted)"
    fi
fi
