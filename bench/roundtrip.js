// bench/roundtrip.js [N]: bench/roundtrip.lua with Node's net module and
// async functions: N concurrent connect, write 64 bytes, read them back,
// close.
const net = require("net");
const N = Number(process.argv[2] || 10000);
const msg = Buffer.alloc(64, "m");

const server = net.createServer((sock) => {
  sock.once("data", (d) => sock.end(d));
  sock.on("error", () => {});
});

function roundTrip(port) {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, "127.0.0.1", () => c.write(msg));
    let got = 0;
    c.on("data", (d) => {
      got += d.length;
      if (got >= 64) { c.destroy(); resolve(); }
    });
    c.on("error", reject);
  });
}

server.listen(0, "127.0.0.1", 8192, async () => {
  const port = server.address().port;
  const t0 = process.hrtime.bigint();
  const all = [];
  for (let i = 0; i < N; i++) all.push((async () => { await roundTrip(port); })());
  await Promise.all(all);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  server.close();
  console.log(`node ${N} round trips: ${ms.toFixed(0)} ms, peak RSS ${process.resourceUsage().maxRSS} KiB`);
});
