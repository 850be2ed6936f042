// The "x4" weight layout of the 32-element block types (Q4_0, Q4_1, Q8_0), made at upload: four
// consecutive rows become one stream where each block holds the four rows' headers (f16 scale,
// and the f16 min for Q4_1) and then the four rows' quants. Same bytes as ggml's layout; rows past
// the last multiple of four stay in ggml's layout. It gives the matrix x vector kernels one
// sequential read per four rows and the four scales in one load (instead of four lane inserts).
//
// The kernels write out the four rows of a block, and each row's integer partial sums go through
// a 64-byte per-thread scratch: the store keeps V8 from scheduling all the unpacking of the four
// rows before all the multiplies (which spilled a dozen vectors per block when the sums stayed in
// registers), so every row's work stays in registers. Written out rather than as a loop over the
// rows: V8 unrolls such a loop itself but keeps an exit test and address arithmetic per row, and
// the written-out rows ran 8-9% faster (Q4_0 from DRAM, one thread).
//
// Wide matrices (more than SLAB_MIN_COLS columns) are also cut into slabs of columns: within each
// super-group of 16 four-row groups (64 rows) the groups' blocks of slab 0 come first, then those
// of slab 1, and so on. A product then walks one slab over 16 groups in one sequential read, with
// only that slab of the activation row in L1 (a whole prepared activation row takes about 2 bytes
// a column: at 11008 columns it no longer stays in L1 beside the weight stream, and a 4096 x 11008
// Q4_0 product from DRAM ran 25-30% slower per byte than three 4096 x 3680 ones).

import { evenHalfScales, evenHalves, oddHalfScales, oddHalves, placedHalvesToF32 } from "./f16";
import { pairSums } from "./kdots";
import { hsum4i } from "./simd";

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

const SLAB_MIN_COLS = 6144;
const SLAB_COLS = 4096;
/** Rows of a super-group (slabs are laid out per super-group). */
const SUPER_ROWS = 64;

/** Weights in a block of a type of the x4 layout. */
// @ts-expect-error: decorator
@inline
function blockElems(type: i32): i32 {
  return type == 12 || type == 14 ? 256 : 32;
}

/** Blocks per slab of a row of n columns (all of the row's blocks when it is not cut in slabs). */
export function x4SlabBlocks(type: i32, n: i32): i32 {
  const nb = n / blockElems(type);
  if (n <= SLAB_MIN_COLS) return nb;
  const slabs = (n + SLAB_COLS - 1) / SLAB_COLS;
  return (nb + slabs - 1) / slabs;
}

/**
 * Address of block b of the four-row group starting at row g (g < rowsX4, a multiple of four),
 * per blocks per slab. gb: bytes of one block of the four rows (4 * blockBytes).
 */
// @ts-expect-error: decorator
@inline
function x4Block(w: usize, rowBytes: usize, rowsX4: i32, gb: usize, nb: i32, per: i32, g: i32, b: i32): usize {
  const sg = g & ~(SUPER_ROWS - 1);
  const groups = min(SUPER_ROWS, rowsX4 - sg) >> 2;
  const s = b / per;
  const slabStart = s * per;
  const inSlab = min(per, nb - slabStart);
  return w + (sg as usize) * rowBytes + (((slabStart * groups + ((g - sg) >> 2) * inSlab + b - slabStart) as usize) * gb);
}

/**
 * Copy the four-row group starting at row g of a slab-cut x4 matrix to dst as one unsliced group
 * (blocks one after the other, as the x4 layout without slabs has them).
 */
export function gatherX4Group(type: i32, w: usize, rowBytes: usize, rowsX4: i32, n: i32, g: i32, dst: usize): void {
  const gb = (blockBytes(type) as usize) << 2;
  const nb = n / blockElems(type);
  const per = x4SlabBlocks(type, n);
  for (let b0 = 0; b0 < nb; b0 += per) {
    const len = (min(per, nb - b0) as usize) * gb;
    memory.copy(dst + (b0 as usize) * gb, x4Block(w, rowBytes, rowsX4, gb, nb, per, g, b0), len);
  }
}

