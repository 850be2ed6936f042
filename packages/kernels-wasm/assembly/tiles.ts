// Matrix x matrix for prompt processing: each group of eight (or, last, four) weight rows is
// unpacked once into i16 lanes (with offsets and, for the K-quants, the integer group scales
// folded in), then reused for a tile of up to 128 tokens, four tokens per pass.
//
// Unpacked 4-row tile (unpackRow; per thread scratch), n columns:
//   q16: for each group g of 16 columns, rows 0..3, each 8 even then 8 odd i16  (g*128 + r*32)
//   then, blocks of 32 (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0): per block d f32x4, m f32x4       (32 bytes)
//         super-blocks (K-quants): per super-block d f32x4, dmin f32x4, mins i32[4][16] (288 bytes)
// Rows in lanes (rowsToLanes, in place): each group's 4 x 8 i32 column pairs become 8 x 4, so one
// vector holds one column pair (the activations' i32 slot p) of the four rows; the mins become
// i16 pairs of groups in the same order (minsToLanes). The 8-row tile (rowsToLanes8, unpack8)
// puts the vectors of rows 0-3 and 4-7 of each pair side by side (32 bytes per pair), then the
// scales of rows 0-3 and 4-7 per block. Token quads (interleave): per block, each column pair
// of the four tokens (16 bytes), then their scales.

import { f16ToF32, f16x4ToF32x4 } from "./f16";
import { gatherHalves } from "./simd";
import { blockBytes, gatherX4Group, nibbleHighs, nibbleLows, q6x4V, X4, x4Header, x4SlabBlocks } from "./x4";

// @ts-ignore: decorator
@inline
function slot(g: i32, r: i32, w: i32): usize {
  return ((g << 7) + (r << 5) + ((w & 1) << 4) + ((w >> 1) << 1)) as usize;
}

// @ts-ignore: decorator
@inline
function storeGroup(q: usize, g: i32, r: i32, even: v128, odd: v128): void {
  const p = q + ((g << 7) + (r << 5)) as usize;
  v128.store(p, even);
  v128.store(p, odd, 16);
}

/** Scale and min (byte 1) j of a Q4_K/Q5_K block whose scale bytes 4k..4k+3 are at q + k * step. */
function scaleMinK4(q: usize, j: i32, step: usize): i32 {
  const k = (j & 3) as usize;
  const b0 = load<u8>(q + k) as i32;
  const b1 = load<u8>(q + step + k) as i32;
  if (j < 4) return (b0 & 63) | ((b1 & 63) << 8);
  const hi = load<u8>(q + (step << 1) + k) as i32;
  return (hi & 0xf) | ((b0 >> 6) << 4) | (((hi >> 4) | ((b1 >> 6) << 4)) << 8);
}

function q3Scale(sc: usize, i: i32): i32 {
  const a0 = load<u32>(sc);
  const a1 = load<u32>(sc, 4);
  const t = load<u32>(sc, 8);
  let v: u32;
  const sel = i >> 2;
  if (sel == 0) v = (a0 & 0x0f0f0f0f) | ((t & 0x03030303) << 4);
  else if (sel == 1) v = (a1 & 0x0f0f0f0f) | (((t >> 2) & 0x03030303) << 4);
  else if (sel == 2) v = ((a0 >> 4) & 0x0f0f0f0f) | (((t >> 4) & 0x03030303) << 4);
  else v = ((a1 >> 4) & 0x0f0f0f0f) | (((t >> 6) & 0x03030303) << 4);
  return (((v >> (((i & 3) as u32) << 3)) & 0xff) as i32) - 32;
}

/** True for the types whose tiles use 32-element blocks with float scales. */
// @ts-ignore: decorator
@inline
function isBlock32(type: i32): bool {
  return type == 2 || type == 3 || type == 6 || type == 7 || type == 8;
}

// ---------------------------------------------------------------- unpacking one row

/**
 * Unpack row r of the tile. Q4_0, Q4_1 and Q8_0 read block b's header (f16 d, then m for Q4_1) at
 * hp + b * stride and its quants at qp + b * stride (ggml's layout or the x4 one); Q4_K, Q5_K and
 * Q6_K read block b at qp + b * stride; the other types read ggml's layout at p.
 */
