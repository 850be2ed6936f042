// K-quant (256-element super-block) weight rows times Q8K activations; see dots.ts for the
// unpacking idea. Each *Row function returns the integer partial sums of one row's super-block
// as an i32x4 (scale-weighted, offsets not yet removed); *Min returns the scalar correction.

import { f16ToF32, f16x4ToF32x4 } from "./f16";
import { gatherHalves, hsum4i } from "./simd";

// @ts-expect-error: decorator
@inline
function dotG(e: v128, o: v128, a: usize): v128 {
  return i32x4.add(i32x4.dot_i16x8_s(e, v128.load(a)), i32x4.dot_i16x8_s(o, v128.load(a, 16)));
}

// ---------------------------------------------------------------- Q4_K (144 bytes: d, dmin, scales[12], qs[128])

// The mins term of the row last passed to q4kRow/q5kRow (a per-instance global: one per thread).
let rowMins: v128 = i32x4.splat(0);

/**
 * Decode the 12 scale bytes of a Q4_K/Q5_K block the way ggml's SIMD code does (four u32 masks
 * instead of get_scale_min_k4 per group); returns scales 0..3 and 4..7 as the bytes of lanes 0
 * and 1, and leaves min_g * bsum32_g summed per lane in rowMins.
 */
// @ts-expect-error: decorator
@inline
function k4Scales(q: usize, p0: v128, p1: v128): v128 {
  const u0 = load<u32>(q);
  const u1 = load<u32>(q, 4);
  const u2 = load<u32>(q, 8);
  const sc0 = u0 & 0x3f3f3f3f;
  const sc1 = (u2 & 0x0f0f0f0f) | (((u0 >> 6) & 0x03030303) << 4);
  const mn0 = u1 & 0x3f3f3f3f;
  const mn1 = ((u2 >> 4) & 0x0f0f0f0f) | (((u1 >> 6) & 0x03030303) << 4);
  const m16 = i16x8.extend_low_i8x16_u(i32x4.replace_lane(i32x4.splat(mn0), 1, mn1));
  rowMins = i32x4.add(
    i32x4.mul(i32x4.extend_low_i16x8_u(m16), p0),
    i32x4.mul(i32x4.extend_high_i16x8_u(m16), p1),
  );
  return i32x4.replace_lane(i32x4.splat(sc0), 1, sc1);
}

/** Activation sums of the eight 32-element groups of a super-block (pairs of its 16-group sums). */
// @ts-expect-error: decorator
@inline
export function pairSums(bs: usize, first: i32): v128 {
  const b0 = v128.load(bs + ((first as usize) << 2));
  const b1 = v128.load(bs + ((first as usize) << 2), 16);
  return i32x4.add(v128.shuffle<i32>(b0, b1, 0, 2, 4, 6), v128.shuffle<i32>(b0, b1, 1, 3, 5, 7));
}

// @ts-expect-error: decorator
@inline
function k4Chunk(w0: v128, w1: v128, ag: usize, s0: i32, s1: i32): v128 {
  const m = i16x8.splat(0x0f);
  const sL = i32x4.add(dotG(v128.and(w0, m), v128.and(i16x8.shr_u(w0, 8), m), ag), dotG(v128.and(w1, m), v128.and(i16x8.shr_u(w1, 8), m), ag + 32));
  const sH = i32x4.add(dotG(v128.and(i16x8.shr_u(w0, 4), m), i16x8.shr_u(w0, 12), ag + 64), dotG(v128.and(i16x8.shr_u(w1, 4), m), i16x8.shr_u(w1, 12), ag + 96));
  return i32x4.add(i32x4.mul(sL, i32x4.splat(s0)), i32x4.mul(sH, i32x4.splat(s1)));
}

// @ts-expect-error: decorator
@inline
function q4kRow(p: usize, a: usize, p0: v128, p1: v128): v128 {
  const sc = k4Scales(p + 4, p0, p1);
  const c0 = i32x4.extract_lane(sc, 0);
  const c1 = i32x4.extract_lane(sc, 1);
  // A loop, not four inlined chunks: V8 schedules straight-line code breadth-first (all the
  // unpacking, then all the multiplies) and spills; loop iterations stay apart (see x4.ts).
  let acc = i32x4.splat(0);
  for (let j = 0; j < 4; j++) {
    const c = (j < 2 ? c0 : c1) >>> (((j & 1) as u32) << 4);
    const q = p + ((j as usize) << 5);
    acc = i32x4.add(acc, k4Chunk(v128.load(q, 16), v128.load(q, 32), a + ((j as usize) << 7), c & 0xff, (c >> 8) & 0xff));
  }
  return acc;
}

