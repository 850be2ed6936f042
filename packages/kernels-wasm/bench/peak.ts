// The ceiling of SIMD128 integer multiply-adds on this machine, for the kernels bench: the kernels'
// inner operation (i32x4.dot_i16x8_s, then i32x4.add into an accumulator) with everything in
// registers. Six independent accumulators hide the latency; one fresh load per step keeps V8 from
// hoisting the products out of the loop. Built by bench/run.ts with asc, never shipped.

export function peakDot(p: usize, n: i32): i32 {
  const y0 = v128.load(p, 16);
  const y1 = v128.load(p, 32);
  const y2 = v128.load(p, 48);
  const y3 = v128.load(p, 64);
  const y4 = v128.load(p, 80);
  const y5 = v128.load(p, 96);
  let a0 = i32x4.splat(0);
  let a1 = i32x4.splat(0);
  let a2 = i32x4.splat(0);
  let a3 = i32x4.splat(0);
  let a4 = i32x4.splat(0);
  let a5 = i32x4.splat(0);
  for (let i = 0; i < n; i++) {
    const x = v128.load(p + (((i & 63) as usize) << 4), 128);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(x, y0));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(x, y1));
    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(x, y2));
    a3 = i32x4.add(a3, i32x4.dot_i16x8_s(x, y3));
    a4 = i32x4.add(a4, i32x4.dot_i16x8_s(x, y4));
    a5 = i32x4.add(a5, i32x4.dot_i16x8_s(x, y5));
  }
  const s = i32x4.add(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)), i32x4.add(a4, a5));
  return (
    i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3)
  );
}
