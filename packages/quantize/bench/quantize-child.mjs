// One quantization in its own process, so its peak RSS (worker threads included) is its own.
import { quantizeGgufFile } from "../dist/node.js";

const [input, output, ftype, threads] = process.argv.slice(2);
const start = performance.now();
await quantizeGgufFile(input, output, { ftype, threads: Number(threads) });
const seconds = (performance.now() - start) / 1000;
console.log(JSON.stringify({ seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
