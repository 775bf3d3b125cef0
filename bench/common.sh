# bench/common.sh: helpers the network benchmark scripts share (sourced
# from the repository's root). Sourcing it builds the release runner and
# the load generator and sets LOADGEN. The caller sets PORT, and either
# fills server_cmd (NAME -> command) for the start_server below or
# defines a start_server NAME [ARGS...] of its own that sets SERVER_PID.

if [ ! -x build-release/loom ]; then
  meson setup build-release --buildtype=release -Dtests=false >/dev/null
fi
meson compile -C build-release >/dev/null
mkdir -p build-release/bench
cc -O2 -o build-release/bench/loadgen bench/loadgen.c
LOADGEN=build-release/bench/loadgen
ulimit -n 20000 2>/dev/null || true

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# idle_rss NAME [START ARGS...]: the server's RSS growth per connection
# while the load generator holds 10,000 idle connections to it.
idle_rss() {
  local name=$1 before after genout gen_pid
  start_server "$@" || return 0
  before=$(rss_kib "$SERVER_PID")
  genout=$(mktemp)
  taskset -c 1 $LOADGEN idle $PORT 10000 3 >"$genout" &
  gen_pid=$!
  for _ in $(seq 300); do grep -q ready "$genout" && break; sleep 0.1; done
  sleep 0.5
  after=$(rss_kib "$SERVER_PID")
  wait "$gen_pid" 2>/dev/null || true
  rm -f "$genout"
  stop_server
  awk -v s="$name" -v a="$before" -v b="$after" \
    'BEGIN { printf "%-8s %6.0f bytes per connection\n", s, (b - a) * 1024 / 10000 }'
}

# cpu_share C0 C1 T0 T1: the CPU share (percent) of clock ticks C0..C1
# spent over the wall-clock span T0..T1 (seconds).
cpu_share() {
  awk -v a="$1" -v b="$2" -v t0="$3" -v t1="$4" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.1f", 100 * (b - a) / hz / (t1 - t0) }'
}

# per_round NAME: NAME's requests per server CPU-second in each round,
# one per line, from the caller's rps and cpu arrays.
per_round() {
  paste -d' ' <(tr ' ' '\n' <<<"${rps[$1]:-0}" | grep .) <(tr ' ' '\n' <<<"${cpu[$1]:-0}" | grep .) |
    awk '{ printf "%.0f\n", ($2 > 0) ? $1 / ($2 / 100) : 0 }'
}

# round_ratio A B: the median over the rounds of A's requests per server
# CPU-second divided by B's in the same round. This machine's speed
# drifts between rounds minutes apart; rows run seconds apart in one
# round share its state, so their ratio is what holds still.
round_ratio() {
  paste -d' ' <(per_round "$1") <(per_round "$2") |
    awk '{ printf "%.4f\n", ($2 > 0) ? $1 / $2 : 0 }' | median
}

# print_rows SERVER...: one row per server with the medians of the
# caller's rps, cpu, p50 and p99 arrays (space-separated samples), and
# the median of its per-round requests per server CPU-second, which it
# also stores in per_cpu.
print_rows() {
  local s r c l50 l99
  printf '%-9s %10s %8s %14s %9s %9s\n' server "req/s" "cpu %" "req/cpu-s" "p50 us" "p99 us"
  for s in "$@"; do
    r=$(tr ' ' '\n' <<<"${rps[$s]:-0}" | grep . | median)
    c=$(tr ' ' '\n' <<<"${cpu[$s]:-0}" | grep . | median)
    l50=$(tr ' ' '\n' <<<"${p50[$s]:-0}" | grep . | median)
    l99=$(tr ' ' '\n' <<<"${p99[$s]:-0}" | grep . | median)
    per_cpu[$s]=$(per_round "$s" | median)
    printf '%-9s %10s %8s %14s %9s %9s\n' "$s" "$r" "$c" "${per_cpu[$s]}" "$l50" "$l99"
  done
}

# start_server NAME: runs server_cmd[NAME] pinned to CPU 0 and waits for
# its first line ("ready"); sets SERVER_PID.
SERVER_PID=
start_server() {
  coproc SRV { exec taskset -c 0 ${server_cmd[$1]}; }
  SERVER_PID=$SRV_PID
  local line
  read -r -t 10 line <&"${SRV[0]}" || { echo "$1 did not start" >&2; return 1; }
}
