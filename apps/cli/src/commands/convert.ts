import { convertCheckpoint } from "@cllama/lora-merge/node";
import type { Command } from "commander";
import { addExamples } from "../help";
import { withAbort } from "../io";
import { createProgress } from "../progress";
import { parseOutType, reportWritten } from "./merge-lora";

interface ConvertOptions {
  output: string;
  outtype: string;
  vocab?: string;
  name?: string;
  threads?: number;
}

/** `cllama convert <dir> -o out.gguf`: a Hugging Face or Meta LLaMA checkpoint to GGUF. */
export function registerConvert(program: Command): void {
  const command = program
    .command("convert")
    .description(
      "Convert a LLaMA checkpoint to GGUF: Hugging Face (config.json + safetensors or " +
        "pytorch_model*.bin) or Meta (params.json + consolidated.*.pth). One tensor in memory at a " +
        "time; pickles are read without executing anything.",
    )
    .argument("<checkpoint>", "folder holding the checkpoint")
    .requiredOption("-o, --output <file>", "GGUF file to write")
    .option("--outtype <type>", "f32, f16, bf16, or a quantization type (q8_0, q4_0, q4_k_m, ...)", "f16")
    .option("-t, --threads <n>", "threads for quantized output types", (v) => Number.parseInt(v, 10))
    .option("--vocab <tokenizer.model>", "tokenizer to embed (default: the checkpoint's)")
    .option("--name <name>", "general.name in the GGUF")
    .action(async (checkpoint: string, options: ConvertOptions) => {
      const bar = createProgress({ label: "convert", unit: "bytes" });
      try {
        const result = await withAbort(() =>
          convertCheckpoint({
            input: checkpoint,
            output: options.output,
            outType: parseOutType(options.outtype),
            threads: options.threads,
            vocab: options.vocab,
            name: options.name,
            onProgress: (p) => bar.update(p.bytesWritten, p.totalBytes),
          }),
        );
        bar.done();
        reportWritten(result);
      } finally {
        bar.done();
      }
    });
  addExamples(command, [
    ["cllama convert llama-7b-hf -o llama-7b-f16.gguf", "Hugging Face folder to F16 GGUF"],
    ["cllama convert LLaMA/7B -o llama-7b.gguf --vocab LLaMA/tokenizer.model", "Meta consolidated.00.pth"],
  ]);
}