// @ts-expect-error: decorator
@inline
function q5kRow(p: usize, a: usize, p0: v128, p1: v128): v128 {
  const sc = k4Scales(p + 4, p0, p1);
  const m = i16x8.splat(0x0f);
  const b5 = i16x8.splat(0x10);
  const h0 = v128.load(p + 16);
  const h1 = v128.load(p + 32);
  let acc = i32x4.splat(0);
  for (let j = 0; j < 4; j++) {
    const w0 = v128.load(p + 48 + ((j as usize) << 5));
    const w1 = v128.load(p + 64 + ((j as usize) << 5));
    const ag = a + ((j as usize) << 7);
    const t0 = i16x8.shr_u(h0, j << 1);
    const t1 = i16x8.shr_u(h1, j << 1);
    const u0 = i16x8.shr_u(h0, (j << 1) + 1);
    const u1 = i16x8.shr_u(h1, (j << 1) + 1);
    const sL = i32x4.add(
      dotG(v128.or(v128.and(w0, m), v128.and(i16x8.shl(t0, 4), b5)), v128.or(v128.and(i16x8.shr_u(w0, 8), m), v128.and(i16x8.shr_u(t0, 4), b5)), ag),
      dotG(v128.or(v128.and(w1, m), v128.and(i16x8.shl(t1, 4), b5)), v128.or(v128.and(i16x8.shr_u(w1, 8), m), v128.and(i16x8.shr_u(t1, 4), b5)), ag + 32),
    );
    const sH = i32x4.add(
      dotG(v128.or(v128.and(i16x8.shr_u(w0, 4), m), v128.and(i16x8.shl(u0, 4), b5)), v128.or(i16x8.shr_u(w0, 12), v128.and(i16x8.shr_u(u0, 4), b5)), ag + 64),
      dotG(v128.or(v128.and(i16x8.shr_u(w1, 4), m), v128.and(i16x8.shl(u1, 4), b5)), v128.or(i16x8.shr_u(w1, 12), v128.and(i16x8.shr_u(u1, 4), b5)), ag + 96),
    );
    const c = (j < 2 ? i32x4.extract_lane(sc, 0) : i32x4.extract_lane(sc, 1)) >>> (((j & 1) as u32) << 4);
    acc = i32x4.add(acc, i32x4.add(i32x4.mul(sL, i32x4.splat(c & 0xff)), i32x4.mul(sH, i32x4.splat((c >> 8) & 0xff))));
  }
  return acc;
}

// @ts-expect-error: decorator
@inline
function combineK45(acc: v128, p0: usize, p1: usize, p2: usize, p3: usize, s: v128, mins: v128, da: f32): v128 {
  const d = f32x4.mul(f16x4ToF32x4(gatherHalves(p0, p1, p2, p3)), f32x4.splat(da));
  const dm = f32x4.mul(f16x4ToF32x4(gatherHalves(p0 + 2, p1 + 2, p2 + 2, p3 + 2)), f32x4.splat(da));
  return f32x4.add(acc, f32x4.sub(f32x4.mul(d, f32x4.convert_i32x4_s(s)), f32x4.mul(dm, f32x4.convert_i32x4_s(mins))));
}

/** One Q4_K row against the activation: rows are walked one at a time (a single sequential stream). */
// @ts-expect-error: decorator
@inline
function rowQ4_K(p: usize, act: usize, n: i32): f32 {
  const nk = n >> 8;
  const dA = act + ((n as usize) << 1);
  const bA = dA + ((nk as usize) << 2);
  let acc: f32 = 0;
  for (let b = 0; b < nk; b++) {
    const a = act + ((b as usize) << 9);
    const o = p + (b as usize) * 144;
    const bs = bA + ((b as usize) << 6);
    const s = q4kRow(o, a, pairSums(bs, 0), pairSums(bs, 8));
    const mins = rowMins;
    const t = i32x4.add(s, v128.shuffle<i32>(s, s, 2, 3, 0, 1));
    const u = i32x4.add(mins, v128.shuffle<i32>(mins, mins, 2, 3, 0, 1));
    const sumi = i32x4.extract_lane(t, 0) + i32x4.extract_lane(t, 1);
    const summ = i32x4.extract_lane(u, 0) + i32x4.extract_lane(u, 1);
    const da = load<f32>(dA + ((b as usize) << 2));
    acc += f16ToF32(load<u16>(o)) * da * (sumi as f32) - f16ToF32(load<u16>(o, 2)) * da * (summ as f32);
  }
  return acc;
}