function unpackRow(type: i32, p: usize, n: i32, tile: usize, r: i32, hp: usize, qp: usize, stride: usize): void {
  const q = tile;
  const sc = tile + ((n as usize) << 3);
  const m4 = i16x8.splat(0x0f);
  if (type == 2 || type == 8 || type == 3) {
    for (let b = 0; b < n >> 5; b++) {
      const g = b << 1;
      const s = sc + ((b as usize) << 5) + ((r as usize) << 2);
      const h = hp + (b as usize) * stride;
      const o = qp + (b as usize) * stride;
      if (type == 8) {
        const w0 = v128.load(o);
        const w1 = v128.load(o, 16);
        storeGroup(q, g, r, i16x8.shr_s(i16x8.shl(w0, 8), 8), i16x8.shr_s(w0, 8));
        storeGroup(q, g + 1, r, i16x8.shr_s(i16x8.shl(w1, 8), 8), i16x8.shr_s(w1, 8));
        store<f32>(s, f16ToF32(load<u16>(h)));
        store<f32>(s, 0, 16);
      } else {
        const w = v128.load(o);
        const off = i16x8.splat(type == 2 ? 8 : 0);
        storeGroup(q, g, r, i16x8.sub(v128.and(w, m4), off), i16x8.sub(v128.and(i16x8.shr_u(w, 8), m4), off));
        storeGroup(q, g + 1, r, i16x8.sub(v128.and(i16x8.shr_u(w, 4), m4), off), i16x8.sub(i16x8.shr_u(w, 12), off));
        store<f32>(s, f16ToF32(load<u16>(h)));
        store<f32>(s, type == 3 ? f16ToF32(load<u16>(h, 2)) : 0, 16);
      }
    }
    return;
  }
  if (type == 6 || type == 7) {
    const bs: usize = type == 6 ? 22 : 24;
    for (let b = 0; b < n >> 5; b++) {
      const o = p + (b as usize) * bs;
      const qh = load<u32>(o + (type == 6 ? 2 : 4));
      const qs = o + (type == 6 ? 6 : 8);
      const off = type == 6 ? 16 : 0;
      for (let j = 0; j < 16; j++) {
        const byte = load<u8>(qs + j) as i32;
        const x0 = ((byte & 15) | ((((qh >> j) & 1) << 4) as i32)) - off;
        const x1 = ((byte >> 4) | ((((qh >> (j + 16)) & 1) << 4) as i32)) - off;
        store<i16>(q + slot((b << 1) + (j >> 4), r, j), x0 as i16);
        store<i16>(q + slot((b << 1) + 1, r, j), x1 as i16);
      }
      const s = sc + ((b as usize) << 5) + ((r as usize) << 2);
      store<f32>(s, f16ToF32(load<u16>(o)));
      store<f32>(s, type == 7 ? f16ToF32(load<u16>(o, 2)) : 0, 16);
    }
    return;
  }
  // K-quants: q' = q * group scale (offsets folded), mins kept per 16-group for the bsum term.
  for (let b = 0; b < n >> 8; b++) {
    const s = sc + (b as usize) * 288;
    const mins = s + 32 + ((r as usize) << 6);
    const gb = b << 4; // first 16-group of this super-block
    if (type == 12 || type == 13) {
      const five = type == 13;
      const o = qp + (b as usize) * stride;
      let qs = o + (five ? 48 : 16);
      let dp = o;
      let scp = o + 4;
      let step: usize = 4;
      const x4 = stride != 144 && !five;
      if (x4) {
        // Q4_K x4 group (x4.ts): headers by field, then each row's qs
        const G = hp + (b as usize) * stride;
        const ri = (qp - hp) / 144;
        dp = G + (ri << 2);
        scp = G + 16 + (ri << 2);
        step = 16;
        qs = G + 64 + (ri << 7);
      }
      store<f32>(s + ((r as usize) << 2), f16ToF32(load<u16>(dp)));
      store<f32>(s + 16 + ((r as usize) << 2), f16ToF32(load<u16>(dp, 2)));
      const b5 = i16x8.splat(0x10);
      const h0 = five ? v128.load(o, 16) : i32x4.splat(0);
      const h1 = five ? v128.load(o, 32) : i32x4.splat(0);
      for (let j = 0; j < 4; j++) {
        const lo = scaleMinK4(scp, j << 1, step);
        const hi = scaleMinK4(scp, (j << 1) + 1, step);
        const sl = i16x8.splat((lo & 0xff) as i16);
        const sh = i16x8.splat((hi & 0xff) as i16);
        let w0 = v128.load(qs + ((j as usize) << 5));
        let w1 = v128.load(qs + ((j as usize) << 5), 16);
        if (x4) {
          // the chunk's two sub-blocks (x4.ts) back in ggml's order
          const l = w0;
          w0 = nibbleLows(l, w1);
          w1 = nibbleHighs(l, w1);
        }
        let e0 = v128.and(w0, m4);
        let o0 = v128.and(i16x8.shr_u(w0, 8), m4);
        let e1 = v128.and(w1, m4);
        let o1 = v128.and(i16x8.shr_u(w1, 8), m4);
        let e2 = v128.and(i16x8.shr_u(w0, 4), m4);
        let o2 = i16x8.shr_u(w0, 12);
        let e3 = v128.and(i16x8.shr_u(w1, 4), m4);
        let o3 = i16x8.shr_u(w1, 12);
        if (five) {
          const t0 = i16x8.shr_u(h0, j << 1);
          const t1 = i16x8.shr_u(h1, j << 1);
          const u0 = i16x8.shr_u(h0, (j << 1) + 1);
          const u1 = i16x8.shr_u(h1, (j << 1) + 1);
          e0 = v128.or(e0, v128.and(i16x8.shl(t0, 4), b5));
          o0 = v128.or(o0, v128.and(i16x8.shr_u(t0, 4), b5));
          e1 = v128.or(e1, v128.and(i16x8.shl(t1, 4), b5));
          o1 = v128.or(o1, v128.and(i16x8.shr_u(t1, 4), b5));
          e2 = v128.or(e2, v128.and(i16x8.shl(u0, 4), b5));
          o2 = v128.or(o2, v128.and(i16x8.shr_u(u0, 4), b5));
          e3 = v128.or(e3, v128.and(i16x8.shl(u1, 4), b5));
          o3 = v128.or(o3, v128.and(i16x8.shr_u(u1, 4), b5));
        }
        const g = gb + (j << 2);
        storeGroup(q, g, r, i16x8.mul(e0, sl), i16x8.mul(o0, sl));
        storeGroup(q, g + 1, r, i16x8.mul(e1, sl), i16x8.mul(o1, sl));
        storeGroup(q, g + 2, r, i16x8.mul(e2, sh), i16x8.mul(o2, sh));
        storeGroup(q, g + 3, r, i16x8.mul(e3, sh), i16x8.mul(o3, sh));
        const ml = lo >> 8;
        const mh = hi >> 8;
        store<i32>(mins + ((j as usize) << 4), ml);
        store<i32>(mins + ((j as usize) << 4), ml, 4);
        store<i32>(mins + ((j as usize) << 4), mh, 8);
        store<i32>(mins + ((j as usize) << 4), mh, 12);
      }
    } else if (type == 14 && stride != 210) {
      // Q6_K x4 group (x4.ts): scales, repacked quants, d
      const G = hp + (b as usize) * stride;
      const ri = (qp - hp) / 210;
      store<f32>(s + ((r as usize) << 2), f16ToF32(load<u16>(G + 832 + (ri << 1))));
      store<f32>(s + 16 + ((r as usize) << 2), 0);
      const k32 = i16x8.splat(32);
      for (let c = 0; c < 4; c++) {
        const qc = G + 64 + ri * 192 + (c as usize) * 48;
        const A = v128.load(qc);
        const B = v128.load(qc, 16);
        const C = v128.load(qc, 32);
        const g = (c >> 1 << 3) + (c & 1);
        const scp = G + (ri << 4) + (g as usize);
        const s1 = i16x8.splat(load<i8>(scp) as i16);
        const s2 = i16x8.splat(load<i8>(scp, 2) as i16);
        const s3 = i16x8.splat(load<i8>(scp, 4) as i16);
        const s4 = i16x8.splat(load<i8>(scp, 6) as i16);
        storeGroup(q, gb + g, r, i16x8.mul(i16x8.sub(q6x4V(A, B, C, 0), k32), s1), i16x8.mul(i16x8.sub(q6x4V(A, B, C, 1), k32), s1));
        storeGroup(q, gb + g + 2, r, i16x8.mul(i16x8.sub(q6x4V(A, B, C, 2), k32), s2), i16x8.mul(i16x8.sub(q6x4V(A, B, C, 3), k32), s2));
        storeGroup(q, gb + g + 4, r, i16x8.mul(i16x8.sub(q6x4V(A, B, C, 4), k32), s3), i16x8.mul(i16x8.sub(q6x4V(A, B, C, 5), k32), s3));
        storeGroup(q, gb + g + 6, r, i16x8.mul(i16x8.sub(q6x4V(A, B, C, 6), k32), s4), i16x8.mul(i16x8.sub(q6x4V(A, B, C, 7), k32), s4));
      }
      for (let g = 0; g < 16; g++) store<i32>(mins + ((g as usize) << 2), 0);
    } else if (type == 14) {
      const o = qp + (b as usize) * stride;
      store<f32>(s + ((r as usize) << 2), f16ToF32(load<u16>(o, 208)));
      store<f32>(s + 16 + ((r as usize) << 2), 0);
      const m30 = i16x8.splat(0x30);
      const k32 = i16x8.splat(32);
      for (let h = 0; h < 2; h++) {
        const ql = o + ((h as usize) << 6);
        const qh = o + 128 + ((h as usize) << 5);
        const scp = o + 192 + ((h as usize) << 3);
        for (let l = 0; l < 2; l++) {
          const lo = (l as usize) << 4;
          const wa = v128.load(ql + lo);
          const wb = v128.load(ql + 32 + lo);
          const hv = v128.load(qh + lo);
          const g = gb + (h << 3) + l;
          const s1 = i16x8.splat(load<i8>(scp + l) as i16);
          const s2 = i16x8.splat(load<i8>(scp + l + 2) as i16);
          const s3 = i16x8.splat(load<i8>(scp + l + 4) as i16);
          const s4 = i16x8.splat(load<i8>(scp + l + 6) as i16);
          storeGroup(q, g, r,
            i16x8.mul(i16x8.sub(v128.or(v128.and(wa, m4), v128.and(i16x8.shl(hv, 4), m30)), k32), s1),
            i16x8.mul(i16x8.sub(v128.or(v128.and(i16x8.shr_u(wa, 8), m4), v128.and(i16x8.shr_u(hv, 4), m30)), k32), s1));
          storeGroup(q, g + 2, r,
            i16x8.mul(i16x8.sub(v128.or(v128.and(wb, m4), v128.and(i16x8.shl(hv, 2), m30)), k32), s2),
            i16x8.mul(i16x8.sub(v128.or(v128.and(i16x8.shr_u(wb, 8), m4), v128.and(i16x8.shr_u(hv, 6), m30)), k32), s2));
          storeGroup(q, g + 4, r,
            i16x8.mul(i16x8.sub(v128.or(v128.and(i16x8.shr_u(wa, 4), m4), v128.and(hv, m30)), k32), s3),
            i16x8.mul(i16x8.sub(v128.or(i16x8.shr_u(wa, 12), v128.and(i16x8.shr_u(hv, 8), m30)), k32), s3));
          storeGroup(q, g + 6, r,
            i16x8.mul(i16x8.sub(v128.or(v128.and(i16x8.shr_u(wb, 4), m4), v128.and(i16x8.shr_u(hv, 2), m30)), k32), s4),
            i16x8.mul(i16x8.sub(v128.or(i16x8.shr_u(wb, 12), v128.and(i16x8.shr_u(hv, 10), m30)), k32), s4));
        }
      }
      for (let g = 0; g < 16; g++) store<i32>(mins + ((g as usize) << 2), 0);
    } else if (type == 10) {
      const o = p + (b as usize) * 84;
      store<f32>(s + ((r as usize) << 2), f16ToF32(load<u16>(o, 80)));
      store<f32>(s + 16 + ((r as usize) << 2), f16ToF32(load<u16>(o, 82)));
      for (let hh = 0; hh < 2; hh++) {
        for (let j = 0; j < 4; j++) {
          for (let l = 0; l < 32; l++) {
            const g = (hh << 3) + (j << 1) + (l >> 4);
            const scb = load<u8>(o + g) as i32;
            const v = ((load<u8>(o + 16 + (hh << 5) + l) as i32) >> (j << 1)) & 3;
            store<i16>(q + slot(gb + g, r, l & 15), (v * (scb & 15)) as i16);
          }
        }
      }
      for (let g = 0; g < 16; g++) store<i32>(mins + ((g as usize) << 2), (load<u8>(o + g) as i32) >> 4);
    } else if (type == 11) {
      const o = p + (b as usize) * 110;
      store<f32>(s + ((r as usize) << 2), f16ToF32(load<u16>(o, 108)));
      store<f32>(s + 16 + ((r as usize) << 2), 0);
      for (let hh = 0; hh < 2; hh++) {
        for (let j = 0; j < 4; j++) {
          for (let l = 0; l < 32; l++) {
            const g = (hh << 3) + (j << 1) + (l >> 4);
            const v = ((load<u8>(o + 32 + (hh << 5) + l) as i32) >> (j << 1)) & 3;
            const hb = ((load<u8>(o + l) as i32) >> ((hh << 2) + j)) & 1;
            store<i16>(q + slot(gb + g, r, l & 15), ((v - (hb ? 0 : 4)) * q3Scale(o + 96, g)) as i16);
          }
        }
      }
      for (let g = 0; g < 16; g++) store<i32>(mins + ((g as usize) << 2), 0);
    } else {
      unreachable();
    }
  }
}

