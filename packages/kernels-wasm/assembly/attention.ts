// Causal self-attention over a KV cache, one (query token, head) pair per work unit, with GQA.

import { softmaxRow } from "./elementwise";
import { f16x4ToF32x4, roundToF16 } from "./f16";
import { hsumf } from "./simd";

// @ts-expect-error: decorator
@inline
function dotF32(a: usize, b: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  for (let i = 0; i < n; i += 4) {
    const o = (i as usize) << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  return hsumf(acc);
}

// @ts-expect-error: decorator
@inline
function dotF16(a: usize, h: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  for (let i = 0; i < n; i += 8) {
    const hv = v128.load(h + ((i as usize) << 1));
    const o = (i as usize) << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(a + o), f16x4ToF32x4(i32x4.extend_low_i16x8_u(hv))));
    acc = f32x4.add(acc, f32x4.mul(v128.load(a + o, 16), f16x4ToF32x4(i32x4.extend_high_i16x8_u(hv))));
  }
  return hsumf(acc);
}

/**
 * For units [u0, u1) (unit = token * nHead + head): out[token][head] = softmax(scale * q.K^T) V over
 * cache positions 0..pos0+token. q rows hold nHead*headDim floats (qStride floats apart); the K and
 * V caches hold, per position, nHeadKv*headDim values (kvStride elements apart), f32 or f16 (kvF16).
 * scratch: headDim + pos0 + nTok floats for this thread. With an f16 cache, q and the
 * probabilities are rounded to half first, as llama.cpp's f16 matrix products do.
 * headDim must be a multiple of 8.
 */
export function attention(
  q: usize,
  qStride: i32,
  k: usize,
  v: usize,
  kvF16: i32,
  kvStride: i32,
  out: usize,
  outStride: i32,
  scratch: usize,
  nHead: i32,
  nHeadKv: i32,
  headDim: i32,
  pos0: i32,
  scale: f32,
  u0: i32,
  u1: i32,
): void {
  const group = nHead / nHeadKv;
  const es: usize = kvF16 ? 2 : 4;
  const qr = scratch;
  const sc = scratch + ((headDim as usize) << 2);
  for (let u = u0; u < u1; u++) {
    const t = u / nHead;
    const h = u - t * nHead;
    const kvh = h / group;
    const nKv = pos0 + t + 1;
    const qp = q + ((((t * qStride) + h * headDim) as usize) << 2);
    const kvOff = ((kvh * headDim) as usize) * es;
    const rowBytes = (kvStride as usize) * es;
    if (kvF16) {
      for (let i = 0; i < headDim; i++) store<f32>(qr + ((i as usize) << 2), roundToF16(load<f32>(qp + ((i as usize) << 2))));
      for (let j = 0; j < nKv; j++) store<f32>(sc + ((j as usize) << 2), dotF16(qr, k + (j as usize) * rowBytes + kvOff, headDim));
    } else {
      for (let j = 0; j < nKv; j++) store<f32>(sc + ((j as usize) << 2), dotF32(qp, k + (j as usize) * rowBytes + kvOff, headDim));
    }
    softmaxRow(sc, nKv, scale);
    const op = out + ((((t * outStride) + h * headDim) as usize) << 2);
    for (let i = 0; i < headDim; i += 4) v128.store(op + ((i as usize) << 2), f32x4.splat(0));
    for (let j = 0; j < nKv; j++) {
      let p = load<f32>(sc + ((j as usize) << 2));
      const vp = v + (j as usize) * rowBytes + kvOff;
      if (kvF16) {
        p = roundToF16(p);
        const pv = f32x4.splat(p);
        for (let i = 0; i < headDim; i += 8) {
          const hv = v128.load(vp + ((i as usize) << 1));
          const o = op + ((i as usize) << 2);
          v128.store(o, f32x4.add(v128.load(o), f32x4.mul(pv, f16x4ToF32x4(i32x4.extend_low_i16x8_u(hv)))));
          v128.store(o, f32x4.add(v128.load(o, 16), f32x4.mul(pv, f16x4ToF32x4(i32x4.extend_high_i16x8_u(hv)))), 16);
        }
      } else {
        const pv = f32x4.splat(p);
        for (let i = 0; i < headDim; i += 4) {
          const o = op + ((i as usize) << 2);
          v128.store(o, f32x4.add(v128.load(o), f32x4.mul(pv, v128.load(vp + ((i as usize) << 2)))));
        }
      }
    }
  }
}

/** Store n floats of x into an f16 buffer (KV cache writes). */
export function storeF16(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<u16>(y + ((i as usize) << 1), f32ToF16Bits(load<f32>(x + ((i as usize) << 2))) as u16);
}

import { f32ToF16 as f32ToF16Bits } from "./f16";