/**
 * The eight 32-element sub-block dots of a K-quant super-block, stored at tmp..tmp+128 by the
 * caller's loop, weighted by the eight scales (lane bytes of sc0 = scales 0..3, sc1 = 4..7) and
 * summed per lane. One multiply per four sub-blocks instead of splatting every scale.
 */
// @ts-expect-error: decorator
@inline
function scaleSubBlocks(tmp: usize, sc0: u32, sc1: u32): v128 {
  const s03 = hsum4i(v128.load(tmp), v128.load(tmp, 16), v128.load(tmp, 32), v128.load(tmp, 48));
  const s47 = hsum4i(v128.load(tmp, 64), v128.load(tmp, 80), v128.load(tmp, 96), v128.load(tmp, 112));
  const sc = i16x8.extend_low_i8x16_u(i32x4.replace_lane(i32x4.splat(sc0), 1, sc1));
  return i32x4.add(i32x4.mul(s03, i32x4.extend_low_i16x8_u(sc)), i32x4.mul(s47, i32x4.extend_high_i16x8_u(sc)));
}

/** Sum of the lanes of a and of b, as (a, b) in lanes 0 and 1 of the result's i64... as two i32s. */
// @ts-expect-error: decorator
@inline
function lanesSum2(a: v128, b: v128): v128 {
  const t = i32x4.add(v128.shuffle<i32>(a, b, 0, 1, 4, 5), v128.shuffle<i32>(a, b, 2, 3, 6, 7));
  return i32x4.add(t, v128.shuffle<i32>(t, t, 1, 0, 3, 2));
}

/**
 * One Q4_K row, its four 64-element chunks walked in a loop whose sub-block dots go through tmp
 * (128 bytes): straight-line code makes V8 spill (see x4.ts). Same integer sums as rowQ4_K.
 */
function rowQ4_Kt(p: usize, act: usize, n: i32, tmp: usize): f32 {
  const nk = n >> 8;
  const dA = act + ((n as usize) << 1);
  const bA = dA + ((nk as usize) << 2);
  let acc: f32 = 0;
  for (let b = 0; b < nk; b++) {
    const o = p + (b as usize) * 144;
    const t = q4kSuper(o, act + ((b as usize) << 9), bA + ((b as usize) << 6), tmp);
    const da = load<f32>(dA + ((b as usize) << 2));
    acc += f16ToF32(load<u16>(o)) * da * (i32x4.extract_lane(t, 0) as f32) - f16ToF32(load<u16>(o, 2)) * da * (i32x4.extract_lane(t, 2) as f32);
  }
  return acc;
}

/**
 * Integer sums of one Q4_K super-block at o against the activation block a (bsums at bs): the
 * scale-weighted dot in lane 0, the mins term in lane 2. Uses tmp[0, 128).
 */
// @ts-expect-error: decorator
@inline
export function q4kSuper(o: usize, a: usize, bs: usize, tmp: usize): v128 {
  const m = i16x8.splat(0x0f);
  for (let j: usize = 0; j < 4; j++) {
    const w0 = v128.load(o + (j << 5), 16);
    const w1 = v128.load(o + (j << 5), 32);
    const ag = a + (j << 7);
    const sL = i32x4.add(dotG(v128.and(w0, m), v128.and(i16x8.shr_u(w0, 8), m), ag), dotG(v128.and(w1, m), v128.and(i16x8.shr_u(w1, 8), m), ag + 32));
    const sH = i32x4.add(dotG(v128.and(i16x8.shr_u(w0, 4), m), i16x8.shr_u(w0, 12), ag + 64), dotG(v128.and(i16x8.shr_u(w1, 4), m), i16x8.shr_u(w1, 12), ag + 96));
    v128.store(tmp + (j << 5), sL);
    v128.store(tmp + (j << 5), sH, 16);
  }
  return q4kFinish(o, pairSums(bs, 0), pairSums(bs, 8), tmp);
}

