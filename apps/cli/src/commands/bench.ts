import type { Command } from "commander";
import { addExamples } from "../help";
import { loadModelWithProgress, numberOption } from "./run";

interface BenchOptions {
  model: string;
  nPrompt: string;
  nGen: string;
  threads?: string;
  json?: boolean;
}

/** `cllama bench -m model.gguf [-p 512] [-n 128] [-t N] [--json]`: prompt and generation speed. */
export function registerBench(program: Command): void {
  const command = program
    .command("bench")
    .description("prompt processing and generation speed (tokens/s), load time and peak RSS")
    .requiredOption("-m, --model <model.gguf>", "LLaMA-family GGUF model")
    .option("-p, --n-prompt <N>", "prompt tokens", "512")
    .option("-n, --n-gen <N>", "generated tokens", "128")
    .option("-t, --threads <N>", "threads")
    .option("--json", 'print {"prompt_tps", "gen_tps", "load_ms", "peak_rss_mb"}')
    .action(async (o: BenchOptions) => {
      const nPrompt = numberOption(o.nPrompt, "--n-prompt", true, 1)!;
      const nGen = numberOption(o.nGen, "--n-gen", true, 0)!;
      const model = await loadModelWithProgress(o.model, {
        threads: numberOption(o.threads, "--threads", true, 1),
        contextSize: nPrompt + nGen + 1,
      });
      const result = await benchModel(model, nPrompt, nGen);
      const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
      const out = {
        prompt_tps: round(result.promptTps),
        gen_tps: round(result.genTps),
        load_ms: round(model.loadMs),
        peak_rss_mb: peakRssMb,
      };
      if (o.json) process.stdout.write(`${JSON.stringify(out)}\n`);
      else {
        process.stdout.write(
          `prompt ${nPrompt} tokens: ${out.prompt_tps} tok/s\ngeneration ${nGen} tokens: ${out.gen_tps} tok/s\nload ${out.load_ms} ms, peak RSS ${peakRssMb} MB\n`,
        );
      }
    });
  addExamples(command, [
    ["cllama bench -m model.gguf -p 512 -n 128 -t 2 --json", "llama-bench-like figures"],
  ]);
}

/** Times a prompt of random ordinary tokens, then greedy generation of `nGen` tokens (like llama-bench). */
export async function benchModel(model: import("@cllama/runtime").Model, nPrompt: number, nGen: number) {
  const vocab = model.hparams.nVocab;
  const prompt = [model.tokenizer.bosId];
  for (let i = 1; i < nPrompt; i++) prompt.push(3 + ((i * 7919) % (vocab - 3)));
  const ctx = model.createContext(nPrompt + nGen + 1);
  const t0 = performance.now();
  let [logits] = await ctx.evaluate(prompt);
  const promptMs = performance.now() - t0;
  const t1 = performance.now();
  for (let i = 0; i < nGen; i++) {
    let best = 0;
    for (let j = 1; j < logits!.length; j++) if (logits![j]! > logits![best]!) best = j;
    [logits] = await ctx.evaluate([best]);
  }
  const genMs = performance.now() - t1;
  return { promptTps: (nPrompt * 1000) / promptMs, genTps: nGen > 0 ? (nGen * 1000) / genMs : 0 };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
