#!/usr/bin/env bash
# bench/files.sh [rounds]: loom.fs and loom.child_process against Node,
# side by side: readFile of 10,000 small files (64 at a time) and of one
# 1 GiB file, exec of `true` 1,000 times (16 at a time). The files live
# in a temporary directory (page cache warm after the first round).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
if [ ! -x build-release/loom ]; then
  meson setup build-release --buildtype=release -Dtests=false >/dev/null
fi
meson compile -C build-release >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/small"
for i in $(seq 10000); do printf 'file %05d %s\n' "$i" "$(head -c 200 /dev/zero | tr '\0' x)" > "$work/small/$i"; done
head -c 1073741824 /dev/zero > "$work/big"
for _ in $(seq "$ROUNDS"); do
  build-release/loom bench/files.lua "$work/small" "$work/big"
  node bench/files.js "$work/small" "$work/big"
done
