/**
 * Proof for issue #7 item 7: the Chinese-LLaMA-7B shape at Q4_0 (49,953-piece vocabulary, a
 * 3.9 GB file, more than one 4 GiB WebAssembly memory holds with a KV cache and activations) loads
 * and chats in @cllama/runtime on Node 20.
 *
 * 1. loads the model (wasm kernels, THREADS workers, a 512-token context) and reports how the
 *    weights spread over WebAssembly memories;
 * 2. generates greedy tokens after a Chinese prompt and compares them with llama.cpp's greedy
 *    continuation of the same tokens on the same file (node-llama-cpp, another process);
 * 3. chats two turns through a ChatSession (Chinese-LLaMA template guessed from the 49,953
 *    vocabulary), greedy, the second turn reusing the KV cache;
 * 4. reports peak RSS beside the bound file size + KV cache + 300 MB.
 *
 *   tsx bench/seven-b.ts [model.gguf]    (THREADS=2 GREEDY=32 by default)
 * Writes .bench/runtime/seven-b.json, which bench/run.ts puts in BENCHMARKS.md. The same proof
 * runs on other files: PROOF=thirteen-b tsx bench/seven-b.ts <13B.gguf> writes thirteen-b.json.
 */
import { execFileSync } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { loadModel } from "../src/index";
import { kvCacheBytes } from "../src/model/load";
import { benchDir, ensureModel } from "./models";

const path = process.argv[2] ?? ensureModel("7b-q4_0");
const threads = Number(process.env.THREADS ?? 2);
const nGreedy = Number(process.env.GREEDY ?? 32);
const proofName = process.env.PROOF ?? "seven-b";
const contextSize = 512;
const here = new URL(".", import.meta.url).pathname;

const loadStart = performance.now();
const model = await loadModel(path, { threads, contextSize });
const loadMs = performance.now() - loadStart;
const wasm = model.engine.kind === "wasm" ? model.engine.wasm : undefined;
const memories = wasm
  ? Array.from({ length: wasm.kernels.arenaCount }, (_, i) => wasm.kernels.memory(i).buffer.byteLength)
  : [];
console.error(`loaded in ${(loadMs / 1000).toFixed(1)} s; memories (MiB): ${memories.map(mib).join(", ")}`);

// --- greedy tokens, with the margin between the two best logits at each step (a random-weight
// model has near-ties, where two correct float implementations may legitimately differ).
const promptText = "从前有一座山，山上有一座庙，庙里有一个老和尚";
const prompt = model.tokenizer.encode(promptText, { bos: true });
const ctx = model.createContext();
const greedyStart = performance.now();
let [logits] = await ctx.evaluate(prompt);
const promptMs = performance.now() - greedyStart;
const ours: number[] = [];
const margins: number[] = [];
const genStart = performance.now();
for (let i = 0; i < nGreedy; i++) {
  let best = 0;
  let second = -1;
  const l = logits!;
  for (let j = 1; j < l.length; j++) {
    if (l[j]! > l[best]!) {
      second = best;
      best = j;
    } else if (second < 0 || l[j]! > l[second]!) second = j;
  }
  ours.push(best);
  margins.push(l[best]! - l[second]!);
  [logits] = await ctx.evaluate([best]);
}
const genMs = performance.now() - genStart;
ctx.dispose();
console.error(`ours:      ${ours.join(" ")}`);

// --- one chat turn (and a second, to show the KV cache carried over)
const session = model.createSession({ sampling: { temperature: 0 }, maxTokens: 24 });
const turn1 = await session.send("你好，请介绍一下你自己。");
const turn2 = await session.send("谢谢！", { maxTokens: 8 });
console.error(`chat (${session.template.name ?? "template"}): ${JSON.stringify(turn1.text)}`);
const peakRss = process.resourceUsage().maxRSS * 1024;
await model.dispose();

// --- llama.cpp on the same file and prompt tokens, in its own process
const ref = JSON.parse(
  execFileSync(
    "npx",
    ["tsx", join(here, "llama-cpp-greedy.ts"), path, String(threads), String(nGreedy), prompt.join(",")],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 24 },
  )
    .trim()
    .split("\n")
    .pop()!,
) as { tokens: number[]; load_ms: number; peak_rss_mb: number };
console.error(`llama.cpp: ${ref.tokens.join(" ")}`);
let same = 0;
while (same < ours.length && ours[same] === ref.tokens[same]) same++;

const fileBytes = statSync(path).size;
const kvBytes = kvCacheBytes(model.hparams, contextSize);
const bound = fileBytes + kvBytes + 300 * 2 ** 20;
const result = {
  file: path,
  file_bytes: fileBytes,
  vocab: model.hparams.nVocab,
  layers: model.hparams.nLayer,
  embd: model.hparams.nEmbd,
  threads,
  context: contextSize,
  load_ms: Math.round(loadMs),
  wasm_memories_mib: memories.map((b) => Math.round(b / 2 ** 20)),
  prompt: promptText,
  prompt_tokens: prompt.length,
  prompt_tps: +((prompt.length * 1000) / promptMs).toFixed(2),
  gen_tps: +((nGreedy * 1000) / genMs).toFixed(2),
  greedy_ours: ours,
  greedy_llama_cpp: ref.tokens,
  greedy_same_prefix: same,
  margin_at_first_difference: same < ours.length ? +margins[same]!.toFixed(4) : null,
  greedy_text: model.tokenizer.decode(ours),
  chat_template: session.template.name,
  chat: [
    {
      user: "你好，请介绍一下你自己。",
      reply: turn1.text,
      tokens: turn1.tokens.length,
      prompt_evaluated: turn1.promptTokensEvaluated,
      tps: +turn1.tokensPerSecond.toFixed(2),
    },
    {
      user: "谢谢！",
      reply: turn2.text,
      tokens: turn2.tokens.length,
      prompt_evaluated: turn2.promptTokensEvaluated,
      tps: +turn2.tokensPerSecond.toFixed(2),
    },
  ],
  peak_rss_mib: Math.round(peakRss / 2 ** 20),
  rss_bound_mib: Math.round(bound / 2 ** 20),
  kv_cache_mib: Math.round(kvBytes / 2 ** 20),
  llama_cpp_peak_rss_mib: ref.peak_rss_mb,
  llama_cpp_load_ms: ref.load_ms,
  node: process.version,
  loadavg: loadavg().map((x) => +x.toFixed(2)),
  date: new Date().toISOString(),
};
writeFileSync(join(benchDir, `${proofName}.json`), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
process.exit(0);

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}
