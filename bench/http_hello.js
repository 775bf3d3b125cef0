// bench/http_hello.js PORT: hello world through Node's http module.
const http = require('http');
http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('hello world\n');
}).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('ready'));
