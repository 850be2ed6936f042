/**
 * One measurement in its own process (so peak RSS is its own): `tsx bench/one.ts cllama|llama.cpp <model.gguf> <threads>`.
 * Prints {load_ms, prompt_tps, gen_tps, peak_rss_mb} as JSON.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { nodeLlamaCppDir } from "@cllama/tooling/oracles";
import { loadModel } from "../src/index";
import { promptTokens } from "./prompt";

const [engine, path, threadsArg] = process.argv.slice(2);
const threads = Number(threadsArg);
const N_PROMPT = Number(process.env.BENCH_PROMPT ?? 512);
const N_GEN = Number(process.env.BENCH_GEN ?? 128);

async function cllama() {
  const t0 = performance.now();
  const model = await loadModel(path!, { threads, contextSize: N_PROMPT + N_GEN + 8 });
  const loadMs = performance.now() - t0;
  const ctx = model.createContext();
  const prompt = promptTokens(N_PROMPT, model.hparams.nVocab);
  const t1 = performance.now();
  let [logits] = await ctx.evaluate(prompt);
  const promptMs = performance.now() - t1;
  const t2 = performance.now();
  for (let i = 0; i < N_GEN; i++) {
    let best = 0;
    for (let j = 1; j < logits!.length; j++) if (logits![j]! > logits![best]!) best = j;
    [logits] = await ctx.evaluate([best]);
  }
  const genMs = performance.now() - t2;
  await model.dispose();
  return { loadMs, promptMs, genMs };
}

async function llamaCpp() {
  const dir = nodeLlamaCppDir();
  if (!dir) throw new Error("node-llama-cpp is not installed (tooling/oracle)");
  const { getLlama } = await import(pathToFileURL(join(dir, "dist", "index.js")).href);
  const llama = await getLlama({ gpu: false, logLevel: "error", build: "never" });
  const t0 = performance.now();
  const model = await llama.loadModel({ modelPath: path, useMmap: false });
  const context = await model.createContext({
    contextSize: N_PROMPT + N_GEN + 8,
    batchSize: N_PROMPT,
    threads,
  });
  const loadMs = performance.now() - t0;
  const seq = context.getSequence();
  const tokens = promptTokens(N_PROMPT, Number(process.env.BENCH_VOCAB ?? 32000));
  const t1 = performance.now();
  await seq.evaluateWithoutGeneratingNewTokens(tokens.slice(0, -1));
  const gen = seq.evaluate(tokens.slice(-1), { temperature: 0 });
  let first = true;
  let t2 = 0;
  let promptMs = 0;
  let n = 0;
  for await (const _ of gen) {
    if (first) {
      promptMs = performance.now() - t1;
      t2 = performance.now();
      first = false;
    }
    if (++n > N_GEN) break;
  }
  const genMs = performance.now() - t2;
  await context.dispose();
  await model.dispose();
  return { loadMs, promptMs, genMs };
}

const r = engine === "cllama" ? await cllama() : await llamaCpp();
console.log(
  JSON.stringify({
    load_ms: Math.round(r.loadMs),
    prompt_tps: +((N_PROMPT * 1000) / r.promptMs).toFixed(2),
    gen_tps: +((N_GEN * 1000) / r.genMs).toFixed(2),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
process.exit(0);
