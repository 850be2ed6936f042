// Weight matrix (rows x n, ggml row layout) times activation rows, split by row ranges so that
// several workers can share one call. Types are ggml's type ids.

import { dot4BF16, dot4F16, dot4F32, dot4Q4_0, dot4Q4_1, dot4Q5_0, dot4Q5_1, dot4Q8_0 } from "./dots";
import { matmulX4, X4 } from "./x4";
import { dot4Q2_K, dot4Q3_K, dot4Q4_K, dot4Q5_K, dot4Q6_K } from "./kdots";

// @ts-expect-error: decorator
@inline
function dot4(type: i32, p0: usize, p1: usize, p2: usize, p3: usize, a: usize, n: i32, tmp: usize): v128 {
  switch (type) {
    case 0:
      return dot4F32(p0, p1, p2, p3, a, n);
    case 1:
      return dot4F16(p0, p1, p2, p3, a, n);
    case 2:
      return dot4Q4_0(p0, p1, p2, p3, a, n);
    case 3:
      return dot4Q4_1(p0, p1, p2, p3, a, n);
    case 6:
      return dot4Q5_0(p0, p1, p2, p3, a, n);
    case 7:
      return dot4Q5_1(p0, p1, p2, p3, a, n);
    case 8:
      return dot4Q8_0(p0, p1, p2, p3, a, n);
    case 10:
      return dot4Q2_K(p0, p1, p2, p3, a, n);
    case 11:
      return dot4Q3_K(p0, p1, p2, p3, a, n);
    case 12:
      return dot4Q4_K(p0, p1, p2, p3, a, n, tmp);
    case 13:
      return dot4Q5_K(p0, p1, p2, p3, a, n);
    case 14:
      return dot4Q6_K(p0, p1, p2, p3, a, n, tmp);
    case 30:
      return dot4BF16(p0, p1, p2, p3, a, n);
    default:
      unreachable();
  }
  return f32x4.splat(0);
}

/**
 * y[t][r] = dot(W row r, activation row t) for rows [r0, r1) and tokens [0, nTok).
 * w: matrix base, rowBytes apart; act: prepared activation rows, actStride bytes apart;
 * y: f32 output, yStride floats per token. Rows go four at a time; tokens are tiled so that a
 * 4-row weight tile is reused from L1 across a tile of tokens and the token tile from L2 across rows.
 * type | X4: the first (rows & ~3) rows are in the x4 layout (x4.ts); tmp: this thread's 1536-byte scratch.
 */
export function matmul(
  type: i32,
  w: usize,
  rowBytes: usize,
  rows: i32,
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
  if (type & X4) {
    type &= ~X4;
    const e = min(r1, rows & ~3);
    if (r0 < e) matmulX4(type, w, rowBytes, rows & ~3, n, act, actStride, nTok, y, yStride, tmp, r0, e);
    if (e > r0) r0 = e;
  }
  const TT = 16; // tokens per tile
  const RT = 64; // rows per tile
  for (let rb = r0; rb < r1; rb += RT) {
    const re = min(rb + RT, r1);
    for (let tb = 0; tb < nTok; tb += TT) {
      const te = min(tb + TT, nTok);
      for (let r = rb; r < re; r += 4) {
        const p0 = w + (r as usize) * rowBytes;
        const p1 = r + 1 < re ? p0 + rowBytes : p0;
        const p2 = r + 2 < re ? p0 + 2 * rowBytes : p0;
        const p3 = r + 3 < re ? p0 + 3 * rowBytes : p0;
        for (let t = tb; t < te; t++) {
          const res = dot4(type, p0, p1, p2, p3, act + (t as usize) * actStride, n, tmp);
          const yp = y + ((((t as usize) * (yStride as usize)) + (r as usize)) << 2);
          if (r + 4 <= re) {
            v128.store(yp, res);
          } else {
            store<f32>(yp, f32x4.extract_lane(res, 0));
            if (r + 1 < re) store<f32>(yp, f32x4.extract_lane(res, 1), 4);
            if (r + 2 < re) store<f32>(yp, f32x4.extract_lane(res, 2), 8);
          }
        }
      }
    }
  }
}
