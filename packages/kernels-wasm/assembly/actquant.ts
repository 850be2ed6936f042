// Activation quantization, as llama.cpp's x86 CPU backend does it, into a kernel-friendly layout.
//
// Layout "Q8" (partner of Q4_0, Q4_1, Q5_0, Q5_1, Q8_0), n elements, nb = n / 32 blocks:
//   q16  i16[n]  at 0        the quants widened to i16, each group of 16 stored as its 8 even
//                            elements then its 8 odd elements (matches the weight unpacking)
//   d    f32[nb] at 2n       block scale (rounded to half, as block_q8_0.d is)
//   s    f32[nb] at 2n+4nb   d * sum(q) rounded to half (block_q8_1.s)
//   qsum i32[nb] at 2n+8nb   sum(q) (the Q4_0/Q5_0 offset correction)
//   fix  i16[n]  at 2n+12nb  per block, a1 - 16 a2 and a3 - 16 a1, a0..a3 being the even and odd
//                            halves of its two groups of 16 (x4.ts's dotNibbles)
// Layout "Q8K" (partner of the K-quants), nk = n / 256 super-blocks:
//   q16  i16[n]      at 0
//   d    f32[nk]     at 2n
//   bsum i32[n/16]   at 2n+4nk  sums of each group of 16 quants
//   nib  i16[2n]     at 2n+4nk+n/4  per 32-element sub-block a0, a1 - 16 a2, a2, a3 - 16 a1
//                                   (the even/odd halves of its two groups of 16 and the fix
//                                   vectors of layout Q8): what the x4 Q4_K kernel's dotNibbles
//                                   reads, in one 2n-byte stream instead of 4n bytes of lines

import { roundToF16, roundToF16x4 } from "./f16";

// @ts-expect-error: decorator
@inline
function storeQ(q16: usize, i: i32, q: i32): void {
  // Element i of a group of 16 lives at slot (i & 1) * 8 + (i >> 1) of that group.
  const g = i >> 4;
  const w = i & 15;
  store<i16>(q16 + ((((g << 4) + ((w & 1) << 3) + (w >> 1)) as usize) << 1), q as i16);
}

/** round-half-even(x * id) of 16 floats at p, as i16 in the even/odd order, stored at o; returns their sum (i32x4). */
// @ts-ignore: decorator
@inline
function quant16(p: usize, id: v128, o: usize): v128 {
  const q0 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(p), id)));
  const q1 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(p, 16), id)));
  const q2 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(p, 32), id)));
  const q3 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(p, 48), id)));
  const v0 = i16x8.narrow_i32x4_s(q0, q1);
  const v1 = i16x8.narrow_i32x4_s(q2, q3);
  v128.store(o, v128.shuffle<i16>(v0, v1, 0, 2, 4, 6, 8, 10, 12, 14));
  v128.store(o, v128.shuffle<i16>(v0, v1, 1, 3, 5, 7, 9, 11, 13, 15), 16);
  return i32x4.add(i32x4.add(q0, q1), i32x4.add(q2, q3));
}