/**
 * Rewrite rows [0, rows & ~3) of a ggml-layout matrix in place into the x4 layout, one group of
 * four rows at a time through `tmp`, then cut wide matrices into slabs, one super-group at a time
 * through `tmp` (x4TmpBytes bytes).
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
          packK(type, src, dst, r);
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
  const n = (nb as i32) * blockElems(type);
  const per = x4SlabBlocks(type, n);
  if (per == (nb as i32)) return;
  const rowsX4 = rows & ~3;
  const gb = bs << 2;
  for (let sg = 0; sg < rowsX4; sg += SUPER_ROWS) {
    const S = w + (sg as usize) * rowBytes;
    const groups = min(SUPER_ROWS, rowsX4 - sg) >> 2;
    memory.copy(tmp, S, (groups as usize) * groupBytes);
    for (let j = 0; j < groups; j++) {
      for (let b0 = 0; b0 < (nb as i32); b0 += per) {
        const len = (min(per, (nb as i32) - b0) as usize) * gb;
        const from = tmp + (j as usize) * groupBytes + (b0 as usize) * gb;
        memory.copy(x4Block(w, rowBytes, rowsX4, gb, nb as i32, per, sg + 4 * j, b0), from, len);
      }
    }
  }
}

/** Bytes of interleaveX4's tmp for a matrix of rows of n columns (rowBytes each). */
export function x4TmpBytes(type: i32, n: i32, rowBytes: i32): i32 {
  return rowBytes * (x4SlabBlocks(type, n) * blockElems(type) < n ? SUPER_ROWS : 4);
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
  const i = (r & 3) as usize;
  const per = x4SlabBlocks(type, (nb as i32) * blockElems(type));
  for (let b: usize = 0; b < nb; b++) {
    const blk = x4Block(w, rowBytes, rows & ~3, bs << 2, nb as i32, per, r & ~3, b as i32);
    if (hb == 0) {
      unpackK(type, blk, out + b * bs, i);
      continue;
    }
    memory.copy(out + b * bs, blk + i * hb, hb);
    memory.copy(out + b * bs + hb, blk + (hb << 2) + i * qb, qb);
  }
}

// ---------------------------------------------------------------- K-quant x4 groups
//
// Q4_K group (4 x 144 = 576 bytes), rewritten at upload so that the four rows' headers load as vectors:
//   0    d0 dmin0 d1 dmin1 d2 dmin2 d3 dmin3 (halves)
//   16   scale bytes 0..3 of rows 0..3 (one u32 per row), 32: bytes 4..7, 48: bytes 8..11
//   64   qs of row r at 64 + 128 r: per chunk of 64 weights, its two 32-weight sub-blocks in
//        Q4_0's nibble order (byte t: weights t and t + 16), 16 bytes each. ggml's chunk (byte t:
//        weights t and t + 32) becomes that with nibble masks (nibbleLows/nibbleHighs), and the
//        kernel unpacks a sub-block with Q4_0's four operations (dotNibbles) instead of six.
// The 6-bit scales and mins of the four rows then decode with a few vector masks.
//
// Q6_K group (4 x 210 = 840 bytes):
//   0    the 16 i8 scales of row r at 16 r
//   64   row r's 256 6-bit quants at 64 + 192 r, repacked: 48 bytes (vectors A, B, C) per chunk c of
//        64 weights, the chunk being ggml's quarter c (the groups of 16 8h + (c & 1) + 2k, h = c >> 1,
//        k = 0..3). As i16 lanes: A = V0 | V6[0:4] << 6 | V1 << 10, B = V2 | (V6[4:6] | V7[4:6] << 2) << 6
//        | V3 << 10, C = V4 | V7[0:4] << 6 | V5 << 10, where V(2k) and V(2k+1) are the even and the odd
//        elements of group k (the activation's order), so six of the eight i16 vectors of a chunk
//        come out with one mask or shift and the other two with five operations (three masks in all).
//   832  d of rows 0..3 (halves)

/** The ggml-order i16 vectors of Q6_K chunk (wa, wb: ql; hv: qh), V(m) as in the layout comment. */
// @ts-expect-error: decorator
@inline
function q6Plain(wa: v128, wb: v128, hv: v128, m: i32): v128 {
  const k = i16x8.splat(0x0f);
  const m30 = i16x8.splat(0x30);
  switch (m) {
    case 0:
      return v128.or(v128.and(wa, k), v128.and(i16x8.shl(hv, 4), m30));
    case 1:
      return v128.or(v128.and(i16x8.shr_u(wa, 8), k), v128.and(i16x8.shr_u(hv, 4), m30));
    case 2:
      return v128.or(v128.and(wb, k), v128.and(i16x8.shl(hv, 2), m30));
    case 3:
      return v128.or(v128.and(i16x8.shr_u(wb, 8), k), v128.and(i16x8.shr_u(hv, 6), m30));
    case 4:
      return v128.or(v128.and(i16x8.shr_u(wa, 4), k), v128.and(hv, m30));
    case 5:
      return v128.or(i16x8.shr_u(wa, 12), v128.and(i16x8.shr_u(hv, 8), m30));
    case 6:
      return v128.or(v128.and(i16x8.shr_u(wb, 4), k), v128.and(i16x8.shr_u(hv, 2), m30));
    default:
      return v128.or(i16x8.shr_u(wb, 12), v128.and(i16x8.shr_u(hv, 10), m30));
  }
}

