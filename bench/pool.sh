#!/usr/bin/env bash
# bench/pool.sh [runs]: the thread-pool workloads (issue 4) for loom, luv
# (Debian lua-luv on lua5.4) and Node side by side, median of RUNS runs
# each, with loom's wall time as a fraction of each peer's:
#   stat  100,000 async fs_stat calls in flight (raw C: 4 threads, no queue)
#   work  100,000 queue_work round trips with trivial work (no Node twin)
#   read  a 1 GiB file in 64 KiB async fs_read calls (limit: cat > /dev/null;
#         floor: read_raw.c, the same reads plus the copy a new string costs)
#   readbuf  the same reads into one reused loom_buffer (luv has no buffer;
#         Node's read row already reads into a reused Buffer)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
N=100000
FILE=${BENCH_FILE:-/tmp/loom-bench-1g}

if [ ! -x build-release/loom ]; then
  meson setup build-release --buildtype=release -Dtests=false >/dev/null
fi
meson compile -C build-release >/dev/null
cc -O2 -pthread -o build-release/pool_raw bench/pool_raw.c
cc -O2 -o build-release/read_raw bench/read_raw.c
if [ ! -f "$FILE" ] || [ "$(stat -c %s "$FILE")" -ne $((1 << 30)) ]; then
  head -c $((1 << 30)) /dev/urandom > "$FILE"
fi
cat "$FILE" > /dev/null # warm the page cache: the limit is memory, not disk

median() { sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"; }
time_of() { # cmd... -> median seconds printed by the command
  for _ in $(seq "$RUNS"); do "$@"; done | median
}
wall_of() { # cmd... -> median wall seconds, to the microsecond
  local start end
  for _ in $(seq "$RUNS"); do
    start=$(date +%s%N)
    "$@" >/dev/null
    end=$(date +%s%N)
    awk -v ns=$((end - start)) 'BEGIN { printf "%.4f\n", ns / 1e9 }'
  done | median
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
have_luv() { lua5.4 -e 'require "luv"' 2>/dev/null; }

echo "thread pool workloads: median of $RUNS runs, $(nproc) CPUs"
for w in stat work read readbuf; do
  arg=$N
  case $w in read*) arg=$FILE ;; esac
  loom=$(time_of build-release/loom bench/pool.lua loom "$w" "$arg")
  luv=-; node=-; limit=-
  if [ "$w" != readbuf ] && have_luv; then
    luv=$(time_of lua5.4 bench/pool.lua luv "$w" "$arg")
  fi
  if [ "$w" != work ] && command -v node >/dev/null; then
    node=$(time_of node bench/pool.js "${w%buf}" "$arg")
  fi
  case $w in
    stat) limit=$(time_of build-release/pool_raw "$N" 4) ;;
    read*) limit=$(wall_of cat "$FILE") ;;
  esac
  printf '%-7s loom %7ss  luv %7ss  node %7ss  limit %7ss | loom/luv %s  loom/node %s  limit/loom %s\n' \
    "$w" "$loom" "$luv" "$node" "$limit" "$(ratio "$loom" "$luv")" \
    "$(ratio "$loom" "$node")" "$(ratio "$limit" "$loom")"
done

floor=$(time_of build-release/read_raw "$FILE")
loom=$(time_of build-release/loom bench/pool.lua loom read "$FILE")
limit=$(wall_of cat "$FILE")
printf 'read  floor %7ss (pread + a copy per chunk, no loop): limit/floor %s; loom %7ss = floor/loom %s\n' \
  "$floor" "$(ratio "$limit" "$floor")" "$loom" "$(ratio "$floor" "$loom")"
