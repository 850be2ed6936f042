/** AdamW (decoupled weight decay) with global-norm clipping and a warm-up + cosine schedule. */
import type { Param } from "./params";

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Applied to matrices only (not to norms), as is usual for LLaMA training. */
  weightDecay?: number;
  /** Clip the global gradient norm to this (0: no clipping). */
  clipNorm?: number;
  /**
   * Multiplier of the learning rate per parameter name (default 1). Lets LoRA tuning move the
   * fully trained `modules_to_save` (embed_tokens, lm_head) more gently than the adapters.
   */
  lrScale?: Readonly<Record<string, number>>;
}

export interface ScheduleOptions {
  peakLr: number;
  warmupSteps: number;
  totalSteps: number;
  /** Floor of the cosine as a fraction of the peak (default 0.1). */
  minRatio?: number;
}

/** Linear warm-up to the peak, then cosine decay to `minRatio * peak` at `totalSteps`. */
export function learningRate(step: number, s: ScheduleOptions): number {
  const min = s.peakLr * (s.minRatio ?? 0.1);
  if (step < s.warmupSteps) return (s.peakLr * (step + 1)) / s.warmupSteps;
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  const progress = Math.min(1, (step - s.warmupSteps) / span);
  return min + 0.5 * (s.peakLr - min) * (1 + Math.cos(Math.PI * progress));
}

export class AdamW {
  step = 0;
  readonly m = new Map<string, Float32Array>();
  readonly v = new Map<string, Float32Array>();
  readonly options: Required<AdamWOptions>;

  constructor(options: AdamWOptions) {
    this.options = {
      beta1: 0.9,
      beta2: 0.95,
      eps: 1e-8,
      weightDecay: 0.1,
      clipNorm: 1,
      ...options,
      lrScale: options.lrScale ?? {},
    };
  }

  /** Global L2 norm of the gradients. */
  static gradNorm(params: Param[]): number {
    let ss = 0;
    for (const p of params) for (const g of p.grad!) ss += g * g;
    return Math.sqrt(ss);
  }

  /** One update with learning rate `lr` (default options.lr); returns the gradient norm before clipping. */
  update(params: Param[], baseLr = this.options.lr): number {
    const { beta1, beta2, eps, weightDecay, clipNorm, lrScale } = this.options;
    const norm = AdamW.gradNorm(params);
    const clip = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
    this.step++;
    const bc1 = 1 - beta1 ** this.step;
    const bc2 = 1 - beta2 ** this.step;
    for (const p of params) {
      let m = this.m.get(p.name);
      let v = this.v.get(p.name);
      if (!m || !v) {
        m = new Float32Array(p.data.length);
        v = new Float32Array(p.data.length);
        this.m.set(p.name, m);
        this.v.set(p.name, v);
      }
      const lr = baseLr * (lrScale[p.name] ?? 1);
      const decay = p.shape.length > 1 ? 1 - lr * weightDecay : 1;
      const g = p.grad!;
      const w = p.data;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i]! * clip;
        const mi = beta1 * m[i]! + (1 - beta1) * gi;
        const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i]! * decay - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
      }
    }
    return norm;
  }
}