// ---------------------------------------------------------------- four tokens against a tile

/**
 * Rows into lanes: unpackRow writes, per group of 16 columns, each row's 8 i32 pairs (even/odd
 * order) one row after the other; this turns each group's 4 x 8 pairs into 8 x 4, so that one
 * vector holds the same column pair of the four rows. A dot with that pair of the activation
 * broadcast (v128.load32_splat) then gives the four rows' sums in its lanes: no horizontal sums.
 */
function rowsToLanes(tile: usize, n: i32, block32: bool): void {
  if (!block32) for (let b = 0; b < n >> 8; b++) minsToLanes(tile + ((n as usize) << 3) + (b as usize) * 288 + 32);
  for (let g = 0; g < n >> 4; g++) {
    const p = tile + ((g as usize) << 7);
    const a = v128.load(p);
    const b = v128.load(p, 32);
    const c = v128.load(p, 64);
    const d = v128.load(p, 96);
    const e = v128.load(p, 16);
    const f = v128.load(p, 48);
    const h = v128.load(p, 80);
    const k = v128.load(p, 112);
    transpose4(p, a, b, c, d);
    transpose4(p + 64, e, f, h, k);
  }
}

// @ts-ignore: decorator
@inline
function transpose4(o: usize, a: v128, b: v128, c: v128, d: v128): void {
  const t0 = v128.shuffle<i32>(a, b, 0, 4, 1, 5);
  const t1 = v128.shuffle<i32>(a, b, 2, 6, 3, 7);
  const t2 = v128.shuffle<i32>(c, d, 0, 4, 1, 5);
  const t3 = v128.shuffle<i32>(c, d, 2, 6, 3, 7);
  v128.store(o, v128.shuffle<i32>(t0, t2, 0, 1, 4, 5));
  v128.store(o, v128.shuffle<i32>(t0, t2, 2, 3, 6, 7), 16);
  v128.store(o, v128.shuffle<i32>(t1, t3, 0, 1, 4, 5), 32);
  v128.store(o, v128.shuffle<i32>(t1, t3, 2, 3, 6, 7), 48);
}

