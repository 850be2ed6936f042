/**
 * Random-weight LLaMA models of any shape, for tests and benchmarks (no weights can be
 * downloaded here). The result is a `GgufWriteInput` whose tensors are produced one at a time, in
 * chunks of rows, while the writer streams them: a 7B F16 model (13 GB) never has more than a
 * chunk of one tensor in memory.
 *
 * Weights: matrices are normal with std 1/sqrt(fan_in) (so every projection keeps activations at
 * unit scale and the logits have std ~1: sampling is varied, nothing overflows F16), token
 * embeddings normal with std 1, norm weights 1.0. Deterministic for a seed: each tensor has its
 * own random stream derived from the seed and its name.
 */
import { GgufError } from "./errors";
import { type LlamaHparamsInput, llamaMetadata } from "./llama";
import { hashString, NormalStream, normalTable } from "./random";
import { toTypedValue } from "./typed";
import { fileTypeForGgmlType, GgmlType, ggmlTypeInfo, rowByteSize } from "./types";
import type { GgufTypedValue } from "./values";
import type { GgufTensorInput, GgufWriteInput } from "./writer";

export interface SynthDims {
  dim: number;
  layers: number;
  heads: number;
  /** Key/value heads (grouped-query attention); defaults to `heads`. */
  kvHeads?: number;
  ff: number;
  ctx: number;
  /** Vocabulary size when no tokenizer is given (a built-in byte-level vocabulary padded to it). */
  vocab?: number;
}

export type SynthPreset = "tiny" | "1b" | "7b";

export const synthPresets: Record<SynthPreset, Required<SynthDims>> = {
  tiny: { dim: 64, layers: 2, heads: 4, kvHeads: 4, ff: 256, ctx: 512, vocab: 512 },
  // TinyLlama-1.1B.
  "1b": { dim: 2048, layers: 22, heads: 32, kvHeads: 4, ff: 5632, ctx: 2048, vocab: 32000 },
  // LLaMA-7B (the base of Chinese-LLaMA/Alpaca).
  "7b": { dim: 4096, layers: 32, heads: 32, kvHeads: 32, ff: 11008, ctx: 2048, vocab: 32000 },
};

/** Quantize `nRows` rows of `nPerRow` floats (the signature of @cllama/quantize's `quantizeRows`). */
export type QuantizeRowsFn = (
  type: GgmlType,
  src: Float32Array,
  nRows: number,
  nPerRow: number,
) => Uint8Array;

export interface SynthLlamaOptions {
  preset?: SynthPreset;
  /** Overrides of the preset's dimensions (or all of them without a preset). */
  dims?: Partial<SynthDims>;
  /** Type of the 2-D weights (norms stay F32). Default F16. Quantized types need `quantizeRows`. */
  type?: GgmlType;
  seed?: number;
  /** `tokenizer.*` keys (e.g. `SentencePieceTokenizer.toGgufMetadata()`); a byte-level vocabulary otherwise. */
  tokenizerMetadata?: Record<string, unknown>;
  quantizeRows?: QuantizeRowsFn;
  name?: string;
  rmsEps?: number;
  ropeFreqBase?: number;
  /** Target bytes per generated chunk (default 16 MiB). */
  chunkBytes?: number;
}

export interface SynthLlamaResult extends GgufWriteInput {
  hparams: LlamaHparamsInput;
  tensors: GgufTensorInput[];
}

/** Resolve preset + overrides into full dimensions, validated. */
export function resolveSynthDims(
  preset: SynthPreset | undefined,
  dims: Partial<SynthDims> = {},
): Required<SynthDims> {
  const base = preset ? synthPresets[preset] : undefined;
  if (preset && !base)
    throw new GgufError("GGUF_BAD_VALUE", `unknown preset "${preset}" (tiny, 1b, 7b)`, { field: "preset" });
  const pick = (key: keyof SynthDims, fallback?: number): number => {
    const v = dims[key] ?? base?.[key] ?? fallback;
    if (v === undefined)
      throw new GgufError("GGUF_BAD_VALUE", `--${key} is required without a preset`, { field: key });
    if (!Number.isSafeInteger(v) || v <= 0)
      throw new GgufError("GGUF_BAD_VALUE", `${key} must be a positive integer, got ${v}`, { field: key });
    return v;
  };
  const heads = pick("heads");
  const out: Required<SynthDims> = {
    dim: pick("dim"),
    layers: pick("layers"),
    heads,
    kvHeads: pick("kvHeads", dims.heads ?? heads),
    ff: pick("ff"),
    ctx: pick("ctx", 2048),
    vocab: pick("vocab", 32000),
  };
  if (out.dim % out.heads !== 0)
    throw new GgufError("GGUF_BAD_VALUE", `dim ${out.dim} is not a multiple of heads ${out.heads}`, {
      field: "dim",
    });
  if ((out.dim / out.heads) % 2 !== 0)
    throw new GgufError("GGUF_BAD_VALUE", "the head dimension must be even (RoPE rotates pairs)", {
      field: "heads",
    });
  if (out.heads % out.kvHeads !== 0) {
    throw new GgufError("GGUF_BAD_VALUE", `heads ${out.heads} is not a multiple of kv-heads ${out.kvHeads}`, {
      field: "kvHeads",
    });
  }
  return out;
}

