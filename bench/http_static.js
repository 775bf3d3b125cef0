// bench/http_static.js PORT FILE: serves FILE at every URL through Node's
// http module, streamed with fs.createReadStream(file).pipe(res) (Node's
// http has no sendfile).
const http = require('http');
const fs = require('fs');
const file = process.argv[3];
const size = fs.statSync(file).size;
http.createServer((req, res) => {
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Content-Length', size);
  fs.createReadStream(file).pipe(res);
}).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('ready'));