/**
 * The scales and mins of q4kSuper, its eight sub-block dots being at tmp; p0, p1: the activation
 * sums of the eight 32-element sub-blocks (pairSums).
 */
// @ts-expect-error: decorator
@inline
export function q4kFinish(o: usize, p0: v128, p1: v128, tmp: usize): v128 {
  const u0 = load<u32>(o, 4);
  const u1 = load<u32>(o, 8);
  const u2 = load<u32>(o, 12);
  const sc0 = u0 & 0x3f3f3f3f;
  const sc1 = (u2 & 0x0f0f0f0f) | (((u0 >> 6) & 0x03030303) << 4);
  const mn0 = u1 & 0x3f3f3f3f;
  const mn1 = ((u2 >> 4) & 0x0f0f0f0f) | (((u1 >> 6) & 0x03030303) << 4);
  const m16 = i16x8.extend_low_i8x16_u(i32x4.replace_lane(i32x4.splat(mn0), 1, mn1));
  const mins = i32x4.add(
    i32x4.mul(i32x4.extend_low_i16x8_u(m16), p0),
    i32x4.mul(i32x4.extend_high_i16x8_u(m16), p1),
  );
  return lanesSum2(scaleSubBlocks(tmp, sc0, sc1), mins);
}

export function dot4Q4_K(p0: usize, p1: usize, p2: usize, p3: usize, act: usize, n: i32, tmp: usize): v128 {
  return f32x4(rowQ4_Kt(p0, act, n, tmp), rowQ4_Kt(p1, act, n, tmp), rowQ4_Kt(p2, act, n, tmp), rowQ4_Kt(p3, act, n, tmp));
}

// @ts-expect-error: decorator
@inline
function rowQ5_K(p: usize, act: usize, n: i32): f32 {
  const nk = n >> 8;
  const dA = act + ((n as usize) << 1);
  const bA = dA + ((nk as usize) << 2);
  let acc: f32 = 0;
  for (let b = 0; b < nk; b++) {
    const a = act + ((b as usize) << 9);
    const o = p + (b as usize) * 176;
    const bs = bA + ((b as usize) << 6);
    const s = q5kRow(o, a, pairSums(bs, 0), pairSums(bs, 8));
    const mins = rowMins;
    const t = i32x4.add(s, v128.shuffle<i32>(s, s, 2, 3, 0, 1));
    const u = i32x4.add(mins, v128.shuffle<i32>(mins, mins, 2, 3, 0, 1));
    const sumi = i32x4.extract_lane(t, 0) + i32x4.extract_lane(t, 1);
    const summ = i32x4.extract_lane(u, 0) + i32x4.extract_lane(u, 1);
    const da = load<f32>(dA + ((b as usize) << 2));
    acc += f16ToF32(load<u16>(o)) * da * (sumi as f32) - f16ToF32(load<u16>(o, 2)) * da * (summ as f32);
  }
  return acc;
}

export function dot4Q5_K(p0: usize, p1: usize, p2: usize, p3: usize, act: usize, n: i32): v128 {
  return f32x4(rowQ5_K(p0, act, n), rowQ5_K(p1, act, n), rowQ5_K(p2, act, n), rowQ5_K(p3, act, n));
}

// ---------------------------------------------------------------- Q6_K (210 bytes: ql[128], qh[64], scales[16] i8, d)

