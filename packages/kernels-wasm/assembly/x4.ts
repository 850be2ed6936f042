// The "x4" weight layout of the 32-element block types (Q4_0, Q4_1, Q8_0), made at upload: four
// consecutive rows become one stream where each block holds the four rows' headers (f16 scale,
// and the f16 min for Q4_1) and then the four rows' quants. Same bytes as ggml's layout; rows past
// the last multiple of four stay in ggml's layout. It gives the matrix x vector kernels one
// sequential read per four rows and the four scales in one load (instead of four lane inserts).
//
// The kernels walk the four rows of a block in a small loop whose integer partial sums go through
// a 64-byte per-thread scratch: written as four unrolled rows, V8 schedules all the unpacking of
// the four rows before all the multiplies and spills a dozen vectors per block; as a loop (which V8
// unrolls itself, row after row) every row's work stays in registers.

import { evenHalves, f16x4ToF32x4, oddHalves } from "./f16";
import { pairSums, q4kFinish, q6kFinish } from "./kdots";
import { gatherHalves, hsum4i } from "./simd";

/** Flag on the type argument of the products: the matrix is in the x4 layout. */
export const X4 = 256;

/**
 * Header bytes of one row's block in the x4 layout (0: the K-quants, whose four rows' blocks are
 * simply placed one after the other).
 */
export function x4Header(type: i32): i32 {
  if (type == 2 || type == 8) return 2;
  if (type == 3) return 4;
  return 0;
}

/** Bytes of one block of one row (ggml's block sizes of the quantized types). */
export function blockBytes(type: i32): i32 {
  switch (type) {
    case 2:
      return 18;
    case 3:
      return 20;
    case 6:
      return 22;
    case 7:
      return 24;
    case 8:
      return 34;
    case 10:
      return 84;
    case 11:
      return 110;
    case 12:
      return 144;
    case 13:
      return 176;
    case 14:
      return 210;
    default:
      return 0;
  }
}

/**
 * Rewrite rows [0, rows & ~3) of a ggml-layout matrix in place into the x4 layout, one group of
 * four rows at a time through `tmp` (4 * rowBytes bytes).
 */
export function interleaveX4(type: i32, w: usize, rowBytes: usize, rows: i32, tmp: usize): void {
  const hb = x4Header(type) as usize;
  const bs = blockBytes(type) as usize;
  const qb = bs - hb;
  const nb = rowBytes / bs;
  const groupBytes = rowBytes << 2;
  for (let g = 0; g + 4 <= rows; g += 4) {
    const G = w + (g as usize) * rowBytes;
    memory.copy(tmp, G, groupBytes);
    // Loads and stores of the exact sizes: a memory.copy call per piece made loading 2x slower.
    for (let b: usize = 0; b < nb; b++) {
      const dst = G + b * (bs << 2);
      for (let r: usize = 0; r < 4; r++) {
        const src = tmp + r * rowBytes + b * bs;
        if (hb == 0) {
          memory.copy(dst + r * bs, src, bs);
          continue;
        }
        if (hb == 2) store<u16>(dst + (r << 1), load<u16>(src));
        else store<u32>(dst + (r << 2), load<u32>(src));
        const q = dst + (hb << 2) + r * qb;
        v128.store(q, v128.load(src + hb));
        if (qb == 32) v128.store(q, v128.load(src + hb, 16), 16);
      }
    }
  }
}

/** Row r of a matrix whose first (rows & ~3) rows are in the x4 layout, copied out in ggml's layout. */
export function plainRow(type: i32, w: usize, rowBytes: usize, rows: i32, r: i32, out: usize): void {
  const src = w + (r as usize) * rowBytes;
  if (r >= (rows & ~3)) {
    memory.copy(out, src, rowBytes);
    return;
  }
  const hb = x4Header(type) as usize;
  const bs = blockBytes(type) as usize;
  const qb = bs - hb;
  const nb = rowBytes / bs;
  const G = w + ((r & ~3) as usize) * rowBytes;
  const i = (r & 3) as usize;
  for (let b: usize = 0; b < nb; b++) {
    const blk = G + b * (bs << 2);
    memory.copy(out + b * bs, blk + i * hb, hb);
    memory.copy(out + b * bs + hb, blk + (hb << 2) + i * qb, qb);
  }
}

// ---------------------------------------------------------------- kernels

/** Four halves in the low 8 bytes of h as four float32s (as f16x4ToF32x4, two operations fewer). */
// @ts-expect-error: decorator
@inline
function halves4(h: v128): v128 {
  // A sign-extended half shifted left by 13 has its exponent and mantissa in place and copies of
  // the sign in bits 28..31: keep bit 31, then 2^112 rebiases the exponent (and normalises subnormals).
  const v = v128.and(i32x4.shl(i32x4.extend_low_i16x8_s(h), 13), i32x4.splat(0x8fffffff));
  return f32x4.mul(v, f32x4.splat(reinterpret<f32>(0x77800000)));
}

