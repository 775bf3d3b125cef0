#!/usr/bin/env bash
# bench/run.sh [N] [runs]: the million-timer workload for loom, luv (Debian
# lua-luv on lua5.4) and Node, side by side in one run. Prints the median
# wall time and peak RSS of each, and loom's ratios to the others.
# Builds loom in release mode into build-release/ first.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
RUNS=${2:-3}

if [ ! -x build-release/loom ]; then
  meson setup build-release --buildtype=release -Dtests=false >/dev/null
fi
meson compile -C build-release >/dev/null

measure() { # name cmd... -> "seconds kib" (median of RUNS by time)
  local name=$1; shift
  local results=()
  for _ in $(seq "$RUNS"); do
    results+=("$( { /usr/bin/time -f '%e %M' "$@" >/dev/null; } 2>&1 | tail -1)")
  done
  printf '%s\n' "${results[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
}

declare -A secs kib
run() {
  local name=$1; shift
  if ! "$@" 1000 >/dev/null 2>&1; then echo "$name: not available, skipped"; return 1; fi
  read -r s k < <(measure "$name" "$@" "$N")
  secs[$name]=$s; kib[$name]=$k
  printf '%-6s %8.2f s %10d KiB\n' "$name" "$s" "$k"
}

ratios() {
  for peer in luv node; do
    if [ -n "${secs[$peer]:-}" ]; then
      awk -v a="${secs[loom]}" -v b="${secs[$peer]}" -v c="${kib[loom]}" -v d="${kib[$peer]}" -v p="$peer" \
        'BEGIN { printf "loom / %-4s  time %.2fx  peak RSS %.2fx\n", p, a / b, c / d }'
    fi
  done
  secs=(); kib=()
}

echo "million timers: N=$N, median of $RUNS runs, $(nproc) CPUs"
echo "-- shared callback, handles kept in a table (timers.lua, timers.js)"
run loom build-release/loom bench/timers.lua loom || true
run luv lua5.4 bench/timers.lua luv || true
run node node bench/timers.js || true
ratios

echo "-- a closure per timer, closed in its callback (timers_closure.lua, timers_closure.js)"
run loom build-release/loom bench/timers_closure.lua loom || true
run luv lua5.4 bench/timers_closure.lua luv || true
run node node bench/timers_closure.js || true
ratios