/** V(m) (0..63 per i16 lane) of a repacked Q6_K chunk (A, B, C). */
// @ts-expect-error: decorator
@inline
export function q6x4V(A: v128, B: v128, C: v128, m: i32): v128 {
  const k = i16x8.splat(0x3f);
  switch (m) {
    case 0:
      return v128.and(A, k);
    case 1:
      return i16x8.shr_u(A, 10);
    case 2:
      return v128.and(B, k);
    case 3:
      return i16x8.shr_u(B, 10);
    case 4:
      return v128.and(C, k);
    case 5:
      return i16x8.shr_u(C, 10);
    case 6:
      return v128.or(v128.and(i16x8.shr_u(A, 6), i16x8.splat(0x0f)), v128.and(i16x8.shr_u(B, 2), i16x8.splat(0x30)));
    default:
      return v128.or(v128.and(i16x8.shr_u(C, 6), i16x8.splat(0x0f)), v128.and(i16x8.shr_u(B, 4), i16x8.splat(0x30)));
  }
}

/**
 * Bytewise (a & 0x0f) | (b << 4): with the 16-byte halves (a, b) of a ggml Q4_K chunk, the chunk's
 * first sub-block in Q4_0's order; with the two sub-blocks of an x4 chunk, ggml's first half.
 */
// @ts-expect-error: decorator
@inline
export function nibbleLows(a: v128, b: v128): v128 {
  return v128.or(v128.and(a, i16x8.splat(0x0f0f)), v128.and(i16x8.shl(b, 4), i16x8.splat(<i16>0xf0f0)));
}

/** Bytewise (a >> 4) | (b & 0xf0): the other halves of nibbleLows (second sub-block, second half). */
// @ts-expect-error: decorator
@inline
export function nibbleHighs(a: v128, b: v128): v128 {
  return v128.or(v128.and(i16x8.shr_u(a, 4), i16x8.splat(0x0f0f)), v128.and(b, i16x8.splat(<i16>0xf0f0)));
}

/** A Q4_K row's 128 quant bytes between ggml's order and the x4 one (the same map both ways). */
// @ts-expect-error: decorator
@inline
function swapQ4kOrder(src: usize, dst: usize): void {
  for (let c: usize = 0; c < 128; c += 32) {
    const a = v128.load(src + c);
    const b = v128.load(src + c, 16);
    v128.store(dst + c, nibbleLows(a, b));
    v128.store(dst + c, nibbleHighs(a, b), 16);
  }
}

/** One ggml Q4_K / Q6_K block (at src) into row r of the x4 group at dst. */
function packK(type: i32, src: usize, dst: usize, r: usize): void {
  if (type == 12) {
    store<u32>(dst + (r << 2), load<u32>(src));
    store<u32>(dst + 16 + (r << 2), load<u32>(src, 4));
    store<u32>(dst + 32 + (r << 2), load<u32>(src, 8));
    store<u32>(dst + 48 + (r << 2), load<u32>(src, 12));
    swapQ4kOrder(src + 16, dst + 64 + (r << 7));
    return;
  }
  v128.store(dst + (r << 4), v128.load(src, 192));
  store<u16>(dst + 832 + (r << 1), load<u16>(src, 208));
  for (let c: usize = 0; c < 4; c++) {
    const h = c >> 1;
    const lo = (c & 1) << 4;
    const ql = src + (h << 6) + lo;
    const wa = v128.load(ql);
    const wb = v128.load(ql, 32);
    const hv = v128.load(src + 128 + (h << 5) + lo);
    const v6 = q6Plain(wa, wb, hv, 6);
    const v7 = q6Plain(wa, wb, hv, 7);
    const A = v128.or(v128.or(q6Plain(wa, wb, hv, 0), i16x8.shl(v128.and(v6, i16x8.splat(0x0f)), 6)), i16x8.shl(q6Plain(wa, wb, hv, 1), 10));
    const B = v128.or(
      v128.or(q6Plain(wa, wb, hv, 2), i16x8.shl(v128.or(i16x8.shr_u(v6, 4), i16x8.shl(i16x8.shr_u(v7, 4), 2)), 6)),
      i16x8.shl(q6Plain(wa, wb, hv, 3), 10),
    );
    const C = v128.or(v128.or(q6Plain(wa, wb, hv, 4), i16x8.shl(v128.and(v7, i16x8.splat(0x0f)), 6)), i16x8.shl(q6Plain(wa, wb, hv, 5), 10));
    const o = dst + 64 + r * 192 + c * 48;
    v128.store(o, A);
    v128.store(o, B, 16);
    v128.store(o, C, 32);
  }
}