/**
 * A K-quant tile's per-row mins (i32[4][16] at m, as unpackRow writes them) as i16 pairs in the
 * rows-in-lanes order: vector k holds groups 2k, 2k+1 of rows 0..3 (mins <= 63).
 */
function minsToLanes(m: usize): void {
  const r0a = i16x8.narrow_i32x4_s(v128.load(m), v128.load(m, 16));
  const r0b = i16x8.narrow_i32x4_s(v128.load(m, 32), v128.load(m, 48));
  const r1a = i16x8.narrow_i32x4_s(v128.load(m, 64), v128.load(m, 80));
  const r1b = i16x8.narrow_i32x4_s(v128.load(m, 96), v128.load(m, 112));
  const r2a = i16x8.narrow_i32x4_s(v128.load(m, 128), v128.load(m, 144));
  const r2b = i16x8.narrow_i32x4_s(v128.load(m, 160), v128.load(m, 176));
  const r3a = i16x8.narrow_i32x4_s(v128.load(m, 192), v128.load(m, 208));
  const r3b = i16x8.narrow_i32x4_s(v128.load(m, 224), v128.load(m, 240));
  transpose4(m, r0a, r1a, r2a, r3a);
  transpose4(m + 64, r0b, r1b, r2b, r3b);
}

/**
 * Four tokens against a block-32 tile in the rows-in-lanes layout, their activations interleaved
 * by interleave32 (aq: one quad): per column pair one tile load serves the four tokens, whose
 * pairs sit in one 16-byte run (a single pointer for the four). Integer sums per (row, token) in
 * the lanes of four i32x4 over a block, then one float multiply-add per block and token.
 * Results at tmp + 0, 16, 32, 48.
 */
function quad32(tile: usize, aq: usize, n: i32, tmp: usize, withMin: bool): void {
  let sp = tile + ((n as usize) << 3);
  let q = tile;
  let a = aq;
  const qEnd = sp;
  let f0 = f32x4.splat(0);
  let f1 = f32x4.splat(0);
  let f2 = f32x4.splat(0);
  let f3 = f32x4.splat(0);
  // Pointers bumped rather than indexes: V8 keeps the loop to one address add per stream.
  while (q < qEnd) {
    let s0 = i32x4.splat(0);
    let s1 = i32x4.splat(0);
    let s2 = i32x4.splat(0);
    let s3 = i32x4.splat(0);
    const qe = q + 256;
    do {
      const w = v128.load(q);
      s0 = i32x4.add(s0, i32x4.dot_i16x8_s(w, v128.load32_splat(a)));
      s1 = i32x4.add(s1, i32x4.dot_i16x8_s(w, v128.load32_splat(a, 4)));
      s2 = i32x4.add(s2, i32x4.dot_i16x8_s(w, v128.load32_splat(a, 8)));
      s3 = i32x4.add(s3, i32x4.dot_i16x8_s(w, v128.load32_splat(a, 12)));
      q += 16;
      a += 16;
    } while (q < qe);
    // a: the quad's four d, then four s
    const dW = v128.load(sp);
    const x0 = f32x4.mul(f32x4.convert_i32x4_s(s0), f32x4.mul(dW, v128.load32_splat(a)));
    const x1 = f32x4.mul(f32x4.convert_i32x4_s(s1), f32x4.mul(dW, v128.load32_splat(a, 4)));
    const x2 = f32x4.mul(f32x4.convert_i32x4_s(s2), f32x4.mul(dW, v128.load32_splat(a, 8)));
    const x3 = f32x4.mul(f32x4.convert_i32x4_s(s3), f32x4.mul(dW, v128.load32_splat(a, 12)));
    if (withMin) {
      // acc + (x + m), as the matrix x vector kernels add them
      const mW = v128.load(sp, 16);
      f0 = f32x4.add(f0, f32x4.add(x0, f32x4.mul(mW, v128.load32_splat(a, 16))));
      f1 = f32x4.add(f1, f32x4.add(x1, f32x4.mul(mW, v128.load32_splat(a, 20))));
      f2 = f32x4.add(f2, f32x4.add(x2, f32x4.mul(mW, v128.load32_splat(a, 24))));
      f3 = f32x4.add(f3, f32x4.add(x3, f32x4.mul(mW, v128.load32_splat(a, 28))));
    } else {
      f0 = f32x4.add(f0, x0);
      f1 = f32x4.add(f1, x1);
      f2 = f32x4.add(f2, x2);
      f3 = f32x4.add(f3, x3);
    }
    a += 32;
    sp += 32;
  }
  v128.store(tmp, f0);
  v128.store(tmp, f1, 16);
  v128.store(tmp, f2, 32);
  v128.store(tmp, f3, 48);
}

/** Bytes of one block of a token quad's interleaved Q8 activations: 16 pairs x 4 tokens, d[4], s[4]. */
const QB32: usize = 288;
/** Bytes of one super-block of a token quad's interleaved Q8K activations: 128 pairs x 4, d[4], 8 bsum pairs x 4. */
const QBK: usize = 2192;

/**
 * The Q8 (block32) or Q8K activations of tokens a0..a3 (their rows) interleaved into one quad at
 * o: per block, for each column pair the four tokens' i32 pairs in a row, then the scales.
 */
