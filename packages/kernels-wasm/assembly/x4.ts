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

import { evenHalves, oddHalves } from "./f16";
import { hsum4i } from "./simd";

/** Flag on the type argument of the products: the matrix is in the x4 layout. */
export const X4 = 256;

/** Header bytes of one row's block in the x4 layout, or 0 when the type has no x4 layout. */
export function x4Header(type: i32): i32 {
  if (type == 2 || type == 8) return 2;
  if (type == 3) return 4;
  return 0;
}

/** Bytes of one block of one row. */
export function blockBytes(type: i32): i32 {
  return type == 2 ? 18 : type == 3 ? 20 : type == 8 ? 34 : 0;
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

/** See dots.ts: 32 nibbles against a Q8 block, the odd activations pre-corrected (oddFix). */
// @ts-expect-error: decorator
@inline
function dotNibbles(w: v128, a0: v128, b1: v128, a2: v128, b3: v128): v128 {
  const m = i16x8.splat(0x0f0f);
  const lo = v128.and(w, m);
  const s0 = i32x4.dot_i16x8_s(lo, a0);
  const s1 = i32x4.dot_i16x8_s(i16x8.shr_u(lo, 8), b1);
  const s2 = i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(w, 4), m), a2);
  const s3 = i32x4.dot_i16x8_s(i16x8.shr_u(w, 12), b3);
  return i32x4.add(i32x4.add(s0, s1), i32x4.add(s2, s3));
}

// @ts-expect-error: decorator
@inline
function oddFix(odd: v128, even: v128): v128 {
  return i16x8.sub(odd, i16x8.shl(even, 8));
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
  let acc = f32x4.splat(0);
  let o = p;
  for (let b = 0; b < nb; b++) {
    const a = act + ((b as usize) << 6);
    const a0 = v128.load(a);
    const a2 = v128.load(a, 32);
    const b1 = oddFix(v128.load(a, 16), a0);
    const b3 = oddFix(v128.load(a, 48), a2);
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
  let acc = f32x4.splat(0);
  let o = p;
  for (let b = 0; b < nb; b++) {
    const a = act + ((b as usize) << 6);
    const a0 = v128.load(a);
    const a2 = v128.load(a, 32);
    const b1 = oddFix(v128.load(a, 16), a0);
    const b3 = oddFix(v128.load(a, 48), a2);
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

/**
 * y[t][r] for the x4 groups of rows [r0, r1) (multiples of four inside the x4 region), tokens
 * [0, nTok); see matmul.ts for the other arguments. tmp: this thread's 64-byte scratch.
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
      else res = dotX4Q8_0(p, a, n, tmp);
      v128.store(y + ((((t as usize) * (yStride as usize)) + (r as usize)) << 2), res);
    }
  }
}
