/** LLaMA hyper-parameters from a Hugging Face config.json or a Meta params.json. */
import { fail } from "./errors";

export interface LlamaParams {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  rmsNormEps: number;
  ropeTheta: number;
  contextLength: number;
  ropeScaling?: { type: "linear" | "yarn"; factor: number; originalContextLength?: number };
  tieWordEmbeddings: boolean;
}

type Json = Record<string, unknown>;

function num(obj: Json, key: string, file: string, fallback?: number): number {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    fail("LORA_BAD_CONFIG", `${file}: "${key}" is missing`, `add "${key}" to ${file}`);
  }
  if (typeof v !== "number" || !Number.isFinite(v))
    fail("LORA_BAD_CONFIG", `${file}: "${key}" is not a number`);
  return v;
}

export function paramsFromHfConfig(config: Json, file = "config.json"): LlamaParams {
  const arch = config.model_type;
  if (arch !== undefined && arch !== "llama") {
    fail("LORA_BAD_CONFIG", `${file}: model_type is "${String(arch)}", expected "llama"`);
  }
  const numHeads = num(config, "num_attention_heads", file);
  const params: LlamaParams = {
    vocabSize: num(config, "vocab_size", file),
    hiddenSize: num(config, "hidden_size", file),
    intermediateSize: num(config, "intermediate_size", file),
    numLayers: num(config, "num_hidden_layers", file),
    numHeads,
    numKvHeads: num(config, "num_key_value_heads", file, numHeads),
    rmsNormEps: num(config, "rms_norm_eps", file, 1e-6),
    ropeTheta: num(config, "rope_theta", file, 10000),
    contextLength: num(config, "max_position_embeddings", file, 2048),
    tieWordEmbeddings: config.tie_word_embeddings === true,
  };
  const scaling = config.rope_scaling as Json | null | undefined;
  if (scaling && typeof scaling === "object") {
    const type = (scaling.type ?? scaling.rope_type) as string;
    if (type === "linear" || type === "yarn") {
      params.ropeScaling = { type, factor: num(scaling, "factor", `${file} rope_scaling`) };
      const orig = scaling.original_max_position_embeddings;
      if (typeof orig === "number") params.ropeScaling.originalContextLength = orig;
    } else if (type !== undefined && type !== "default") {
      fail("LORA_BAD_CONFIG", `${file}: rope_scaling type "${type}" is not supported (linear or yarn)`);
    }
  }
  checkParams(params, file);
  return params;
}

/**
 * Meta's params.json lacks the vocabulary and FFN sizes (LLaMA-1 writes vocab_size -1): they
 * come from the tensor shapes. Context: 2048 for LLaMA-1 (eps 1e-6), 4096 for LLaMA-2, as
 * llama.cpp's converter guesses.
 */
export function paramsFromMetaParams(
  params: Json,
  shapes: { vocabSize: number; intermediateSize: number },
  file = "params.json",
): LlamaParams {
  const numHeads = num(params, "n_heads", file);
  const eps = num(params, "norm_eps", file, 1e-6);
  const p: LlamaParams = {
    vocabSize: shapes.vocabSize,
    hiddenSize: num(params, "dim", file),
    intermediateSize: shapes.intermediateSize,
    numLayers: num(params, "n_layers", file),
    numHeads,
    numKvHeads: num(params, "n_kv_heads", file, numHeads),
    rmsNormEps: eps,
    ropeTheta: num(params, "rope_theta", file, 10000),
    contextLength: num(params, "max_seq_len", file, eps === 1e-6 ? 2048 : 4096),
    tieWordEmbeddings: false,
  };
  const declared = params.vocab_size;
  if (typeof declared === "number" && declared > 0 && declared !== shapes.vocabSize) {
    fail(
      "LORA_BAD_CONFIG",
      `${file}: vocab_size ${declared} but tok_embeddings has ${shapes.vocabSize} rows`,
      "the params.json belongs to another checkpoint",
    );
  }
  checkParams(p, file);
  return p;
}

function checkParams(p: LlamaParams, file: string) {
  const positive = Object.entries(p).filter(([, v]) => typeof v === "number" && !(v > 0));
  if (positive.length)
    fail("LORA_BAD_CONFIG", `${file}: ${positive.map(([k]) => k).join(", ")} must be positive`);
  if (p.hiddenSize % p.numHeads !== 0 || p.numHeads % p.numKvHeads !== 0 || (p.hiddenSize / p.numHeads) % 2) {
    fail(
      "LORA_BAD_CONFIG",
      `${file}: hidden size ${p.hiddenSize}, ${p.numHeads} heads and ${p.numKvHeads} KV heads do not fit together`,
    );
  }
}
