// bench/http_client.js PORT N CONC: N GET requests through Node's http
// client (an Agent with keepAlive), CONC at a time.
const http = require('http');
const [port, n, conc] = [Number(process.argv[2]), Number(process.argv[3] || 100000), Number(process.argv[4] || 10)];
const agent = new http.Agent({keepAlive: true, maxSockets: conc});
let left = n, running = 0;
const t0 = process.hrtime.bigint();
function one() {
  if (left <= 0) { if (--running === 0) done(); return; }
  left--;
  http.get({port, host: '127.0.0.1', path: '/', agent}, (res) => {
    let b = ''; res.setEncoding('utf8');
    res.on('data', (d) => b += d);
    res.on('end', () => { if (b !== 'hello world\n') throw new Error(b); one(); });
  });
}
function done() {
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`node client: ${n} requests in ${ms.toFixed(0)} ms (${(n / ms * 1000).toFixed(0)} req/s)`);
  agent.destroy();
}
for (let i = 0; i < conc; i++) { running++; one(); }