/**
 * 32 nibbles (16 bytes, ggml's order) against a Q8 block in four operations and four dots. Lane i
 * of w (as u16) holds l0 + 16 h0 + 256 l1 + 4096 h1: elements 2i, 2i+16, 2i+1, 2i+17. The four
 * vectors w & 15, w >> 4, w >> 8 and w >> 12 mix the nibbles, and the activation vectors they
 * meet are corrected to cancel the mix: a0 (even elements of the first 16), a2 (even elements of
 * the second 16), c1 = a1 - 16 a2 and c3 = a3 - 16 a1 (the "fix" vectors of actquant.ts; at most
 * 127 + 16 * 127 in size, and every product fits i32).
 */
// @ts-expect-error: decorator
@inline
function dotNibbles(w: v128, a0: v128, c1: v128, a2: v128, c3: v128): v128 {
  const s0 = i32x4.dot_i16x8_s(v128.and(w, i16x8.splat(0x000f)), a0);
  const s1 = i32x4.dot_i16x8_s(i16x8.shr_u(w, 8), c1);
  const s2 = i32x4.dot_i16x8_s(i16x8.shr_u(w, 4), a2);
  const s3 = i32x4.dot_i16x8_s(i16x8.shr_u(w, 12), c3);
  return i32x4.add(i32x4.add(s0, s1), i32x4.add(s2, s3));
}


// @ts-expect-error: decorator
@inline
function dotBytes(w0: v128, w1: v128, a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const s0 = i32x4.dot_i16x8_s(i16x8.shr_s(i16x8.shl(w0, 8), 8), a0);
  const s1 = i32x4.dot_i16x8_s(i16x8.shr_s(w0, 8), a1);
  const s2 = i32x4.dot_i16x8_s(i16x8.shr_s(i16x8.shl(w1, 8), 8), a2);
  const s3 = i32x4.dot_i16x8_s(i16x8.shr_s(w1, 8), a3);
  return i32x4.add(i32x4.add(s0, s1), i32x4.add(s2, s3));
}

// @ts-expect-error: decorator
@inline
function sums4(tmp: usize): v128 {
  return hsum4i(v128.load(tmp), v128.load(tmp, 16), v128.load(tmp, 32), v128.load(tmp, 48));
}

/** Dots of the four x4 rows of group p with one Q8 activation row (lane r = row r). */
function dotX4Q4_0(p: usize, act: usize, n: i32, tmp: usize): v128 {
  const nb = n >> 5;
  const dA = act + ((n as usize) << 1);
  const qsA = dA + ((nb as usize) << 3);
  const fA = qsA + ((nb as usize) << 2);
  let acc = f32x4.splat(0);
  let o = p;
  for (let b = 0; b < nb; b++) {
    const a = act + ((b as usize) << 6);
    const f = fA + ((b as usize) << 5);
    const a0 = v128.load(a);
    const a2 = v128.load(a, 32);
    const b1 = v128.load(f);
    const b3 = v128.load(f, 16);
    for (let r: usize = 0; r < 64; r += 16) v128.store(tmp + r, dotNibbles(v128.load(o + r, 8), a0, b1, a2, b3));
    // sum((q - 8) a) = sum(q a) - 8 sum(a)
    const sumi = i32x4.sub(sums4(tmp), i32x4.splat(load<i32>(qsA + ((b as usize) << 2)) << 3));
    const d = f32x4.mul(halves4(v128.load64_zero(o)), f32x4.splat(load<f32>(dA + ((b as usize) << 2))));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(sumi), d));
    o += 72;
  }
  return acc;
}

function dotX4Q4_1(p: usize, act: usize, n: i32, tmp: usize): v128 {
  const nb = n >> 5;
  const dA = act + ((n as usize) << 1);
  const sA = dA + ((nb as usize) << 2);
  const fA = sA + ((nb as usize) << 3);
  let acc = f32x4.splat(0);
  let o = p;
  for (let b = 0; b < nb; b++) {
    const a = act + ((b as usize) << 6);
    const f = fA + ((b as usize) << 5);
    const a0 = v128.load(a);
    const a2 = v128.load(a, 32);
    const b1 = v128.load(f);
    const b3 = v128.load(f, 16);
    for (let r: usize = 0; r < 64; r += 16) v128.store(tmp + r, dotNibbles(v128.load(o + r, 16), a0, b1, a2, b3));
    const sumi = sums4(tmp);
    // headers: d0 m0 d1 m1 d2 m2 d3 m3 (halves)
    const h = v128.load(o);
    const dw = evenHalves(h);
    const mw = oddHalves(h);
    const d = f32x4.mul(dw, f32x4.splat(load<f32>(dA + ((b as usize) << 2))));
    const ms = f32x4.mul(mw, f32x4.splat(load<f32>(sA + ((b as usize) << 2))));
    acc = f32x4.add(acc, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(sumi), d), ms));
    o += 80;
  }
  return acc;
}