function interleave(block32: bool, a0: usize, a1: usize, a2: usize, a3: usize, n: i32, o: usize): void {
  const pairs = (n >> 1) as usize; // i32 pairs per row
  const per: usize = block32 ? 16 : 128; // pairs per block
  const qb = block32 ? QB32 : QBK;
  for (let i: usize = 0, ob = o; i < pairs; i += per, ob += qb) {
    for (let k: usize = 0; k < per; k += 4) {
      const src = i + k;
      transpose4(ob + (k << 4), v128.load(a0 + (src << 2)), v128.load(a1 + (src << 2)), v128.load(a2 + (src << 2)), v128.load(a3 + (src << 2)));
    }
  }
  const nb = (block32 ? n >> 5 : n >> 8) as usize;
  const dOff = (n as usize) << 1;
  for (let b: usize = 0; b < nb; b++) {
    const ob = o + b * qb + (per << 4);
    const db = dOff + (b << 2);
    store<f32>(ob, load<f32>(a0 + db));
    store<f32>(ob, load<f32>(a1 + db), 4);
    store<f32>(ob, load<f32>(a2 + db), 8);
    store<f32>(ob, load<f32>(a3 + db), 12);
    if (block32) {
      const sb = db + (nb << 2);
      store<f32>(ob, load<f32>(a0 + sb), 16);
      store<f32>(ob, load<f32>(a1 + sb), 20);
      store<f32>(ob, load<f32>(a2 + sb), 24);
      store<f32>(ob, load<f32>(a3 + sb), 28);
    } else {
      // group sums (|sum| <= 16 * 127) as i16 pairs, four tokens per pair as the quants
      const bb = dOff + (nb << 2) + (b << 6);
      transpose4(ob + 16,
        i16x8.narrow_i32x4_s(v128.load(a0 + bb), v128.load(a0 + bb, 16)),
        i16x8.narrow_i32x4_s(v128.load(a1 + bb), v128.load(a1 + bb, 16)),
        i16x8.narrow_i32x4_s(v128.load(a2 + bb), v128.load(a2 + bb, 16)),
        i16x8.narrow_i32x4_s(v128.load(a3 + bb), v128.load(a3 + bb, 16)));
      transpose4(ob + 80,
        i16x8.narrow_i32x4_s(v128.load(a0 + bb, 32), v128.load(a0 + bb, 48)),
        i16x8.narrow_i32x4_s(v128.load(a1 + bb, 32), v128.load(a1 + bb, 48)),
        i16x8.narrow_i32x4_s(v128.load(a2 + bb, 32), v128.load(a2 + bb, 48)),
        i16x8.narrow_i32x4_s(v128.load(a3 + bb, 32), v128.load(a3 + bb, 48)));
    }
  }
}

/** The K-quant tile's float combine of one super-block for token j of a quad (a: its super-block). */
// @ts-ignore: decorator
@inline
function combineSuper(acc: v128, sumi: v128, s: usize, a: usize, j: usize, mins: bool): v128 {
  const da = v128.load32_splat(a + 2048 + (j << 2));
  const x = f32x4.mul(f32x4.convert_i32x4_s(sumi), f32x4.mul(v128.load(s), da));
  // Q6_K and Q3_K have no mins (all zero): x - 0 is x, bit for bit.
  if (!mins) return f32x4.add(acc, x);
  // mins and activation group sums as i16 pairs (minsToLanes, interleave): eight dots
  const bs = a + 2064 + (j << 2);
  let summ = i32x4.dot_i16x8_s(v128.load(s, 32), v128.load32_splat(bs));
  summ = i32x4.add(summ, i32x4.dot_i16x8_s(v128.load(s, 48), v128.load32_splat(bs, 16)));
  summ = i32x4.add(summ, i32x4.dot_i16x8_s(v128.load(s, 64), v128.load32_splat(bs, 32)));
  summ = i32x4.add(summ, i32x4.dot_i16x8_s(v128.load(s, 80), v128.load32_splat(bs, 48)));
  summ = i32x4.add(summ, i32x4.dot_i16x8_s(v128.load(s, 96), v128.load32_splat(bs, 64)));
  summ = i32x4.add(summ, i32x4.dot_i16x8_s(v128.load(s, 112), v128.load32_splat(bs, 80)));
  summ = i32x4.add(summ, i32x4.dot_i16x8_s(v128.load(s, 128), v128.load32_splat(bs, 96)));
  summ = i32x4.add(summ, i32x4.dot_i16x8_s(v128.load(s, 144), v128.load32_splat(bs, 112)));
  const dm = f32x4.mul(v128.load(s, 16), da);
  return f32x4.add(acc, f32x4.sub(x, f32x4.mul(f32x4.convert_i32x4_s(summ), dm)));
}

/** quad32 for the K-quant tiles: integer sums over a whole super-block. Results at tmp + 0..48. */
function quadSuper(tile: usize, aq: usize, n: i32, tmp: usize, mins: bool): void {
  const nk = n >> 8;
  const sc = tile + ((n as usize) << 3);
  let f0 = f32x4.splat(0);
  let f1 = f32x4.splat(0);
  let f2 = f32x4.splat(0);
  let f3 = f32x4.splat(0);
  for (let b = 0; b < nk; b++) {
    const q = tile + ((b as usize) << 11);
    const a = aq + (b as usize) * QBK;
    let s0 = i32x4.splat(0);
    let s1 = i32x4.splat(0);
    let s2 = i32x4.splat(0);
    let s3 = i32x4.splat(0);
    for (let p: usize = 0; p < 2048; p += 32) {
      const x = a + p;
      const w0 = v128.load(q + p);
      s0 = i32x4.add(s0, i32x4.dot_i16x8_s(w0, v128.load32_splat(x)));
      s1 = i32x4.add(s1, i32x4.dot_i16x8_s(w0, v128.load32_splat(x, 4)));
      s2 = i32x4.add(s2, i32x4.dot_i16x8_s(w0, v128.load32_splat(x, 8)));
      s3 = i32x4.add(s3, i32x4.dot_i16x8_s(w0, v128.load32_splat(x, 12)));
      const w1 = v128.load(q + p, 16);
      s0 = i32x4.add(s0, i32x4.dot_i16x8_s(w1, v128.load32_splat(x, 16)));
      s1 = i32x4.add(s1, i32x4.dot_i16x8_s(w1, v128.load32_splat(x, 20)));
      s2 = i32x4.add(s2, i32x4.dot_i16x8_s(w1, v128.load32_splat(x, 24)));
      s3 = i32x4.add(s3, i32x4.dot_i16x8_s(w1, v128.load32_splat(x, 28)));
    }
    const s = sc + (b as usize) * 288;
    f0 = combineSuper(f0, s0, s, a, 0, mins);
    f1 = combineSuper(f1, s1, s, a, 1, mins);
    f2 = combineSuper(f2, s2, s, a, 2, mins);
    f3 = combineSuper(f3, s3, s, a, 3, mins);
  }
  v128.store(tmp, f0);
  v128.store(tmp, f1, 16);
  v128.store(tmp, f2, 32);
  v128.store(tmp, f3, 48);
}

