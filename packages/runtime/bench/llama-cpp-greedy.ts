/**
 * llama.cpp's greedy continuation of a token prompt, in its own process (so it never shares the
 * peak RSS of the process it is compared with):
 *
 *   tsx bench/llama-cpp-greedy.ts <model.gguf> <threads> <n> <token,token,...>
 *
 * Prints {tokens, load_ms, peak_rss_mb} as JSON on the last line.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { nodeLlamaCppDir } from "@cllama/tooling/oracles";

const [path, threadsArg, nArg, promptArg] = process.argv.slice(2);
const prompt = promptArg!.split(",").map(Number);
const n = Number(nArg);

const dir = nodeLlamaCppDir();
if (!dir) throw new Error("node-llama-cpp is not installed (tooling/oracle/install.sh)");
const { getLlama } = await import(pathToFileURL(join(dir, "dist", "index.js")).href);
const llama = await getLlama({ gpu: false, logLevel: "error", build: "never" });
const t0 = performance.now();
const model = await llama.loadModel({ modelPath: path, useMmap: false });
const context = await model.createContext({ contextSize: 512, threads: Number(threadsArg) });
const loadMs = performance.now() - t0;
const seq = context.getSequence();
const tokens: number[] = [];
for await (const token of seq.evaluate(prompt, { temperature: 0 })) {
  tokens.push(token as number);
  if (tokens.length >= n) break;
}
await context.dispose();
await model.dispose();
console.log(
  JSON.stringify({
    tokens,
    load_ms: Math.round(loadMs),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
process.exit(0);
