#!/usr/bin/env bash
# bench/lib.sh [seconds] [rounds]: the Lua library's benchmarks, side by
# side in one run.
#   1. TCP echo, 100 connections, 64 B, one message in flight each: the
#      raw binding (bench/echo.lua), loom.net in the callback style and in
#      the coroutine style (bench/echo_net.lua), luv and Node. Requests/s,
#      server CPU, requests per server CPU-second, p50/p99 round trip.
#   2. 10,000 idle connections: server RSS per connection for the binding,
#      loom.net callbacks, and a task per connection blocked in read().
#   3. 10,000 tasks each doing a TCP round trip (bench/roundtrip.lua)
#      against Node doing the same with net and async functions.
# The server is pinned to CPU 0 and the load generator to CPU 1; on a
# 2-CPU machine the one-thread client is the ceiling, hence the
# per-CPU-second column.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-3}
ROUNDS=${2:-3}
PORT=39133

. bench/common.sh

declare -A server_cmd=(
  [binding]="build-release/loom bench/echo.lua loom tcp $PORT"
  [net-cb]="build-release/loom bench/echo_net.lua cb $PORT"
  [net-co]="build-release/loom bench/echo_net.lua co $PORT"
  [luv]="lua5.4 bench/echo.lua luv tcp $PORT"
  [node]="node bench/echo.js tcp $PORT"
)
SERVERS="binding net-cb net-co luv node"


declare -A rps cpu p50 p99
for _ in $(seq "$ROUNDS"); do
  for s in $SERVERS; do
    start_server "$s" || continue
    t0=$(date +%s.%N); c0=$(cpu_ticks "$SERVER_PID")
    out=$(LOADGEN_LATENCY=1 taskset -c 1 $LOADGEN tcp $PORT 100 1 "$SECS")
    c1=$(cpu_ticks "$SERVER_PID"); t1=$(date +%s.%N)
    stop_server
    rps[$s]+="$(awk '/^rps/ { print $2 }' <<<"$out") "
    p50[$s]+="$(awk '/^lat/ { print $2 }' <<<"$out") "
    p99[$s]+="$(awk '/^lat/ { print $3 }' <<<"$out") "
    cpu[$s]+="$(cpu_share "$c0" "$c1" "$t0" "$t1") "
  done
done

echo "TCP echo, 64 B, 100 connections, 1 in flight each: ${SECS}s per run, median of $ROUNDS rounds"
declare -A per_cpu
# shellcheck disable=SC2086
print_rows $SERVERS
# Each ratio is the median of the ratios within the rounds.
printf "per server CPU-second: net-cb/binding %.2f  net-co/binding %.2f  net-cb/luv %.2f  net-co/node %.2f\n" \
  "$(round_ratio net-cb binding)" "$(round_ratio net-co binding)" "$(round_ratio net-cb luv)" \
  "$(round_ratio net-co node)"

echo
echo "10,000 idle connections: server RSS growth per connection"
for s in binding net-cb net-co; do idle_rss "$s"; done

echo
echo "10,000 concurrent tasks, one TCP round trip each (client and server in one process)"
for _ in $(seq "$ROUNDS"); do
  build-release/loom bench/roundtrip.lua 10000
  node bench/roundtrip.js 10000
done
