#!/usr/bin/env bash
# bench/http.sh [seconds] [rounds]: loom.http against Node's http and a
# raw C epoll responder (the ceiling), side by side: wrk -t1 -c100 on a
# hello world, and a binding-only responder (bench/http_min.lua: the best
# any Lua layer on loom's binding can do). The server is pinned to CPU 0
# and wrk to CPU 1; wrk is the ceiling near the top, so the table gives requests per server
# CPU-second beside requests per second, and p50/p99 latency. Then the
# client: 100,000 keep-alive GETs through loom.http and Node's http.
# STATIC=no skips the file rows, CLIENT=no the client rows.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
ROUNDS=${2:-3}
CLIENT=${CLIENT:-yes}
PORT=39151
. bench/common.sh
cc -O2 -o build-release/bench/http_raw bench/http_raw.c

declare -A server_cmd=(
  [raw]="build-release/bench/http_raw $PORT"
  [loom-cb]="build-release/loom bench/http_hello.lua cb $PORT"
  [loom-co]="build-release/loom bench/http_hello.lua co $PORT"
  [loom-min]="build-release/loom bench/http_min.lua $PORT"
  [node]="node bench/http_hello.js $PORT"
)
SERVERS="raw loom-min loom-cb loom-co node"


# wrk's latency ("612.00us", "2.05ms", "1.10s") in microseconds.
to_us() { awk '{ v = $1; u = $1; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
                 m = (u == "s") ? 1e6 : (u == "ms") ? 1e3 : 1; printf "%.0f", v * m }'; }

# wrk_rounds CONNECTIONS SERVER...: ROUNDS rounds of wrk against each
# server, samples appended to the rps, cpu, p50 and p99 arrays.
wrk_rounds() {
  local conns=$1 s t0 c0 c1 t1 out
  shift
  for _ in $(seq "$ROUNDS"); do
    for s in "$@"; do
      start_server "$s" || continue
      t0=$(date +%s.%N); c0=$(cpu_ticks "$SERVER_PID")
      out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${SECS}s" --latency "http://127.0.0.1:$PORT/")
      c1=$(cpu_ticks "$SERVER_PID"); t1=$(date +%s.%N)
      stop_server
      rps[$s]+="$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' <<<"$out") "
      p50[$s]+="$(awk '$1 == "50%" { print $2 }' <<<"$out" | to_us) "
      p99[$s]+="$(awk '$1 == "99%" { print $2 }' <<<"$out" | to_us) "
      cpu[$s]+="$(cpu_share "$c0" "$c1" "$t0" "$t1") "
    done
  done
}

declare -A rps cpu p50 p99
# shellcheck disable=SC2086
wrk_rounds 100 $SERVERS

echo "HTTP hello world, wrk -t1 -c100: ${SECS}s per run, median of $ROUNDS rounds"
declare -A per_cpu
# shellcheck disable=SC2086
print_rows $SERVERS
# Each ratio is the median of the ratios within the rounds.
printf "per server CPU-second: loom-cb/raw %.2f  loom-cb/node %.2f  loom-co/node %.2f  loom-co/loom-cb %.2f\n" \
  "$(round_ratio loom-cb raw)" "$(round_ratio loom-cb node)" "$(round_ratio loom-co node)" \
  "$(round_ratio loom-co loom-cb)"
printf "reference: binding-only responder (http_min.lua) / raw %.2f; loom-cb / binding-only %.2f\n" \
  "$(round_ratio loom-min raw)" "$(round_ratio loom-cb loom-min)"

# A 1 MiB file at every URL, wrk -t1 -c10: loom's sendFile (the kernel
# sends from the page cache), loom streaming the file through Lua, and
# Node streaming it (Node's http has no sendfile).
if [ "${STATIC:-yes}" = yes ]; then
  STATIC_FILE=$(mktemp /tmp/loom-static-XXXXXX)
  head -c $((1 << 20)) /dev/urandom >"$STATIC_FILE"
  server_cmd[loom-sendfile]="build-release/loom bench/http_static.lua sendfile $PORT $STATIC_FILE"
  server_cmd[loom-stream]="build-release/loom bench/http_static.lua stream $PORT $STATIC_FILE"
  server_cmd[node-stream]="node bench/http_static.js $PORT $STATIC_FILE"
  STATIC_SERVERS="loom-sendfile loom-stream node-stream"
  unset rps cpu p50 p99 per_cpu
  declare -A rps cpu p50 p99 per_cpu
  # shellcheck disable=SC2086
  wrk_rounds 10 $STATIC_SERVERS
  rm -f "$STATIC_FILE"
  echo
  echo "A 1 MiB file, wrk -t1 -c10: ${SECS}s per run, median of $ROUNDS rounds (1 request = 1 MiB)"
  # shellcheck disable=SC2086
  print_rows $STATIC_SERVERS
  printf "per server CPU-second: loom sendFile / Node %.2f  loom stream / Node %.2f  sendFile / stream %.2f\n" \
    "$(round_ratio loom-sendfile node-stream)" "$(round_ratio loom-stream node-stream)" \
    "$(round_ratio loom-sendfile loom-stream)"
fi

[ "$CLIENT" = yes ] || exit 0
echo
echo "HTTP client: 100,000 GET requests over keep-alive (10 at a time) against the raw responder"
start_server raw
for _ in $(seq "$ROUNDS"); do
  /usr/bin/time -f "  loom: %e s wall, %U s user, %S s sys, %M KiB max RSS" \
    taskset -c 1 build-release/loom bench/http_client.lua "$PORT" 100000 10
  /usr/bin/time -f "  node: %e s wall, %U s user, %S s sys, %M KiB max RSS" \
    taskset -c 1 node bench/http_client.js "$PORT" 100000 10
done
stop_server