/** A byte-level SentencePiece-style vocabulary: <unk> <s> </s>, 256 byte pieces, printable ASCII, filler pieces. */
export function byteLevelVocabMetadata(size: number): Record<string, GgufTypedValue> {
  const tokens: string[] = ["<unk>", "<s>", "</s>"];
  const types: number[] = [2, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6);
  }
  for (let c = 33; c < 127; c++) {
    tokens.push(String.fromCharCode(c));
    types.push(1);
  }
  tokens.push("▁");
  types.push(1);
  if (size < tokens.length) {
    throw new GgufError(
      "GGUF_BAD_VALUE",
      `vocabulary of ${size} is smaller than the ${tokens.length} built-in pieces`,
      { field: "vocab" },
    );
  }
  for (let i = tokens.length; i < size; i++) {
    tokens.push(`▁t${i}`);
    types.push(1);
  }
  const scores = new Float32Array(size);
  for (let i = 259; i < size; i++) scores[i] = -(i - 258);
  return {
    "tokenizer.ggml.model": { type: "STRING", value: "llama" },
    "tokenizer.ggml.pre": { type: "STRING", value: "default" },
    "tokenizer.ggml.tokens": { type: "ARRAY", itemType: "STRING", value: tokens },
    "tokenizer.ggml.scores": { type: "ARRAY", itemType: "FLOAT32", value: scores },
    "tokenizer.ggml.token_type": { type: "ARRAY", itemType: "INT32", value: Int32Array.from(types) },
    "tokenizer.ggml.bos_token_id": { type: "UINT32", value: 1 },
    "tokenizer.ggml.eos_token_id": { type: "UINT32", value: 2 },
    "tokenizer.ggml.unknown_token_id": { type: "UINT32", value: 0 },
    "tokenizer.ggml.add_bos_token": { type: "BOOL", value: true },
    "tokenizer.ggml.add_eos_token": { type: "BOOL", value: false },
  };
}

function vocabSizeOf(tokenizer: Record<string, unknown>): number {
  const raw = tokenizer["tokenizer.ggml.tokens"];
  if (raw === undefined) {
    throw new GgufError("GGUF_MISSING_KEY", "tokenizer metadata has no tokenizer.ggml.tokens", {
      field: "tokenizer.ggml.tokens",
    });
  }
  const tv = toTypedValue(raw, "tokenizer.ggml.tokens");
  const value = tv.value as ArrayLike<unknown>;
  if (tv.type !== "ARRAY" || typeof value?.length !== "number") {
    throw new GgufError("GGUF_BAD_KEY_TYPE", "tokenizer.ggml.tokens must be an array of strings", {
      field: "tokenizer.ggml.tokens",
    });
  }
  return value.length;
}

interface TensorPlan {
  name: string;
  shape: [number] | [number, number];
  std: number;
}

function planTensors(d: Required<SynthDims>, vocab: number): TensorPlan[] {
  const kvDim = (d.dim / d.heads) * d.kvHeads;
  const mat = (name: string, inner: number, outer: number): TensorPlan => ({
    name,
    shape: [inner, outer],
    std: 1 / Math.sqrt(inner),
  });
  const norm = (name: string): TensorPlan => ({ name, shape: [d.dim], std: 0 });
  const plan: TensorPlan[] = [{ name: "token_embd.weight", shape: [d.dim, vocab], std: 1 }];
  for (let l = 0; l < d.layers; l++) {
    const p = `blk.${l}.`;
    plan.push(
      norm(`${p}attn_norm.weight`),
      mat(`${p}attn_q.weight`, d.dim, d.dim),
      mat(`${p}attn_k.weight`, d.dim, kvDim),
      mat(`${p}attn_v.weight`, d.dim, kvDim),
      mat(`${p}attn_output.weight`, d.dim, d.dim),
      norm(`${p}ffn_norm.weight`),
      mat(`${p}ffn_gate.weight`, d.dim, d.ff),
      mat(`${p}ffn_up.weight`, d.dim, d.ff),
      mat(`${p}ffn_down.weight`, d.ff, d.dim),
    );
  }
  plan.push(norm("output_norm.weight"), mat("output.weight", d.dim, vocab));
  return plan;
}

