// Dot products of four weight rows with one (quantized) activation row; lane r of the result is
// row r's dot. Working on four rows at once lets each activation load and each horizontal sum
// serve four rows (the 4x4 transpose-add in hsum4i), and gathers four rows' block scales into one
// vector so the float combine is one multiply-add per block for all four rows.
//
// Quantized weights are unpacked straight into i16 lanes: a 16-byte load seen as i16x8 holds
// byte 2k in the low half of lane k and byte 2k+1 in the high half, so masks and shifts give the
// even and the odd elements without any widening; the activation rows are stored in the same
// even/odd order (actquant.ts), and i32x4.dot_i16x8_s does the multiply-adds.

import { evenHalves, f16ToF32, f16x4ToF32x4, oddHalves } from "./f16";
import { gatherHalves, hsum4f, hsum4i } from "./simd";

// ---------------------------------------------------------------- float weights

// @ts-expect-error: decorator
@inline
export function dot4F32(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, n: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = (i as usize) << 2;
    const xv = v128.load(x + o);
    a0 = f32x4.add(a0, f32x4.mul(v128.load(p0 + o), xv));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(p1 + o), xv));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(p2 + o), xv));
    a3 = f32x4.add(a3, f32x4.mul(v128.load(p3 + o), xv));
  }
  let r = hsum4f(a0, a1, a2, a3);
  for (let i = n4; i < n; i++) {
    const o = (i as usize) << 2;
    const xs = load<f32>(x + o);
    r = f32x4.add(r, f32x4(load<f32>(p0 + o) * xs, load<f32>(p1 + o) * xs, load<f32>(p2 + o) * xs, load<f32>(p3 + o) * xs));
  }
  return r;
}


// @ts-expect-error: decorator
@inline
export function dot4F16(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, n: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  const n8 = n & ~7;
  for (let i = 0; i < n8; i += 8) {
    const o = (i as usize) << 1;
    const xl = v128.load(x + (o << 1));
    const xh = v128.load(x + (o << 1), 16);
    // xl/xh hold the even/odd elements of these 8 (roundRows' order)
    let h = v128.load(p0 + o);
    a0 = f32x4.add(a0, f32x4.add(f32x4.mul(evenHalves(h), xl), f32x4.mul(oddHalves(h), xh)));
    h = v128.load(p1 + o);
    a1 = f32x4.add(a1, f32x4.add(f32x4.mul(evenHalves(h), xl), f32x4.mul(oddHalves(h), xh)));
    h = v128.load(p2 + o);
    a2 = f32x4.add(a2, f32x4.add(f32x4.mul(evenHalves(h), xl), f32x4.mul(oddHalves(h), xh)));
    h = v128.load(p3 + o);
    a3 = f32x4.add(a3, f32x4.add(f32x4.mul(evenHalves(h), xl), f32x4.mul(oddHalves(h), xh)));
  }
  let r = hsum4f(a0, a1, a2, a3);
  for (let i = n8; i < n; i++) {
    const o = (i as usize) << 1;
    const xs = load<f32>(x + (o << 1));
    r = f32x4.add(
      r,
      f32x4(
        f16ToF32(load<u16>(p0 + o)) * xs,
        f16ToF32(load<u16>(p1 + o)) * xs,
        f16ToF32(load<u16>(p2 + o)) * xs,
        f16ToF32(load<u16>(p3 + o)) * xs,
      ),
    );
  }
  return r;
}

// A bfloat16 is the top half of a float32: the even ones shift up, the odd ones are masked.
// @ts-expect-error: decorator
@inline
function bf16Even(h: v128): v128 {
  return i32x4.shl(h, 16);
}
// @ts-expect-error: decorator
@inline
function bf16Odd(h: v128): v128 {
  return v128.and(h, i32x4.splat(0xffff0000));
}

