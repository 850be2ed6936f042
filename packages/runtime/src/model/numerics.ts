/**
 * The small float32 operations of the forward pass, written to round like ggml's CPU backend
 * (float32 element math, double sums where ggml uses ggml_float), so our logits track
 * llama.cpp's to ~1e-6 and greedy output stays identical.
 */
import { GgmlType } from "@cllama/gguf-format";
import { bf16ToFp32, fp16ToFp32, fp32ToBf16, fp32ToFp16 } from "@cllama/quantize";
import type { RopeParams } from "./hparams";

const f = Math.fround;

export function roundToF16(x: number): number {
  return fp16ToFp32(fp32ToFp16(x));
}

export function roundArrayToF16(x: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] = fp16ToFp32(fp32ToFp16(x[i]!));
}

/** ggml_rms_norm followed by the multiplication with the norm weight. */
export function rmsNorm(x: Float32Array, weight: Float32Array, eps: number, out: Float32Array): void {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += f(x[i]! * x[i]!);
  const mean = f(sum / x.length);
  const scale = f(1 / f(Math.sqrt(f(mean + f(eps)))));
  for (let i = 0; i < x.length; i++) out[i] = f(f(x[i]! * scale) * weight[i]!);
}

/** In-place softmax of x[0..n) (ggml_soft_max: float exps, double sum). */
export function softmaxInPlace(x: Float32Array, n: number): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) if (x[i]! > max) max = x[i]!;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = f(Math.exp(f(x[i]! - max)));
    x[i] = e;
    sum += e;
  }
  const inv = f(1 / sum);
  for (let i = 0; i < n; i++) x[i] = f(x[i]! * inv);
}

export function silu(x: number): number {
  return f(x / f(1 + f(Math.exp(-x))));
}

/** How llama.cpp prepares an activation row for a weight type (its `vec_dot_type`). */
export type ActivationKind = "f32" | "f16" | "bf16" | "q8_0" | "q8_1" | "q8_K";

export function activationKind(weightType: number): ActivationKind {
  switch (weightType) {
    case GgmlType.F32:
      return "f32";
    case GgmlType.F16:
      return "f16";
    case GgmlType.BF16:
      return "bf16";
    case GgmlType.Q4_0:
    case GgmlType.Q5_0:
    case GgmlType.Q8_0:
      return "q8_0";
    case GgmlType.Q4_1:
    case GgmlType.Q5_1:
      return "q8_1";
    default:
      return "q8_K";
  }
}

/** An activation row as the dot product sees it, plus Q8_1's per-block fp16 sums. */
export interface PreparedActivation {
  values: Float32Array;
  /** Q8_1 only: per block, fp16(d * sum(q)) and the exact sum of the block's values. */
  blockSumHalf?: Float32Array;
  blockSumExact?: Float32Array;
}

function nearestInt(x: number): number {
  // ggml's nearest_int: round half to even (valid for |x| < 2^22).
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/**
 * Quantize-dequantize an activation row the way ggml's x86 code does before a dot product:
 * Q8_0/Q8_1 (blocks of 32, d = amax/127, round to nearest even, d stored as fp16), Q8_K (blocks
 * of 256, float d), or fp16/bf16 rounding.
 */
export function prepareActivation(x: Float32Array, kind: ActivationKind): PreparedActivation {
  const n = x.length;
  const values = new Float32Array(n);
  if (kind === "f32") {
    values.set(x);
    return { values };
  }
  if (kind === "f16") {
    for (let i = 0; i < n; i++) values[i] = fp16ToFp32(fp32ToFp16(x[i]!));
    return { values };
  }
  if (kind === "bf16") {
    for (let i = 0; i < n; i++) values[i] = bf16ToFp32(fp32ToBf16(x[i]!));
    return { values };
  }
  if (kind === "q8_K") {
    for (let b = 0; b < n; b += 256) {
      let amax = 0;
      let max = 0;
      for (let j = b; j < b + 256; j++) {
        const ax = Math.abs(x[j]!);
        if (ax > amax) {
          amax = ax;
          max = x[j]!;
        }
      }
      if (amax === 0) continue;
      const iscale = f(-127 / max);
      const d = f(1 / iscale);
      for (let j = b; j < b + 256; j++) {
        const q = Math.min(127, nearestInt(f(iscale * x[j]!)));
        values[j] = f(q * d);
      }
    }
    return { values };
  }
  const blocks = n / 32;
  const blockSumHalf = kind === "q8_1" ? new Float32Array(blocks) : undefined;
  const blockSumExact = kind === "q8_1" ? new Float32Array(blocks) : undefined;
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let j = b * 32; j < b * 32 + 32; j++) amax = Math.max(amax, Math.abs(x[j]!));
    const d = f(amax / 127);
    const id = amax !== 0 ? f(127 / amax) : 0;
    const dHalf = roundToF16(d);
    let sumQ = 0;
    let sumValues = 0;
    for (let j = b * 32; j < b * 32 + 32; j++) {
      const q = nearestInt(f(x[j]! * id));
      sumQ += q;
      const v = f(q * dHalf);
      values[j] = v;
      sumValues += v;
    }
    if (blockSumHalf && blockSumExact) {
      blockSumHalf[b] = roundToF16(f(d * sumQ));
      blockSumExact[b] = sumValues;
    }
  }
  return { values, blockSumHalf, blockSumExact };
}