function dotX4Q8_0(p: usize, act: usize, n: i32, tmp: usize): v128 {
  const nb = n >> 5;
  const dA = act + ((n as usize) << 1);
  let acc = f32x4.splat(0);
  let o = p;
  for (let b = 0; b < nb; b++) {
    const a = act + ((b as usize) << 6);
    const a0 = v128.load(a);
    const a1 = v128.load(a, 16);
    const a2 = v128.load(a, 32);
    const a3 = v128.load(a, 48);
    for (let r: usize = 0; r < 64; r += 16) {
      const q = o + (r << 1);
      v128.store(tmp + r, dotBytes(v128.load(q, 8), v128.load(q, 24), a0, a1, a2, a3));
    }
    const d = f32x4.mul(halves4(v128.load64_zero(o)), f32x4.splat(load<f32>(dA + ((b as usize) << 2))));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(sums4(tmp)), d));
    o += 136;
  }
  return acc;
}

/** Q4_K: the four rows' super-blocks one after the other; integer sums per row, floats per group. */
function dotX4Q4_K(p: usize, act: usize, n: i32, tmp: usize): v128 {
  const nk = n >> 8;
  const dA = act + ((n as usize) << 1);
  const bA = dA + ((nk as usize) << 2);
  const sums = tmp + 256;
  let acc = f32x4.splat(0);
  let g = p;
  for (let b = 0; b < nk; b++) {
    const a = act + ((b as usize) << 9);
    const bs = bA + ((b as usize) << 6);
    // chunk by chunk, the activation vectors loaded once for the four rows
    const m = i16x8.splat(0x0f);
    for (let j: usize = 0; j < 4; j++) {
      const ag = a + (j << 7);
      const x0 = v128.load(ag);
      const x1 = v128.load(ag, 16);
      const x2 = v128.load(ag, 32);
      const x3 = v128.load(ag, 48);
      const x4 = v128.load(ag, 64);
      const x5 = v128.load(ag, 80);
      const x6 = v128.load(ag, 96);
      const x7 = v128.load(ag, 112);
      for (let r: usize = 0; r < 4; r++) {
        const q = g + r * 144 + (j << 5);
        const w0 = v128.load(q, 16);
        const w1 = v128.load(q, 32);
        const sL = i32x4.add(
          i32x4.add(i32x4.dot_i16x8_s(v128.and(w0, m), x0), i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(w0, 8), m), x1)),
          i32x4.add(i32x4.dot_i16x8_s(v128.and(w1, m), x2), i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(w1, 8), m), x3)),
        );
        const sH = i32x4.add(
          i32x4.add(i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(w0, 4), m), x4), i32x4.dot_i16x8_s(i16x8.shr_u(w0, 12), x5)),
          i32x4.add(i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(w1, 4), m), x6), i32x4.dot_i16x8_s(i16x8.shr_u(w1, 12), x7)),
        );
        const t = tmp + 512 + (r << 7) + (j << 5);
        v128.store(t, sL);
        v128.store(t, sH, 16);
      }
    }
    const p0 = pairSums(bs, 0);
    const p1 = pairSums(bs, 8);
    for (let r: usize = 0; r < 4; r++) {
      const t = q4kFinish(g + r * 144, p0, p1, tmp + 512 + (r << 7));
      store<i32>(sums + (r << 2), i32x4.extract_lane(t, 0));
      store<i32>(sums + (r << 2), i32x4.extract_lane(t, 2), 16);
    }
    const da = f32x4.splat(load<f32>(dA + ((b as usize) << 2)));
    const d = f32x4.mul(f16x4ToF32x4(gatherHalves(g, g + 144, g + 288, g + 432)), da);
    const dm = f32x4.mul(f16x4ToF32x4(gatherHalves(g + 2, g + 146, g + 290, g + 434)), da);
    acc = f32x4.add(acc, f32x4.sub(f32x4.mul(d, f32x4.convert_i32x4_s(v128.load(sums))), f32x4.mul(dm, f32x4.convert_i32x4_s(v128.load(sums, 16)))));
    g += 576;
  }
  return acc;
}

