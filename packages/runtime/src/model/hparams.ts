import {
  GgmlType,
  type GgufFile,
  type GgufTensorInfo,
  getMetadata,
  readLlamaHparams,
} from "@cllama/gguf-format";
import { RuntimeError } from "../errors";

/** Everything the forward pass needs to know about a LLaMA model's shape. */
export interface ModelHparams {
  nVocab: number;
  nCtxTrain: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  nFf: number;
  headDim: number;
  /** Dimensions RoPE rotates (llama.rope.dimension_count, normally the head dimension). */
  nRot: number;
  rmsEps: number;
  rope: RopeParams;
  tiedEmbeddings: boolean;
}

/** RoPE as llama.cpp parametrises ggml_rope_ext. */
export interface RopeParams {
  freqBase: number;
  /** 1 / scaling factor for linear and YaRN scaling, else 1. */
  freqScale: number;
  scalingType: "none" | "linear" | "yarn";
  /** YaRN: 1 when scaling is yarn, else 0 (llama.cpp's yarn_ext_factor default). */
  extFactor: number;
  attnFactor: number;
  betaFast: number;
  betaSlow: number;
  /** Context the model was trained on before scaling (YaRN's n_ctx_orig). */
  nCtxOrig: number;
}

/** The weight types the runtime can multiply (dequantized through @cllama/quantize in the reference). */
export const supportedWeightTypes = new Set<number>([
  GgmlType.F32,
  GgmlType.F16,
  GgmlType.BF16,
  GgmlType.Q4_0,
  GgmlType.Q4_1,
  GgmlType.Q5_0,
  GgmlType.Q5_1,
  GgmlType.Q8_0,
  GgmlType.Q2_K,
  GgmlType.Q3_K,
  GgmlType.Q4_K,
  GgmlType.Q5_K,
  GgmlType.Q6_K,
]);

const bad = (message: string, hint?: string): never => {
  throw new RuntimeError("RUNTIME_BAD_HPARAMS", message, hint);
};

/** Reads and checks a LLaMA GGUF's hyper-parameters; throws a RuntimeError on anything else. */
export function readModelHparams(file: GgufFile, source = "model"): ModelHparams {
  const arch = getMetadata(file, "general.architecture", "string");
  if (arch !== "llama") {
    throw new RuntimeError(
      "RUNTIME_BAD_ARCHITECTURE",
      `${source}: general.architecture is "${arch ?? "(missing)"}", expected "llama"`,
      "cllama runs LLaMA-family models (LLaMA, Chinese-LLaMA/Alpaca, TinyLlama...)",
    );
  }
  let h: ReturnType<typeof readLlamaHparams>;
  try {
    h = readLlamaHparams(file);
  } catch (error) {
    throw new RuntimeError("RUNTIME_MISSING_KEY", `${source}: ${(error as Error).message}`);
  }
  const positive = (name: string, v: number) => {
    if (!Number.isInteger(v) || v <= 0) bad(`${source}: ${name} must be a positive integer, found ${v}`);
  };
  positive("llama.embedding_length", h.embeddingLength);
  positive("llama.block_count", h.blockCount);
  positive("llama.attention.head_count", h.headCount);
  positive("llama.attention.head_count_kv", h.headCountKv);
  positive("llama.feed_forward_length", h.feedForwardLength);
  positive("llama.context_length", h.contextLength);
  if (h.embeddingLength % h.headCount !== 0) {
    bad(`${source}: embedding_length ${h.embeddingLength} is not a multiple of head_count ${h.headCount}`);
  }
  if (h.headCount % h.headCountKv !== 0) {
    bad(`${source}: head_count ${h.headCount} is not a multiple of head_count_kv ${h.headCountKv}`);
  }
  const headDim = h.embeddingLength / h.headCount;
  const nRot = h.ropeDimensionCount;
  if (nRot % 2 !== 0 || nRot > headDim || nRot <= 0) {
    bad(`${source}: rope.dimension_count ${nRot} must be even and at most the head dimension ${headDim}`);
  }
  if (!(h.rmsEps > 0)) bad(`${source}: layer_norm_rms_epsilon must be > 0, found ${h.rmsEps}`);
  const embd = file.tensors.find((t) => t.name === "token_embd.weight");
  const nVocab = embd?.shape[1] ?? h.vocabSize ?? 0;
  const tokens = file.metadata["tokenizer.ggml.tokens"];
  if (Array.isArray(tokens) && embd && tokens.length !== embd.shape[1]) {
    bad(
      `${source}: the vocabulary has ${tokens.length} tokens but token_embd.weight has ${embd.shape[1]} rows`,
      "the tokenizer does not belong to these weights (a 49953 vs 49954 mix-up?)",
    );
  }
  const scaling = h.ropeScaling;
  const scalingType = scaling?.type ?? "none";
  if (scalingType !== "none" && scalingType !== "linear" && scalingType !== "yarn") {
    throw new RuntimeError(
      "RUNTIME_BAD_HPARAMS",
      `${source}: unsupported rope.scaling.type "${scalingType}"`,
    );
  }
  const factor = scaling?.factor ?? 1;
  const freqScale = scalingType === "none" || !factor ? 1 : 1 / factor;
  return {
    nVocab,
    nCtxTrain: h.contextLength,
    nEmbd: h.embeddingLength,
    nLayer: h.blockCount,
    nHead: h.headCount,
    nHeadKv: h.headCountKv,
    nFf: h.feedForwardLength,
    headDim,
    nRot,
    rmsEps: h.rmsEps,
    rope: {
      freqBase: h.ropeFreqBase,
      freqScale: Math.fround(freqScale),
      scalingType: scalingType as RopeParams["scalingType"],
      extFactor: scalingType === "yarn" ? 1 : 0,
      attnFactor: 1,
      betaFast: 32,
      betaSlow: 1,
      nCtxOrig: scaling?.originalContextLength ?? h.contextLength,
    },
    tiedEmbeddings: !file.tensors.some((t) => t.name === "output.weight"),
  };
}

