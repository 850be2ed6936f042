/** Checkpoints and adapters built in memory (no torch needed), for the pre-flight checks. */
import type { Directory } from "../src/index";
import { memorySource, safetensorsHeader } from "../src/index";

export type Files = Record<string, Uint8Array | string>;

export function memoryDirectory(path: string, files: Files): Directory {
  return {
    path,
    list: async () => Object.keys(files),
    open: async (name) => {
      const f = files[name];
      if (f === undefined) throw Object.assign(new Error(`ENOENT ${name}`), { code: "ENOENT" });
      return memorySource(typeof f === "string" ? new TextEncoder().encode(f) : f, `${path}/${name}`);
    },
    readText: async (name) => {
      const f = files[name];
      if (f === undefined) throw Object.assign(new Error(`ENOENT ${name}`), { code: "ENOENT" });
      return typeof f === "string" ? f : new TextDecoder().decode(f);
    },
  };
}

/** F16 zeros of the given shapes as one safetensors file. */
export function safetensorsOf(shapes: Record<string, number[]>): Uint8Array {
  const tensors = Object.entries(shapes).map(([name, shape]) => ({ name, dtype: "F16" as const, shape }));
  const { header, dataSize } = safetensorsHeader(tensors);
  const out = new Uint8Array(header.byteLength + dataSize);
  out.set(header);
  return out;
}

export interface Dims {
  vocab: number;
  dim: number;
  layers: number;
  ff: number;
}

export function baseShapes(d: Dims): Record<string, number[]> {
  const s: Record<string, number[]> = { "model.embed_tokens.weight": [d.vocab, d.dim] };
  for (let i = 0; i < d.layers; i++) {
    const p = `model.layers.${i}`;
    s[`${p}.input_layernorm.weight`] = [d.dim];
    for (const q of ["q_proj", "k_proj", "v_proj", "o_proj"])
      s[`${p}.self_attn.${q}.weight`] = [d.dim, d.dim];
    s[`${p}.post_attention_layernorm.weight`] = [d.dim];
    s[`${p}.mlp.gate_proj.weight`] = [d.ff, d.dim];
    s[`${p}.mlp.up_proj.weight`] = [d.ff, d.dim];
    s[`${p}.mlp.down_proj.weight`] = [d.dim, d.ff];
  }
  s["model.norm.weight"] = [d.dim];
  s["lm_head.weight"] = [d.vocab, d.dim];
  return s;
}

/** The Hugging Face config.json of a synthetic base. */
export function hfConfig(d: Dims): Record<string, unknown> {
  return {
    model_type: "llama",
    vocab_size: d.vocab,
    hidden_size: d.dim,
    intermediate_size: d.ff,
    num_hidden_layers: d.layers,
    num_attention_heads: 4,
    rms_norm_eps: 1e-6,
  };
}

export function baseFolder(d: Dims, shapes = baseShapes(d)): Directory {
  return memoryDirectory("base", {
    "config.json": JSON.stringify(hfConfig(d)),
    "model.safetensors": safetensorsOf(shapes),
  });
}

/** A SentencePiece ModelProto with `n` pieces (only the piece count matters to the checks). */
export function fakeTokenizer(n: number): Uint8Array {
  const piece = new Uint8Array([0x0a, 3, 0x0a, 1, 0x61]); // pieces { piece: "a" }
  const out = new Uint8Array(piece.byteLength * n);
  for (let i = 0; i < n; i++) out.set(piece, i * piece.byteLength);
  return out;
}

export function loraFolder(
  path: string,
  d: Dims,
  options: {
    r?: number;
    configR?: number;
    targets?: string[];
    embedRows?: number;
    tokenizer?: number;
    dropB?: boolean;
  } = {},
): Directory {
  const r = options.r ?? 4;
  const shapes: Record<string, number[]> = {};
  const targets = options.targets ?? ["q_proj", "v_proj"];
  for (let i = 0; i < d.layers; i++) {
    for (const t of targets) {
      const mod =
        t.endsWith("proj") && ["gate_proj", "up_proj", "down_proj"].includes(t) ? "mlp" : "self_attn";
      const [out, inn] =
        t === "down_proj"
          ? [d.dim, d.ff]
          : t === "gate_proj" || t === "up_proj"
            ? [d.ff, d.dim]
            : [d.dim, d.dim];
      const key = `base_model.model.model.layers.${i}.${mod}.${t}`;
      shapes[`${key}.lora_A.weight`] = [r, inn];
      if (!options.dropB) shapes[`${key}.lora_B.weight`] = [out, r];
    }
  }
  if (options.embedRows) {
    shapes["base_model.model.model.embed_tokens.weight"] = [options.embedRows, d.dim];
    shapes["base_model.model.lm_head.weight"] = [options.embedRows, d.dim];
  }
  const files: Files = {
    "adapter_config.json": JSON.stringify({
      peft_type: "LORA",
      r: options.configR ?? r,
      lora_alpha: 2 * r,
      target_modules: targets,
    }),
    "adapter_model.safetensors": safetensorsOf(shapes),
  };
  if (options.tokenizer) files["tokenizer.model"] = fakeTokenizer(options.tokenizer);
  return memoryDirectory(path, files);
}
