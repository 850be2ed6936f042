// Causal self-attention over a KV cache, one (query token, head) pair per work unit, with GQA.

import { softmaxRow } from "./elementwise";
import { evenHalves, oddHalves, roundToF16 } from "./f16";
import { hsumf } from "./simd";

// Halves are converted eight at a time without widening: a 16-byte load seen as i32x4 holds half
// 2k in the low and half 2k+1 in the high 16 bits of lane k, so `h << 16` and `h & 0xffff0000`
// put the even and the odd halves at the top of f32 lanes; an arithmetic shift by 3, a mask and a
// multiply by 2^112 finish the conversion (exact for normal and subnormal halves). Vectors the
// halves meet (q, the output) are kept in the same even/odd order per 8.

// @ts-expect-error: decorator
@inline
function dotF32(a: usize, b: usize, n: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  for (let i = 0; i < n; i += 8) {
    const o = (i as usize) << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
  }
  return hsumf(f32x4.add(a0, a1));
}

/** a: n floats in even/odd order per 8; h: n halves in natural order. */
// @ts-expect-error: decorator
@inline
function dotF16(a: usize, h: usize, n: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  for (let i = 0; i < n; i += 8) {
    const hv = v128.load(h + ((i as usize) << 1));
    const o = (i as usize) << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(a + o), evenHalves(hv)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(a + o, 16), oddHalves(hv)));
  }
  return hsumf(f32x4.add(a0, a1));
}

/** out[0..32) += sum_j p_j V_j[0..32) with V rows of halves rowBytes apart; out in even/odd order per 8. */
function accumulateF16(sc: usize, nKv: i32, v: usize, rowBytes: usize, out: usize): void {
  let e0 = v128.load(out);
  let o0 = v128.load(out, 16);
  let e1 = v128.load(out, 32);
  let o1 = v128.load(out, 48);
  let e2 = v128.load(out, 64);
  let o2 = v128.load(out, 80);
  let e3 = v128.load(out, 96);
  let o3 = v128.load(out, 112);
  for (let j = 0; j < nKv; j++) {
    const p = f32x4.splat(load<f32>(sc + ((j as usize) << 2)));
    const vp = v + (j as usize) * rowBytes;
    let h = v128.load(vp);
    e0 = f32x4.add(e0, f32x4.mul(p, evenHalves(h)));
    o0 = f32x4.add(o0, f32x4.mul(p, oddHalves(h)));
    h = v128.load(vp, 16);
    e1 = f32x4.add(e1, f32x4.mul(p, evenHalves(h)));
    o1 = f32x4.add(o1, f32x4.mul(p, oddHalves(h)));
    h = v128.load(vp, 32);
    e2 = f32x4.add(e2, f32x4.mul(p, evenHalves(h)));
    o2 = f32x4.add(o2, f32x4.mul(p, oddHalves(h)));
    h = v128.load(vp, 48);
    e3 = f32x4.add(e3, f32x4.mul(p, evenHalves(h)));
    o3 = f32x4.add(o3, f32x4.mul(p, oddHalves(h)));
  }
  v128.store(out, e0);
  v128.store(out, o0, 16);
  v128.store(out, e1, 32);
  v128.store(out, o1, 48);
  v128.store(out, e2, 64);
  v128.store(out, o2, 80);
  v128.store(out, e3, 96);
  v128.store(out, o3, 112);
}

/** out[0..32) += sum_j p_j V_j[0..32) with f32 V rows rowBytes apart (natural order). */
function accumulateF32(sc: usize, nKv: i32, v: usize, rowBytes: usize, out: usize): void {
  let r0 = v128.load(out);
  let r1 = v128.load(out, 16);
  let r2 = v128.load(out, 32);
  let r3 = v128.load(out, 48);
  let r4 = v128.load(out, 64);
  let r5 = v128.load(out, 80);
  let r6 = v128.load(out, 96);
  let r7 = v128.load(out, 112);
  for (let j = 0; j < nKv; j++) {
    const p = f32x4.splat(load<f32>(sc + ((j as usize) << 2)));
    const vp = v + (j as usize) * rowBytes;
    r0 = f32x4.add(r0, f32x4.mul(p, v128.load(vp)));
    r1 = f32x4.add(r1, f32x4.mul(p, v128.load(vp, 16)));
    r2 = f32x4.add(r2, f32x4.mul(p, v128.load(vp, 32)));
    r3 = f32x4.add(r3, f32x4.mul(p, v128.load(vp, 48)));
    r4 = f32x4.add(r4, f32x4.mul(p, v128.load(vp, 64)));
    r5 = f32x4.add(r5, f32x4.mul(p, v128.load(vp, 80)));
    r6 = f32x4.add(r6, f32x4.mul(p, v128.load(vp, 96)));
    r7 = f32x4.add(r7, f32x4.mul(p, v128.load(vp, 112)));
  }
  v128.store(out, r0);
  v128.store(out, r1, 16);
  v128.store(out, r2, 32);
  v128.store(out, r3, 48);
  v128.store(out, r4, 64);
  v128.store(out, r5, 80);
  v128.store(out, r6, 96);
  v128.store(out, r7, 112);
}

