#!/usr/bin/env bash
# bench/cluster.sh [seconds] [rounds]: loom.cluster's figure. TCP echo
# (64 B, one message in flight per connection) served by 1 worker and by
# 2 workers (bench/echo_cluster.lua), driven by 1 and by 2 one-thread
# load generators of 100 connections each. Nothing is pinned: on this
# 2-CPU machine the workers and the load generators share both CPUs, so
# beside requests/s the table gives the workers' CPU share (summed; 200 %
# = both CPUs) and the load generators', and requests per worker
# CPU-second.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-3}
ROUNDS=${2:-3}
PORT=39141

. bench/common.sh

SERVER_PID=
WORKER_PIDS=
start_server() {
  coproc SRV { exec build-release/loom bench/echo_cluster.lua "$1" $PORT; }
  SERVER_PID=$SRV_PID
  local line
  read -r -t 10 line <&"${SRV[0]}" || { echo "cluster of $1 did not start" >&2; return 1; }
  WORKER_PIDS=${line#ready }
}

sum_ticks() { local t=0; for p in "$@"; do t=$((t + $(cpu_ticks "$p"))); done; echo $t; }

declare -A rps cpu gcpu p99
for _ in $(seq "$ROUNDS"); do
  for workers in 1 2; do
    for gens in 1 2; do
      key="$workers/$gens"
      start_server "$workers" || continue
      sleep 0.2
      t0=$(date +%s.%N); c0=$(sum_ticks $WORKER_PIDS)
      outs=()
      gen_pids=()
      for g in $(seq "$gens"); do
        outs[$g]=$(mktemp)
        LOADGEN_LATENCY=1 $LOADGEN tcp $PORT 100 1 "$SECS" >"${outs[$g]}" &
        gen_pids[$g]=$!
      done
      sleep "$(awk -v s="$SECS" 'BEGIN { print s - 0.2 }')"
      g0=$(sum_ticks "${gen_pids[@]}")
      wait "${gen_pids[@]}" 2>/dev/null || true
      c1=$(sum_ticks $WORKER_PIDS); t1=$(date +%s.%N)
      stop_server
      r=0; l99=0
      for g in $(seq "$gens"); do
        r=$((r + $(awk '/^rps/ { print $2 }' "${outs[$g]}")))
        l=$(awk '/^lat/ { print $3 }' "${outs[$g]}")
        [ "$l" -gt "$l99" ] && l99=$l
        rm -f "${outs[$g]}"
      done
      rps[$key]+="$r "
      p99[$key]+="$l99 "
      hz=$(getconf CLK_TCK)
      cpu[$key]+="$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$hz" \
        'BEGIN { printf "%.0f", 100 * (b - a) / hz / (t1 - t0) }') "
      # The generators' CPU until just before they end (their /proc entry
      # goes with them), over the same span.
      gcpu[$key]+="$(awk -v g="$g0" -v s="$SECS" -v hz="$hz" \
        'BEGIN { printf "%.0f", 100 * g / hz / (s - 0.2) }') "
    done
  done
done

[ -n "${BENCH_RAW:-}" ] && for k in "${!rps[@]}"; do echo "raw $k rps ${rps[$k]} cpu ${cpu[$k]}"; done
echo "loom.cluster, TCP echo, 64 B, 100 connections per load generator, 1 in flight each: ${SECS}s per run, median of $ROUNDS rounds"
printf '%-8s %5s %10s %12s %10s %14s %9s\n' workers gens "req/s" "workers cpu%" "gens cpu%" "req/worker-cpu-s" "p99 us"
for key in 1/1 2/1 1/2 2/2; do
  r=$(tr ' ' '\n' <<<"${rps[$key]:-0}" | grep . | median)
  c=$(tr ' ' '\n' <<<"${cpu[$key]:-0}" | grep . | median)
  g=$(tr ' ' '\n' <<<"${gcpu[$key]:-0}" | grep . | median)
  l=$(tr ' ' '\n' <<<"${p99[$key]:-0}" | grep . | median)
  per=$(awk -v r="$r" -v c="$c" 'BEGIN { printf "%.0f", (c > 0) ? r / (c / 100) : 0 }')
  printf '%-8s %5s %10s %12s %10s %14s %9s\n' "${key%/*}" "${key#*/}" "$r" "$c" "$g" "$per" "$l"
done