// @ts-expect-error: decorator
@inline
function q6kRow(p: usize, a: usize): v128 {
  const m = i16x8.splat(0x0f);
  const m30 = i16x8.splat(0x30);
  let acc = i32x4.splat(0);
  for (let h = 0; h < 2; h++) {
    const ql = p + ((h as usize) << 6);
    const qh = p + 128 + ((h as usize) << 5);
    const sc = p + 192 + ((h as usize) << 3);
    const ah = a + ((h as usize) << 8); // 128 elements * 2 bytes
    for (let l = 0; l < 2; l++) {
      const lo = (l as usize) << 4;
      const wa = v128.load(ql + lo);
      const wb = v128.load(ql + 32 + lo);
      const hv = v128.load(qh + lo);
      const ag = ah + (lo << 1);
      // quarter 1: elements l*16.., low nibbles of ql[l], qh bits 0-1
      const g1 = dotG(v128.or(v128.and(wa, m), v128.and(i16x8.shl(hv, 4), m30)), v128.or(v128.and(i16x8.shr_u(wa, 8), m), v128.and(i16x8.shr_u(hv, 4), m30)), ag);
      const g2 = dotG(v128.or(v128.and(wb, m), v128.and(i16x8.shl(hv, 2), m30)), v128.or(v128.and(i16x8.shr_u(wb, 8), m), v128.and(i16x8.shr_u(hv, 6), m30)), ag + 64);
      const g3 = dotG(v128.or(v128.and(i16x8.shr_u(wa, 4), m), v128.and(hv, m30)), v128.or(i16x8.shr_u(wa, 12), v128.and(i16x8.shr_u(hv, 8), m30)), ag + 128);
      const g4 = dotG(v128.or(v128.and(i16x8.shr_u(wb, 4), m), v128.and(i16x8.shr_u(hv, 2), m30)), v128.or(i16x8.shr_u(wb, 12), v128.and(i16x8.shr_u(hv, 10), m30)), ag + 192);
      acc = i32x4.add(acc, i32x4.mul(g1, i32x4.splat(load<i8>(sc + l) as i32)));
      acc = i32x4.add(acc, i32x4.mul(g2, i32x4.splat(load<i8>(sc + l + 2) as i32)));
      acc = i32x4.add(acc, i32x4.mul(g3, i32x4.splat(load<i8>(sc + l + 4) as i32)));
      acc = i32x4.add(acc, i32x4.mul(g4, i32x4.splat(load<i8>(sc + l + 6) as i32)));
    }
  }
  return acc;
}

/** Per lane, 32 * sum of scale_g * bsum_g over the 16 groups (the -32 offset of Q6_K). */
// @ts-expect-error: decorator
@inline
function q6kOffset(p: usize, bs: usize): v128 {
  const sc = v128.load(p, 192);
  const lo = i16x8.extend_low_i8x16_s(sc);
  const hi = i16x8.extend_high_i8x16_s(sc);
  let s = i32x4.mul(i32x4.extend_low_i16x8_s(lo), v128.load(bs));
  s = i32x4.add(s, i32x4.mul(i32x4.extend_high_i16x8_s(lo), v128.load(bs, 16)));
  s = i32x4.add(s, i32x4.mul(i32x4.extend_low_i16x8_s(hi), v128.load(bs, 32)));
  s = i32x4.add(s, i32x4.mul(i32x4.extend_high_i16x8_s(hi), v128.load(bs, 48)));
  return i32x4.shl(s, 5);
}

// @ts-expect-error: decorator
@inline
function rowQ6_K(p: usize, act: usize, n: i32): f32 {
  const nk = n >> 8;
  const dA = act + ((n as usize) << 1);
  const bA = dA + ((nk as usize) << 2);
  let acc: f32 = 0;
  for (let b = 0; b < nk; b++) {
    const a = act + ((b as usize) << 9);
    const o = p + (b as usize) * 210;
    const s = i32x4.sub(q6kRow(o, a), q6kOffset(o, bA + ((b as usize) << 6)));
    const t = i32x4.add(s, v128.shuffle<i32>(s, s, 2, 3, 0, 1));
    const sumi = i32x4.extract_lane(t, 0) + i32x4.extract_lane(t, 1);
    acc += f16ToF32(load<u16>(o, 208)) * load<f32>(dA + ((b as usize) << 2)) * (sumi as f32);
  }
  return acc;
}

/**
 * One Q6_K row: the 16 group dots of a super-block go through tmp (256 bytes) from a loop (see
 * rowQ4_Kt), then four vector multiplies apply the 16 scales. Same integer sums as rowQ6_K.
 */
function rowQ6_Kt(p: usize, act: usize, n: i32, tmp: usize): f32 {
  const nk = n >> 8;
  const dA = act + ((n as usize) << 1);
  const bA = dA + ((nk as usize) << 2);
  let acc: f32 = 0;
  for (let b = 0; b < nk; b++) {
    const o = p + (b as usize) * 210;
    const sumi = q6kSuper(o, act + ((b as usize) << 9), bA + ((b as usize) << 6), tmp);
    acc += f16ToF32(load<u16>(o, 208)) * load<f32>(dA + ((b as usize) << 2)) * (sumi as f32);
  }
  return acc;
}

