/**
 * The LLaMA keys: writing them with the exact types llama.cpp's loader checks (it rejects a
 * `llama.block_count` stored as INT32 or an epsilon stored as FLOAT64), and reading them back
 * into a typed object.
 */
import { GgufError } from "./errors";
import type { GgufFile } from "./reader";
import type { GgufValueTypeName } from "./types";
import type { GgufTypedValue, GgufValue } from "./values";

export interface RopeScaling {
  type: "linear" | "yarn" | "none" | string;
  factor: number;
  originalContextLength?: number;
}

export interface LlamaHparamsInput {
  name?: string;
  contextLength: number;
  embeddingLength: number;
  blockCount: number;
  feedForwardLength: number;
  headCount: number;
  /** Defaults to `headCount` (no grouped-query attention). */
  headCountKv?: number;
  /** RMSNorm epsilon; LLaMA-1 used 1e-6, LLaMA-2 1e-5. Default 1e-6. */
  rmsEps?: number;
  /** Defaults to the head dimension, embeddingLength / headCount. */
  ropeDimensionCount?: number;
  /** Default 10000. */
  ropeFreqBase?: number;
  ropeScaling?: RopeScaling;
  vocabSize?: number;
  /** `general.file_type` (LlamaFileType). */
  fileType?: number;
  /** Adds `general.quantization_version = 2` (set when any tensor is quantized). */
  quantized?: boolean;
}

export interface LlamaHparams
  extends Required<Omit<LlamaHparamsInput, "ropeScaling" | "name" | "vocabSize" | "fileType" | "quantized">> {
  name?: string;
  architecture: string;
  ropeScaling?: RopeScaling;
  vocabSize?: number;
  fileType?: number;
  quantizationVersion?: number;
}

const u32 = (value: number): GgufTypedValue => ({ type: "UINT32", value });
const f32 = (value: number): GgufTypedValue => ({ type: "FLOAT32", value });
const str = (value: string): GgufTypedValue => ({ type: "STRING", value });

/** The `general.*` and `llama.*` keys for a LLaMA model, typed as llama.cpp's converter writes them. */
export function llamaMetadata(h: LlamaHparamsInput): Record<string, GgufTypedValue> {
  const out: Record<string, GgufTypedValue> = {
    "general.architecture": str("llama"),
  };
  if (h.name !== undefined) out["general.name"] = str(h.name);
  out["llama.block_count"] = u32(h.blockCount);
  out["llama.context_length"] = u32(h.contextLength);
  out["llama.embedding_length"] = u32(h.embeddingLength);
  out["llama.feed_forward_length"] = u32(h.feedForwardLength);
  out["llama.attention.head_count"] = u32(h.headCount);
  out["llama.attention.head_count_kv"] = u32(h.headCountKv ?? h.headCount);
  out["llama.rope.freq_base"] = f32(h.ropeFreqBase ?? 10000);
  out["llama.attention.layer_norm_rms_epsilon"] = f32(h.rmsEps ?? 1e-6);
  if (h.fileType !== undefined) out["general.file_type"] = u32(h.fileType);
  if (h.vocabSize !== undefined) out["llama.vocab_size"] = u32(h.vocabSize);
  out["llama.rope.dimension_count"] = u32(h.ropeDimensionCount ?? h.embeddingLength / h.headCount);
  if (h.ropeScaling && h.ropeScaling.type !== "none") {
    out["llama.rope.scaling.type"] = str(h.ropeScaling.type);
    out["llama.rope.scaling.factor"] = f32(h.ropeScaling.factor);
    if (h.ropeScaling.originalContextLength !== undefined) {
      out["llama.rope.scaling.original_context_length"] = u32(h.ropeScaling.originalContextLength);
    }
  }
  if (h.quantized) out["general.quantization_version"] = u32(2);
  return out;
}

type MetadataSource = Pick<GgufFile, "metadata"> & Partial<Pick<GgufFile, "metadataTypes" | "tensors">>;

const INTEGER_TYPES = new Set<GgufValueTypeName>([
  "UINT8",
  "INT8",
  "UINT16",
  "INT16",
  "UINT32",
  "INT32",
  "UINT64",
  "INT64",
]);
const FLOAT_TYPES = new Set<GgufValueTypeName>(["FLOAT32", "FLOAT64"]);

