#!/usr/bin/env bash
# bench/net.sh [seconds] [rounds]: the network benchmarks, side by side in one run:
# a raw C epoll server (the ceiling), loom, luv (Debian lua-luv on lua5.4)
# and Node, each serving echo while bench/loadgen.c drives it; then, for
# the 1-connection row, the bounds between raw C and loom (echo_floor.c).
#
# The server runs pinned to CPU 0 and the load generator to CPU 1
# (taskset), so they do not compete; the server's CPU use during each row
# is printed, so a row where the client, not the server, is the limit
# shows up as a server below 100%.
#
# Each row runs ROUNDS times, the servers taking turns within a round, and
# reports the median: on a shared virtual machine one run can be 20% off.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-3}
ROUNDS=${2:-3}
PORT=39123

. bench/common.sh
cc -O2 -o build-release/bench/echo_raw bench/echo_raw.c
cc -O2 -Iinclude $(pkg-config --cflags lua5.4) -o build-release/bench/echo_floor \
  bench/echo_floor.c build-release/src/core/libloomcore.a $(pkg-config --libs lua5.4) -lcares -lpthread

declare -A server_cmd=(
  [raw]="build-release/bench/echo_raw MODE $PORT"
  [loom]="build-release/loom bench/echo.lua loom MODE $PORT MMSGS"
  [luv]="lua5.4 bench/echo.lua luv MODE $PORT MMSGS"
  [node]="node bench/echo.js MODE $PORT"
  [core]="build-release/bench/echo_floor core $PORT"
  [floor]="build-release/bench/echo_floor lua $PORT"
)
SERVERS="raw loom luv node"

SERVER_PID=
start_server() { # name mode mmsgs
  local cmd=${server_cmd[$1]//MODE/$2}
  cmd=${cmd//MMSGS/$3}
  coproc SRV { exec taskset -c 0 $cmd; }
  SERVER_PID=$SRV_PID
  local line
  read -r -t 10 line <&"${SRV[0]}" || { echo "$1 did not start" >&2; return 1; }
}


declare -A result

row() { # label mode inflight-args mmsgs
  local label=$1 mode=$2 args=$3 mmsgs=$4
  declare -A rps cpu  # per server: a sample per round (read by round_ratio)
  printf '%-28s' "$label"
  for _ in $(seq "$ROUNDS"); do
    for s in $SERVERS; do
      start_server "$s" "$mode" "$mmsgs" || continue
      local t0 c0 out c1 t1
      t0=$(date +%s.%N); c0=$(cpu_ticks "$SERVER_PID")
      out=$(taskset -c 1 $LOADGEN "$mode" $PORT $args "$SECS")
      c1=$(cpu_ticks "$SERVER_PID"); t1=$(date +%s.%N)
      stop_server
      rps[$s]+="${out#rps } "
      cpu[$s]+="$(cpu_share "$c0" "$c1" "$t0" "$t1") "
    done
  done
  # Each server's requests per server CPU-second over raw C's, round by
  # round (rows seconds apart share the machine's state), then the median.
  for s in $SERVERS; do
    result[$label,$s,percpu]=$(round_ratio "$s" raw)
  done
  result[$label,percpu]=${result[$label,loom,percpu]:-0}
  for s in $SERVERS; do
    local med_rps med_cpu
    med_rps=$(tr ' ' '\n' <<<"${rps[$s]:-0}" | grep . | median)
    med_cpu=$(tr ' ' '\n' <<<"${cpu[$s]:-0}" | grep . | median)
    result[$label,$s]=$med_rps
    result[$label,$s,cpu]=$med_cpu
    printf '%14s (%5s%%)' "$med_rps" "$med_cpu"
  done
  printf '\n'
}

echo "echo benchmarks: ${SECS}s per run, median of $ROUNDS rounds, requests/s (server CPU %), $(nproc) CPUs"
printf '%-28s' ""; for s in $SERVERS; do printf '%22s' "$s"; done; printf '\n'
row "tcp 64B, 100 conns"        tcp "100 1" 1
row "tcp 64B, 1 conn"           tcp "1 1" 1
row "tcp 64B, 50 conns x 32"    tcp "50 32" 1
row "udp 64B, 50 socks x 8"     udp "50 8" 1
row "udp 64B mmsgs=32, 50 x 8"  udp "50 8" 32

echo
echo "ratios (loom / peer):"
for label in "tcp 64B, 100 conns" "tcp 64B, 1 conn" "tcp 64B, 50 conns x 32" \
             "udp 64B, 50 socks x 8" "udp 64B mmsgs=32, 50 x 8"; do
  awk -v l="$label" -v a="${result[$label,loom]:-0}" -v raw="${result[$label,raw]:-0}" \
      -v luv="${result[$label,luv]:-0}" -v node="${result[$label,node]:-0}" \
      -v percpu="${result[$label,percpu]:-0}" \
    'BEGIN { printf "%-28s vs luv %.2fx  vs node %.2fx  of raw C %.2f  of raw C per server CPU-second %.2f\n", l,
             luv ? a / luv : 0, node ? a / node : 0, raw ? a / raw : 0, percpu }'
done

echo
echo "what bounds the 1-connection row (bench/echo_floor.c): loom's core alone in C,"
echo "and the core plus one Lua call per read with no binding (the least any Lua callback costs)"
printf '%-28s'; for s in raw core floor loom; do printf '%22s' "$s"; done; printf '\n'
SERVERS="raw core floor loom" row "tcp 64B, 1 conn, bounds" tcp "1 1" 1
for s in core floor loom; do
  printf '%-6s %.3f of raw C per server CPU-second\n' "$s" "${result[tcp 64B, 1 conn, bounds,$s,percpu]:-0}"
done

echo
echo "10,000 idle connections: server RSS growth per connection"
for s in loom luv node raw; do idle_rss "$s" tcp 1; done