/** Row r of an x4 group (at src) back into one ggml Q4_K / Q6_K block at dst. */
function unpackK(type: i32, src: usize, dst: usize, r: usize): void {
  if (type == 12) {
    store<u32>(dst, load<u32>(src + (r << 2)));
    store<u32>(dst, load<u32>(src + 16 + (r << 2)), 4);
    store<u32>(dst, load<u32>(src + 32 + (r << 2)), 8);
    store<u32>(dst, load<u32>(src + 48 + (r << 2)), 12);
    swapQ4kOrder(src + 64 + (r << 7), dst + 16);
    return;
  }
  v128.store(dst, v128.load(src + (r << 4)), 192);
  store<u16>(dst, load<u16>(src + 832 + (r << 1)), 208);
  const k = i16x8.splat(0x0f);
  for (let c: usize = 0; c < 4; c++) {
    const h = c >> 1;
    const lo = (c & 1) << 4;
    const o = src + 64 + r * 192 + c * 48;
    const A = v128.load(o);
    const B = v128.load(o, 16);
    const C = v128.load(o, 32);
    const v0 = q6x4V(A, B, C, 0);
    const v1 = q6x4V(A, B, C, 1);
    const v2 = q6x4V(A, B, C, 2);
    const v3 = q6x4V(A, B, C, 3);
    const v4 = q6x4V(A, B, C, 4);
    const v5 = q6x4V(A, B, C, 5);
    const v6 = q6x4V(A, B, C, 6);
    const v7 = q6x4V(A, B, C, 7);
    const wa = v128.or(
      v128.or(v128.and(v0, k), i16x8.shl(v128.and(v4, k), 4)),
      v128.or(i16x8.shl(v128.and(v1, k), 8), i16x8.shl(v5, 12)),
    );
    const wb = v128.or(
      v128.or(v128.and(v2, k), i16x8.shl(v128.and(v6, k), 4)),
      v128.or(i16x8.shl(v128.and(v3, k), 8), i16x8.shl(v7, 12)),
    );
    const he = v128.or(v128.or(i16x8.shr_u(v0, 4), i16x8.shl(i16x8.shr_u(v2, 4), 2)), v128.or(i16x8.shl(i16x8.shr_u(v4, 4), 4), i16x8.shl(i16x8.shr_u(v6, 4), 6)));
    const ho = v128.or(v128.or(i16x8.shr_u(v1, 4), i16x8.shl(i16x8.shr_u(v3, 4), 2)), v128.or(i16x8.shl(i16x8.shr_u(v5, 4), 4), i16x8.shl(i16x8.shr_u(v7, 4), 6)));
    const ql = dst + (h << 6) + lo;
    v128.store(ql, wa);
    v128.store(ql, wb, 32);
    v128.store(dst + 128 + (h << 5) + lo, v128.or(he, i16x8.shl(ho, 8)));
  }
}

// ---------------------------------------------------------------- kernels

/**
 * Four halves in the low 8 bytes of h (the four rows' scales of a 32-weight block) as four
 * float32s, with the multiply by 2^112 (as evenHalves): these scales are about max|w| / 8 (Q4_0)
 * or max|w| / 127 (Q8_0), subnormal halves only for blocks of weights below 4.9e-4 or 7.8e-3
 * (exact then too, but slower), and the exact conversion's extra operations on every block cost
 * Q4_0 10-15% from memory.
 */
// @ts-expect-error: decorator
@inline
function halves4(h: v128): v128 {
  return f32x4.mul(placeHalves4(h), f32x4.splat(reinterpret<f32>(0x77800000)));
}

/** halves4 for the K-quants' super-block scales, often subnormal (Q6_K's d: max|w| / 4064). */
// @ts-expect-error: decorator
@inline
function halfScales4(h: v128): v128 {
  return placedHalvesToF32(placeHalves4(h));
}

