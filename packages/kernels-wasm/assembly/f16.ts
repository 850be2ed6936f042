// IEEE half <-> float32 conversions (WebAssembly has no half type).

// Conversions without denormal floats. The classic conversion puts the half's exponent and
// mantissa into a float32 whose exponent is 112 too small and multiplies by 2^112, which also
// normalises subnormal halves; but then every subnormal half is a denormal float32 operand, and
// x86 takes a microcode assist (tens of cycles) for each operation that meets one. The scales of
// quantized blocks are often subnormal halves: most Q6_K blocks of a 7B model (d about
// max|w| / 4064, below 2^-14 = 6.1e-5): those products ran 30-40% slower for it.
// Instead: add 112 to the exponent (exact for normal halves); a subnormal half m * 2^-24 gets
// exponent 113 instead, which reads 2^-14 * (1 + m/1024), and then loses the implicit 2^-14 in one
// float subtraction (exact, and the difference, a multiple of 2^-24, is a normal float32).
// Inf/NaN halves become 65536 * (1 + m/1024), large finite values, as before.

/** 2^-14, as float32 bits: the implicit one of a subnormal half given exponent 113. */
const HALF_TINY_ONE: u32 = 0x38800000;
/** The exponent rebias from half to float32 (112), in place. */
const HALF_REBIAS: u32 = 0x38000000;
/** One more exponent step, for subnormal halves. */
const HALF_EXP_ONE: u32 = 0x00800000;

/** Half bits -> float32, exact for normal and subnormal halves (Inf/NaN become large finite values). */
// @ts-expect-error: decorator
@inline
export function f16ToF32(h: u32): f32 {
  const subnormal = (h & 0x7c00) == 0;
  const biased = reinterpret<f32>(((h & 0x7fff) << 13) + HALF_REBIAS + select<u32>(HALF_EXP_ONE, 0, subnormal));
  const mag = biased - select<f32>(reinterpret<f32>(HALF_TINY_ONE), 0, subnormal);
  return reinterpret<f32>(reinterpret<u32>(mag) | ((h & 0x8000) << 16));
}

/**
 * Halves placed in float32 lanes (sign at bit 31, exponent and mantissa at bits 13..27, bits
 * 28..30 clear) -> their float32 values, with no denormal operand (see above).
 */
// @ts-expect-error: decorator
@inline
export function placedHalvesToF32(v: v128): v128 {
  const subnormal = i32x4.eq(v128.and(v, i32x4.splat(0x0f800000)), i32x4.splat(0));
  const rebias = i32x4.add(i32x4.splat(HALF_REBIAS), v128.and(subnormal, i32x4.splat(HALF_EXP_ONE)));
  const biased = i32x4.add(v128.and(v, i32x4.splat(0x7fffffff)), rebias);
  const mag = f32x4.sub(biased, v128.and(subnormal, i32x4.splat(HALF_TINY_ONE)));
  return v128.or(mag, v128.and(v, i32x4.splat(0x80000000)));
}

/** Four halves (in the low 16 bits of each i32 lane) -> four float32s (block scales: exact, no denormal operand). */
// @ts-expect-error: decorator
@inline
export function f16x4ToF32x4(h: v128): v128 {
  return evenHalfScales(h);
}

/** float32 -> half bits, round to nearest even, overflow to Inf, NaN kept quiet. */
export function f32ToF16(f: f32): u32 {
  const x = reinterpret<u32>(f);
  const sign = (x >> 16) & 0x8000;
  let ax = x & 0x7fffffff;
  if (ax >= 0x7f800000) return sign | 0x7c00 | (ax > 0x7f800000 ? 0x200 : 0);
  if (ax >= 0x477ff000) return sign | 0x7c00;
  if (ax < 0x38800000) {
    // Subnormal half: adding 0.5 makes the FPU round the mantissa to units of 2^-24.
    const v = reinterpret<f32>(ax) + 0.5;
    return sign | (reinterpret<u32>(v) - 0x3f000000);
  }
  const mantOdd = (ax >> 13) & 1;
  ax += 0xc8000fff + mantOdd;
  return sign | (ax >> 13);
}

/** Round a float32 to the nearest half value (kept as float32). */
// @ts-expect-error: decorator
@inline
export function roundToF16(f: f32): f32 {
  return f16ToF32(f32ToF16(f));
}