// @ts-expect-error: decorator
@inline
export function dot4BF16(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, n: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  const n8 = n & ~7;
  for (let i = 0; i < n8; i += 8) {
    const o = (i as usize) << 1;
    const xl = v128.load(x + (o << 1));
    const xh = v128.load(x + (o << 1), 16);
    let h = v128.load(p0 + o);
    a0 = f32x4.add(a0, f32x4.add(f32x4.mul(bf16Even(h), xl), f32x4.mul(bf16Odd(h), xh)));
    h = v128.load(p1 + o);
    a1 = f32x4.add(a1, f32x4.add(f32x4.mul(bf16Even(h), xl), f32x4.mul(bf16Odd(h), xh)));
    h = v128.load(p2 + o);
    a2 = f32x4.add(a2, f32x4.add(f32x4.mul(bf16Even(h), xl), f32x4.mul(bf16Odd(h), xh)));
    h = v128.load(p3 + o);
    a3 = f32x4.add(a3, f32x4.add(f32x4.mul(bf16Even(h), xl), f32x4.mul(bf16Odd(h), xh)));
  }
  let r = hsum4f(a0, a1, a2, a3);
  for (let i = n8; i < n; i++) {
    const o = (i as usize) << 1;
    const xs = load<f32>(x + (o << 1));
    r = f32x4.add(
      r,
      f32x4(
        reinterpret<f32>((load<u16>(p0 + o) as u32) << 16) * xs,
        reinterpret<f32>((load<u16>(p1 + o) as u32) << 16) * xs,
        reinterpret<f32>((load<u16>(p2 + o) as u32) << 16) * xs,
        reinterpret<f32>((load<u16>(p3 + o) as u32) << 16) * xs,
      ),
    );
  }
  return r;
}

// ---------------------------------------------------------------- 32-element blocks (Q8 layout)

/**
 * Integer dot of 32 4-bit quants (16 bytes, ggml nibble order) with one Q8 activation block.
 * b1 and b3 are the odd activation vectors minus 256 times the even ones (oddFix): then the lanes
 * `w & 0x0f0f` (even nibble + 256 * odd nibble) can multiply the even activations directly, the
 * odd nibbles' excess cancels in the second product, and two masks and a shift are saved.
 */
// @ts-ignore: decorator
@inline
function dotNibbles(w: v128, a0: v128, b1: v128, a2: v128, b3: v128): v128 {
  const m = i16x8.splat(0x0f0f);
  const lo = v128.and(w, m);
  const hi = v128.and(i16x8.shr_u(w, 4), m);
  const s0 = i32x4.dot_i16x8_s(lo, a0);
  const s1 = i32x4.dot_i16x8_s(i16x8.shr_u(lo, 8), b1);
  const s2 = i32x4.dot_i16x8_s(hi, a2);
  const s3 = i32x4.dot_i16x8_s(i16x8.shr_u(hi, 8), b3);
  return i32x4.add(i32x4.add(s0, s1), i32x4.add(s2, s3));
}

/** odd - 256 * even (fits i16: |q| <= 127). */
// @ts-ignore: decorator
@inline
function oddFix(odd: v128, even: v128): v128 {
  return i16x8.sub(odd, i16x8.shl(even, 8));
}

/** As dotNibbles with a fifth bit per element from qh (bit j = element j). */
// @ts-expect-error: decorator
@inline
function dotNibbles5(w: v128, qh: u32, a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const m = i16x8.splat(0x0f);
  const sixteen = i16x8.splat(16);
  const me = i16x8(1, 4, 16, 64, 256, 1024, 4096, 16384);
  const mo = i16x8(2, 8, 32, 128, 512, 2048, 8192, -32768);
  const lo = i16x8.splat((qh & 0xffff) as i16);
  const hi = i16x8.splat((qh >>> 16) as i16);
  const le = v128.and(i16x8.eq(v128.and(lo, me), me), sixteen);
  const lo_ = v128.and(i16x8.eq(v128.and(lo, mo), mo), sixteen);
  const he = v128.and(i16x8.eq(v128.and(hi, me), me), sixteen);
  const ho = v128.and(i16x8.eq(v128.and(hi, mo), mo), sixteen);
  const s0 = i32x4.dot_i16x8_s(v128.or(v128.and(w, m), le), a0);
  const s1 = i32x4.dot_i16x8_s(v128.or(v128.and(i16x8.shr_u(w, 8), m), lo_), a1);
  const s2 = i32x4.dot_i16x8_s(v128.or(v128.and(i16x8.shr_u(w, 4), m), he), a2);
  const s3 = i32x4.dot_i16x8_s(v128.or(i16x8.shr_u(w, 12), ho), a3);
  return i32x4.add(i32x4.add(s0, s1), i32x4.add(s2, s3));
}

