import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { addExamples } from "../help";
import { createProgress } from "../progress";
import { loadModelWithProgress, numberOption } from "./run";

interface PerplexityOptions {
  model: string;
  file: string;
  ctxSize: string;
  threads?: string;
  json?: boolean;
}

/** `cllama perplexity -m model.gguf -f text.txt [-c 512] [--json]`, llama.cpp's method. */
export function registerPerplexity(program: Command): void {
  const command = program
    .command("perplexity")
    .description("perplexity of a text, llama.cpp's method (chunks of -c tokens, second half of each scored)")
    .requiredOption("-m, --model <model.gguf>", "LLaMA-family GGUF model")
    .requiredOption("-f, --file <text file>", "UTF-8 text (needs at least 2 x ctx tokens)")
    .option("-c, --ctx-size <N>", "chunk size in tokens", "512")
    .option("-t, --threads <N>", "threads")
    .option("--json", 'print {"ppl", "chunks", "tokens"}')
    .action(async (o: PerplexityOptions) => {
      const nCtx = numberOption(o.ctxSize, "--ctx-size", true, 2)!;
      const text = await readFile(o.file, "utf8");
      const model = await loadModelWithProgress(o.model, {
        threads: numberOption(o.threads, "--threads", true, 1),
        contextSize: nCtx,
      });
      const bar = createProgress({ label: "perplexity", unit: "chunks" });
      const result = await model
        .perplexity(text, {
          contextSize: nCtx,
          onChunk: (done, total, ppl) => {
            bar.update(done, total);
            if (!o.json && !bar.enabled) process.stderr.write(`[${done}/${total}] ${ppl.toFixed(4)}\n`);
          },
        })
        .finally(() => bar.done());
      if (o.json) {
        process.stdout.write(
          `${JSON.stringify({ ppl: result.ppl, chunks: result.chunks, tokens: result.tokens })}\n`,
        );
      } else {
        process.stdout.write(
          `perplexity: ${result.ppl.toFixed(4)} (${result.chunks} chunks of ${nCtx} tokens, ${result.tokens} tokens)\n`,
        );
      }
    });
  addExamples(command, [
    ["cllama perplexity -m model.gguf -f wiki.test.raw -c 512", "llama.cpp-comparable perplexity"],
  ]);
}