/** As accumulateF16/F32 for 8 dimensions (head sizes that are not a multiple of 32). */
function accumulate8(sc: usize, nKv: i32, v: usize, rowBytes: usize, out: usize, f16: bool): void {
  let a = v128.load(out);
  let b = v128.load(out, 16);
  for (let j = 0; j < nKv; j++) {
    const p = f32x4.splat(load<f32>(sc + ((j as usize) << 2)));
    const vp = v + (j as usize) * rowBytes;
    if (f16) {
      const h = v128.load(vp);
      a = f32x4.add(a, f32x4.mul(p, evenHalves(h)));
      b = f32x4.add(b, f32x4.mul(p, oddHalves(h)));
    } else {
      a = f32x4.add(a, f32x4.mul(p, v128.load(vp)));
      b = f32x4.add(b, f32x4.mul(p, v128.load(vp, 16)));
    }
  }
  v128.store(out, a);
  v128.store(out, b, 16);
}

/**
 * For units [u0, u1) (unit = token * nHead + head): out[token][head] = softmax(scale * q.K^T) V over
 * cache positions 0..pos0+token. q rows hold nHead*headDim floats (qStride floats apart); the K and
 * V caches hold, per position, nHeadKv*headDim values (kvStride elements apart), f32 or f16 (kvF16).
 * scratch: 2*headDim + pos0 + nTok floats for this thread. With an f16 cache, q and the
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
  const acc = scratch + ((headDim as usize) << 2);
  const sc = acc + ((headDim as usize) << 2);
  for (let u = u0; u < u1; u++) {
    const t = u / nHead;
    const h = u - t * nHead;
    const kvh = h / group;
    const nKv = pos0 + t + 1;
    const qp = q + ((((t * qStride) + h * headDim) as usize) << 2);
    const kvOff = ((kvh * headDim) as usize) * es;
    const rowBytes = (kvStride as usize) * es;
    if (kvF16) {
      // q rounded to half, in even/odd order per 8
      for (let i = 0; i < headDim; i++) {
        const slot = (i & ~7) + ((i & 1) << 2) + ((i & 7) >> 1);
        store<f32>(qr + ((slot as usize) << 2), roundToF16(load<f32>(qp + ((i as usize) << 2))));
      }
      for (let j = 0; j < nKv; j++) store<f32>(sc + ((j as usize) << 2), dotF16(qr, k + (j as usize) * rowBytes + kvOff, headDim));
    } else {
      for (let j = 0; j < nKv; j++) store<f32>(sc + ((j as usize) << 2), dotF32(qp, k + (j as usize) * rowBytes + kvOff, headDim));
    }
    softmaxRow(sc, nKv, scale);
    for (let i = 0; i < headDim; i += 4) v128.store(acc + ((i as usize) << 2), f32x4.splat(0));
    const op = out + ((((t * outStride) + h * headDim) as usize) << 2);
    if (kvF16) {
      for (let j = 0; j < nKv; j++) store<f32>(sc + ((j as usize) << 2), roundToF16(load<f32>(sc + ((j as usize) << 2))));
      for (let c = 0; c < headDim; c += 32) {
        if (c + 32 <= headDim) accumulateF16(sc, nKv, v + kvOff + ((c as usize) << 1), rowBytes, acc + ((c as usize) << 2));
        else for (let c8 = c; c8 < headDim; c8 += 8) accumulate8(sc, nKv, v + kvOff + ((c8 as usize) << 1), rowBytes, acc + ((c8 as usize) << 2), true);
      }
      for (let i = 0; i < headDim; i++) {
        const slot = (i & ~7) + ((i & 1) << 2) + ((i & 7) >> 1);
        store<f32>(op + ((i as usize) << 2), load<f32>(acc + ((slot as usize) << 2)));
      }
    } else {
      for (let c = 0; c < headDim; c += 32) {
        if (c + 32 <= headDim) accumulateF32(sc, nKv, v + kvOff + ((c as usize) << 2), rowBytes, acc + ((c as usize) << 2));
        else for (let c8 = c; c8 < headDim; c8 += 8) accumulate8(sc, nKv, v + kvOff + ((c8 as usize) << 2), rowBytes, acc + ((c8 as usize) << 2), false);
      }
      memory.copy(op, acc, (headDim as usize) << 2);
    }
  }
}

/** Store n floats of x into an f16 buffer (KV cache writes). */
export function storeF16(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<u16>(y + ((i as usize) << 1), f32ToF16Bits(load<f32>(x + ((i as usize) << 2))) as u16);
}

import { f32ToF16 as f32ToF16Bits } from "./f16";