/** Integer dot of 32 int8 quants (two 16-byte loads) with one Q8 activation block. */
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
export function dot4Q4_0(p0: usize, p1: usize, p2: usize, p3: usize, act: usize, n: i32): v128 {
  const nb = n >> 5;
  const dA = act + ((n as usize) << 1);
  const qsA = dA + ((nb as usize) << 3);
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const a = act + ((b as usize) << 6);
    // The activation block is loaded once and serves all four rows.
    const a0 = v128.load(a);
    const a1 = v128.load(a, 16);
    const a2 = v128.load(a, 32);
    const a3 = v128.load(a, 48);
    const o = (b as usize) * 18;
    const b1 = oddFix(a1, a0);
    const b3 = oddFix(a3, a2);
    const s0 = dotNibbles(v128.load(p0 + o, 2), a0, b1, a2, b3);
    const s1 = dotNibbles(v128.load(p1 + o, 2), a0, b1, a2, b3);
    const s2 = dotNibbles(v128.load(p2 + o, 2), a0, b1, a2, b3);
    const s3 = dotNibbles(v128.load(p3 + o, 2), a0, b1, a2, b3);
    // sum((q - 8) a) = sum(q a) - 8 sum(a)
    const sumi = i32x4.sub(hsum4i(s0, s1, s2, s3), i32x4.splat(load<i32>(qsA + ((b as usize) << 2)) << 3));
    const dw = f16x4ToF32x4(gatherHalves(p0 + o, p1 + o, p2 + o, p3 + o));
    const d = f32x4.mul(dw, f32x4.splat(load<f32>(dA + ((b as usize) << 2))));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(sumi), d));
  }
  return acc;
}

// @ts-expect-error: decorator
@inline
export function dot4Q4_1(p0: usize, p1: usize, p2: usize, p3: usize, act: usize, n: i32): v128 {
  const nb = n >> 5;
  const dA = act + ((n as usize) << 1);
  const sA = dA + ((nb as usize) << 2);
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const a = act + ((b as usize) << 6);
    // The activation block is loaded once and serves all four rows.
    const a0 = v128.load(a);
    const a1 = v128.load(a, 16);
    const a2 = v128.load(a, 32);
    const a3 = v128.load(a, 48);
    const o = (b as usize) * 20;
    const b1 = oddFix(a1, a0);
    const b3 = oddFix(a3, a2);
    const s0 = dotNibbles(v128.load(p0 + o, 4), a0, b1, a2, b3);
    const s1 = dotNibbles(v128.load(p1 + o, 4), a0, b1, a2, b3);
    const s2 = dotNibbles(v128.load(p2 + o, 4), a0, b1, a2, b3);
    const s3 = dotNibbles(v128.load(p3 + o, 4), a0, b1, a2, b3);
    const sumi = hsum4i(s0, s1, s2, s3);
    const dw = f16x4ToF32x4(gatherHalves(p0 + o, p1 + o, p2 + o, p3 + o));
    const mw = f16x4ToF32x4(gatherHalves(p0 + o + 2, p1 + o + 2, p2 + o + 2, p3 + o + 2));
    const d = f32x4.mul(dw, f32x4.splat(load<f32>(dA + ((b as usize) << 2))));
    const ms = f32x4.mul(mw, f32x4.splat(load<f32>(sA + ((b as usize) << 2))));
    acc = f32x4.add(acc, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(sumi), d), ms));
  }
  return acc;
}

