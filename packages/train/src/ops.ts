/**
 * The element-wise and attention pieces of the LLaMA block, forward and backward, on float32
 * rows. RoPE is the Hugging Face layout (rotate_half: dimension i pairs with i + headDim/2), the
 * one that `q_proj`/`k_proj` weights of a Hugging Face checkpoint use.
 */

/** y = x / rms(x) * g per row; keeps 1/rms per row for the backward pass. */
export function rmsNormForward(x: Float32Array, g: Float32Array, n: number, d: number, eps: number) {
  const y = new Float32Array(n * d);
  const rstd = new Float32Array(n);
  for (let t = 0; t < n; t++) {
    const o = t * d;
    let ss = 0;
    for (let i = 0; i < d; i++) ss += x[o + i]! * x[o + i]!;
    const r = 1 / Math.sqrt(ss / d + eps);
    rstd[t] = r;
    for (let i = 0; i < d; i++) y[o + i] = x[o + i]! * r * g[i]!;
  }
  return { y, rstd };
}

/** Returns dx; adds into dg when given. */
export function rmsNormBackward(
  dy: Float32Array,
  x: Float32Array,
  g: Float32Array,
  rstd: Float32Array,
  n: number,
  d: number,
  dg: Float32Array | null,
): Float32Array {
  const dx = new Float32Array(n * d);
  for (let t = 0; t < n; t++) {
    const o = t * d;
    const r = rstd[t]!;
    let dot = 0;
    for (let i = 0; i < d; i++) {
      const xhat = x[o + i]! * r;
      const dxhat = dy[o + i]! * g[i]!;
      dot += dxhat * xhat;
      if (dg) dg[i]! += dy[o + i]! * xhat;
    }
    dot /= d;
    for (let i = 0; i < d; i++) {
      const xhat = x[o + i]! * r;
      dx[o + i] = r * (dy[o + i]! * g[i]! - xhat * dot);
    }
  }
  return dx;
}

/** cos/sin per (position, i < headDim/2). */
export function ropeTables(maxSeq: number, headDim: number, theta: number) {
  const half = headDim / 2;
  const cos = new Float32Array(maxSeq * half);
  const sin = new Float32Array(maxSeq * half);
  for (let p = 0; p < maxSeq; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * theta ** ((-2 * i) / headDim);
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * In place on rows of `nHeads * headDim`; token t sits at position t % seqLen. `inverse` rotates
 * back, which is the backward pass (the rotation is orthogonal).
 */
export function rope(
  x: Float32Array,
  nTok: number,
  seqLen: number,
  nHeads: number,
  headDim: number,
  tables: { cos: Float32Array; sin: Float32Array },
  inverse: boolean,
): void {
  const half = headDim / 2;
  const sign = inverse ? -1 : 1;
  for (let t = 0; t < nTok; t++) {
    const to = (t % seqLen) * half;
    for (let h = 0; h < nHeads; h++) {
      const o = (t * nHeads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const c = tables.cos[to + i]!;
        const s = tables.sin[to + i]! * sign;
        const x1 = x[o + i]!;
        const x2 = x[o + i + half]!;
        x[o + i] = x1 * c - x2 * s;
        x[o + i + half] = x2 * c + x1 * s;
      }
    }
  }
}

/**
 * Causal self-attention for `batch` sequences of `seqLen` tokens, rows of `nHeads * headDim`.
 * Returns the output and the attention probabilities (batch, head, t, u<=t) for the backward pass.
 */
export function attentionForward(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  batch: number,
  seqLen: number,
  nHeads: number,
  headDim: number,
) {
  const d = nHeads * headDim;
  const out = new Float32Array(batch * seqLen * d);
  const probs = new Float32Array(batch * nHeads * seqLen * seqLen);
  const scale = 1 / Math.sqrt(headDim);
  const row = new Float32Array(seqLen);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < nHeads; h++) {
      const pBase = (b * nHeads + h) * seqLen * seqLen;
      for (let t = 0; t < seqLen; t++) {
        const qo = (b * seqLen + t) * d + h * headDim;
        let max = -Infinity;
        for (let u = 0; u <= t; u++) {
          const ko = (b * seqLen + u) * d + h * headDim;
          let s = 0;
          for (let i = 0; i < headDim; i++) s += q[qo + i]! * k[ko + i]!;
          s *= scale;
          row[u] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let u = 0; u <= t; u++) {
          const e = Math.exp(row[u]! - max);
          row[u] = e;
          sum += e;
        }
        const inv = 1 / sum;
        const po = pBase + t * seqLen;
        for (let u = 0; u <= t; u++) {
          const p = row[u]! * inv;
          probs[po + u] = p;
          const vo = (b * seqLen + u) * d + h * headDim;
          for (let i = 0; i < headDim; i++) out[qo + i]! += p * v[vo + i]!;
        }
      }
    }
  }
  return { out, probs };
}