// ---------------------------------------------------------------- eight rows, four tokens

// @ts-ignore: decorator
@inline
function transpose4x32(o: usize, a: v128, b: v128, c: v128, d: v128): void {
  const t0 = v128.shuffle<i32>(a, b, 0, 4, 1, 5);
  const t1 = v128.shuffle<i32>(a, b, 2, 6, 3, 7);
  const t2 = v128.shuffle<i32>(c, d, 0, 4, 1, 5);
  const t3 = v128.shuffle<i32>(c, d, 2, 6, 3, 7);
  v128.store(o, v128.shuffle<i32>(t0, t2, 0, 1, 4, 5));
  v128.store(o, v128.shuffle<i32>(t0, t2, 2, 3, 6, 7), 32);
  v128.store(o, v128.shuffle<i32>(t1, t3, 0, 1, 4, 5), 64);
  v128.store(o, v128.shuffle<i32>(t1, t3, 2, 3, 6, 7), 96);
}

/**
 * Two unpacked 4-row tiles (rows 0-3 at ta, 4-7 at tb, as unpackRow leaves them) into one 8-row
 * tile at o: per column pair the rows-in-lanes vector of rows 0-3, then that of rows 4-7 (32
 * bytes), followed by the scales, per block (or super-block) those of ta then those of tb.
 */
function rowsToLanes8(ta: usize, tb: usize, o: usize, n: i32, block32: bool): void {
  if (!block32) {
    for (let b = 0; b < n >> 8; b++) {
      minsToLanes(ta + ((n as usize) << 3) + (b as usize) * 288 + 32);
      minsToLanes(tb + ((n as usize) << 3) + (b as usize) * 288 + 32);
    }
  }
  for (let g: usize = 0; g < ((n >> 4) as usize); g++) {
    const pa = ta + (g << 7);
    const pb = tb + (g << 7);
    const po = o + (g << 8);
    transpose4x32(po, v128.load(pa), v128.load(pa, 32), v128.load(pa, 64), v128.load(pa, 96));
    transpose4x32(po + 128, v128.load(pa, 16), v128.load(pa, 48), v128.load(pa, 80), v128.load(pa, 112));
    transpose4x32(po + 16, v128.load(pb), v128.load(pb, 32), v128.load(pb, 64), v128.load(pb, 96));
    transpose4x32(po + 144, v128.load(pb, 16), v128.load(pb, 48), v128.load(pb, 80), v128.load(pb, 112));
  }
  const off = (n as usize) << 3;
  const sa = ta + off;
  const sb = tb + off;
  const so = o + (off << 1);
  const per: usize = block32 ? 32 : 288;
  const cnt = (block32 ? n >> 5 : n >> 8) as usize;
  for (let b: usize = 0; b < cnt; b++) {
    for (let j: usize = 0; j < per; j += 16) {
      v128.store(so + b * (per << 1) + j, v128.load(sa + b * per + j));
      v128.store(so + b * (per << 1) + per + j, v128.load(sb + b * per + j));
    }
  }
}

/**
 * Q4_0 / Q8_0 in the x4 layout straight into an 8-row tile (two x4 groups at gA and gB): a 4x4
 * transpose of the four rows' 32-bit words gives vectors whose lane r holds row r's bytes
 * 4k..4k+3, and masks and shifts of those as i16 lanes are the rows-in-lanes pairs (columns
 * 4k, 4k+2 | 4k+1, 4k+3 | and 16 further for Q4_0's high nibbles), in the activations' order.
 */