// Eight halves from one 16-byte load (seen as i32x4: half 2k low, half 2k+1 high in lane k)
// become two f32x4 of the even and the odd halves without widening.
//
// evenHalves/oddHalves keep the multiply by 2^112, for elements in bulk (F16 weights) and for the
// scales of 32-weight blocks (x4.ts): subnormal halves are rare there (weights below 6.1e-5; blocks
// of tiny weights), and the exact conversion's extra operations on every one cost more than the
// rare assists (an F16 4096 x 4096 product from memory went from 4.3 to 2.7 GMAC/s with them).
// evenHalfScales/oddHalfScales are for the K-quants' super-block scales, often subnormal.

/** Even halves of h (the low half of each i32 lane), in bulk: see above. */
// @ts-expect-error: decorator
@inline
export function evenHalves(h: v128): v128 {
  return f32x4.mul(placeTopHalf(i32x4.shl(h, 16)), f32x4.splat(reinterpret<f32>(0x77800000)));
}

/** Odd halves of h (the high half of each i32 lane), in bulk. */
// @ts-expect-error: decorator
@inline
export function oddHalves(h: v128): v128 {
  return f32x4.mul(placeTopHalf(v128.and(h, i32x4.splat(0xffff0000))), f32x4.splat(reinterpret<f32>(0x77800000)));
}

/** Even halves of h as block scales (exact, no denormal operand). */
// @ts-expect-error: decorator
@inline
export function evenHalfScales(h: v128): v128 {
  return placedHalvesToF32(placeTopHalf(i32x4.shl(h, 16)));
}

/** Odd halves of h as block scales (exact, no denormal operand). */
// @ts-expect-error: decorator
@inline
export function oddHalfScales(h: v128): v128 {
  return placedHalvesToF32(placeTopHalf(v128.and(h, i32x4.splat(0xffff0000))));
}

/** A half in the top 16 bits of each lane (zeros below), placed as placedHalvesToF32 takes it. */
// @ts-expect-error: decorator
@inline
function placeTopHalf(v: v128): v128 {
  // The arithmetic shift copies the sign into bits 28..31: keep bit 31.
  return v128.and(i32x4.shr_s(v, 3), i32x4.splat(0x8fffffff));
}


/** roundToF16 of four lanes (round to nearest even, subnormal halves in units of 2^-24, overflow to Inf). */
// @ts-expect-error: decorator
@inline
export function roundToF16x4(x: v128): v128 {
  const ax = v128.and(x, i32x4.splat(0x7fffffff));
  // normal halves: the float32 mantissa rounded to its top 10 bits, ties to even
  const odd = v128.and(i32x4.shr_u(ax, 13), i32x4.splat(1));
  const normal = v128.and(i32x4.add(ax, i32x4.add(i32x4.splat(0xfff), odd)), i32x4.splat(0xffffe000));
  // subnormal halves (below 2^-14): multiples of 2^-24, exact through scaling by powers of two
  const tiny = f32x4.mul(f32x4.nearest(f32x4.mul(ax, f32x4.splat(16777216.0))), f32x4.splat(5.9604644775390625e-8));
  let r = v128.bitselect(tiny, normal, i32x4.lt_s(ax, i32x4.splat(0x38800000)));
  r = v128.bitselect(i32x4.splat(0x7f800000), r, i32x4.gt_s(ax, i32x4.splat(0x477fefff)));
  r = v128.bitselect(ax, r, i32x4.gt_s(ax, i32x4.splat(0x7f800000))); // NaN stays NaN
  return v128.or(r, v128.and(x, i32x4.splat(0x80000000)));
}

/** f32ToF16 of four lanes, the half bits in the low 16 bits of each i32 lane. */
// @ts-expect-error: decorator
@inline
export function f32x4ToF16Bits(x: v128): v128 {
  const ax = v128.and(x, i32x4.splat(0x7fffffff));
  const sign = v128.and(i32x4.shr_u(x, 16), i32x4.splat(0x8000));
  // normal halves: rebias the exponent by -112 and round the mantissa to 10 bits, ties to even
  const odd = v128.and(i32x4.shr_u(ax, 13), i32x4.splat(1));
  const normal = i32x4.shr_u(i32x4.add(ax, i32x4.add(i32x4.splat(0xc8000fff), odd)), 13);
  // subnormal halves: adding 0.5 makes the FPU round the mantissa to units of 2^-24
  const tiny = i32x4.sub(f32x4.add(ax, f32x4.splat(0.5)), i32x4.splat(0x3f000000));
  let h = v128.bitselect(tiny, normal, i32x4.lt_s(ax, i32x4.splat(0x38800000)));
  h = v128.bitselect(i32x4.splat(0x7c00), h, i32x4.gt_s(ax, i32x4.splat(0x477fefff)));
  h = v128.bitselect(i32x4.splat(0x7e00), h, i32x4.gt_s(ax, i32x4.splat(0x7f800000)));
  return v128.or(h, sign);
}
