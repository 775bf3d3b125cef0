// bench/resolve.js SERVER [N] [WINDOW]: Node's dns.Resolver.resolve4 with
// setServers([SERVER]) for N queries of example.test against the
// loopback fixture, WINDOW in flight at a time; prints seconds.
const { Resolver } = require("dns");
const server = process.argv[2];
const n = Number(process.argv[3] || 10000);
const windowSize = Number(process.argv[4] || 100);
const r = new Resolver({ timeout: 5000, tries: 2 });
r.setServers([server]);
let started = 0;
let left = n;
function start() {
  started++;
  r.resolve4("example.test", { ttl: true }, onAnswer);
}
function onAnswer(err, records) {
  if (err || records.length !== 2) throw err || new Error("short answer");
  left--;
  if (started < n) start();
  else if (left === 0)
    console.log((Number(process.hrtime.bigint() - t0) / 1e9).toFixed(3));
}
const t0 = process.hrtime.bigint();
for (let i = 0; i < Math.min(windowSize, n); i++) start();
