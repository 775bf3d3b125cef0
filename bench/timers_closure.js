// bench/timers_closure.js [N]: the same as timers_closure.lua in Node:
// N setTimeout calls with random 0-100 ms delays, a closure each.
const N = Number(process.argv[2] || 1000000);
let fired = 0;
const start = process.hrtime.bigint();
for (let i = 0; i < N; i++) {
  setTimeout(() => { fired++; if (fired === N) done(); }, Math.floor(Math.random() * 101));
}
function done() {
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  const peak = require('fs').readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s*(\d+)/)[1];
  console.log(`node: ${N} timers (closure each) in ${s.toFixed(3)} s, peak RSS ${(peak / 1024).toFixed(0)} MiB`);
}
