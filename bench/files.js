// bench/files.js DIR BIGFILE: bench/files.lua with Node's fs.promises and
// child_process.execFile.
const fs = require("fs/promises");
const { execFile } = require("child_process");
const [dir, big] = process.argv.slice(2);
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

(async () => {
  const names = await fs.readdir(dir);
  let t0 = process.hrtime.bigint();
  let next = 0, bytes = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < names.length) {
      const name = names[next++];
      const data = await fs.readFile(dir + "/" + name);
      bytes += data.length;
    }
  }));
  console.log(`node readFile ${names.length} small files: ${ms(t0).toFixed(0)} ms (${bytes} bytes)`);
  if (big) {
    t0 = process.hrtime.bigint();
    const data = await fs.readFile(big);
    console.log(`node readFile ${Math.floor(data.length / 1048576)} MiB: ${ms(t0).toFixed(0)} ms`);
  }
  t0 = process.hrtime.bigint();
  let left = 1000;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (left > 0) {
      left--;
      await new Promise((res, rej) => execFile("true", (e) => (e ? rej(e) : res())));
    }
  }));
  console.log(`node exec true x1000 (16 at a time): ${ms(t0).toFixed(0)} ms`);
})();