/**
 * A metadata value checked for kind: "integer" (any integer type, as a number), "float" (any
 * numeric type), "string", "boolean". Returns undefined when the key is absent.
 */
export function getMetadata(file: MetadataSource, key: string, kind: "integer" | "float"): number | undefined;
export function getMetadata(file: MetadataSource, key: string, kind: "string"): string | undefined;
export function getMetadata(file: MetadataSource, key: string, kind: "boolean"): boolean | undefined;
export function getMetadata(
  file: MetadataSource,
  key: string,
  kind: "integer" | "float" | "string" | "boolean",
): number | string | boolean | undefined {
  if (!Object.hasOwn(file.metadata, key)) return undefined;
  const value: GgufValue = file.metadata[key];
  const declared = file.metadataTypes?.[key]?.type;
  const bad = (): never => {
    throw new GgufError(
      "GGUF_BAD_KEY_TYPE",
      `expected ${kind === "integer" ? "an" : "a"} ${kind}, found ${declared ?? typeof value}`,
      { field: key },
    );
  };
  switch (kind) {
    case "integer": {
      if (declared && !INTEGER_TYPES.has(declared)) bad();
      const n = typeof value === "bigint" ? Number(value) : value;
      if (typeof n !== "number" || !Number.isSafeInteger(n)) return bad();
      return n;
    }
    case "float": {
      if (declared && !INTEGER_TYPES.has(declared) && !FLOAT_TYPES.has(declared)) bad();
      const n = typeof value === "bigint" ? Number(value) : value;
      if (typeof n !== "number") return bad();
      return n;
    }
    case "string":
      return typeof value === "string" ? value : bad();
    case "boolean":
      return typeof value === "boolean" ? value : bad();
  }
}

function required<T>(value: T | undefined, key: string): T {
  if (value === undefined)
    throw new GgufError("GGUF_MISSING_KEY", `required key ${key} is missing`, { field: key });
  return value;
}

/** The LLaMA hyper-parameters of a file (any `general.architecture` using the same key layout). */
export function readLlamaHparams(file: MetadataSource): LlamaHparams {
  const arch = getMetadata(file, "general.architecture", "string") ?? "llama";
  const k = (suffix: string) => `${arch}.${suffix}`;
  const int = (suffix: string) => getMetadata(file, k(suffix), "integer");
  const embeddingLength = required(int("embedding_length"), k("embedding_length"));
  const headCount = required(int("attention.head_count"), k("attention.head_count"));
  const scalingType = getMetadata(file, k("rope.scaling.type"), "string");
  const tokens = file.metadata["tokenizer.ggml.tokens"];
  const embd = file.tensors?.find((t) => t.name === "token_embd.weight");
  const hparams: LlamaHparams = {
    architecture: arch,
    name: getMetadata(file, "general.name", "string"),
    contextLength: required(int("context_length"), k("context_length")),
    embeddingLength,
    blockCount: required(int("block_count"), k("block_count")),
    feedForwardLength: required(int("feed_forward_length"), k("feed_forward_length")),
    headCount,
    headCountKv: int("attention.head_count_kv") ?? headCount,
    rmsEps: required(
      getMetadata(file, k("attention.layer_norm_rms_epsilon"), "float"),
      k("attention.layer_norm_rms_epsilon"),
    ),
    ropeDimensionCount: int("rope.dimension_count") ?? embeddingLength / headCount,
    ropeFreqBase: getMetadata(file, k("rope.freq_base"), "float") ?? 10000,
    vocabSize: int("vocab_size") ?? (Array.isArray(tokens) ? tokens.length : embd?.shape[1]),
    fileType: getMetadata(file, "general.file_type", "integer"),
    quantizationVersion: getMetadata(file, "general.quantization_version", "integer"),
  };
  if (scalingType !== undefined) {
    hparams.ropeScaling = {
      type: scalingType,
      factor: getMetadata(file, k("rope.scaling.factor"), "float") ?? 1,
      originalContextLength: int("rope.scaling.original_context_length"),
    };
  }
  return hparams;
}
