/** The shape of a LLaMA model, and its Hugging Face config.json. */
import { TrainError } from "./errors";

export interface LlamaConfig {
  vocabSize: number;
  dim: number;
  /** SwiGLU hidden size. */
  ffnDim: number;
  nLayers: number;
  nHeads: number;
  /** Longest sequence (RoPE tables, max_position_embeddings). */
  maxSeqLen: number;
  normEps: number;
  ropeTheta: number;
}

export function checkConfig(c: LlamaConfig): LlamaConfig {
  const ints: (keyof LlamaConfig)[] = ["vocabSize", "dim", "ffnDim", "nLayers", "nHeads", "maxSeqLen"];
  for (const k of ints) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) {
      throw new TrainError("TRAIN_BAD_CONFIG", `config.${k} = ${c[k]}: a positive integer is needed`);
    }
  }
  if (c.dim % c.nHeads !== 0 || (c.dim / c.nHeads) % 2 !== 0) {
    throw new TrainError(
      "TRAIN_BAD_CONFIG",
      `dim ${c.dim} / nHeads ${c.nHeads} must be an even head size`,
      "pick nHeads dividing dim with an even quotient (e.g. dim 256, 4 heads)",
    );
  }
  return c;
}

/** The LLaMA config.json that transformers and @cllama/lora-merge read. */
export function hfConfigJson(c: LlamaConfig): Record<string, unknown> {
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    vocab_size: c.vocabSize,
    hidden_size: c.dim,
    intermediate_size: c.ffnDim,
    num_hidden_layers: c.nLayers,
    num_attention_heads: c.nHeads,
    num_key_value_heads: c.nHeads,
    max_position_embeddings: c.maxSeqLen,
    rms_norm_eps: c.normEps,
    rope_theta: c.ropeTheta,
    hidden_act: "silu",
    tie_word_embeddings: false,
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: "float32",
  };
}

export function configFromHf(json: Record<string, unknown>): LlamaConfig {
  const n = (k: string, fallback?: number) => {
    const v = json[k] ?? fallback;
    if (typeof v !== "number") throw new TrainError("TRAIN_BAD_CONFIG", `config.json: "${k}" is missing`);
    return v;
  };
  if ((json.num_key_value_heads ?? json.num_attention_heads) !== json.num_attention_heads) {
    throw new TrainError(
      "TRAIN_BAD_CONFIG",
      "config.json: grouped-query attention is not supported for training",
    );
  }
  return checkConfig({
    vocabSize: n("vocab_size"),
    dim: n("hidden_size"),
    ffnDim: n("intermediate_size"),
    nLayers: n("num_hidden_layers"),
    nHeads: n("num_attention_heads"),
    maxSeqLen: n("max_position_embeddings", 2048),
    normEps: n("rms_norm_eps", 1e-6),
    ropeTheta: n("rope_theta", 10000),
  });
}