/** YaRN's correction range (ggml_rope_yarn_corr_dims). */
function yarnCorrDims(nDims: number, rope: RopeParams): [number, number] {
  const corrDim = (nRot: number) =>
    f((nDims * Math.log(rope.nCtxOrig / (nRot * 2 * Math.PI))) / (2 * Math.log(rope.freqBase)));
  const start = Math.floor(corrDim(rope.betaFast));
  const end = Math.ceil(corrDim(rope.betaSlow));
  return [Math.max(0, start), Math.min(nDims - 1, end)];
}

/**
 * cos/sin of every rotated pair at one position, as ggml_rope_cache_init computes them (theta
 * multiplied step by step in float32; YaRN ramp and magnitude scaling from rope_yarn).
 */
export function ropeCache(
  pos: number,
  nRot: number,
  rope: RopeParams,
): { cos: Float32Array; sin: Float32Array } {
  const half = nRot / 2;
  const cos = new Float32Array(half);
  const sin = new Float32Array(half);
  const thetaScale = f(f(rope.freqBase) ** f(-2 / nRot));
  const corr = rope.extFactor !== 0 ? yarnCorrDims(nRot, rope) : [0, 0];
  let theta = f(pos);
  for (let i = 0; i < half; i++) {
    const i0 = 2 * i;
    const thetaInterp = f(rope.freqScale * theta);
    let angle = thetaInterp;
    let mscale = f(rope.attnFactor);
    if (rope.extFactor !== 0) {
      const y = f((i0 / 2 - corr[0]!) / Math.max(0.001, corr[1]! - corr[0]!));
      const rampMix = f(f(1 - Math.min(1, Math.max(0, y))) * rope.extFactor);
      angle = f(f(thetaInterp * f(1 - rampMix)) + f(theta * rampMix));
      mscale = f(mscale * f(1 + f(0.1 * f(Math.log(1 / rope.freqScale)))));
    }
    cos[i] = f(f(Math.cos(angle)) * mscale);
    sin[i] = f(f(Math.sin(angle)) * mscale);
    theta = f(theta * thetaScale);
  }
  return { cos, sin };
}

/** Rotates adjacent pairs of every head of `x` (GGUF/ggml "normal" RoPE mode). */
export function applyRope(
  x: Float32Array,
  offset: number,
  nHeads: number,
  headDim: number,
  nRot: number,
  cache: { cos: Float32Array; sin: Float32Array },
): void {
  for (let h = 0; h < nHeads; h++) {
    const base = offset + h * headDim;
    for (let i = 0; i < nRot / 2; i++) {
      const x0 = x[base + 2 * i]!;
      const x1 = x[base + 2 * i + 1]!;
      const c = cache.cos[i]!;
      const s = cache.sin[i]!;
      x[base + 2 * i] = f(f(x0 * c) - f(x1 * s));
      x[base + 2 * i + 1] = f(f(x0 * s) + f(x1 * c));
    }
  }
}