/** Integer sum of one Q6_K super-block at o against the activation block a (bsums at bs). Uses tmp[0, 256). */
// @ts-expect-error: decorator
@inline
export function q6kSuper(o: usize, a: usize, bs: usize, tmp: usize): i32 {
  const m = i16x8.splat(0x0f);
  const m30 = i16x8.splat(0x30);
  for (let i: usize = 0; i < 4; i++) {
    const h = i >> 1;
    const lo = (i & 1) << 4;
    const ql = o + (h << 6) + lo;
    const wa = v128.load(ql);
    const wb = v128.load(ql, 32);
    const hv = v128.load(o + 128 + (h << 5) + lo);
    const ag = a + (h << 8) + (lo << 1);
    // group h*8 + l (+2, +4, +6): scale index of the group, so tmp holds groups in scale order
    const t = tmp + (((h << 3) + (i & 1)) << 4);
    v128.store(t, dotG(v128.or(v128.and(wa, m), v128.and(i16x8.shl(hv, 4), m30)), v128.or(v128.and(i16x8.shr_u(wa, 8), m), v128.and(i16x8.shr_u(hv, 4), m30)), ag));
    v128.store(t, dotG(v128.or(v128.and(wb, m), v128.and(i16x8.shl(hv, 2), m30)), v128.or(v128.and(i16x8.shr_u(wb, 8), m), v128.and(i16x8.shr_u(hv, 6), m30)), ag + 64), 32);
    v128.store(t, dotG(v128.or(v128.and(i16x8.shr_u(wa, 4), m), v128.and(hv, m30)), v128.or(i16x8.shr_u(wa, 12), v128.and(i16x8.shr_u(hv, 8), m30)), ag + 128), 64);
    v128.store(t, dotG(v128.or(v128.and(i16x8.shr_u(wb, 4), m), v128.and(i16x8.shr_u(hv, 2), m30)), v128.or(i16x8.shr_u(wb, 12), v128.and(i16x8.shr_u(hv, 10), m30)), ag + 192), 96);
  }
  return q6kFinish(o, bs, tmp);
}

/** The scales and offset of q6kSuper, its 16 group dots being at tmp (in scale order). */
// @ts-expect-error: decorator
@inline
export function q6kFinish(o: usize, bs: usize, tmp: usize): i32 {
  const sc = v128.load(o, 192);
  const slo = i16x8.extend_low_i8x16_s(sc);
  const shi = i16x8.extend_high_i8x16_s(sc);
  let s = i32x4.mul(hsum4i(v128.load(tmp), v128.load(tmp, 16), v128.load(tmp, 32), v128.load(tmp, 48)), i32x4.extend_low_i16x8_s(slo));
  s = i32x4.add(s, i32x4.mul(hsum4i(v128.load(tmp, 64), v128.load(tmp, 80), v128.load(tmp, 96), v128.load(tmp, 112)), i32x4.extend_high_i16x8_s(slo)));
  s = i32x4.add(s, i32x4.mul(hsum4i(v128.load(tmp, 128), v128.load(tmp, 144), v128.load(tmp, 160), v128.load(tmp, 176)), i32x4.extend_low_i16x8_s(shi)));
  s = i32x4.add(s, i32x4.mul(hsum4i(v128.load(tmp, 192), v128.load(tmp, 208), v128.load(tmp, 224), v128.load(tmp, 240)), i32x4.extend_high_i16x8_s(shi)));
  s = i32x4.sub(s, q6kOffset(o, bs));
  const t = i32x4.add(s, v128.shuffle<i32>(s, s, 2, 3, 0, 1));
  return i32x4.extract_lane(t, 0) + i32x4.extract_lane(t, 1);
}

export function dot4Q6_K(p0: usize, p1: usize, p2: usize, p3: usize, act: usize, n: i32, tmp: usize): v128 {
  return f32x4(rowQ6_Kt(p0, act, n, tmp), rowQ6_Kt(p1, act, n, tmp), rowQ6_Kt(p2, act, n, tmp), rowQ6_Kt(p3, act, n, tmp));
}

// ---------------------------------------------------------------- Q2_K (84 bytes: scales[16], qs[64], d, dmin)

