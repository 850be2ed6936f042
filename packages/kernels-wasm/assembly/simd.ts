// Small SIMD helpers shared by the kernels.

/** Horizontal sums of four i32x4 vectors: lane r of the result is the sum of the lanes of sr. */
// @ts-expect-error: decorator
@inline
export function hsum4i(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const t0 = i32x4.add(v128.shuffle<i32>(s0, s1, 0, 1, 4, 5), v128.shuffle<i32>(s0, s1, 2, 3, 6, 7));
  const t1 = i32x4.add(v128.shuffle<i32>(s2, s3, 0, 1, 4, 5), v128.shuffle<i32>(s2, s3, 2, 3, 6, 7));
  return i32x4.add(v128.shuffle<i32>(t0, t1, 0, 2, 4, 6), v128.shuffle<i32>(t0, t1, 1, 3, 5, 7));
}

/** Horizontal sums of four f32x4 vectors: lane r of the result is the sum of the lanes of sr. */
// @ts-expect-error: decorator
@inline
export function hsum4f(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const t0 = f32x4.add(v128.shuffle<i32>(s0, s1, 0, 1, 4, 5), v128.shuffle<i32>(s0, s1, 2, 3, 6, 7));
  const t1 = f32x4.add(v128.shuffle<i32>(s2, s3, 0, 1, 4, 5), v128.shuffle<i32>(s2, s3, 2, 3, 6, 7));
  return f32x4.add(v128.shuffle<i32>(t0, t1, 0, 2, 4, 6), v128.shuffle<i32>(t0, t1, 1, 3, 5, 7));
}

/** Sum of the four lanes of an f32x4. */
// @ts-expect-error: decorator
@inline
export function hsumf(v: v128): f32 {
  const t = f32x4.add(v, v128.shuffle<i32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1);
}

/** The half at p0..p3 in the low 16 bits of lanes 0..3. */
// @ts-expect-error: decorator
@inline
export function gatherHalves(p0: usize, p1: usize, p2: usize, p3: usize): v128 {
  let h = i32x4.splat(0);
  h = v128.load16_lane(p0, h, 0);
  h = v128.load16_lane(p1, h, 2);
  h = v128.load16_lane(p2, h, 4);
  h = v128.load16_lane(p3, h, 6);
  return h;
}