/** Four halves in the low 8 bytes of h placed as placedHalvesToF32 takes them. */
// @ts-expect-error: decorator
@inline
function placeHalves4(h: v128): v128 {
  // A sign-extended half shifted left by 13 has its exponent and mantissa in place and copies of
  // the sign in bits 28..31: keep bit 31.
  return v128.and(i32x4.shl(i32x4.extend_low_i16x8_s(h), 13), i32x4.splat(0x8fffffff));
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

// The dotX4* kernels: the four rows of an x4 group against one prepared activation row (lane r =
// row r), over blocks [b0, b1) of the row, whose first block is at p (blocks b0.. are contiguous
// within a slab), added to acc0 (the sums of the blocks before b0, or zero).

/** Q4_0. */
function dotX4Q4_0(p: usize, act: usize, n: i32, tmp: usize, b0: i32, b1: i32, acc0: v128): v128 {
  const nb = n >> 5;
  const dA = act + ((n as usize) << 1);
  const qsA = dA + ((nb as usize) << 3);
  const fA = qsA + ((nb as usize) << 2);
  let acc = acc0;
  let o = p;
  for (let b = b0; b < b1; b++) {
    const a = act + ((b as usize) << 6);
    const f = fA + ((b as usize) << 5);
    const a0 = v128.load(a);
    const a2 = v128.load(a, 32);
    const b1 = v128.load(f);
    const b3 = v128.load(f, 16);
    v128.store(tmp, dotNibbles(v128.load(o, 8), a0, b1, a2, b3));
    v128.store(tmp, dotNibbles(v128.load(o, 24), a0, b1, a2, b3), 16);
    v128.store(tmp, dotNibbles(v128.load(o, 40), a0, b1, a2, b3), 32);
    v128.store(tmp, dotNibbles(v128.load(o, 56), a0, b1, a2, b3), 48);
    // sum((q - 8) a) = sum(q a) - 8 sum(a)
    const sumi = i32x4.sub(sums4(tmp), i32x4.splat(load<i32>(qsA + ((b as usize) << 2)) << 3));
    const d = f32x4.mul(halves4(v128.load64_zero(o)), f32x4.splat(load<f32>(dA + ((b as usize) << 2))));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(sumi), d));
    o += 72;
  }
  return acc;
}

function dotX4Q4_1(p: usize, act: usize, n: i32, tmp: usize, b0: i32, b1: i32, acc0: v128): v128 {
  const nb = n >> 5;
  const dA = act + ((n as usize) << 1);
  const sA = dA + ((nb as usize) << 2);
  const fA = sA + ((nb as usize) << 3);
  let acc = acc0;
  let o = p;
  for (let b = b0; b < b1; b++) {
    const a = act + ((b as usize) << 6);
    const f = fA + ((b as usize) << 5);
    const a0 = v128.load(a);
    const a2 = v128.load(a, 32);
    const b1 = v128.load(f);
    const b3 = v128.load(f, 16);
    v128.store(tmp, dotNibbles(v128.load(o, 16), a0, b1, a2, b3));
    v128.store(tmp, dotNibbles(v128.load(o, 32), a0, b1, a2, b3), 16);
    v128.store(tmp, dotNibbles(v128.load(o, 48), a0, b1, a2, b3), 32);
    v128.store(tmp, dotNibbles(v128.load(o, 64), a0, b1, a2, b3), 48);
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

function dotX4Q8_0(p: usize, act: usize, n: i32, tmp: usize, b0: i32, b1: i32, acc0: v128): v128 {
  const nb = n >> 5;
  const dA = act + ((n as usize) << 1);
  let acc = acc0;
  let o = p;
  for (let b = b0; b < b1; b++) {
    const a = act + ((b as usize) << 6);
    const a0 = v128.load(a);
    const a1 = v128.load(a, 16);
    const a2 = v128.load(a, 32);
    const a3 = v128.load(a, 48);
    v128.store(tmp, dotBytes(v128.load(o, 8), v128.load(o, 24), a0, a1, a2, a3));
    v128.store(tmp, dotBytes(v128.load(o, 40), v128.load(o, 56), a0, a1, a2, a3), 16);
    v128.store(tmp, dotBytes(v128.load(o, 72), v128.load(o, 88), a0, a1, a2, a3), 32);
    v128.store(tmp, dotBytes(v128.load(o, 104), v128.load(o, 120), a0, a1, a2, a3), 48);
    const d = f32x4.mul(halves4(v128.load64_zero(o)), f32x4.splat(load<f32>(dA + ((b as usize) << 2))));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(sums4(tmp)), d));
    o += 136;
  }
  return acc;
}

/**
 * Four rows' chunk j of a Q4_K super-block (weights at q + 128 r; activation vectors and fix
 * vectors at a, the Q8K layout's nib region of actquant.ts): per row the two sub-block sums (8
 * products a lane, |.| <= 8 * 15 * 127: i16) are narrowed into one i16x8 and multiplied by the
 * row's two scales with one dot; the row's sum goes to accs + 16 r. The rows are written out (a loop costs V8 an exit test and address arithmetic
 * per row); each row's store to accs keeps V8 from hoisting every row's unpacking first.
 */
