import { type LoadModelOptions, loadModel, type Model } from "@cllama/runtime";
import type { Command } from "commander";
import { UsageError } from "../errors";
import { addExamples } from "../help";
import { withAbort } from "../io";
import { createProgress } from "../progress";

/** Parses a numeric flag (commander gives strings); integers when `integer`. */
export function numberOption(value: string | undefined, flag: string, integer = false, min = -Infinity) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || Number.isNaN(n) || (integer && !Number.isInteger(n)) || n < min) {
    throw new UsageError(
      `${flag} must be ${integer ? "an integer" : "a number"}${min > -Infinity ? ` >= ${min}` : ""}, got "${value}"`,
    );
  }
  return n;
}

/** Loads a model with a progress bar on stderr (TTY only). */
export async function loadModelWithProgress(path: string, options: LoadModelOptions): Promise<Model> {
  const bar = createProgress({ label: "load", unit: "bytes" });
  try {
    return await loadModel(path, { ...options, onProgress: (p) => bar.update(p.loaded, p.total) });
  } finally {
    bar.done();
  }
}

interface RunOptions {
  model: string;
  prompt: string;
  nPredict: string;
  temp?: string;
  topK?: string;
  topP?: string;
  minP?: string;
  repeatPenalty?: string;
  repeatLastN?: string;
  seed?: string;
  threads?: string;
  ctxSize?: string;
  bos: boolean;
  json?: boolean;
}

/** `cllama run -m model.gguf -p prompt [-n N] [sampling flags] [--json]`: one raw completion. */
export function registerRun(program: Command): void {
  const command = program
    .command("run")
    .description("generate a completion of a raw prompt (BOS added unless --no-bos), streamed to stdout")
    .requiredOption("-m, --model <model.gguf>", "LLaMA-family GGUF model")
    .requiredOption("-p, --prompt <text>", "the prompt")
    .option("-n, --n-predict <N>", "tokens to generate (-1: until EOS or the context is full)", "128")
    .option("--temp <T>", "temperature (0 = greedy)", "0.8")
    .option("--top-k <K>", "top-k (0 = off)", "40")
    .option("--top-p <P>", "top-p (1 = off)", "0.95")
    .option("--min-p <P>", "min-p (0 = off)", "0.05")
    .option("--repeat-penalty <R>", "repetition penalty (1 = off)", "1")
    .option("--repeat-last-n <N>", "tokens the penalties look back over (-1 = context)", "64")
    .option("--seed <S>", "RNG seed (default: random)")
    .option("-t, --threads <N>", "threads")
    .option("-c, --ctx-size <N>", "context size (default: min(2048, trained))")
    .option("--no-bos", "do not add BOS before the prompt")
    .option("--json", "print one JSON object instead of streaming text")
    .action(async (o: RunOptions) => {
      const nPredict = numberOption(o.nPredict, "-n", true, -1)!;
      const model = await loadModelWithProgress(o.model, {
        threads: numberOption(o.threads, "--threads", true, 1),
        contextSize: numberOption(o.ctxSize, "--ctx-size", true, 0),
      });
      const result = await withAbort((signal) =>
        model.complete(o.prompt, {
          maxTokens: nPredict,
          temperature: numberOption(o.temp, "--temp"),
          topK: numberOption(o.topK, "--top-k", true),
          topP: numberOption(o.topP, "--top-p"),
          minP: numberOption(o.minP, "--min-p"),
          repeatPenalty: numberOption(o.repeatPenalty, "--repeat-penalty"),
          repeatLastN: numberOption(o.repeatLastN, "--repeat-last-n", true, -1),
          seed: numberOption(o.seed, "--seed", true, 0),
          bos: o.bos,
          signal,
          onText: o.json ? undefined : (chunk) => process.stdout.write(chunk),
        }),
      );
      if (o.json) {
        const t = result.timings;
        process.stdout.write(
          `${JSON.stringify({
            prompt_tokens: result.promptTokens,
            tokens: result.tokens,
            text: result.text,
            timings: {
              load_ms: round(model.loadMs),
              prompt_ms: round(t.promptMs),
              prompt_tps: round(t.promptTps),
              gen_ms: round(t.genMs),
              gen_tps: round(t.genTps),
            },
          })}\n`,
        );
      } else {
        process.stdout.write("\n");
      }
    });
  addExamples(command, [
    ["cllama run -m model.gguf -p 'Once upon a time' -n 64", "stream 64 tokens"],
    ["cllama run -m model.gguf -p '1 2 3' --temp 0 --json", "greedy, as JSON"],
  ]);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
