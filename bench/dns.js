// bench/dns.js [N]: Node's dns.lookup (the libuv thread pool and glibc)
// for N lookups of localhost in flight; prints seconds.
const dns = require("dns");
const n = Number(process.argv[2] || 10000);
let left = n;
const t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) {
  dns.lookup("localhost", { family: 4 }, (err, addr) => {
    if (err || addr !== "127.0.0.1") throw err || new Error(addr);
    if (--left === 0)
      console.log((Number(process.hrtime.bigint() - t0) / 1e9).toFixed(3));
  });
}