// @ts-expect-error: decorator
@inline
function q4kRows(q: usize, a: usize, scs: usize, accs: usize, j: i32): void {
  const x0 = v128.load(a);
  const f1 = v128.load(a, 16);
  const x2 = v128.load(a, 32);
  const f3 = v128.load(a, 48);
  const x4 = v128.load(a, 64);
  const f5 = v128.load(a, 80);
  const x6 = v128.load(a, 96);
  const f7 = v128.load(a, 112);
  q4kRowChunk(q, x0, f1, x2, f3, x4, f5, x6, f7, scs, accs, j, 0);
  q4kRowChunk(q, x0, f1, x2, f3, x4, f5, x6, f7, scs, accs, j, 1);
  q4kRowChunk(q, x0, f1, x2, f3, x4, f5, x6, f7, scs, accs, j, 2);
  q4kRowChunk(q, x0, f1, x2, f3, x4, f5, x6, f7, scs, accs, j, 3);
}

/** Row r's part of q4kRows. */
// @ts-expect-error: decorator
@inline
function q4kRowChunk(
  q: usize,
  x0: v128,
  f1: v128,
  x2: v128,
  f3: v128,
  x4: v128,
  f5: v128,
  x6: v128,
  f7: v128,
  scs: usize,
  accs: usize,
  j: i32,
  r: usize,
): void {
  const sL = dotNibbles(v128.load(q + (r << 7)), x0, f1, x2, f3);
  const sH = dotNibbles(v128.load(q + (r << 7), 16), x4, f5, x6, f7);
  // scs: per row, the scales doubled (s0 s0 s1 s1 .. as i16); one pshufd gives s2j x4, s2j+1 x4
  const e = v128.load(scs + (r << 5) + ((j >> 1) << 4));
  const s = (j & 1) == 0 ? v128.shuffle<i32>(e, e, 0, 0, 1, 1) : v128.shuffle<i32>(e, e, 2, 2, 3, 3);
  const d = i32x4.dot_i16x8_s(i16x8.narrow_i32x4_s(sL, sH), s);
  const t = accs + (r << 4);
  v128.store(t, j == 0 ? d : i32x4.add(v128.load(t), d));
}

/** The eight i16 lanes of e doubled (e0 e0 e1 e1 .. e7 e7) into two vectors at t. */
// @ts-expect-error: decorator
@inline
function storeDoubled(t: usize, e: v128): void {
  v128.store(t, v128.shuffle<i16>(e, e, 0, 0, 1, 1, 2, 2, 3, 3));
  v128.store(t, v128.shuffle<i16>(e, e, 4, 4, 5, 5, 6, 6, 7, 7), 16);
}

/** Q4_K (the x4 group layout above): integer sums per row in lanes, floats per group. */
function dotX4Q4_K(p: usize, act: usize, n: i32, tmp: usize, b0: i32, b1: i32, acc0: v128): v128 {
  const nk = n >> 8;
  const dA = act + ((n as usize) << 1);
  const bA = dA + ((nk as usize) << 2);
  const nA = bA + ((n as usize) >> 2);
  const accs = tmp;
  const scs = tmp + 64;
  const k3f = i32x4.splat(0x3f3f3f3f);
  const k0f = i32x4.splat(0x0f0f0f0f);
  const k03 = i32x4.splat(0x03030303);
  let acc = acc0;
  let g = p;
  for (let b = b0; b < b1; b++) {
    const bs = bA + ((b as usize) << 6);
    // the four rows' scales and mins (lane r = row r), as ggml's get_scale_min_k4 with u32 masks
    const u0 = v128.load(g, 16);
    const u1 = v128.load(g, 32);
    const u2 = v128.load(g, 48);
    const sc0 = v128.and(u0, k3f);
    const sc1 = v128.or(v128.and(u2, k0f), i32x4.shl(v128.and(i32x4.shr_u(u0, 6), k03), 4));
    const mn0 = v128.and(u1, k3f);
    const mn1 = v128.or(v128.and(i32x4.shr_u(u2, 4), k0f), i32x4.shl(v128.and(i32x4.shr_u(u1, 6), k03), 4));
    // row r's eight scales (mins) as bytes 8r..8r+7
    const s01 = v128.shuffle<u8>(sc0, sc1, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    const s23 = v128.shuffle<u8>(sc0, sc1, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
    storeDoubled(scs, i16x8.extend_low_i8x16_u(s01));
    storeDoubled(scs + 32, i16x8.extend_high_i8x16_u(s01));
    storeDoubled(scs + 64, i16x8.extend_low_i8x16_u(s23));
    storeDoubled(scs + 96, i16x8.extend_high_i8x16_u(s23));
    const m01 = v128.shuffle<u8>(mn0, mn1, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    const m23 = v128.shuffle<u8>(mn0, mn1, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
    // activation sums of the eight sub-blocks (|.| <= 32 * 127: i16)
    const ps = i16x8.narrow_i32x4_s(pairSums(bs, 0), pairSums(bs, 8));
    const mins = hsum4i(
      i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(m01), ps),
      i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(m01), ps),
      i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(m23), ps),
      i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(m23), ps),
    );
    const q = g + 64;
    const nib = nA + ((b as usize) << 9);
    q4kRows(q, nib, scs, accs, 0);
    q4kRows(q + 32, nib + 128, scs, accs, 1);
    q4kRows(q + 64, nib + 256, scs, accs, 2);
    q4kRows(q + 96, nib + 384, scs, accs, 3);
    const sums = hsum4i(v128.load(accs), v128.load(accs, 16), v128.load(accs, 32), v128.load(accs, 48));
    const h = v128.load(g);
    const da = f32x4.splat(load<f32>(dA + ((b as usize) << 2)));
    const d = f32x4.mul(evenHalfScales(h), da);
    const dm = f32x4.mul(oddHalfScales(h), da);
    acc = f32x4.add(acc, f32x4.sub(f32x4.mul(d, f32x4.convert_i32x4_s(sums)), f32x4.mul(dm, f32x4.convert_i32x4_s(mins))));
    g += 576;
  }
  return acc;
}