/** The tensors a LLaMA model needs, with their expected shapes (innermost first). */
export function expectedTensors(h: ModelHparams): Map<string, number[]> {
  const kvDim = h.nHeadKv * h.headDim;
  const m = new Map<string, number[]>([
    ["token_embd.weight", [h.nEmbd, h.nVocab]],
    ["output_norm.weight", [h.nEmbd]],
  ]);
  if (!h.tiedEmbeddings) m.set("output.weight", [h.nEmbd, h.nVocab]);
  for (let i = 0; i < h.nLayer; i++) {
    m.set(`blk.${i}.attn_norm.weight`, [h.nEmbd]);
    m.set(`blk.${i}.attn_q.weight`, [h.nEmbd, h.nEmbd]);
    m.set(`blk.${i}.attn_k.weight`, [h.nEmbd, kvDim]);
    m.set(`blk.${i}.attn_v.weight`, [h.nEmbd, kvDim]);
    m.set(`blk.${i}.attn_output.weight`, [h.nEmbd, h.nEmbd]);
    m.set(`blk.${i}.ffn_norm.weight`, [h.nEmbd]);
    m.set(`blk.${i}.ffn_gate.weight`, [h.nEmbd, h.nFf]);
    m.set(`blk.${i}.ffn_up.weight`, [h.nEmbd, h.nFf]);
    m.set(`blk.${i}.ffn_down.weight`, [h.nFf, h.nEmbd]);
  }
  return m;
}

/** Checks presence, shape and type of every tensor before any weight is read. */
export function validateTensors(
  file: GgufFile,
  h: ModelHparams,
  source = "model",
): Map<string, GgufTensorInfo> {
  const byName = new Map(file.tensors.map((t) => [t.name, t]));
  const out = new Map<string, GgufTensorInfo>();
  for (const [name, shape] of expectedTensors(h)) {
    const info = byName.get(name);
    if (!info) {
      throw new RuntimeError(
        "RUNTIME_MISSING_TENSOR",
        `${source}: tensor ${name} is missing`,
        "the file is incomplete or not a LLaMA model",
      );
    }
    const found = [...info.shape];
    while (found.length > shape.length && found[found.length - 1] === 1) found.pop();
    if (found.length !== shape.length || found.some((d, i) => d !== shape[i])) {
      throw new RuntimeError(
        "RUNTIME_BAD_TENSOR_SHAPE",
        `${source}: tensor ${name} has shape [${info.shape.join(", ")}], expected [${shape.join(", ")}] from the hyper-parameters`,
      );
    }
    const isNorm = shape.length === 1;
    if (isNorm ? info.type !== GgmlType.F32 : !supportedWeightTypes.has(info.type)) {
      throw new RuntimeError(
        "RUNTIME_UNSUPPORTED_TYPE",
        `${source}: tensor ${name} has type ${info.typeName}, which the runtime cannot compute with`,
        isNorm
          ? "norm weights must be F32"
          : "requantize the model to a supported type (f16, q8_0, q4_0, q4_k_m...)",
      );
    }
    out.set(name, info);
  }
  return out;
}
