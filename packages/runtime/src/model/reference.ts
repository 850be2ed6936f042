import { GgmlType } from "@cllama/gguf-format";
import type { ModelHparams } from "./hparams";
import {
  activationKind,
  applyRope,
  type PreparedActivation,
  prepareActivation,
  rmsNorm,
  ropeCache,
  roundToF16,
  silu,
  softmaxInPlace,
} from "./numerics";
import type { WeightMatrix } from "./weights";

const f = Math.fround;

/** The weights of a LLaMA model, by role. */
export interface LlamaWeights {
  tokenEmbd: WeightMatrix;
  outputNorm: Float32Array;
  /** output.weight, or token_embd.weight when the embeddings are tied. */
  output: WeightMatrix;
  layers: LayerWeights[];
}

export interface LayerWeights {
  attnNorm: Float32Array;
  q: WeightMatrix;
  k: WeightMatrix;
  v: WeightMatrix;
  o: WeightMatrix;
  ffnNorm: Float32Array;
  gate: WeightMatrix;
  up: WeightMatrix;
  down: WeightMatrix;
}

/**
 * What the context needs from a compute engine: evaluate a batch of tokens at consecutive
 * positions against the KV cache, and move cache cells when the context shifts.
 */
export interface ForwardBackend {
  readonly contextSize: number;
  /** Evaluates tokens at positions [startPos, startPos + n); returns the logits of the rows asked for. */
  evaluate(
    tokens: readonly number[],
    startPos: number,
    logitRows: readonly number[],
  ): Float32Array[] | Promise<Float32Array[]>;
  /** Drops cells [keep, keep + discard) and moves cells [keep + discard, used) down by `discard`. */
  shift(keep: number, discard: number, used: number): void;
  dispose(): void;
}

/** y[t][r] = W[r] · x[t] with x prepared as llama.cpp prepares activations for W's type. */
export function matmul(w: WeightMatrix, xs: readonly Float32Array[]): Float32Array[] {
  const kind = activationKind(w.type);
  const prepared: PreparedActivation[] = xs.map((x) => prepareActivation(x, kind));
  const outs = xs.map(() => new Float32Array(w.rows));
  const isQ81 = w.type === GgmlType.Q4_1 || w.type === GgmlType.Q5_1;
  for (let r = 0; r < w.rows; r++) {
    const row = w.row(r);
    const mins = isQ81 ? w.blockMins(r) : undefined;
    for (let t = 0; t < prepared.length; t++) {
      const a = prepared[t]!.values;
      let sum = 0;
      for (let i = 0; i < row.length; i++) sum += row[i]! * a[i]!;
      if (mins) {
        // llama.cpp adds m * s with s = fp16(d * sum q) instead of the exact block sum.
        const half = prepared[t]!.blockSumHalf!;
        const exact = prepared[t]!.blockSumExact!;
        for (let b = 0; b < mins.length; b++) sum += mins[b]! * (half[b]! - exact[b]!);
      }
      outs[t]![r] = f(sum);
    }
  }
  return outs;
}

/**
 * The reference forward pass in TypeScript: float32 like ggml's CPU backend, KV cache in fp16
 * precision (llama.cpp's default cache type), attention without flash attention (Q and the
 * attention weights rounded to fp16 for the two products, as ggml_mul_mat does with an F16 cache).
 */
export class ReferenceBackend implements ForwardBackend {
  private readonly kCache: Float32Array[];
  private readonly vCache: Float32Array[];
  private readonly kvDim: number;

  constructor(
    readonly hp: ModelHparams,
    readonly weights: LlamaWeights,
    readonly contextSize: number,
  ) {
    this.kvDim = hp.nHeadKv * hp.headDim;
    this.kCache = weights.layers.map(() => new Float32Array(contextSize * this.kvDim));
    this.vCache = weights.layers.map(() => new Float32Array(contextSize * this.kvDim));
  }