/**
 * Four rows' chunk c of a Q6_K super-block (repacked weights at q + 192 r): per row the four group
 * sums (4 products a lane, |.| <= 4 * 63 * 127: i16) are narrowed in pairs and multiplied by the
 * groups' scales with two dots; the row's sum goes to accs + 16 r. Rows written out as in q4kRows.
 */
// @ts-expect-error: decorator
@inline
function q6kRows(q: usize, a: usize, scs: usize, accs: usize, c: i32): void {
  const x0 = v128.load(a);
  const x1 = v128.load(a, 16);
  const x2 = v128.load(a, 64);
  const x3 = v128.load(a, 80);
  const x4 = v128.load(a, 128);
  const x5 = v128.load(a, 144);
  const x6 = v128.load(a, 192);
  const x7 = v128.load(a, 208);
  q6kRowChunk(q, x0, x1, x2, x3, x4, x5, x6, x7, scs, accs, c, 0);
  q6kRowChunk(q, x0, x1, x2, x3, x4, x5, x6, x7, scs, accs, c, 1);
  q6kRowChunk(q, x0, x1, x2, x3, x4, x5, x6, x7, scs, accs, c, 2);
  q6kRowChunk(q, x0, x1, x2, x3, x4, x5, x6, x7, scs, accs, c, 3);
}

/** Row r's part of q6kRows. */
// @ts-expect-error: decorator
@inline
function q6kRowChunk(
  q: usize,
  x0: v128,
  x1: v128,
  x2: v128,
  x3: v128,
  x4: v128,
  x5: v128,
  x6: v128,
  x7: v128,
  scs: usize,
  accs: usize,
  c: i32,
  r: usize,
): void {
  const o = q + r * 192;
  const A = v128.load(o);
  const B = v128.load(o, 16);
  const C = v128.load(o, 32);
  const g0 = i32x4.add(i32x4.dot_i16x8_s(q6x4V(A, B, C, 0), x0), i32x4.dot_i16x8_s(q6x4V(A, B, C, 1), x1));
  const g1 = i32x4.add(i32x4.dot_i16x8_s(q6x4V(A, B, C, 2), x2), i32x4.dot_i16x8_s(q6x4V(A, B, C, 3), x3));
  const g2 = i32x4.add(i32x4.dot_i16x8_s(q6x4V(A, B, C, 4), x4), i32x4.dot_i16x8_s(q6x4V(A, B, C, 5), x5));
  const g3 = i32x4.add(i32x4.dot_i16x8_s(q6x4V(A, B, C, 6), x6), i32x4.dot_i16x8_s(q6x4V(A, B, C, 7), x7));
  // groups 8h + (c & 1) + 2k: lanes (c & 1) + 2k of the row's scales of half h
  // scs + 64 r + 16 c: the chunk's four group scales, each doubled (one pshufd per pair)
  const e = v128.load(scs + (r << 6) + ((c as usize) << 4));
  const s0 = v128.shuffle<i32>(e, e, 0, 0, 1, 1);
  const s1 = v128.shuffle<i32>(e, e, 2, 2, 3, 3);
  const d = i32x4.add(i32x4.dot_i16x8_s(i16x8.narrow_i32x4_s(g0, g1), s0), i32x4.dot_i16x8_s(i16x8.narrow_i32x4_s(g2, g3), s1));
  const t = accs + (r << 4);
  v128.store(t, i32x4.add(v128.load(t), d));
}

