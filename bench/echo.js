// bench/echo.js MODE PORT: Node's echo server for the network benchmarks.
const [mode, port] = [process.argv[2], Number(process.argv[3])];
if (mode === "tcp") {
  require("net").createServer((c) => {
    c.on("data", (d) => c.write(d));
    c.on("error", () => {});
  }).listen(port, "127.0.0.1", () => console.log("ready"));
} else {
  const s = require("dgram").createSocket("udp4");
  s.on("message", (m, r) => s.send(m, r.port, r.address));
  s.bind(port, "127.0.0.1", () => console.log("ready"));
}
