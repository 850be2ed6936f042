import { GgmlType } from "@cllama/gguf-format";
import { quantizeGgufFile } from "@cllama/quantize/node";
import type { Command } from "commander";
import { UsageError } from "../errors";
import { addExamples } from "../help";
import { withAbort } from "../io";
import { createProgress } from "../progress";

interface QuantizeOptions {
  threads?: string;
  pure?: boolean;
  allowRequantize?: boolean;
  outputTensorType?: string;
  tokenEmbeddingType?: string;
}

/** `cllama quantize in.gguf out.gguf q4_k_m`: llama-quantize's mixes, byte-identical output. */
export function registerQuantize(program: Command): void {
  const command = program
    .command("quantize")
    .description(
      "Quantize a GGUF model as llama.cpp's llama-quantize does (same type mixes, same bytes):\n" +
        "tensor by tensor, rows on every core, output written atomically.\n" +
        "Types: f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q2_k q3_k_s q3_k_m q3_k_l q4_k_s q4_k_m q5_k_s q5_k_m q6_k",
    )
    .argument("<in.gguf>", "model to quantize (F32/F16/BF16; quantized with --allow-requantize)")
    .argument("<out.gguf>", "file to write")
    .argument("<type>", "target type, e.g. q4_k_m (case-insensitive)")
    .option("-t, --threads <n>", "worker threads (default: every core)")
    .option("--pure", "every tensor the type's default type, no mix rules (llama-quantize --pure)")
    .option("--allow-requantize", "allow quantizing tensors that are already quantized")
    .option("--output-tensor-type <type>", "type of output.weight, e.g. q8_0")
    .option("--token-embedding-type <type>", "type of token_embd.weight, e.g. q4_0")
    .action(async (input: string, output: string, type: string, options: QuantizeOptions) => {
      const threads = options.threads === undefined ? undefined : Number(options.threads);
      if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
        throw new UsageError(`--threads must be a positive integer, found "${options.threads}"`);
      }
      const bar = createProgress({ label: "quantize", unit: "steps" });
      try {
        const result = await withAbort((signal) =>
          quantizeGgufFile(input, output, {
            ftype: type,
            threads,
            pure: options.pure,
            allowRequantize: options.allowRequantize,
            outputTensorType: options.outputTensorType,
            tokenEmbeddingType: options.tokenEmbeddingType,
            signal,
            onProgress: (p) => bar.update(p.elementsDone, p.elementsTotal),
          }),
        );
        bar.done();
        const counts = new Map<string, number>();
        for (const t of result.tensors) counts.set(GgmlType[t.to], (counts.get(GgmlType[t.to]) ?? 0) + 1);
        const mix = [...counts].map(([name, n]) => `${n} ${name}`).join(", ");
        process.stdout.write(`${output}\n`);
        process.stderr.write(
          `cllama: ${(result.inputBytes / 2 ** 20).toFixed(1)} MiB -> ${(result.outputBytes / 2 ** 20).toFixed(1)} MiB; ${mix}` +
            (result.fallbacks
              ? `; ${result.fallbacks} tensor(s) fell back (rows not a multiple of 256)`
              : "") +
            "\n",
        );
      } finally {
        bar.done();
      }
    });
  addExamples(command, [
    [
      "cllama quantize chinese-alpaca-7b-f16.gguf chinese-alpaca-7b-q4_k_m.gguf q4_k_m",
      "the usual 4-bit mix",
    ],
    ["cllama quantize model-f16.gguf model-q4_0.gguf q4_0 --threads 2", "Q4_0 on 2 threads"],
    [
      "cllama quantize model-f16.gguf model-q4_k.gguf q4_k_m --pure --output-tensor-type q8_0",
      "no mix rules",
    ],
  ]);
}