function dotX4Q6_K(p: usize, act: usize, n: i32, tmp: usize): v128 {
  const nk = n >> 8;
  const dA = act + ((n as usize) << 1);
  const bA = dA + ((nk as usize) << 2);
  const sums = tmp + 256;
  let acc = f32x4.splat(0);
  let g = p;
  for (let b = 0; b < nk; b++) {
    const a = act + ((b as usize) << 9);
    const bs = bA + ((b as usize) << 6);
    // quarter by quarter, the activation vectors loaded once for the four rows (see q6kSuper)
    const m = i16x8.splat(0x0f);
    const m30 = i16x8.splat(0x30);
    for (let i: usize = 0; i < 4; i++) {
      const h = i >> 1;
      const lo = (i & 1) << 4;
      const ag = a + (h << 8) + (lo << 1);
      const x0 = v128.load(ag);
      const x1 = v128.load(ag, 16);
      const x2 = v128.load(ag, 64);
      const x3 = v128.load(ag, 80);
      const x4 = v128.load(ag, 128);
      const x5 = v128.load(ag, 144);
      const x6 = v128.load(ag, 192);
      const x7 = v128.load(ag, 208);
      for (let r: usize = 0; r < 4; r++) {
        const o = g + r * 210;
        const ql = o + (h << 6) + lo;
        const wa = v128.load(ql);
        const wb = v128.load(ql, 32);
        const hv = v128.load(o + 128 + (h << 5) + lo);
        const t = tmp + 512 + (r << 8) + (((h << 3) + (i & 1)) << 4);
        v128.store(t, i32x4.add(
          i32x4.dot_i16x8_s(v128.or(v128.and(wa, m), v128.and(i16x8.shl(hv, 4), m30)), x0),
          i32x4.dot_i16x8_s(v128.or(v128.and(i16x8.shr_u(wa, 8), m), v128.and(i16x8.shr_u(hv, 4), m30)), x1)));
        v128.store(t, i32x4.add(
          i32x4.dot_i16x8_s(v128.or(v128.and(wb, m), v128.and(i16x8.shl(hv, 2), m30)), x2),
          i32x4.dot_i16x8_s(v128.or(v128.and(i16x8.shr_u(wb, 8), m), v128.and(i16x8.shr_u(hv, 6), m30)), x3)), 32);
        v128.store(t, i32x4.add(
          i32x4.dot_i16x8_s(v128.or(v128.and(i16x8.shr_u(wa, 4), m), v128.and(hv, m30)), x4),
          i32x4.dot_i16x8_s(v128.or(i16x8.shr_u(wa, 12), v128.and(i16x8.shr_u(hv, 8), m30)), x5)), 64);
        v128.store(t, i32x4.add(
          i32x4.dot_i16x8_s(v128.or(v128.and(i16x8.shr_u(wb, 4), m), v128.and(i16x8.shr_u(hv, 2), m30)), x6),
          i32x4.dot_i16x8_s(v128.or(i16x8.shr_u(wb, 12), v128.and(i16x8.shr_u(hv, 10), m30)), x7)), 96);
      }
    }
    for (let r: usize = 0; r < 4; r++) store<i32>(sums + (r << 2), q6kFinish(g + r * 210, bs, tmp + 512 + (r << 8)));
    const d = f32x4.mul(f16x4ToF32x4(gatherHalves(g + 208, g + 418, g + 628, g + 838)), f32x4.splat(load<f32>(dA + ((b as usize) << 2))));
    acc = f32x4.add(acc, f32x4.mul(d, f32x4.convert_i32x4_s(v128.load(sums))));
    g += 840;
  }
  return acc;
}

/**
 * y[t][r] for the x4 groups of rows [r0, r1) (multiples of four inside the x4 region), tokens
 * [0, nTok); see matmul.ts for the other arguments. tmp: this thread's 1536-byte scratch.
 */
export function matmulX4(
  type: i32,
  w: usize,
  rowBytes: usize,
  n: i32,
  act: usize,
  actStride: usize,
  nTok: i32,
  y: usize,
  yStride: i32,
  tmp: usize,
  r0: i32,
  r1: i32,
): void {
  for (let r = r0; r < r1; r += 4) {
    const p = w + (r as usize) * rowBytes;
    for (let t = 0; t < nTok; t++) {
      const a = act + (t as usize) * actStride;
      let res: v128;
      if (type == 2) res = dotX4Q4_0(p, a, n, tmp);
      else if (type == 3) res = dotX4Q4_1(p, a, n, tmp);
      else if (type == 8) res = dotX4Q8_0(p, a, n, tmp);
      else if (type == 12) res = dotX4Q4_K(p, a, n, tmp);
      else res = dotX4Q6_K(p, a, n, tmp);
      v128.store(y + ((((t as usize) * (yStride as usize)) + (r as usize)) << 2), res);
    }
  }
}