function unpack8(type: i32, gA: usize, gB: usize, stride: usize, n: i32, o: usize): void {
  const nb = (n >> 5) as usize;
  const m4 = i16x8.splat(0x0f);
  const k8 = i16x8.splat(8);
  const so = o + ((n as usize) << 4);
  for (let h: usize = 0; h < 32; h += 16) {
    const G = h ? gB : gA;
    for (let b: usize = 0; b < nb; b++) {
      const blk = G + b * stride;
      const s = so + (b << 6) + (h << 1);
      v128.store(s, f16x4ToF32x4(i32x4.extend_low_i16x8_u(v128.load64_zero(blk))));
      v128.store(s, f32x4.splat(0), 16);
      const out = o + (b << 9) + h;
      if (type == 2) {
        for (let k: usize = 0; k < 4; k++) {
          // lane r: row r's bytes 4k..4k+3 (rows 16 bytes apart)
          let t = v128.load32_zero(blk + 8 + (k << 2));
          t = v128.load32_lane(blk + 24 + (k << 2), t, 1);
          t = v128.load32_lane(blk + 40 + (k << 2), t, 2);
          t = v128.load32_lane(blk + 56 + (k << 2), t, 3);
          const ok = out + (k << 5);
          v128.store(ok, i16x8.sub(v128.and(t, m4), k8));
          v128.store(ok, i16x8.sub(v128.and(i16x8.shr_u(t, 8), m4), k8), 128);
          v128.store(ok, i16x8.sub(v128.and(i16x8.shr_u(t, 4), m4), k8), 256);
          v128.store(ok, i16x8.sub(i16x8.shr_u(t, 12), k8), 384);
        }
      } else {
        for (let k: usize = 0; k < 8; k++) {
          // rows 32 bytes apart; words 0-3 are group 0, 4-7 group 1
          let t = v128.load32_zero(blk + 8 + (k << 2));
          t = v128.load32_lane(blk + 40 + (k << 2), t, 1);
          t = v128.load32_lane(blk + 72 + (k << 2), t, 2);
          t = v128.load32_lane(blk + 104 + (k << 2), t, 3);
          const ok = out + ((k >> 2) << 8) + ((k & 3) << 5);
          v128.store(ok, i16x8.shr_s(i16x8.shl(t, 8), 8));
          v128.store(ok, i16x8.shr_s(t, 8), 128);
        }
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function acc8(f: usize, s: v128, d: v128, x: v128): void {
  v128.store(f, f32x4.add(v128.load(f), f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.mul(d, x))));
}

// @ts-ignore: decorator
@inline
function acc8m(f: usize, s: v128, d: v128, x: v128, m: v128, y: v128): void {
  v128.store(f, f32x4.add(v128.load(f), f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.mul(d, x)), f32x4.mul(m, y))));
}

/**
 * Eight rows (an 8-row tile of rowsToLanes8 at q) against a token quad: each broadcast activation
 * pair serves two tile vectors. Float sums in tmp: token t's rows 0-3 at tmp + 32t, rows 4-7 at
 * tmp + 32t + 16.
 */
function oct32(q: usize, aq: usize, n: i32, tmp: usize, withMin: bool): void {
  let sp = q + ((n as usize) << 4);
  const qEnd = sp;
  let a = aq;
  for (let j: usize = 0; j < 128; j += 16) v128.store(tmp + j, f32x4.splat(0));
  while (q < qEnd) {
    // the first pair starts the sums (no adds to zero)
    const va = v128.load(q);
    const vb = v128.load(q, 16);
    const x0 = v128.load32_splat(a);
    let a0 = i32x4.dot_i16x8_s(va, x0);
    let b0 = i32x4.dot_i16x8_s(vb, x0);
    const x1 = v128.load32_splat(a, 4);
    let a1 = i32x4.dot_i16x8_s(va, x1);
    let b1 = i32x4.dot_i16x8_s(vb, x1);
    const x2 = v128.load32_splat(a, 8);
    let a2 = i32x4.dot_i16x8_s(va, x2);
    let b2 = i32x4.dot_i16x8_s(vb, x2);
    const x3 = v128.load32_splat(a, 12);
    let a3 = i32x4.dot_i16x8_s(va, x3);
    let b3 = i32x4.dot_i16x8_s(vb, x3);
    const qe = q + 512;
    q += 32;
    a += 16;
    do {
      const wa = v128.load(q);
      const wb = v128.load(q, 16);
      let x = v128.load32_splat(a);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(wa, x));
      b0 = i32x4.add(b0, i32x4.dot_i16x8_s(wb, x));
      x = v128.load32_splat(a, 4);
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(wa, x));
      b1 = i32x4.add(b1, i32x4.dot_i16x8_s(wb, x));
      x = v128.load32_splat(a, 8);
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(wa, x));
      b2 = i32x4.add(b2, i32x4.dot_i16x8_s(wb, x));
      x = v128.load32_splat(a, 12);
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(wa, x));
      b3 = i32x4.add(b3, i32x4.dot_i16x8_s(wb, x));
      q += 32;
      a += 16;
    } while (q < qe);
    // a: the quad's four d, then four s; sp: rows 0-3's d (and m), then rows 4-7's
    const dA = v128.load(sp);
    const dB = v128.load(sp, 32);
    if (withMin) {
      const mA = v128.load(sp, 16);
      const mB = v128.load(sp, 48);
      let x = v128.load32_splat(a);
      let y = v128.load32_splat(a, 16);
      acc8m(tmp, a0, dA, x, mA, y);
      acc8m(tmp + 16, b0, dB, x, mB, y);
      x = v128.load32_splat(a, 4);
      y = v128.load32_splat(a, 20);
      acc8m(tmp + 32, a1, dA, x, mA, y);
      acc8m(tmp + 48, b1, dB, x, mB, y);
      x = v128.load32_splat(a, 8);
      y = v128.load32_splat(a, 24);
      acc8m(tmp + 64, a2, dA, x, mA, y);
      acc8m(tmp + 80, b2, dB, x, mB, y);
      x = v128.load32_splat(a, 12);
      y = v128.load32_splat(a, 28);
      acc8m(tmp + 96, a3, dA, x, mA, y);
      acc8m(tmp + 112, b3, dB, x, mB, y);
    } else {
      let x = v128.load32_splat(a);
      acc8(tmp, a0, dA, x);
      acc8(tmp + 16, b0, dB, x);
      x = v128.load32_splat(a, 4);
      acc8(tmp + 32, a1, dA, x);
      acc8(tmp + 48, b1, dB, x);
      x = v128.load32_splat(a, 8);
      acc8(tmp + 64, a2, dA, x);
      acc8(tmp + 80, b2, dB, x);
      x = v128.load32_splat(a, 12);
      acc8(tmp + 96, a3, dA, x);
      acc8(tmp + 112, b3, dB, x);
    }
    a += 32;
    sp += 64;
  }
}

// @ts-ignore: decorator
@inline
function accSuper(f: usize, sumi: v128, s: usize, ab: usize, j: usize, mins: bool): void {
  v128.store(f, combineSuper(v128.load(f), sumi, s, ab, j, mins));
}

/** oct32 for the K-quant tiles (integer sums over a super-block). Results as oct32's. */
function octSuper(q: usize, aq: usize, n: i32, tmp: usize, mins: bool): void {
  let sp = q + ((n as usize) << 4);
  const qEnd = sp;
  let ab = aq;
  for (let j: usize = 0; j < 128; j += 16) v128.store(tmp + j, f32x4.splat(0));
  while (q < qEnd) {
    // the first pair starts the sums (no adds to zero)
    const va = v128.load(q);
    const vb = v128.load(q, 16);
    const x0 = v128.load32_splat(ab);
    let a0 = i32x4.dot_i16x8_s(va, x0);
    let b0 = i32x4.dot_i16x8_s(vb, x0);
    const x1 = v128.load32_splat(ab, 4);
    let a1 = i32x4.dot_i16x8_s(va, x1);
    let b1 = i32x4.dot_i16x8_s(vb, x1);
    const x2 = v128.load32_splat(ab, 8);
    let a2 = i32x4.dot_i16x8_s(va, x2);
    let b2 = i32x4.dot_i16x8_s(vb, x2);
    const x3 = v128.load32_splat(ab, 12);
    let a3 = i32x4.dot_i16x8_s(va, x3);
    let b3 = i32x4.dot_i16x8_s(vb, x3);
    const qe = q + 4096;
    q += 32;
    let a = ab + 16;
    do {
      const wa = v128.load(q);
      const wb = v128.load(q, 16);
      let x = v128.load32_splat(a);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(wa, x));
      b0 = i32x4.add(b0, i32x4.dot_i16x8_s(wb, x));
      x = v128.load32_splat(a, 4);
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(wa, x));
      b1 = i32x4.add(b1, i32x4.dot_i16x8_s(wb, x));
      x = v128.load32_splat(a, 8);
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(wa, x));
      b2 = i32x4.add(b2, i32x4.dot_i16x8_s(wb, x));
      x = v128.load32_splat(a, 12);
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(wa, x));
      b3 = i32x4.add(b3, i32x4.dot_i16x8_s(wb, x));
      q += 32;
      a += 16;
    } while (q < qe);
    accSuper(tmp, a0, sp, ab, 0, mins);
    accSuper(tmp + 16, b0, sp + 288, ab, 0, mins);
    accSuper(tmp + 32, a1, sp, ab, 1, mins);
    accSuper(tmp + 48, b1, sp + 288, ab, 1, mins);
    accSuper(tmp + 64, a2, sp, ab, 2, mins);
    accSuper(tmp + 80, b2, sp + 288, ab, 2, mins);
    accSuper(tmp + 96, a3, sp, ab, 3, mins);
    accSuper(tmp + 112, b3, sp + 288, ab, 3, mins);
    ab += QBK;
    sp += 576;
  }
}

