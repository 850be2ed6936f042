/**
 * A LLaMA checkpoint folder, whatever its format, seen as Hugging Face tensor names in Hugging
 * Face row order: HF safetensors (single or sharded), HF PyTorch `.bin` (single or sharded), or
 * Meta `consolidated.*.pth` + params.json (renamed, q/k rows reordered, model-parallel shards
 * concatenated). Nothing but headers is read here.
 */
import { type LlamaParams, paramsFromHfConfig, paramsFromMetaParams } from "./config";
import { type Directory, readJson } from "./directory";
import { dtypeSize } from "./dtype";
import { fail } from "./errors";
import { metaToHfName, permuteHeadRows } from "./layout";
import { readSafetensors } from "./safetensors";
import type { ByteSource } from "./source";
import { numel, shapeText, type TensorRef } from "./tensor";
import { readTorchCheckpoint } from "./torch";

export type CheckpointFormat = "hf-safetensors" | "hf-bin" | "meta-pth";

export interface Checkpoint {
  format: CheckpointFormat;
  path: string;
  /** Hugging Face names, HF row order. */
  tensors: Map<string, TensorRef>;
  params: LlamaParams;
  /** The raw config.json (HF) or params.json (Meta). */
  config: Record<string, unknown>;
  files: string[];
  close(): Promise<void>;
}