  evaluate(tokens: readonly number[], startPos: number, logitRows: readonly number[]): Float32Array[] {
    const { hp, weights } = this;
    const n = tokens.length;
    const xs = tokens.map((t) => new Float32Array(weights.tokenEmbd.row(t)));
    const ropes = tokens.map((_, i) => ropeCache(startPos + i, hp.nRot, hp.rope));
    const normed = xs.map(() => new Float32Array(hp.nEmbd));
    for (let l = 0; l < hp.nLayer; l++) {
      const layer = weights.layers[l]!;
      for (let t = 0; t < n; t++) rmsNorm(xs[t]!, layer.attnNorm, hp.rmsEps, normed[t]!);
      const q = matmul(layer.q, normed);
      const k = matmul(layer.k, normed);
      const v = matmul(layer.v, normed);
      for (let t = 0; t < n; t++) {
        applyRope(q[t]!, 0, hp.nHead, hp.headDim, hp.nRot, ropes[t]!);
        applyRope(k[t]!, 0, hp.nHeadKv, hp.headDim, hp.nRot, ropes[t]!);
        const cell = (startPos + t) * this.kvDim;
        for (let i = 0; i < this.kvDim; i++) {
          this.kCache[l]![cell + i] = roundToF16(k[t]![i]!);
          this.vCache[l]![cell + i] = roundToF16(v[t]![i]!);
        }
      }
      const attn = q.map((qt, t) => this.attention(l, qt, startPos + t));
      const o = matmul(layer.o, attn);
      for (let t = 0; t < n; t++) addInPlace(xs[t]!, o[t]!);
      for (let t = 0; t < n; t++) rmsNorm(xs[t]!, layer.ffnNorm, hp.rmsEps, normed[t]!);
      const gate = matmul(layer.gate, normed);
      const up = matmul(layer.up, normed);
      for (let t = 0; t < n; t++) {
        const g = gate[t]!;
        const u = up[t]!;
        for (let i = 0; i < g.length; i++) g[i] = f(silu(g[i]!) * u[i]!);
      }
      const down = matmul(layer.down, gate);
      for (let t = 0; t < n; t++) addInPlace(xs[t]!, down[t]!);
    }
    const finals = logitRows.map((t) => {
      const out = new Float32Array(hp.nEmbd);
      rmsNorm(xs[t]!, weights.outputNorm, hp.rmsEps, out);
      return out;
    });
    return matmul(weights.output, finals);
  }

  /** One token's attention over cache cells [0, pos]. */
  private attention(layer: number, q: Float32Array, pos: number): Float32Array {
    const { hp } = this;
    const hd = hp.headDim;
    const group = hp.nHead / hp.nHeadKv;
    const scale = f(1 / f(Math.sqrt(hd)));
    const out = new Float32Array(hp.nEmbd);
    const scores = new Float32Array(pos + 1);
    const kc = this.kCache[layer]!;
    const vc = this.vCache[layer]!;
    const qh = new Float32Array(hd);
    for (let h = 0; h < hp.nHead; h++) {
      const kvOff = Math.floor(h / group) * hd;
      for (let i = 0; i < hd; i++) qh[i] = roundToF16(q[h * hd + i]!);
      for (let p = 0; p <= pos; p++) {
        const base = p * this.kvDim + kvOff;
        let dot = 0;
        for (let i = 0; i < hd; i++) dot += qh[i]! * kc[base + i]!;
        scores[p] = f(f(dot) * scale);
      }
      softmaxInPlace(scores, pos + 1);
      for (let p = 0; p <= pos; p++) scores[p] = roundToF16(scores[p]!);
      for (let i = 0; i < hd; i++) {
        let acc = 0;
        for (let p = 0; p <= pos; p++) acc += scores[p]! * vc[p * this.kvDim + kvOff + i]!;
        out[h * hd + i] = f(acc);
      }
    }
    return out;
  }

  shift(keep: number, discard: number, used: number): void {
    const { hp } = this;
    // Moved keys were rotated for their old positions: rotate them back by `discard`
    // (llama.cpp's K-shift applies RoPE with the position delta to the cached keys).
    const delta = ropeCache(-discard, hp.nRot, hp.rope);
    for (let l = 0; l < hp.nLayer; l++) {
      const kc = this.kCache[l]!;
      const vc = this.vCache[l]!;
      kc.copyWithin(keep * this.kvDim, (keep + discard) * this.kvDim, used * this.kvDim);
      vc.copyWithin(keep * this.kvDim, (keep + discard) * this.kvDim, used * this.kvDim);
      for (let p = keep; p < used - discard; p++) {
        applyRope(kc, p * this.kvDim, hp.nHeadKv, hp.headDim, hp.nRot, delta);
        for (let i = 0; i < this.kvDim; i++) kc[p * this.kvDim + i] = roundToF16(kc[p * this.kvDim + i]!);
      }
    }
  }

  dispose(): void {}
}

function addInPlace(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] = f(x[i]! + y[i]!);
}