/** The metadata and lazily generated tensors of a random LLaMA; write it with `writeGgufFile`. */
export function synthLlama(options: SynthLlamaOptions = {}): SynthLlamaResult {
  const dims = resolveSynthDims(options.preset ?? (options.dims ? undefined : "tiny"), options.dims);
  const type = options.type ?? GgmlType.F16;
  const info = ggmlTypeInfo(type);
  if (info.quantized && !options.quantizeRows) {
    throw new GgufError(
      "GGUF_BAD_VALUE",
      `type ${info.name} needs a quantizeRows function (from @cllama/quantize)`,
      {
        field: "type",
        hint: "synthesize F16 and run `cllama quantize`, or pass quantizeRows",
      },
    );
  }
  if (!info.quantized && type !== GgmlType.F32 && type !== GgmlType.F16) {
    throw new GgufError("GGUF_BAD_VALUE", `synth writes F32, F16 or quantized types, not ${info.name}`, {
      field: "type",
    });
  }
  const tokenizer = options.tokenizerMetadata ?? byteLevelVocabMetadata(dims.vocab);
  const vocab = vocabSizeOf(tokenizer);
  const seed = (options.seed ?? 0) >>> 0;
  const chunkBytes = options.chunkBytes ?? 16 << 20;
  const ring = new BufferRing();

  const tensors: GgufTensorInput[] = planTensors(dims, vocab).map((plan) => {
    const is2d = plan.shape.length === 2;
    let tensorType = is2d ? type : GgmlType.F32;
    // Rows that do not fill whole blocks cannot use a block type: keep those in F16, as llama-quantize falls back.
    if (is2d && plan.shape[0] % ggmlTypeInfo(tensorType).blockSize !== 0) tensorType = GgmlType.F16;
    return {
      name: plan.name,
      type: tensorType,
      shape: plan.shape,
      data: () => generateTensor(plan, tensorType, seed, chunkBytes, ring, options.quantizeRows),
    };
  });

  const quantized = tensors.some((t) => ggmlTypeInfo(t.type).quantized);
  const hparams: LlamaHparamsInput = {
    name: options.name ?? `synth-llama-${dims.dim}x${dims.layers}`,
    contextLength: dims.ctx,
    embeddingLength: dims.dim,
    blockCount: dims.layers,
    feedForwardLength: dims.ff,
    headCount: dims.heads,
    headCountKv: dims.kvHeads,
    rmsEps: options.rmsEps ?? 1e-6,
    ropeFreqBase: options.ropeFreqBase ?? 10000,
    vocabSize: vocab,
    fileType: fileTypeForGgmlType(type),
  };
  const metadata: Record<string, unknown> = { ...llamaMetadata(hparams) };
  for (const [key, value] of Object.entries(tokenizer)) {
    if (value !== undefined) metadata[key] = value;
  }
  if (quantized) metadata["general.quantization_version"] = { type: "UINT32", value: 2 };
  return { metadata, tensors, hparams };
}

/**
 * Chunk buffers reused round-robin. Fresh multi-megabyte typed arrays cost more than filling
 * them (page faults and zeroing: about 4 s of CPU per GB here), so a 13 GB model reuses a few.
 * A chunk stays valid until RING_SIZE - 1 more chunks have been pulled: the file writer keeps at
 * most one write in flight, and `writeGgufToBytes` copies.
 */
const RING_SIZE = 3;
class BufferRing {
  private buffers: ArrayBuffer[] = [];
  private next = 0;
  take(bytes: number): ArrayBuffer {
    const i = this.next;
    this.next = (this.next + 1) % RING_SIZE;
    if (!this.buffers[i] || this.buffers[i].byteLength < bytes) this.buffers[i] = new ArrayBuffer(bytes);
    return this.buffers[i];
  }
}

async function* generateTensor(
  plan: TensorPlan,
  type: GgmlType,
  seed: number,
  chunkBytes: number,
  ring: BufferRing,
  quantizeRows?: QuantizeRowsFn,
): AsyncGenerator<Uint8Array> {
  const rowLength = plan.shape[0];
  const rows = plan.shape.length === 2 ? plan.shape[1] : 1;
  if (plan.std === 0) {
    // Norm weights: all 1.0.
    const ones = new Float32Array(rowLength * rows).fill(1);
    yield new Uint8Array(ones.buffer);
    return;
  }
  const stream = new NormalStream(seed, hashString(plan.name));
  const rowBytes = rowByteSize(type, rowLength);
  const rowsPerChunk = Math.max(1, Math.floor(chunkBytes / Math.max(rowBytes, rowLength * 4)));
  const half = type === GgmlType.F16;
  const table = normalTable(plan.std, half);
  for (let first = 0; first < rows; first += rowsPerChunk) {
    const n = Math.min(rowsPerChunk, rows - first) * rowLength;
    if (half) {
      const pairs = (n + 1) >> 1;
      const out = new Uint32Array(ring.take(pairs * 4), 0, pairs);
      stream.halves(out, table as Uint16Array);
      yield new Uint8Array(out.buffer, 0, n * 2);
    } else {
      const values = new Float32Array(ring.take(n * 4), 0, n);
      stream.floats(values, table as Float32Array);
      if (type === GgmlType.F32) yield new Uint8Array(values.buffer, 0, n * 4);
      else yield (quantizeRows as QuantizeRowsFn)(type, values, n / rowLength, rowLength);
    }
    // Let the event loop breathe between chunks (progress bars, pending writes).
    await Promise.resolve();
  }
}