export async function openCheckpoint(dir: Directory): Promise<Checkpoint> {
  const names = new Set(await dir.list());
  const sources: ByteSource[] = [];
  const open = async (name: string) => {
    const s = await dir.open(name);
    sources.push(s);
    return s;
  };
  const close = async () => {
    await Promise.all(sources.map((s) => s.close?.()));
  };
  try {
    let format: CheckpointFormat;
    let files: string[];
    let tensors: Map<string, TensorRef>;
    if (names.has("model.safetensors.index.json") || names.has("pytorch_model.bin.index.json")) {
      const indexName = names.has("model.safetensors.index.json")
        ? "model.safetensors.index.json"
        : "pytorch_model.bin.index.json";
      format = indexName.startsWith("model.safetensors") ? "hf-safetensors" : "hf-bin";
      ({ tensors, files } = await readSharded(dir, names, indexName, format, open));
    } else if (names.has("model.safetensors") || names.has("pytorch_model.bin")) {
      format = names.has("model.safetensors") ? "hf-safetensors" : "hf-bin";
      const file = format === "hf-safetensors" ? "model.safetensors" : "pytorch_model.bin";
      files = [file];
      tensors = byName(await readAny(await open(file), format));
    } else {
      const shards = [...names].filter((n) => /^consolidated\.\d+\.pth$/.test(n)).sort();
      if (!shards.length) {
        fail(
          "LORA_NO_CHECKPOINT",
          `${dir.path}: no model.safetensors, pytorch_model.bin, their .index.json, or consolidated.*.pth`,
          "point at the folder holding the LLaMA weights (Hugging Face or Meta format)",
        );
      }
      if (!names.has("params.json")) {
        fail(
          "LORA_NO_CHECKPOINT",
          `${dir.path}: consolidated.*.pth without params.json`,
          "copy Meta's params.json beside the weights",
        );
      }
      const params = await readJson(dir, "params.json");
      const parts = await Promise.all(
        shards.map(async (s) => byName(await readTorchCheckpoint(await open(s)))),
      );
      const meta = metaTensors(parts, shards, params, dir.path);
      return {
        format: "meta-pth",
        path: dir.path,
        tensors: meta.tensors,
        params: meta.params,
        config: params,
        files: shards,
        close,
      };
    }
    if (!names.has("config.json")) {
      fail(
        "LORA_BAD_CONFIG",
        `${dir.path}: config.json is missing`,
        "copy the model's config.json beside the weights",
      );
    }
    const config = await readJson(dir, "config.json");
    const params = paramsFromHfConfig(config, `${dir.path}/config.json`);
    if (
      !tensors.has("lm_head.weight") &&
      !params.tieWordEmbeddings &&
      tensors.has("model.embed_tokens.weight")
    ) {
      params.tieWordEmbeddings = true; // checkpoints that omit lm_head share the embedding
    }
    return { format, path: dir.path, tensors, params, config, files, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function readAny(source: ByteSource, format: CheckpointFormat): Promise<TensorRef[]> {
  return format === "hf-safetensors"
    ? readSafetensors(source).then((f) => f.tensors)
    : readTorchCheckpoint(source);
}

function byName(list: TensorRef[]): Map<string, TensorRef> {
  return new Map(list.map((t) => [t.name, t]));
}

async function readSharded(
  dir: Directory,
  names: Set<string>,
  indexName: string,
  format: CheckpointFormat,
  open: (name: string) => Promise<ByteSource>,
): Promise<{ tensors: Map<string, TensorRef>; files: string[] }> {
  const index = await readJson(dir, indexName);
  const map = index.weight_map as Record<string, unknown> | undefined;
  if (!map || typeof map !== "object") fail("LORA_BAD_INDEX", `${dir.path}/${indexName}: no weight_map`);
  const files = [...new Set(Object.values(map))];
  for (const f of files) {
    if (typeof f !== "string" || f.includes("/") || f.includes("\\") || f.startsWith(".")) {
      fail(
        "LORA_BAD_INDEX",
        `${dir.path}/${indexName}: shard name ${JSON.stringify(f)} is not a plain file name`,
      );
    }
  }
  const missing = (files as string[]).filter((f) => !names.has(f));
  if (missing.length) {
    fail(
      "LORA_MISSING_SHARD",
      `${dir.path}: ${indexName} lists ${missing.join(", ")}, which ${missing.length > 1 ? "are" : "is"} not in the folder`,
      `download the missing shard${missing.length > 1 ? "s" : ""} (${files.length} in all) into ${dir.path}`,
    );
  }
  const tensors = new Map<string, TensorRef>();
  for (const f of files as string[]) {
    for (const t of await readAny(await open(f), format)) {
      if (map[t.name] === f) tensors.set(t.name, t);
    }
  }
  for (const [name, f] of Object.entries(map)) {
    if (!tensors.has(name)) {
      fail(
        "LORA_MISSING_TENSOR",
        `${dir.path}/${f}: tensor ${name} listed in ${indexName} is not in the shard`,
        "the shard is from another download or corrupt: download it again",
      );
    }
  }
  return { tensors, files: files as string[] };
}

/**
 * Meta's model-parallel shards split each matrix across files: embeddings, wo and w2 along the
 * input dimension, the other matrices along the output one; norms are replicated.
 */
function metaTensors(
  parts: Map<string, TensorRef>[],
  files: string[],
  rawParams: Record<string, unknown>,
  path: string,
): { tensors: Map<string, TensorRef>; params: LlamaParams } {
  const first = parts[0]!;
  const combined = new Map<string, TensorRef>();
  for (const [metaName, ref] of first) {
    const hf = metaToHfName(metaName);
    if (!hf) continue; // rope.freqs and friends: recomputed by every runtime
    const pieces = parts.map((p, i) => {
      const t = p.get(metaName);
      if (!t)
        fail(
          "LORA_MISSING_TENSOR",
          `${path}/${files[i]}: ${metaName} is missing`,
          "a consolidated shard is from another model",
        );
      return t;
    });
    combined.set(hf, pieces.length === 1 ? ref : concatRef(hf, metaName, pieces));
  }
  const embed = combined.get("model.embed_tokens.weight");
  const gate = combined.get("model.layers.0.mlp.gate_proj.weight");
  if (!embed || !gate)
    fail(
      "LORA_MISSING_TENSOR",
      `${path}: tok_embeddings.weight or layers.0.feed_forward.w1.weight is missing`,
    );
  const params = paramsFromMetaParams(
    rawParams,
    { vocabSize: embed.shape[0]!, intermediateSize: gate.shape[0]! },
    `${path}/params.json`,
  );
  // Meta stores q/k rows interleaved; the HF view (what LoRAs are trained on) is rotate-half.
  for (const [name, ref] of combined) {
    const m = /\.self_attn\.(q|k)_proj\.weight$/.exec(name);
    if (!m) continue;
    const heads = m[1] === "q" ? params.numHeads : params.numKvHeads;
    combined.set(name, {
      ...ref,
      read: async () => permuteHeadRows(await ref.read(), ref.shape[0]!, heads, "rotateHalf"),
    });
  }
  return { tensors: combined, params };
}

function concatRef(hfName: string, metaName: string, pieces: TensorRef[]): TensorRef {
  const ref = pieces[0]!;
  if (ref.shape.length === 1) return { ...ref, name: hfName };
  const axis = /^(tok_embeddings|.*\.attention\.wo|.*\.feed_forward\.w2)\.weight$/.test(metaName) ? 1 : 0;
  for (const p of pieces) {
    if (p.dtype !== ref.dtype || p.shape.length !== 2 || p.shape[1 - axis] !== ref.shape[1 - axis]) {
      fail(
        "LORA_SHAPE_MISMATCH",
        `${p.file}: ${metaName} ${shapeText(p.shape)} does not concatenate with ${shapeText(ref.shape)}`,
      );
    }
  }
  const shape = [...ref.shape];
  shape[axis] = pieces.reduce((s, p) => s + p.shape[axis]!, 0);
  const size = dtypeSize(ref.dtype);
  return {
    name: hfName,
    dtype: ref.dtype,
    shape,
    byteLength: numel(shape) * size,
    file: pieces.map((p) => p.file).join(" + "),
    async read() {
      const out = new Uint8Array(numel(shape) * size);
      if (axis === 0) {
        let at = 0;
        for (const p of pieces) {
          const bytes = await p.read();
          out.set(bytes, at);
          at += bytes.byteLength;
        }
        return out;
      }
      const rowBytes = shape[1]! * size;
      let col = 0;
      for (const p of pieces) {
        const bytes = await p.read();
        const w = p.shape[1]! * size;
        for (let r = 0; r < shape[0]!; r++) out.set(bytes.subarray(r * w, (r + 1) * w), r * rowBytes + col);
        col += w;
      }
      return out;
    },
  };
}
