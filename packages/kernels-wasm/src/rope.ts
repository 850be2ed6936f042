// RoPE angle tables, computed as ggml's rope cache does (float32 steps, YaRN ramp included).

/** RoPE parameters with llama.cpp's names and meanings. */
export interface RopeParams {
  /** Dimensions rotated per head (llama.rope.dimension_count; usually the head size). */
  nRot: number;
  /** llama.rope.freq_base (10000 for LLaMA). */
  freqBase: number;
  /** Position multiplier: 1 / linear scaling factor (0.25 for a factor of 4). Default 1. */
  freqScale?: number;
  /** YaRN extrapolation mix factor; 0 (default) disables YaRN. */
  extFactor?: number;
  /** Magnitude scale (YaRN attn_factor). Default 1. */
  attnFactor?: number;
  /** YaRN beta_fast (default 32) and beta_slow (default 1). */
  betaFast?: number;
  betaSlow?: number;
  /** Original training context (llama.rope.scaling.original_context_length); YaRN only. */
  nCtxOrig?: number;
}

const f = Math.fround;

function corrDim(nDims: number, nCtxOrig: number, nRot: number, base: number): number {
  return f((nDims * Math.log(nCtxOrig / (nRot * 2 * Math.PI))) / (2 * Math.log(base)));
}

/** Fill out[i*2], out[i*2+1] (i < nRot/2) with cos and sin of position pos's angles. */
export function ropeAngles(pos: number, p: RopeParams, out: Float32Array, offset = 0): void {
  const nDims = p.nRot;
  const freqScale = f(p.freqScale ?? 1);
  const extFactor = f(p.extFactor ?? 0);
  let mscale = f(p.attnFactor ?? 1);
  const thetaScale = f(f(p.freqBase) ** f(-2 / nDims));
  let low = 0;
  let high = 0;
  if (extFactor !== 0) {
    const nCtxOrig = p.nCtxOrig ?? 4096;
    low = Math.max(0, Math.floor(corrDim(nDims, nCtxOrig, p.betaFast ?? 32, p.freqBase)));
    high = Math.min(nDims - 1, Math.ceil(corrDim(nDims, nCtxOrig, p.betaSlow ?? 1, p.freqBase)));
    mscale = f(mscale * f(1 + f(0.1 * Math.log(1 / freqScale))));
  }
  let theta = f(pos);
  for (let i0 = 0; i0 < nDims; i0 += 2) {
    const thetaInterp = f(freqScale * theta);
    let t = thetaInterp;
    if (extFactor !== 0) {
      const y = f(f(i0 / 2 - low) / Math.max(0.001, high - low));
      const ramp = f(f(1 - Math.min(1, Math.max(0, y))) * extFactor);
      t = f(f(thetaInterp * f(1 - ramp)) + f(theta * ramp));
    }
    out[offset + i0] = f(Math.cos(t)) * mscale;
    out[offset + i0 + 1] = f(Math.sin(t)) * mscale;
    theta = f(theta * thetaScale);
  }
}