export function attentionBackward(
  dOut: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  probs: Float32Array,
  batch: number,
  seqLen: number,
  nHeads: number,
  headDim: number,
) {
  const d = nHeads * headDim;
  const dq = new Float32Array(q.length);
  const dk = new Float32Array(k.length);
  const dv = new Float32Array(v.length);
  const scale = 1 / Math.sqrt(headDim);
  const dp = new Float32Array(seqLen);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < nHeads; h++) {
      const pBase = (b * nHeads + h) * seqLen * seqLen;
      for (let t = 0; t < seqLen; t++) {
        const qo = (b * seqLen + t) * d + h * headDim;
        const po = pBase + t * seqLen;
        let dot = 0;
        for (let u = 0; u <= t; u++) {
          const vo = (b * seqLen + u) * d + h * headDim;
          const p = probs[po + u]!;
          let s = 0;
          for (let i = 0; i < headDim; i++) {
            s += dOut[qo + i]! * v[vo + i]!;
            dv[vo + i]! += p * dOut[qo + i]!;
          }
          dp[u] = s;
          dot += p * s;
        }
        for (let u = 0; u <= t; u++) {
          const ds = probs[po + u]! * (dp[u]! - dot) * scale;
          if (ds === 0) continue;
          const ko = (b * seqLen + u) * d + h * headDim;
          for (let i = 0; i < headDim; i++) {
            dq[qo + i]! += ds * k[ko + i]!;
            dk[ko + i]! += ds * q[qo + i]!;
          }
        }
      }
    }
  }
  return { dq, dk, dv };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** silu(gate) * up. */
export function swiglu(gate: Float32Array, up: Float32Array): Float32Array {
  const y = new Float32Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i]!;
    y[i] = g * sigmoid(g) * up[i]!;
  }
  return y;
}

export function swigluBackward(dy: Float32Array, gate: Float32Array, up: Float32Array) {
  const dGate = new Float32Array(gate.length);
  const dUp = new Float32Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i]!;
    const s = sigmoid(g);
    const silu = g * s;
    dUp[i] = dy[i]! * silu;
    dGate[i] = dy[i]! * up[i]! * s * (1 + g * (1 - s));
  }
  return { dGate, dUp };
}

/**
 * Mean cross-entropy over the positions whose target is >= 0; turns `logits` into its gradient
 * (times `gradScale`) in place when `backward`.
 */
export function crossEntropy(
  logits: Float32Array,
  targets: Int32Array,
  vocab: number,
  backward: boolean,
  gradScale = 1,
): { loss: number; count: number } {
  let count = 0;
  for (const t of targets) if (t >= 0) count++;
  let total = 0;
  const n = targets.length;
  for (let r = 0; r < n; r++) {
    const o = r * vocab;
    const target = targets[r]!;
    if (target < 0) {
      if (backward) logits.fill(0, o, o + vocab);
      continue;
    }
    let max = -Infinity;
    for (let i = 0; i < vocab; i++) if (logits[o + i]! > max) max = logits[o + i]!;
    let sum = 0;
    for (let i = 0; i < vocab; i++) sum += Math.exp(logits[o + i]! - max);
    const logZ = max + Math.log(sum);
    total += logZ - logits[o + target]!;
    if (backward) {
      const scale = gradScale / Math.max(count, 1);
      for (let i = 0; i < vocab; i++) logits[o + i] = Math.exp(logits[o + i]! - logZ) * scale;
      logits[o + target]! -= scale;
    }
  }
  return { loss: count > 0 ? total / count : 0, count };
}
