// bench/pool.js WORKLOAD [ARG]: Node's side of bench/pool.sh (stat, read).
const fs = require('fs');
const [workload, param] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
const done = () => console.log((Number(process.hrtime.bigint() - t0) / 1e9).toFixed(4));

if (workload === 'stat') {
  const n = Number(param);
  let count = 0;
  for (let i = 0; i < n; i++) {
    fs.stat('/tmp', (err) => {
      if (err) throw err;
      if (++count === n) done();
    });
  }
} else if (workload === 'read') {
  const fd = fs.openSync(param, 'r');
  const buf = Buffer.allocUnsafe(65536);
  let offset = 0;
  const step = () => fs.read(fd, buf, 0, 65536, offset, (err, n) => {
    if (err) throw err;
    if (n === 0) { fs.closeSync(fd); return done(); }
    offset += n;
    step();
  });
  step();
} else {
  process.exit(2);
}
