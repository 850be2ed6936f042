// Runs in headless Chromium, served by packages/runtime/bench/wllama.ts with COOP/COEP headers
// (cross-origin isolation: SharedArrayBuffer, so wllama's multi-threaded build can start).
// window.wllamaBench({ nPrompt, nGen, threads, nCtx, verbose }) loads /model.gguf and returns the
// llama.cpp server's own timings for one greedy completion of an nPrompt-token prompt.
import { Wllama } from "/wllama/index.js";

// wllama's completion takes a string prompt only (its glue copies it into a std::string), so the
// prompt is nPrompt - 1 words that are one token each ("▁hello" in every LLaMA vocabulary) after BOS;
// the timings' prompt_n says how many tokens were processed.
window.wllamaBench = async ({ nPrompt, nGen, threads, nCtx, verbose }) => {
  const wllama = new Wllama(
    { default: "/wllama/wasm/wllama.wasm" },
    {
      suppressNativeLog: !verbose,
      logger: { debug() {}, log: verbose ? console.log : () => {}, warn: console.warn, error: console.error },
    },
  );
  const fetchStart = performance.now();
  const blob = await fetchInParts("/model.gguf");
  const fetchMs = performance.now() - fetchStart;
  const loadStart = performance.now();
  await wllama.loadModel([blob], {
    n_threads: threads,
    n_ctx: nCtx,
    n_batch: nPrompt,
    n_ubatch: nPrompt,
    n_parallel: 1,
    n_gpu_layers: 0,
    warmup: false,
  });
  const loadMs = performance.now() - loadStart;
  const res = await wllama.createCompletion({
    prompt: Array.from({ length: nPrompt - 1 }, () => "hello").join(" "),
    max_tokens: nGen,
    temperature: 0,
    temp: 0,
    top_k: 1,
    ignore_eos: true,
    cache_prompt: false,
  });
  const out = {
    fetchMs,
    loadMs,
    multithread: wllama.isMultithread(),
    threads: wllama.getNumThreads(),
    crossOriginIsolated: self.crossOriginIsolated,
    timings: res.timings ?? null,
    usage: res.usage ?? null,
  };
  await wllama.exit();
  return out;
};
// One response of several GB fails in Chromium ("Failed to fetch"): read the file in 256 MiB ranges and
// hand wllama one Blob made of them (it reads the Blob by slices, so no single 2 GB ArrayBuffer is needed).
async function fetchInParts(url) {
  const size = Number((await fetch(url, { method: "HEAD" })).headers.get("Content-Length"));
  const step = 256 * 2 ** 20;
  const parts = [];
  for (let start = 0; start < size; start += step) {
    const end = Math.min(size, start + step) - 1;
    const res = await fetch(url, { headers: { Range: `bytes=${start}-${end}` } });
    if (res.status !== 206) throw new Error(`range ${start}-${end}: HTTP ${res.status}`);
    parts.push(await res.blob());
  }
  return new Blob(parts);
}

window.wllamaReady = true;