// @ts-expect-error: decorator
@inline
function q2kRow(p: usize, a: usize): v128 {
  const m3 = i16x8.splat(3);
  let acc = i32x4.splat(0);
  for (let h = 0; h < 2; h++) {
    const w0 = v128.load(p + 16 + ((h as usize) << 5));
    const w1 = v128.load(p + 32 + ((h as usize) << 5));
    for (let j = 0; j < 4; j++) {
      const sh = j << 1;
      const g = (h << 3) + (j << 1);
      const ag = a + ((g as usize) << 5);
      const d0 = dotG(v128.and(i16x8.shr_u(w0, sh), m3), v128.and(i16x8.shr_u(w0, sh + 8), m3), ag);
      const d1 = dotG(v128.and(i16x8.shr_u(w1, sh), m3), v128.and(i16x8.shr_u(w1, sh + 8), m3), ag + 32);
      acc = i32x4.add(acc, i32x4.mul(d0, i32x4.splat(load<u8>(p + g) & 0xf)));
      acc = i32x4.add(acc, i32x4.mul(d1, i32x4.splat(load<u8>(p + g + 1) & 0xf)));
    }
  }
  return acc;
}

// @ts-expect-error: decorator
@inline
function q2kMins(p: usize, bs: usize): i32 {
  let s: i32 = 0;
  for (let g = 0; g < 16; g++) s += ((load<u8>(p + g) >> 4) as i32) * load<i32>(bs + ((g as usize) << 2));
  return s;
}

// @ts-expect-error: decorator
@inline
function rowQ2_K(p: usize, act: usize, n: i32): f32 {
  const nk = n >> 8;
  const dA = act + ((n as usize) << 1);
  const bA = dA + ((nk as usize) << 2);
  let acc: f32 = 0;
  for (let b = 0; b < nk; b++) {
    const o = p + (b as usize) * 84;
    const s = q2kRow(o, act + ((b as usize) << 9));
    const t = i32x4.add(s, v128.shuffle<i32>(s, s, 2, 3, 0, 1));
    const sumi = i32x4.extract_lane(t, 0) + i32x4.extract_lane(t, 1);
    const summ = q2kMins(o, bA + ((b as usize) << 6));
    const da = load<f32>(dA + ((b as usize) << 2));
    acc += f16ToF32(load<u16>(o, 80)) * da * (sumi as f32) - f16ToF32(load<u16>(o, 82)) * da * (summ as f32);
  }
  return acc;
}

export function dot4Q2_K(p0: usize, p1: usize, p2: usize, p3: usize, act: usize, n: i32): v128 {
  return f32x4(rowQ2_K(p0, act, n), rowQ2_K(p1, act, n), rowQ2_K(p2, act, n), rowQ2_K(p3, act, n));
}

// ---------------------------------------------------------------- Q3_K (110 bytes: hmask[32], qs[64], scales[12], d)

/** The 16 scales of a Q3_K block (6-bit, from its 12-byte packing) as bytes, still offset by 32. */
// @ts-expect-error: decorator
@inline
function q3kScales(sc: usize): v128 {
  const a0 = load<u32>(sc);
  const a1 = load<u32>(sc, 4);
  const t = load<u32>(sc, 8);
  let v = i32x4.splat((a0 & 0x0f0f0f0f) | ((t & 0x03030303) << 4));
  v = i32x4.replace_lane(v, 1, (a1 & 0x0f0f0f0f) | (((t >> 2) & 0x03030303) << 4));
  v = i32x4.replace_lane(v, 2, ((a0 >> 4) & 0x0f0f0f0f) | (((t >> 4) & 0x03030303) << 4));
  return i32x4.replace_lane(v, 3, ((a1 >> 4) & 0x0f0f0f0f) | (((t >> 6) & 0x03030303) << 4));
}

/** Lane i (0..7) of an i16x8 (lane indexes must be constants: a switch picks one). */
// @ts-expect-error: decorator
@inline
function lane16(v: v128, i: i32): i32 {
  switch (i) {
    case 0:
      return i16x8.extract_lane_s(v, 0);
    case 1:
      return i16x8.extract_lane_s(v, 1);
    case 2:
      return i16x8.extract_lane_s(v, 2);
    case 3:
      return i16x8.extract_lane_s(v, 3);
    case 4:
      return i16x8.extract_lane_s(v, 4);
    case 5:
      return i16x8.extract_lane_s(v, 5);
    case 6:
      return i16x8.extract_lane_s(v, 6);
    default:
      return i16x8.extract_lane_s(v, 7);
  }
}

