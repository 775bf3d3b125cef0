// The million-timer workload for Node: N timers with random timeouts of
// 0-100 ms, every one fires (the same shape as timers.lua).
const N = Number(process.argv[2] || 1000000);
let fired = 0;
const onTimeout = () => { fired++; };
const timers = new Array(N);
const start = process.hrtime.bigint();
let seed = 42;
const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % 101; };
for (let i = 0; i < N; i++) timers[i] = setTimeout(onTimeout, rand());
process.on('exit', () => {
  if (fired !== N) throw new Error(`only ${fired} of ${N} timers fired`);
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`node: ${N} timers in ${s.toFixed(3)} s`);
});
