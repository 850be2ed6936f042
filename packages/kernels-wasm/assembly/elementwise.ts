// Norms, activations, softmax and RoPE on f32 rows, following ggml's CPU float semantics.

/** y[t] = x[t] / sqrt(mean(x[t]^2) + eps) * w (w = 0: no weight); rows [t0, t1) of n floats. */
export function rmsNorm(x: usize, w: usize, y: usize, n: i32, stride: i32, eps: f32, t0: i32, t1: i32): void {
  for (let t = t0; t < t1; t++) {
    const xr = x + (((t * stride) as usize) << 2);
    const yr = y + (((t * stride) as usize) << 2);
    let sum: f64 = 0; // ggml accumulates in double
    for (let i = 0; i < n; i++) {
      const v = load<f32>(xr + ((i as usize) << 2));
      sum += (v * v) as f64;
    }
    const mean = (sum / (n as f64)) as f32;
    const scale: f32 = (1.0 as f32) / Mathf.sqrt(mean + eps);
    if (w) {
      for (let i = 0; i < n; i++) {
        const o = (i as usize) << 2;
        store<f32>(yr + o, load<f32>(xr + o) * scale * load<f32>(w + o));
      }
    } else {
      for (let i = 0; i < n; i++) {
        const o = (i as usize) << 2;
        store<f32>(yr + o, load<f32>(xr + o) * scale);
      }
    }
  }
}

/** y = silu(g) * u over n floats (SwiGLU); y may alias g or u. */
export function siluMul(g: usize, u: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (i as usize) << 2;
    const v = v128.load(g + o);
    const silu = f32x4.div(v, f32x4.add(f32x4.splat(1), expV(f32x4.neg(v))));
    v128.store(y + o, f32x4.mul(silu, v128.load(u + o)));
  }
  for (; i < n; i++) {
    const o = (i as usize) << 2;
    const v = load<f32>(g + o);
    store<f32>(y + o, (v / ((1.0 as f32) + Mathf.exp(-v))) * load<f32>(u + o));
  }
}

/** In-place softmax of rows [t0, t1) of n floats, each scaled by `scale` first. */
export function softmax(x: usize, n: i32, stride: i32, scale: f32, t0: i32, t1: i32): void {
  for (let t = t0; t < t1; t++) {
    softmaxRow(x + (((t * stride) as usize) << 2), n, scale);
  }
}

/** e^x for four lanes (Cephes' expf: range reduction by ln 2 and a degree-6 polynomial, ~1 ulp). */
// @ts-expect-error: decorator
@inline
export function expV(v: v128): v128 {
  const x = f32x4.min(f32x4.max(v, f32x4.splat(-87.33654)), f32x4.splat(88.37626));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375))), f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
  const pow2 = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2);
}

export function softmaxRow(x: usize, n: i32, scale: f32): void {
  const n4 = n & ~3;
  const sv = f32x4.splat(scale);
  let mv = f32x4.splat(-Infinity);
  for (let i = 0; i < n4; i += 4) {
    const o = (i as usize) << 2;
    const v = f32x4.mul(v128.load(x + o), sv);
    v128.store(x + o, v);
    mv = f32x4.max(mv, v);
  }
  let max = Mathf.max(Mathf.max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), Mathf.max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (let i = n4; i < n; i++) {
    const o = (i as usize) << 2;
    const v = load<f32>(x + o) * scale;
    store<f32>(x + o, v);
    if (v > max) max = v;
  }
  const maxv = f32x4.splat(max);
  let sumv = f32x4.splat(0);
  for (let i = 0; i < n4; i += 4) {
    const o = (i as usize) << 2;
    const e = expV(f32x4.sub(v128.load(x + o), maxv));
    v128.store(x + o, e);
    sumv = f32x4.add(sumv, e);
  }
  let sum: f64 = (f32x4.extract_lane(sumv, 0) as f64) + (f32x4.extract_lane(sumv, 1) as f64) + (f32x4.extract_lane(sumv, 2) as f64) + (f32x4.extract_lane(sumv, 3) as f64);
  for (let i = n4; i < n; i++) {
    const o = (i as usize) << 2;
    const e = Mathf.exp(load<f32>(x + o) - max);
    store<f32>(x + o, e);
    sum += e as f64;
  }
  const inv = ((1.0 as f64) / sum) as f32;
  const iv = f32x4.splat(inv);
  for (let i = 0; i < n4; i += 4) {
    const o = (i as usize) << 2;
    v128.store(x + o, f32x4.mul(v128.load(x + o), iv));
  }
  for (let i = n4; i < n; i++) {
    const o = (i as usize) << 2;
    store<f32>(x + o, load<f32>(x + o) * inv);
  }
}

/**
 * Rotate adjacent pairs (llama.cpp's "normal" RoPE mode) of rows [t0, t1): row t holds nHead heads of
 * headDim floats (stride floats per row); cs holds, per row, nRot/2 (cos, sin) pairs already scaled.
 */
export function rope(
  x: usize,
  stride: i32,
  nHead: i32,
  headDim: i32,
  nRot: i32,
  cs: usize,
  t0: i32,
  t1: i32,
): void {
  const half = nRot >> 1;
  for (let t = t0; t < t1; t++) {
    const row = x + (((t * stride) as usize) << 2);
    const c = cs + (((t * nRot) as usize) << 2);
    for (let h = 0; h < nHead; h++) {
      const hp = row + (((h * headDim) as usize) << 2);
      for (let i = 0; i < half; i++) {
        const cos = load<f32>(c + ((i as usize) << 3));
        const sin = load<f32>(c + ((i as usize) << 3), 4);
        const p = hp + ((i as usize) << 3);
        const x0 = load<f32>(p);
        const x1 = load<f32>(p, 4);
        store<f32>(p, x0 * cos - x1 * sin);
        store<f32>(p, x0 * sin + x1 * cos, 4);
      }
    }
  }
}

/** y = a + b over n floats. */
export function add(a: usize, b: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (i as usize) << 2;
    v128.store(y + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = (i as usize) << 2;
    store<f32>(y + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

/** y = a * b over n floats. */
export function mul(a: usize, b: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (i as usize) << 2;
    v128.store(y + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = (i as usize) << 2;
    store<f32>(y + o, load<f32>(a + o) * load<f32>(b + o));
  }
}