// @ts-ignore: decorator
@inline
function lanesSum(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

/**
 * The fix vectors a1 - 16 a2 and a3 - 16 a1 of the 32 quants at q (a0..a3: the even/odd halves of
 * its two groups of 16), at fb + at1 and fb + at3.
 */
// @ts-ignore: decorator
@inline
function storeFix2(fb: usize, q: usize, at1: usize, at3: usize): void {
  v128.store(fb + at1, i16x8.sub(v128.load(q, 16), i16x8.shl(v128.load(q, 32), 4)));
  v128.store(fb + at3, i16x8.sub(v128.load(q, 48), i16x8.shl(v128.load(q, 16), 4)));
}

/** Quantize rows of x (f32, nTok rows of n, row stride xStride bytes) into Q8 layout rows (stride outStride). */
export function quantizeQ8(x: usize, xStride: usize, n: i32, out: usize, outStride: usize, t0: i32, t1: i32): void {
  const nb = n >> 5;
  for (let t = t0; t < t1; t++) {
    const xr = x + (t as usize) * xStride;
    const o = out + (t as usize) * outStride;
    const dp = o + ((n as usize) << 1);
    const sp = dp + ((nb as usize) << 2);
    const qp = sp + ((nb as usize) << 2);
    for (let b = 0; b < nb; b++) {
      const xb = xr + ((b as usize) << 7);
      let amax = f32x4.splat(0);
      for (let j = 0; j < 8; j++) amax = f32x4.max(amax, f32x4.abs(v128.load(xb + ((j as usize) << 4))));
      const m = Mathf.max(
        Mathf.max(f32x4.extract_lane(amax, 0), f32x4.extract_lane(amax, 1)),
        Mathf.max(f32x4.extract_lane(amax, 2), f32x4.extract_lane(amax, 3)),
      );
      const d: f32 = m / 127.0;
      const id = f32x4.splat(m != 0 ? (127.0 as f32) / m : 0);
      const ob = o + ((b as usize) << 6);
      const sum = lanesSum(i32x4.add(quant16(xb, id, ob), quant16(xb + 64, id, ob + 32)));
      storeFix2(qp + ((nb as usize) << 2) + ((b as usize) << 5), ob, 0, 16);
      store<f32>(dp + ((b as usize) << 2), roundToF16(d));
      store<f32>(sp + ((b as usize) << 2), roundToF16(d * (sum as f32)));
      store<i32>(qp + ((b as usize) << 2), sum);
    }
  }
}

/** Quantize rows of x into Q8K layout rows (llama.cpp's quantize_row_q8_K). */
export function quantizeQ8K(x: usize, xStride: usize, n: i32, out: usize, outStride: usize, t0: i32, t1: i32): void {
  const nk = n >> 8;
  for (let t = t0; t < t1; t++) {
    const xr = x + (t as usize) * xStride;
    const o = out + (t as usize) * outStride;
    const dp = o + ((n as usize) << 1);
    const bp = dp + ((nk as usize) << 2);
    const fp = bp + ((n as usize) >> 2);
    for (let b = 0; b < nk; b++) {
      const xb = xr + ((b as usize) << 10);
      let amax: f32 = 0;
      let max: f32 = 0;
      for (let j = 0; j < 256; j++) {
        const v = load<f32>(xb + ((j as usize) << 2));
        const a = Mathf.abs(v);
        if (a > amax) {
          amax = a;
          max = v;
        }
      }
      if (amax == 0) {
        store<f32>(dp + ((b as usize) << 2), 0);
        for (let j = 0; j < 256; j++) storeQ(o, (b << 8) + j, 0);
        for (let g = 0; g < 16; g++) store<i32>(bp + ((((b << 4) + g) as usize) << 2), 0);
        memory.fill(fp + ((b as usize) << 9), 0, 512);
        continue;
      }
      const iscale: f32 = (-127.0 as f32) / max;
      // |iscale * x| <= 127 by construction, so ggml's MIN(127, q) never clips here.
      const iv = f32x4.splat(iscale);
      for (let g = 0; g < 16; g++) {
        const sum = lanesSum(quant16(xb + ((g as usize) << 6), iv, o + ((((b << 8) + (g << 4)) as usize) << 1)));
        store<i32>(bp + ((((b << 4) + g) as usize) << 2), sum);
      }
      // the nib region: each sub-block's a0, a2 and their fix vectors, interleaved
      for (let s = 0; s < 8; s++) {
        const sb = ((b << 3) + s) as usize;
        const q = o + (sb << 6);
        const dst = fp + (sb << 6);
        v128.store(dst, v128.load(q));
        v128.store(dst, v128.load(q, 32), 32);
        storeFix2(dst, q, 16, 48);
      }
      store<f32>(dp + ((b as usize) << 2), (1.0 as f32) / iscale);
    }
  }
}

/** Round rows of x to half precision (the F16-weight partner) or bfloat16 (bf = 1). */
export function roundRows(x: usize, xStride: usize, n: i32, out: usize, outStride: usize, bf: i32, t0: i32, t1: i32): void {
  const n8 = n & ~7;
  for (let t = t0; t < t1; t++) {
    const xr = x + (t as usize) * xStride;
    const o = out + (t as usize) * outStride;
    let i = 0;
    if (!bf) {
      // Full groups of 8 in even/odd order (the F16/BF16 kernels split halves that way).
      for (; i < n8; i += 8) {
        const a = roundToF16x4(v128.load(xr + ((i as usize) << 2)));
        const b = roundToF16x4(v128.load(xr + ((i as usize) << 2), 16));
        v128.store(o + ((i as usize) << 2), v128.shuffle<i32>(a, b, 0, 2, 4, 6));
        v128.store(o + ((i as usize) << 2), v128.shuffle<i32>(a, b, 1, 3, 5, 7), 16);
      }
    }
    for (; i < n; i++) {
      const v = load<f32>(xr + ((i as usize) << 2));
      let r: f32;
      if (bf) {
        const u = reinterpret<u32>(v);
        if ((u & 0x7fffffff) > 0x7f800000) r = reinterpret<f32>((u | 0x400000) & 0xffff0000);
        else r = reinterpret<f32>(((u + (0x7fff + ((u >> 16) & 1))) >> 16) << 16);
      } else {
        r = roundToF16(v);
      }
      // Full groups of 8 in even/odd order (the F16/BF16 kernels split halves that way).
      const slot = i < n8 ? (i & ~7) + ((i & 1) << 2) + ((i & 7) >> 1) : i;
      store<f32>(o + ((slot as usize) << 2), r);
    }
  }
}