/** y[t][r..r+4) = res, clipped at row r1. */
// @ts-ignore: decorator
@inline
function storeRow4(y: usize, yStride: i32, t: i32, r: i32, r1: i32, res: v128): void {
  const yp = y + ((((t as usize) * (yStride as usize)) + (r as usize)) << 2);
  if (r + 4 <= r1) {
    v128.store(yp, res);
  } else {
    store<f32>(yp, f32x4.extract_lane(res, 0));
    if (r + 1 < r1) store<f32>(yp, f32x4.extract_lane(res, 1), 4);
    if (r + 2 < r1) store<f32>(yp, f32x4.extract_lane(res, 2), 8);
  }
}

/** Bytes of one thread's tile for n columns. */
export function tileBytes(type: i32, n: i32): i32 {
  return (n << 3) + (isBlock32(type) ? (n >> 5) << 5 : (n >> 8) * 288);
}

/**
 * Like matmul (matmul.ts), for the quantized types, unpacking each 4-row group once per tile of
 * 64 tokens into `tile` (this thread's scratch of tileBytes(type, n)).
 */
export function matmulTiled(
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
  tile: usize,
  r0: i32,
  r1: i32,
): void {
  const TT = 128;
  const x4 = (type & X4) != 0;
  type &= ~X4;
  const tb1 = tileBytes(type, n) as usize;
  // Scratch: two unpacked 4-row tiles, an 8-row tile, 128 bytes of results, the token quads.
  const tileB = tile + tb1;
  const tile8 = tileB + tb1;
  const tmp = tile8 + (tb1 << 1);
  const actT = tmp + 128;
  const block32 = isBlock32(type);
  const hb = x4Header(type) as usize;
  const bs = blockBytes(type) as usize;
  const x4Rows = x4 ? rows & ~3 : 0;
  const quadBytes = (block32 ? (n >> 5) * (QB32 as i32) : (n >> 8) * (QBK as i32)) as usize;
  const withMin = type == 3 || type == 7;
  // A slab-cut x4 matrix (x4.ts): the groups being unpacked are first gathered here (8 rows).
  const slabbed = x4 && x4SlabBlocks(type, n) * (block32 ? 32 : 256) < n;
  const gathered = actT + (quadBytes << 5);
  let gatheredRow = -1;
  for (let tb = 0; tb < nTok; tb += TT) {
    const te = min(tb + TT, nTok);
    // This tile's tokens, four by four, interleaved (a tail of 1-3 tokens repeats its last one).
    for (let t = tb; t < te; t += 4) {
      const a0 = act + (t as usize) * actStride;
      const a1 = act + (min(t + 1, te - 1) as usize) * actStride;
      const a2 = act + (min(t + 2, te - 1) as usize) * actStride;
      const a3 = act + (min(t + 3, te - 1) as usize) * actStride;
      interleave(block32, a0, a1, a2, a3, n, actT + (((t - tb) >> 2) as usize) * quadBytes);
    }
    for (let r = r0; r < r1; ) {
      // Eight rows at a time (rows past r1 repeat the last one), four for a last group of four.
      const eight = r1 - r > 4;
      const nr = eight ? 8 : 4;
      if (eight && (type == 2 || type == 8) && r + 8 <= x4Rows && r + 8 <= r1) {
        let gA = w + (r as usize) * rowBytes;
        if (slabbed) {
          gatherX4Group(type, w, rowBytes, x4Rows, n, r, gathered);
          gatherX4Group(type, w, rowBytes, x4Rows, n, r + 4, gathered + (rowBytes << 2));
          gatheredRow = -1;
          gA = gathered;
        }
        unpack8(type, gA, gA + (rowBytes << 2), bs << 2, n, tile8);
      } else for (let i = 0; i < nr; i++) {
        const row = min(r + i, r1 - 1);
        const p = w + (row as usize) * rowBytes;
        const t = i < 4 ? tile : tileB;
        if (row < x4Rows) {
          let G = w + ((row & ~3) as usize) * rowBytes;
          if (slabbed) {
            if (gatheredRow != (row & ~3)) gatherX4Group(type, w, rowBytes, x4Rows, n, row & ~3, gathered);
            gatheredRow = row & ~3;
            G = gathered;
          }
          const j = (row & 3) as usize;
          unpackRow(type, p, n, t, i & 3, G + j * hb, G + (hb << 2) + j * (bs - hb), bs << 2);
        } else {
          unpackRow(type, p, n, t, i & 3, p, p + hb, bs);
        }
      }
      if (eight) {
        if (!((type == 2 || type == 8) && r + 8 <= x4Rows && r + 8 <= r1)) rowsToLanes8(tile, tileB, tile8, n, block32);
        for (let t = tb; t < te; t += 4) {
          const aq = actT + (((t - tb) >> 2) as usize) * quadBytes;
          if (block32) {
            if (withMin) oct32(tile8, aq, n, tmp, true);
            else oct32(tile8, aq, n, tmp, false);
          } else {
            if (type == 11 || type == 14) octSuper(tile8, aq, n, tmp, false);
            else octSuper(tile8, aq, n, tmp, true);
          }
          for (let j = 0; j < 4 && t + j < te; j++) {
            storeRow4(y, yStride, t + j, r, r1, v128.load(tmp + ((j as usize) << 5)));
            storeRow4(y, yStride, t + j, r + 4, r1, v128.load(tmp + ((j as usize) << 5), 16));
          }
        }
        r += 8;
        continue;
      }
      rowsToLanes(tile, n, block32);
      for (let t = tb; t < te; t += 4) {
        const aq = actT + (((t - tb) >> 2) as usize) * quadBytes;
        if (block32) {
          if (withMin) quad32(tile, aq, n, tmp, true);
          else quad32(tile, aq, n, tmp, false);
        } else {
          if (type == 11 || type == 14) quadSuper(tile, aq, n, tmp, false);
          else quadSuper(tile, aq, n, tmp, true);
        }
        for (let j = 0; j < 4 && t + j < te; j++) storeRow4(y, yStride, t + j, r, r1, v128.load(tmp + ((j as usize) << 4)));
      }
      r += 4;
    }
  }
}

export { f16x4ToF32x4, gatherHalves };
