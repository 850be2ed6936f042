/**
 * The model's tensors under their Hugging Face names, row-major float32 with PyTorch's shape
 * ([out, in] for linear weights), each with a gradient buffer when trainable.
 */
import type { LlamaConfig } from "./config";
import { TrainError } from "./errors";

export interface Param {
  name: string;
  shape: number[];
  data: Float32Array;
  /** null when frozen. */
  grad: Float32Array | null;
}

export type ParamStore = Map<string, Param>;

export function layerPrefix(i: number): string {
  return `model.layers.${i}.`;
}

/** Names and shapes of every tensor, in the order of a Hugging Face checkpoint. */
export function paramShapes(c: LlamaConfig): [string, number[]][] {
  const out: [string, number[]][] = [["model.embed_tokens.weight", [c.vocabSize, c.dim]]];
  for (let i = 0; i < c.nLayers; i++) {
    const p = layerPrefix(i);
    out.push(
      [`${p}input_layernorm.weight`, [c.dim]],
      [`${p}self_attn.q_proj.weight`, [c.dim, c.dim]],
      [`${p}self_attn.k_proj.weight`, [c.dim, c.dim]],
      [`${p}self_attn.v_proj.weight`, [c.dim, c.dim]],
      [`${p}self_attn.o_proj.weight`, [c.dim, c.dim]],
      [`${p}post_attention_layernorm.weight`, [c.dim]],
      [`${p}mlp.gate_proj.weight`, [c.ffnDim, c.dim]],
      [`${p}mlp.up_proj.weight`, [c.ffnDim, c.dim]],
      [`${p}mlp.down_proj.weight`, [c.dim, c.ffnDim]],
    );
  }
  out.push(["model.norm.weight", [c.dim]], ["lm_head.weight", [c.vocabSize, c.dim]]);
  return out;
}

/** A seeded generator (mulberry32) with Gaussian samples, so runs repeat exactly. */
export class Rng {
  private state: number;
  private spare: number | null = null;
  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/**
 * GPT-2 style initialisation: N(0, 0.02); the projections that write into the residual stream
 * (o_proj, down_proj) scaled by 1/sqrt(2 * layers); norms at 1.
 */
export function initParams(c: LlamaConfig, seed = 1): ParamStore {
  const rng = new Rng(seed);
  const store: ParamStore = new Map();
  const residualStd = 0.02 / Math.sqrt(2 * c.nLayers);
  for (const [name, shape] of paramShapes(c)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (shape.length === 1) data.fill(1);
    else {
      const std = /o_proj|down_proj/.test(name) ? residualStd : 0.02;
      for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
    }
    store.set(name, { name, shape, data, grad: new Float32Array(data.length) });
  }
  return store;
}

/** Parameters from named tensors (a checkpoint); every expected name must be there. */
export function paramsFromTensors(c: LlamaConfig, tensors: Map<string, Float32Array>): ParamStore {
  const store: ParamStore = new Map();
  for (const [name, shape] of paramShapes(c)) {
    const data = tensors.get(name);
    const n = shape.reduce((a, b) => a * b, 1);
    if (!data) throw new TrainError("TRAIN_MISSING_TENSOR", `checkpoint: ${name} is missing`);
    if (data.length !== n) {
      throw new TrainError(
        "TRAIN_BAD_SHAPE",
        `checkpoint: ${name} has ${data.length} values, [${shape.join(", ")}] needs ${n}`,
      );
    }
    store.set(name, { name, shape, data, grad: new Float32Array(n) });
  }
  return store;
}

export function getParam(store: ParamStore, name: string): Param {
  const p = store.get(name);
  if (!p) throw new TrainError("TRAIN_MISSING_TENSOR", `no parameter ${name}`);
  return p;
}

export function zeroGrads(store: ParamStore): void {
  for (const p of store.values()) p.grad?.fill(0);
}

export function countParams(store: ParamStore): number {
  let n = 0;
  for (const p of store.values()) n += p.data.length;
  return n;
}
