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
median_of() { # values... -> their median, or - when there are none
  if [ $# -eq 0 ]; then echo -; else printf '%s\n' "$@" | median; fi
}
wall_once() { # cmd... -> its wall seconds, to the microsecond
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null
  end=$(date +%s%N)
  awk -v ns=$((end - start)) 'BEGIN { printf "%.4f\n", ns / 1e9 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
HAVE_LUV=0
lua5.4 -e 'require "luv"' 2>/dev/null && HAVE_LUV=1
HAVE_NODE=0
command -v node >/dev/null && HAVE_NODE=1

# Each round runs every peer once, one after the other, so that the
# machine's drift in speed (on this virtual machine, up to 20 % within
# minutes) touches them all alike instead of whichever ran last.
echo "thread pool workloads: median of $RUNS rounds, peers taking turns, $(nproc) CPUs"
for w in stat work read readbuf; do
  arg=$N
  case $w in read*) arg=$FILE ;; esac
  loom_t=(); luv_t=(); node_t=(); limit_t=()
  for _ in $(seq "$RUNS"); do
    loom_t+=("$(build-release/loom bench/pool.lua loom "$w" "$arg")")
    if [ "$w" != readbuf ] && [ $HAVE_LUV = 1 ]; then
      luv_t+=("$(lua5.4 bench/pool.lua luv "$w" "$arg")")
    fi
    if [ "$w" != work ] && [ $HAVE_NODE = 1 ]; then
      node_t+=("$(node bench/pool.js "${w%buf}" "$arg")")
    fi
    case $w in
      stat) limit_t+=("$(build-release/pool_raw "$N" 4)") ;;
      read*) limit_t+=("$(wall_once cat "$FILE")") ;;
    esac
  done
  loom=$(median_of "${loom_t[@]}")
  luv=$(median_of "${luv_t[@]}")
  node=$(median_of "${node_t[@]}")
  limit=$(median_of "${limit_t[@]}")
  printf '%-7s loom %7ss  luv %7ss  node %7ss  limit %7ss | loom/luv %s  loom/node %s  limit/loom %s\n' \
    "$w" "$loom" "$luv" "$node" "$limit" "$(ratio "$loom" "$luv")" \
    "$(ratio "$loom" "$node")" "$(ratio "$limit" "$loom")"
done

floor_t=(); loom_t=(); limit_t=()
for _ in $(seq "$RUNS"); do
  floor_t+=("$(build-release/read_raw "$FILE")")
  loom_t+=("$(build-release/loom bench/pool.lua loom read "$FILE")")
  limit_t+=("$(wall_once cat "$FILE")")
done
floor=$(median_of "${floor_t[@]}")
loom=$(median_of "${loom_t[@]}")
limit=$(median_of "${limit_t[@]}")
printf 'read  floor %7ss (pread + a copy per chunk, no loop): limit/floor %s; loom %7ss = floor/loom %s\n' \
  "$floor" "$(ratio "$limit" "$floor")" "$loom" "$(ratio "$floor" "$loom")"
