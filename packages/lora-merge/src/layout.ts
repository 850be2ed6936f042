/**
 * Tensor names of the three layouts (SPEC-NOTES §2) and the Q/K row permutation between the
 * Hugging Face ("rotate half") and the GGUF / Meta (interleaved pairs) orders.
 */

const HF_LAYER_TO_GGUF: Record<string, string> = {
  input_layernorm: "attn_norm",
  "self_attn.q_proj": "attn_q",
  "self_attn.k_proj": "attn_k",
  "self_attn.v_proj": "attn_v",
  "self_attn.o_proj": "attn_output",
  post_attention_layernorm: "ffn_norm",
  "mlp.gate_proj": "ffn_gate",
  "mlp.up_proj": "ffn_up",
  "mlp.down_proj": "ffn_down",
};

const META_LAYER_TO_HF: Record<string, string> = {
  attention_norm: "input_layernorm",
  "attention.wq": "self_attn.q_proj",
  "attention.wk": "self_attn.k_proj",
  "attention.wv": "self_attn.v_proj",
  "attention.wo": "self_attn.o_proj",
  ffn_norm: "post_attention_layernorm",
  "feed_forward.w1": "mlp.gate_proj",
  "feed_forward.w3": "mlp.up_proj",
  "feed_forward.w2": "mlp.down_proj",
};

export function hfToGgufName(name: string): string | undefined {
  if (name === "model.embed_tokens.weight") return "token_embd.weight";
  if (name === "model.norm.weight") return "output_norm.weight";
  if (name === "lm_head.weight") return "output.weight";
  const m = /^model\.layers\.(\d+)\.(.+)\.weight$/.exec(name);
  const part = m && HF_LAYER_TO_GGUF[m[2]!];
  return part ? `blk.${m![1]}.${part}.weight` : undefined;
}

export function metaToHfName(name: string): string | undefined {
  if (name === "tok_embeddings.weight") return "model.embed_tokens.weight";
  if (name === "norm.weight") return "model.norm.weight";
  if (name === "output.weight") return "lm_head.weight";
  const m = /^layers\.(\d+)\.(.+)\.weight$/.exec(name);
  const part = m && META_LAYER_TO_HF[m[2]!];
  return part ? `model.layers.${m![1]}.${part}.weight` : undefined;
}

/** Tensors a LLaMA checkpoint must hold, in the order llama.cpp's converter writes them. */
export function expectedHfNames(numLayers: number, tied: boolean): string[] {
  const names = ["model.embed_tokens.weight"];
  for (let i = 0; i < numLayers; i++) {
    for (const part of [
      "input_layernorm",
      "self_attn.q_proj",
      "self_attn.k_proj",
      "self_attn.v_proj",
      "self_attn.o_proj",
      "post_attention_layernorm",
      "mlp.gate_proj",
      "mlp.up_proj",
      "mlp.down_proj",
    ]) {
      names.push(`model.layers.${i}.${part}.weight`);
    }
  }
  names.push("model.norm.weight");
  if (!tied) names.push("lm_head.weight");
  return names;
}

/** Row order of q/k projections: HF -> GGUF ("interleave") or GGUF/Meta -> HF ("rotateHalf"). */
export function permuteHeadRows(
  data: Uint8Array,
  rows: number,
  heads: number,
  direction: "interleave" | "rotateHalf",
): Uint8Array {
  const rowBytes = data.byteLength / rows;
  const hd = rows / heads;
  const half = hd / 2;
  const out = new Uint8Array(data.byteLength);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < half; j++) {
        const hfRow = h * hd + i * half + j;
        const ggufRow = h * hd + 2 * j + i;
        const [from, to] = direction === "interleave" ? [hfRow, ggufRow] : [ggufRow, hfRow];
        out.set(data.subarray(from * rowBytes, (from + 1) * rowBytes), to * rowBytes);
      }
    }
  }
  return out;
}