/** Q6_K (the x4 group layout above). */
function dotX4Q6_K(p: usize, act: usize, n: i32, tmp: usize, b0: i32, b1: i32, acc0: v128): v128 {
  const nk = n >> 8;
  const dA = act + ((n as usize) << 1);
  const bA = dA + ((nk as usize) << 2);
  const accs = tmp;
  const scs = tmp + 64;
  let acc = acc0;
  let g = p;
  for (let b = b0; b < b1; b++) {
    const a = act + ((b as usize) << 9);
    const bs = bA + ((b as usize) << 6);
    // group sums of the activation as i16 (|.| <= 16 * 127); the -32 offset starts each row's sum
    const b0 = i16x8.narrow_i32x4_s(v128.load(bs), v128.load(bs, 16));
    const b1 = i16x8.narrow_i32x4_s(v128.load(bs, 32), v128.load(bs, 48));
    for (let r: usize = 0; r < 4; r++) {
      const sv = v128.load(g + (r << 4));
      const lo = i16x8.extend_low_i8x16_s(sv);
      const hi = i16x8.extend_high_i8x16_s(sv);
      // chunk c's groups are 8h + (c & 1) + 2k: the even or the odd scales of a half, doubled
      const t = scs + (r << 6);
      v128.store(t, v128.shuffle<i16>(lo, lo, 0, 0, 2, 2, 4, 4, 6, 6));
      v128.store(t, v128.shuffle<i16>(lo, lo, 1, 1, 3, 3, 5, 5, 7, 7), 16);
      v128.store(t, v128.shuffle<i16>(hi, hi, 0, 0, 2, 2, 4, 4, 6, 6), 32);
      v128.store(t, v128.shuffle<i16>(hi, hi, 1, 1, 3, 3, 5, 5, 7, 7), 48);
      const off = i32x4.add(i32x4.dot_i16x8_s(lo, b0), i32x4.dot_i16x8_s(hi, b1));
      v128.store(accs + (r << 4), i32x4.sub(i32x4.splat(0), i32x4.shl(off, 5)));
    }
    const q = g + 64;
    q6kRows(q, a, scs, accs, 0);
    q6kRows(q + 48, a + 32, scs, accs, 1);
    q6kRows(q + 96, a + 256, scs, accs, 2);
    q6kRows(q + 144, a + 288, scs, accs, 3);
    const sums = hsum4i(v128.load(accs), v128.load(accs, 16), v128.load(accs, 32), v128.load(accs, 48));
    const d = f32x4.mul(halfScales4(v128.load64_zero(g + 832)), f32x4.splat(load<f32>(dA + ((b as usize) << 2))));
    acc = f32x4.add(acc, f32x4.mul(d, f32x4.convert_i32x4_s(sums)));
    g += 840;
  }
  return acc;
}

/**
 * y[t][r] for the x4 groups of rows [r0, r1) (multiples of four below rowsX4, the end of the x4
 * region), tokens [0, nTok); see matmul.ts for the other arguments. tmp: this thread's 1536-byte
 * scratch. A slab-cut matrix goes slab by slab over each super-group; a row's running sum waits in
 * y between slabs, so its blocks are added in the same order as in one pass (same result bits).
 */
export function matmulX4(
  type: i32,
  w: usize,
  rowBytes: usize,
  rowsX4: i32,
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
  const nb = n / blockElems(type);
  const per = x4SlabBlocks(type, n);
  const gb = (blockBytes(type) as usize) << 2;
  for (let sg = r0 & ~(SUPER_ROWS - 1); sg < r1; sg += SUPER_ROWS) {
    const ga = max(r0, sg);
    const gz = min(r1, sg + SUPER_ROWS);
    for (let b0 = 0; b0 < nb; b0 += per) {
      const b1 = min(b0 + per, nb);
      for (let r = ga; r < gz; r += 4) {
        const p = x4Block(w, rowBytes, rowsX4, gb, nb, per, r, b0);
        for (let t = 0; t < nTok; t++) {
          const a = act + (t as usize) * actStride;
          const yp = y + ((((t as usize) * (yStride as usize)) + (r as usize)) << 2);
          const acc0 = b0 == 0 ? f32x4.splat(0) : v128.load(yp);
          let res: v128;
          if (type == 2) res = dotX4Q4_0(p, a, n, tmp, b0, b1, acc0);
          else if (type == 3) res = dotX4Q4_1(p, a, n, tmp, b0, b1, acc0);
          else if (type == 8) res = dotX4Q8_0(p, a, n, tmp, b0, b1, acc0);
          else if (type == 12) res = dotX4Q4_K(p, a, n, tmp, b0, b1, acc0);
          else res = dotX4Q6_K(p, a, n, tmp, b0, b1, acc0);
          v128.store(yp, res);
        }
      }
    }
  }
}
