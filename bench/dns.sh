#!/usr/bin/env bash
# bench/dns.sh [runs]: issue 5.
# (a) 10,000 async getaddrinfo("localhost") in flight: loom (c-ares on the
#     loop) vs luv (thread pool + glibc) and Node's dns.lookup.
# (b) 10,000 A queries, 100 in flight, against the loopback DNS fixture
#     (tests/lua/dns_fixture.lua, in its own process on CPU 1): loom's
#     resolver vs Node's dns.Resolver.resolve4 with setServers, on CPU 0.
# Median of RUNS runs, as lookups per second and loom's rate over each
# peer's.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
N=10000
if [ ! -x build-release/loom ]; then
  meson setup build-release --buildtype=release -Dtests=false >/dev/null
fi
meson compile -C build-release >/dev/null
export LUA_CPATH="$PWD/build-release/src/lua/?.so;;"

median() { sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"; }
run() { for _ in $(seq "$RUNS"); do "$@"; done | median; }

loom=$(run build-release/loom bench/dns.lua loom $N)
luv=$(run lua5.4 bench/dns.lua luv $N)
node=$(run node bench/dns.js $N)
rate() { awk -v n=$N -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'; }
printf '%-6s %8s s %10s lookups/s\n' loom "$loom" "$(rate "$loom")"
printf '%-6s %8s s %10s lookups/s   loom/luv %s\n' luv "$luv" "$(rate "$luv")" "$(ratio "$loom" "$luv")"
printf '%-6s %8s s %10s lookups/s   loom/node %s\n' node "$node" "$(rate "$node")" "$(ratio "$loom" "$node")"

echo
echo "(b) 10,000 A queries, 100 in flight, loopback fixture"
port=$(( 20000 + RANDOM % 20000 ))
taskset -c 1 build-release/loom tests/lua/dns_fixture.lua "$port" >/dev/null &
fixture=$!
trap 'kill $fixture 2>/dev/null' EXIT
sleep 0.5
rloom=$(run taskset -c 0 build-release/loom bench/resolve.lua "127.0.0.1:$port" $N 100)
rnode=$(run taskset -c 0 node bench/resolve.js "127.0.0.1:$port" $N 100)
printf '%-6s %8s s %10s queries/s\n' loom "$rloom" "$(rate "$rloom")"
printf '%-6s %8s s %10s queries/s   loom/node %s\n' node "$rnode" "$(rate "$rnode")" "$(ratio "$rloom" "$rnode")"