// The offset term of the row last passed to q3kRow (a per-instance global: one per thread).
let q3Offset: v128 = i32x4.splat(0);

// @ts-expect-error: decorator
@inline
function q3kRow(p: usize, a: usize, bs: usize): v128 {
  const m3 = i16x8.splat(3);
  const four = i16x8.splat(4);
  const hm0 = v128.load(p);
  const hm1 = v128.load(p + 16);
  // scales - 32 as i16 (groups 0..7 in lo, 8..15 in hi), and 4 * sum(scale_g * bsum_g) per lane
  const raw = q3kScales(p + 96);
  const k32 = i16x8.splat(32);
  const lo = i16x8.sub(i16x8.extend_low_i8x16_u(raw), k32);
  const hi = i16x8.sub(i16x8.extend_high_i8x16_u(raw), k32);
  let off = i32x4.mul(i32x4.extend_low_i16x8_s(lo), v128.load(bs));
  off = i32x4.add(off, i32x4.mul(i32x4.extend_high_i16x8_s(lo), v128.load(bs, 16)));
  off = i32x4.add(off, i32x4.mul(i32x4.extend_low_i16x8_s(hi), v128.load(bs, 32)));
  off = i32x4.add(off, i32x4.mul(i32x4.extend_high_i16x8_s(hi), v128.load(bs, 48)));
  q3Offset = i32x4.shl(off, 2);
  let acc = i32x4.splat(0);
  for (let h = 0; h < 2; h++) {
    const w0 = v128.load(p + 32 + ((h as usize) << 5));
    const w1 = v128.load(p + 48 + ((h as usize) << 5));
    const scs = h ? hi : lo;
    for (let j = 0; j < 4; j++) {
      const sh = j << 1;
      const hb = (h << 2) + j;
      const g = (h << 3) + (j << 1);
      const ag = a + ((g as usize) << 5);
      const e0 = v128.or(v128.and(i16x8.shr_u(w0, sh), m3), v128.and(i16x8.shl(i16x8.shr_u(hm0, hb), 2), four));
      const o0 = v128.or(v128.and(i16x8.shr_u(w0, sh + 8), m3), v128.and(i16x8.shr_u(hm0, hb + 6), four));
      const e1 = v128.or(v128.and(i16x8.shr_u(w1, sh), m3), v128.and(i16x8.shl(i16x8.shr_u(hm1, hb), 2), four));
      const o1 = v128.or(v128.and(i16x8.shr_u(w1, sh + 8), m3), v128.and(i16x8.shr_u(hm1, hb + 6), four));
      const s0 = lane16(scs, j << 1);
      const s1 = lane16(scs, (j << 1) + 1);
      acc = i32x4.add(acc, i32x4.mul(dotG(e0, o0, ag), i32x4.splat(s0)));
      acc = i32x4.add(acc, i32x4.mul(dotG(e1, o1, ag + 32), i32x4.splat(s1)));
    }
  }
  return acc;
}

// @ts-expect-error: decorator
@inline
function rowQ3_K(p: usize, act: usize, n: i32): f32 {
  const nk = n >> 8;
  const dA = act + ((n as usize) << 1);
  const bA = dA + ((nk as usize) << 2);
  let acc: f32 = 0;
  for (let b = 0; b < nk; b++) {
    const o = p + (b as usize) * 110;
    const r = q3kRow(o, act + ((b as usize) << 9), bA + ((b as usize) << 6));
    const s = i32x4.sub(r, q3Offset);
    const t = i32x4.add(s, v128.shuffle<i32>(s, s, 2, 3, 0, 1));
    const sumi = i32x4.extract_lane(t, 0) + i32x4.extract_lane(t, 1);
    acc += f16ToF32(load<u16>(o, 108)) * load<f32>(dA + ((b as usize) << 2)) * (sumi as f32);
  }
  return acc;
}

export function dot4Q3_K(p0: usize, p1: usize, p2: usize, p3: usize, act: usize, n: i32): v128 {
  return f32x4(rowQ3_K(p0, act, n), rowQ3_K(p1, act, n), rowQ3_K(p2, act, n), rowQ3_K(p3, act, n));
}
