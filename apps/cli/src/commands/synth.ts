import { readFile } from "node:fs/promises";
import {
  GGUF_MAGIC,
  GgmlType,
  ggmlTypeFromName,
  ggmlTypeInfo,
  parseGguf,
  type QuantizeRowsFn,
  type SynthDims,
  type SynthPreset,
  synthLlama,
  typedMetadata,
} from "@cllama/gguf-format";
import { readGgufHeader, writeGgufFile } from "@cllama/gguf-format/node";
import { SentencePieceTokenizer } from "@cllama/tokenizer";
import type { Command } from "commander";
import { UsageError } from "../errors";
import { addExamples } from "../help";
import { withAbort } from "../io";
import { createProgress } from "../progress";

interface SynthOptions {
  output: string;
  tokenizer?: string;
  preset?: string;
  dim?: string;
  layers?: string;
  heads?: string;
  kvHeads?: string;
  ff?: string;
  ctx?: string;
  vocab?: string;
  type: string;
  seed: string;
  name?: string;
}

function intOption(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

/** `tokenizer.*` keys from a SentencePiece `.model` or from any GGUF (its tokenizer keys are copied). */
export async function loadTokenizerMetadata(path: string): Promise<Record<string, unknown>> {
  const bytes = await readFile(path);
  if (bytes.length >= 4 && bytes.readUInt32LE(0) === GGUF_MAGIC) {
    const file = bytes.length < 64 << 20 ? parseGguf(bytes) : await readGgufHeader(path);
    const typed = typedMetadata(file);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(typed)) if (key.startsWith("tokenizer.")) out[key] = typed[key];
    if (!out["tokenizer.ggml.tokens"])
      throw new UsageError(`${path} has no tokenizer (no tokenizer.ggml.tokens key)`);
    return out;
  }
  return SentencePieceTokenizer.fromModelProto(bytes, path).toGgufMetadata();
}

/**
 * The quantizer comes from @cllama/quantize when the CLI has it; loaded lazily (and by a computed
 * name) so F32/F16 synthesis never needs it.
 */
async function loadQuantizeRows(typeName: string): Promise<QuantizeRowsFn> {
  const specifier = "@cllama/quantize";
  try {
    const mod = (await import(/* @vite-ignore */ specifier)) as { quantizeRows?: QuantizeRowsFn };
    if (typeof mod.quantizeRows === "function") return mod.quantizeRows;
  } catch {
    // fall through
  }
  throw new UsageError(
    `--type ${typeName} needs @cllama/quantize, which this build of cllama does not include`,
    "synthesize with --type f16, then run `cllama quantize`",
  );
}

/** `cllama synth -o out.gguf [--tokenizer x.model] [--preset tiny|1b|7b] [dims] [--type] [--seed]`. */
export function registerSynth(program: Command): void {
  const command = program
    .command("synth")
    .description(
      "Write a LLaMA GGUF with random weights (deterministic for a seed), for tests and benchmarks.\n" +
        "Presets: tiny (dim 64, 2 layers), 1b (TinyLlama-1.1B shape, GQA 32/4), 7b (LLaMA-7B shape).\n" +
        "The tokenizer comes from a SentencePiece .model or from another GGUF; without one, a byte-level\n" +
        "vocabulary of --vocab pieces is built in. Streams tensor by tensor: a 7B F16 file needs little memory.",
    )
    .requiredOption("-o, --output <file>", "the .gguf to write")
    .option("--tokenizer <file>", "tokenizer.model (SentencePiece) or a .gguf to take the tokenizer from")
    .option("--vocab-from <file>", "alias of --tokenizer")
    .option("--preset <name>", "tiny, 1b or 7b (default tiny unless every dimension is given)")
    .option("--dim <n>", "embedding length")
    .option("--layers <n>", "number of blocks")
    .option("--heads <n>", "attention heads")
    .option("--kv-heads <n>", "key/value heads (grouped-query attention)")
    .option("--ff <n>", "feed-forward length")
    .option("--ctx <n>", "context length")
    .option("--vocab <n>", "vocabulary size of the built-in vocabulary (ignored with --tokenizer)")
    .option("--type <type>", "f32, f16, or a quantized type (q8_0, q4_0, ...)", "f16")
    .option("--seed <n>", "random seed", "0")
    .option("--name <name>", "general.name")
    .action(async (options: SynthOptions & { vocabFrom?: string }) => {
      const type = ggmlTypeFromName(options.type);
      if (type === undefined)
        throw new UsageError(`unknown --type "${options.type}"`, "use f32, f16, q8_0, q4_0, q4_k, ...");
      const seed = Number(options.seed);
      if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
        throw new UsageError(`--seed must be an integer in [0, 2^32), got "${options.seed}"`);
      const preset = options.preset as SynthPreset | undefined;
      if (preset !== undefined && !["tiny", "1b", "7b"].includes(preset)) {
        throw new UsageError(`unknown --preset "${preset}"`, "use tiny, 1b or 7b");
      }
      const dims: Partial<SynthDims> = {
        dim: intOption(options.dim, "--dim"),
        layers: intOption(options.layers, "--layers"),
        heads: intOption(options.heads, "--heads"),
        kvHeads: intOption(options.kvHeads, "--kv-heads"),
        ff: intOption(options.ff, "--ff"),
        ctx: intOption(options.ctx, "--ctx"),
        vocab: intOption(options.vocab, "--vocab"),
      };
      for (const key of Object.keys(dims) as (keyof SynthDims)[])
        if (dims[key] === undefined) delete dims[key];
      const allDims = ["dim", "layers", "heads", "ff"].every((k) => k in dims);
      const tokenizerPath = options.tokenizer ?? options.vocabFrom;
      const tokenizerMetadata = tokenizerPath ? await loadTokenizerMetadata(tokenizerPath) : undefined;
      const info = ggmlTypeInfo(type);
      const quantizeRows = info.quantized ? await loadQuantizeRows(info.name) : undefined;
      const model = synthLlama({
        preset: preset ?? (allDims ? undefined : "tiny"),
        dims,
        type,
        seed,
        tokenizerMetadata,
        quantizeRows,
        name: options.name,
      });
      const bar = createProgress({ label: "synth", unit: "bytes" });
      try {
        const layout = await withAbort((signal) =>
          writeGgufFile(options.output, model, {
            signal,
            onProgress: (p) => bar.update(p.bytesWritten, p.totalBytes),
          }),
        );
        bar.done();
        const h = model.hparams;
        process.stdout.write(
          `wrote ${options.output}: ${layout.totalSize} bytes, ${layout.tensors.length} tensors, ${GgmlType[type]}, ` +
            `dim ${h.embeddingLength}, layers ${h.blockCount}, heads ${h.headCount}/${h.headCountKv}, ff ${h.feedForwardLength}, ` +
            `ctx ${h.contextLength}, vocab ${h.vocabSize}, seed ${seed}\n`,
        );
      } finally {
        bar.done();
      }
    });
  addExamples(command, [
    [
      "cllama synth -o tiny.gguf --tokenizer tokenizer.model",
      "a tiny model (dim 64, 2 layers) with LLaMA's tokenizer",
    ],
    [
      "cllama synth -o 7b-f16.gguf --preset 7b --tokenizer tokenizer.model --seed 1",
      "a LLaMA-7B-shaped F16 model (13 GB)",
    ],
    ["cllama synth -o m.gguf --dim 256 --layers 4 --heads 8 --kv-heads 2 --ff 688 --ctx 1024", "any shape"],
  ]);
}