// @ts-expect-error: decorator
@inline
export function dot4Q5_0(p0: usize, p1: usize, p2: usize, p3: usize, act: usize, n: i32): v128 {
  const nb = n >> 5;
  const dA = act + ((n as usize) << 1);
  const qsA = dA + ((nb as usize) << 3);
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const a = act + ((b as usize) << 6);
    // The activation block is loaded once and serves all four rows.
    const a0 = v128.load(a);
    const a1 = v128.load(a, 16);
    const a2 = v128.load(a, 32);
    const a3 = v128.load(a, 48);
    const o = (b as usize) * 22;
    const s0 = dotNibbles5(v128.load(p0 + o, 6), load<u32>(p0 + o, 2), a0, a1, a2, a3);
    const s1 = dotNibbles5(v128.load(p1 + o, 6), load<u32>(p1 + o, 2), a0, a1, a2, a3);
    const s2 = dotNibbles5(v128.load(p2 + o, 6), load<u32>(p2 + o, 2), a0, a1, a2, a3);
    const s3 = dotNibbles5(v128.load(p3 + o, 6), load<u32>(p3 + o, 2), a0, a1, a2, a3);
    const sumi = i32x4.sub(hsum4i(s0, s1, s2, s3), i32x4.splat(load<i32>(qsA + ((b as usize) << 2)) << 4));
    const dw = f16x4ToF32x4(gatherHalves(p0 + o, p1 + o, p2 + o, p3 + o));
    const d = f32x4.mul(dw, f32x4.splat(load<f32>(dA + ((b as usize) << 2))));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(sumi), d));
  }
  return acc;
}

// @ts-expect-error: decorator
@inline
export function dot4Q5_1(p0: usize, p1: usize, p2: usize, p3: usize, act: usize, n: i32): v128 {
  const nb = n >> 5;
  const dA = act + ((n as usize) << 1);
  const sA = dA + ((nb as usize) << 2);
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const a = act + ((b as usize) << 6);
    // The activation block is loaded once and serves all four rows.
    const a0 = v128.load(a);
    const a1 = v128.load(a, 16);
    const a2 = v128.load(a, 32);
    const a3 = v128.load(a, 48);
    const o = (b as usize) * 24;
    const s0 = dotNibbles5(v128.load(p0 + o, 8), load<u32>(p0 + o, 4), a0, a1, a2, a3);
    const s1 = dotNibbles5(v128.load(p1 + o, 8), load<u32>(p1 + o, 4), a0, a1, a2, a3);
    const s2 = dotNibbles5(v128.load(p2 + o, 8), load<u32>(p2 + o, 4), a0, a1, a2, a3);
    const s3 = dotNibbles5(v128.load(p3 + o, 8), load<u32>(p3 + o, 4), a0, a1, a2, a3);
    const sumi = hsum4i(s0, s1, s2, s3);
    const dw = f16x4ToF32x4(gatherHalves(p0 + o, p1 + o, p2 + o, p3 + o));
    const mw = f16x4ToF32x4(gatherHalves(p0 + o + 2, p1 + o + 2, p2 + o + 2, p3 + o + 2));
    const d = f32x4.mul(dw, f32x4.splat(load<f32>(dA + ((b as usize) << 2))));
    const ms = f32x4.mul(mw, f32x4.splat(load<f32>(sA + ((b as usize) << 2))));
    acc = f32x4.add(acc, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(sumi), d), ms));
  }
  return acc;
}

// @ts-expect-error: decorator
@inline
export function dot4Q8_0(p0: usize, p1: usize, p2: usize, p3: usize, act: usize, n: i32): v128 {
  const nb = n >> 5;
  const dA = act + ((n as usize) << 1);
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const a = act + ((b as usize) << 6);
    // The activation block is loaded once and serves all four rows.
    const a0 = v128.load(a);
    const a1 = v128.load(a, 16);
    const a2 = v128.load(a, 32);
    const a3 = v128.load(a, 48);
    const o = (b as usize) * 34;
    const s0 = dotBytes(v128.load(p0 + o, 2), v128.load(p0 + o, 18), a0, a1, a2, a3);
    const s1 = dotBytes(v128.load(p1 + o, 2), v128.load(p1 + o, 18), a0, a1, a2, a3);
    const s2 = dotBytes(v128.load(p2 + o, 2), v128.load(p2 + o, 18), a0, a1, a2, a3);
    const s3 = dotBytes(v128.load(p3 + o, 2), v128.load(p3 + o, 18), a0, a1, a2, a3);
    const sumi = hsum4i(s0, s1, s2, s3);
    const dw = f16x4ToF32x4(gatherHalves(p0 + o, p1 + o, p2 + o, p3 + o));
    const d = f32x4.mul(dw, f32x4.splat(load<f32>(dA + ((b as usize) << 2))));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(sumi), d));
  }
  return acc;
}
