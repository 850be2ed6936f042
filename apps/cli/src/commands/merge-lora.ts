import { mergeLoras, type PipelineResult } from "@cllama/lora-merge/node";
import type { Command } from "commander";
import { UsageError } from "../errors";
import { addExamples } from "../help";
import { withAbort } from "../io";
import { createProgress } from "../progress";

interface MergeOptions {
  base: string;
  lora: string[];
  output: string;
  outtype: string;
  format: string;
  vocab?: string;
  name?: string;
  threads?: number;
}

/** f32 / f16 / bf16, or any llama-quantize type (validated by the merge before any work). */
export function parseOutType(value: string): string {
  const t = value.toLowerCase();
  if (!/^[a-z0-9_]+$/.test(t))
    throw new UsageError(`--outtype ${value}: expected f32, f16, bf16 or a quantization type`);
  return t;
}

export function reportWritten(result: PipelineResult): void {
  const gb = (result.bytes / 1e9).toFixed(2);
  process.stdout.write(`${result.output}\n`);
  process.stderr.write(`cllama: wrote ${result.tensors} tensors, vocabulary ${result.vocabSize}, ${gb} GB\n`);
}

/** `cllama merge-lora --base <dir> --lora <dir>... -o <out>`: LoRAs merged in order, to GGUF or HF. */
export function registerMergeLora(program: Command): void {
  const command = program
    .command("merge-lora")
    .description(
      "Merge PEFT LoRA adapters into a LLaMA checkpoint in the order given, exactly as the " +
        "Chinese-LLaMA-Alpaca merge script does, one tensor in memory at a time. The tokenizer comes " +
        "from the last LoRA. Everything is checked before any work starts (tokenizer vs embedding " +
        "size, LoRA order, base size, missing files).",
    )
    .requiredOption("--base <dir>", "base model folder (Hugging Face or Meta format)")
    .requiredOption("--lora <dir>", "LoRA folder (adapter_config.json); repeat, applied in order", collect)
    .requiredOption("-o, --output <path>", "GGUF file, or a folder with --format safetensors")
    .option("--outtype <type>", "f32, f16, bf16, or a quantization type (q8_0, q4_0, q4_k_m, ...)", "f16")
    .option("-t, --threads <n>", "threads for quantized output types", (v) => Number.parseInt(v, 10))
    .option("--format <format>", "gguf or safetensors (Hugging Face folder)", "gguf")
    .option("--vocab <tokenizer.model>", "tokenizer to embed instead of the last LoRA's")
    .option("--name <name>", "general.name in the GGUF")
    .action(async (options: MergeOptions) => {
      if (options.format !== "gguf" && options.format !== "safetensors") {
        throw new UsageError(`--format ${options.format}: expected gguf or safetensors`);
      }
      const bar = createProgress({ label: "merge", unit: "bytes" });
      try {
        const result = await withAbort(() =>
          mergeLoras({
            base: options.base,
            loras: options.lora,
            output: options.output,
            format: options.format as "gguf" | "safetensors",
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
    [
      "cllama merge-lora --base llama-7b-hf --lora chinese-llama-plus-lora-7b --lora chinese-alpaca-plus-lora-7b -o chinese-alpaca-plus-7b-f16.gguf",
      "Chinese-Alpaca-Plus-7B as one F16 GGUF",
    ],
    [
      "cllama merge-lora --base llama-7b-hf --lora chinese-llama-lora-7b -o merged-hf --format safetensors",
      "a Hugging Face folder for other tools",
    ],
  ]);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
