// IEEE half <-> float32 conversions (WebAssembly has no half type).

/** Half bits -> float32, exact for normal and subnormal halves (Inf/NaN become large finite values). */
// @ts-expect-error: decorator
@inline
export function f16ToF32(h: u32): f32 {
  // (h & 0x7fff) << 13 puts the half's exponent and mantissa into a float32 whose exponent is
  // 112 too small; multiplying by 2^112 fixes that and normalises subnormals at the same time.
  const mag = reinterpret<f32>((h & 0x7fff) << 13) * reinterpret<f32>(0x77800000);
  return reinterpret<f32>(reinterpret<u32>(mag) | ((h & 0x8000) << 16));
}

/** Four halves (in the low 16 bits of each i32 lane) -> four float32s. */
// @ts-expect-error: decorator
@inline
export function f16x4ToF32x4(h: v128): v128 {
  const mag = f32x4.mul(i32x4.shl(v128.and(h, i32x4.splat(0x7fff)), 13), f32x4.splat(reinterpret<f32>(0x77800000)));
  return v128.or(mag, i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
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
// @ts-expect-error: decorator
@inline
function topHalfToF32(v: v128): v128 {
  return f32x4.mul(v128.and(i32x4.shr_s(v, 3), i32x4.splat(0x8fffffff)), f32x4.splat(reinterpret<f32>(0x77800000)));
}

// @ts-expect-error: decorator
@inline
export function evenHalves(h: v128): v128 {
  return topHalfToF32(i32x4.shl(h, 16));
}

// @ts-expect-error: decorator
@inline
export function oddHalves(h: v128): v128 {
  return topHalfToF32(v128.and(h, i32x4.splat(0xffff0000)));
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
