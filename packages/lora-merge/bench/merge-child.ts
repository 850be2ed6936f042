/** One measured merge in its own process (so its peak RSS is its own): prints JSON on stdout. */
import { mergeLoras } from "../src/node";

const [base, lora, output] = process.argv.slice(2);
const start = performance.now();
let last = 0;
await mergeLoras({
  base: base!,
  loras: [lora!],
  output: output!,
  outType: "f16",
  onProgress: (p) => {
    const now = performance.now();
    if (now - last > 30_000) {
      last = now;
      process.stderr.write(
        `  ours: ${p.tensorIndex + 1}/${p.tensorCount} ${(p.bytesWritten / 1e9).toFixed(1)} GB\n`,
      );
    }
  },
});
const seconds = (performance.now() - start) / 1000;
process.stdout.write(JSON.stringify({ seconds, maxrss_mb: process.resourceUsage().maxRSS / 1024 }));
