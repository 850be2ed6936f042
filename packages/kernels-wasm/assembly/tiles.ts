// Matrix x matrix for prompt processing: each group of four weight rows is unpacked once into
// i16 lanes (with offsets and, for the K-quants, the integer group scales folded in), then reused
// for a tile of up to 64 tokens: per token and 32 weights only loads and i32x4.dot_i16x8_s remain.
//
// Tile layout (per thread scratch), n columns, four rows:
//   q16: for each group g of 16 columns, rows 0..3, each 8 even then 8 odd i16  (g*128 + r*32)
//   then, blocks of 32 (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0): per block d f32x4, m f32x4       (32 bytes)
//         super-blocks (K-quants): per super-block d f32x4, dmin f32x4, mins i32[4][16] (288 bytes)

import { f16ToF32, f16x4ToF32x4 } from "./f16";
import { gatherHalves, hsum4i } from "./simd";
import { blockBytes, q6x4V, X4, x4Header } from "./x4";

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
      if (stride != 144 && !five) {
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
        const w0 = v128.load(qs + ((j as usize) << 5));
        const w1 = v128.load(qs + ((j as usize) << 5), 16);
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

// ---------------------------------------------------------------- one token against a tile

// @ts-ignore: decorator
@inline
function rowDot32(q: usize, a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const s0 = i32x4.dot_i16x8_s(v128.load(q), a0);
  const s1 = i32x4.dot_i16x8_s(v128.load(q, 16), a1);
  const s2 = i32x4.dot_i16x8_s(v128.load(q, 128), a2);
  const s3 = i32x4.dot_i16x8_s(v128.load(q, 144), a3);
  return i32x4.add(i32x4.add(s0, s1), i32x4.add(s2, s3));
}

function tokenBlock32(tile: usize, act: usize, n: i32, tmp: usize): v128 {
  const nb = n >> 5;
  const sc = tile + ((n as usize) << 3);
  const dA = act + ((n as usize) << 1);
  const sA = dA + ((nb as usize) << 2);
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const a = act + ((b as usize) << 6);
    const a0 = v128.load(a);
    const a1 = v128.load(a, 16);
    const a2 = v128.load(a, 32);
    const a3 = v128.load(a, 48);
    const q = tile + ((b as usize) << 8);
    // A loop (which V8 unrolls row after row) instead of four inlined rows: see x4.ts.
    for (let r: usize = 0; r < 128; r += 32) v128.store(tmp + (r >> 1), rowDot32(q + r, a0, a1, a2, a3));
    const sumi = hsum4i(v128.load(tmp), v128.load(tmp, 16), v128.load(tmp, 32), v128.load(tmp, 48));
    const s = sc + ((b as usize) << 5);
    const d = f32x4.mul(v128.load(s), f32x4.splat(load<f32>(dA + ((b as usize) << 2))));
    const m = f32x4.mul(v128.load(s, 16), f32x4.splat(load<f32>(sA + ((b as usize) << 2))));
    acc = f32x4.add(acc, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(sumi), d), m));
  }
  return acc;
}

// @ts-ignore: decorator
@inline
function rowDot32At(q: usize, a: usize): v128 {
  const s0 = i32x4.dot_i16x8_s(v128.load(q), v128.load(a));
  const s1 = i32x4.dot_i16x8_s(v128.load(q, 16), v128.load(a, 16));
  const s2 = i32x4.dot_i16x8_s(v128.load(q, 128), v128.load(a, 32));
  const s3 = i32x4.dot_i16x8_s(v128.load(q, 144), v128.load(a, 48));
  return i32x4.add(i32x4.add(s0, s1), i32x4.add(s2, s3));
}

// @ts-ignore: decorator
@inline
function combine32(acc: v128, sumi: v128, s: usize, act: usize, n: i32, b: i32, withMin: bool): v128 {
  const dA = act + ((n as usize) << 1);
  const sA = dA + (((n >> 5) as usize) << 2);
  const d = f32x4.mul(v128.load(s), f32x4.splat(load<f32>(dA + ((b as usize) << 2))));
  const x = f32x4.mul(f32x4.convert_i32x4_s(sumi), d);
  // Without a min (Q4_0, Q5_0, Q8_0) the min term is a zero: adding it changes no bit (acc starts at +0).
  if (!withMin) return f32x4.add(acc, x);
  const m = f32x4.mul(v128.load(s, 16), f32x4.splat(load<f32>(sA + ((b as usize) << 2))));
  return f32x4.add(acc, f32x4.add(x, m));
}

/**
 * Two tokens against a block-32 tile: each weight vector loaded once serves both (the tile is
 * the part that does not fit in registers). The results go to tmp + 128 and tmp + 144.
 */
function tokenPair32(tile: usize, actA: usize, actB: usize, n: i32, tmp: usize, withMin: bool): void {
  const nb = n >> 5;
  const sc = tile + ((n as usize) << 3);
  let accA = f32x4.splat(0);
  let accB = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const aA = actA + ((b as usize) << 6);
    const aB = actB + ((b as usize) << 6);
    const q = tile + ((b as usize) << 8);
    // both tokens' activation vectors loaded once for the four rows
    const xa0 = v128.load(aA);
    const xa1 = v128.load(aA, 16);
    const xa2 = v128.load(aA, 32);
    const xa3 = v128.load(aA, 48);
    const xb0 = v128.load(aB);
    const xb1 = v128.load(aB, 16);
    const xb2 = v128.load(aB, 32);
    const xb3 = v128.load(aB, 48);
    for (let r: usize = 0; r < 128; r += 32) {
      const w0 = v128.load(q + r);
      const w1 = v128.load(q + r, 16);
      const w2 = v128.load(q + r, 128);
      const w3 = v128.load(q + r, 144);
      const sA = i32x4.add(
        i32x4.add(i32x4.dot_i16x8_s(w0, xa0), i32x4.dot_i16x8_s(w1, xa1)),
        i32x4.add(i32x4.dot_i16x8_s(w2, xa2), i32x4.dot_i16x8_s(w3, xa3)),
      );
      const sB = i32x4.add(
        i32x4.add(i32x4.dot_i16x8_s(w0, xb0), i32x4.dot_i16x8_s(w1, xb1)),
        i32x4.add(i32x4.dot_i16x8_s(w2, xb2), i32x4.dot_i16x8_s(w3, xb3)),
      );
      v128.store(tmp + (r >> 1), sA);
      v128.store(tmp + (r >> 1), sB, 64);
    }
    const s = sc + ((b as usize) << 5);
    accA = combine32(accA, hsum4i(v128.load(tmp), v128.load(tmp, 16), v128.load(tmp, 32), v128.load(tmp, 48)), s, actA, n, b, withMin);
    accB = combine32(accB, hsum4i(v128.load(tmp, 64), v128.load(tmp, 80), v128.load(tmp, 96), v128.load(tmp, 112)), s, actB, n, b, withMin);
  }
  v128.store(tmp, accA, 128);
  v128.store(tmp, accB, 144);
}

// @ts-ignore: decorator
@inline
function rowDot256(q: usize, a: usize): v128 {
  let s0 = i32x4.splat(0);
  let s1 = i32x4.splat(0);
  for (let g = 0; g < 16; g += 2) {
    const qg = q + ((g as usize) << 7);
    const ag = a + ((g as usize) << 5);
    s0 = i32x4.add(s0, i32x4.add(i32x4.dot_i16x8_s(v128.load(qg), v128.load(ag)), i32x4.dot_i16x8_s(v128.load(qg, 16), v128.load(ag, 16))));
    s1 = i32x4.add(s1, i32x4.add(i32x4.dot_i16x8_s(v128.load(qg, 128), v128.load(ag, 32)), i32x4.dot_i16x8_s(v128.load(qg, 144), v128.load(ag, 48))));
  }
  return i32x4.add(s0, s1);
}

// @ts-ignore: decorator
@inline
function minsDot(m: usize, bs: usize): v128 {
  let s = i32x4.mul(v128.load(m), v128.load(bs));
  s = i32x4.add(s, i32x4.mul(v128.load(m, 16), v128.load(bs, 16)));
  s = i32x4.add(s, i32x4.mul(v128.load(m, 32), v128.load(bs, 32)));
  return i32x4.add(s, i32x4.mul(v128.load(m, 48), v128.load(bs, 48)));
}

function tokenSuper(tile: usize, act: usize, n: i32, tmp: usize): v128 {
  const nk = n >> 8;
  const sc = tile + ((n as usize) << 3);
  const dA = act + ((n as usize) << 1);
  const bA = dA + ((nk as usize) << 2);
  let acc = f32x4.splat(0);
  for (let b = 0; b < nk; b++) {
    const q = tile + ((b as usize) << 11);
    const a = act + ((b as usize) << 9);
    for (let r: usize = 0; r < 128; r += 32) v128.store(tmp + (r >> 1), rowDot256(q + r, a));
    const sumi = hsum4i(v128.load(tmp), v128.load(tmp, 16), v128.load(tmp, 32), v128.load(tmp, 48));
    const s = sc + (b as usize) * 288;
    const bs = bA + ((b as usize) << 6);
    const summ = hsum4i(minsDot(s + 32, bs), minsDot(s + 96, bs), minsDot(s + 160, bs), minsDot(s + 224, bs));
    const da = f32x4.splat(load<f32>(dA + ((b as usize) << 2)));
    const d = f32x4.mul(v128.load(s), da);
    const dm = f32x4.mul(v128.load(s, 16), da);
    acc = f32x4.add(acc, f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(sumi), d), f32x4.mul(f32x4.convert_i32x4_s(summ), dm)));
  }
  return acc;
}

/** The K-quant tile's float combine of one super-block for one token (see tokenSuper). */
// @ts-ignore: decorator
@inline
function combineSuper(acc: v128, sumi: v128, s: usize, act: usize, n: i32, b: i32): v128 {
  const nk = n >> 8;
  const dA = act + ((n as usize) << 1);
  const bs = dA + ((nk as usize) << 2) + ((b as usize) << 6);
  const summ = hsum4i(minsDot(s + 32, bs), minsDot(s + 96, bs), minsDot(s + 160, bs), minsDot(s + 224, bs));
  const da = f32x4.splat(load<f32>(dA + ((b as usize) << 2)));
  const d = f32x4.mul(v128.load(s), da);
  const dm = f32x4.mul(v128.load(s, 16), da);
  return f32x4.add(acc, f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(sumi), d), f32x4.mul(f32x4.convert_i32x4_s(summ), dm)));
}

/** tokenSuper for two tokens at once (each tile vector loaded once); results at tmp + 128 and + 144. */
function tokenSuperPair(tile: usize, actA: usize, actB: usize, n: i32, tmp: usize): void {
  const nk = n >> 8;
  const sc = tile + ((n as usize) << 3);
  let accA = f32x4.splat(0);
  let accB = f32x4.splat(0);
  for (let b = 0; b < nk; b++) {
    const q = tile + ((b as usize) << 11);
    const aA = actA + ((b as usize) << 9);
    const aB = actB + ((b as usize) << 9);
    for (let r: usize = 0; r < 128; r += 32) {
      let sA = i32x4.splat(0);
      let sB = i32x4.splat(0);
      for (let g: usize = 0; g < 16; g += 2) {
        const qg = q + r + (g << 7);
        const w0 = v128.load(qg);
        const w1 = v128.load(qg, 16);
        const w2 = v128.load(qg, 128);
        const w3 = v128.load(qg, 144);
        const ga = aA + (g << 5);
        const gb = aB + (g << 5);
        sA = i32x4.add(sA, i32x4.add(
          i32x4.add(i32x4.dot_i16x8_s(w0, v128.load(ga)), i32x4.dot_i16x8_s(w1, v128.load(ga, 16))),
          i32x4.add(i32x4.dot_i16x8_s(w2, v128.load(ga, 32)), i32x4.dot_i16x8_s(w3, v128.load(ga, 48))),
        ));
        sB = i32x4.add(sB, i32x4.add(
          i32x4.add(i32x4.dot_i16x8_s(w0, v128.load(gb)), i32x4.dot_i16x8_s(w1, v128.load(gb, 16))),
          i32x4.add(i32x4.dot_i16x8_s(w2, v128.load(gb, 32)), i32x4.dot_i16x8_s(w3, v128.load(gb, 48))),
        ));
      }
      v128.store(tmp + (r >> 1), sA);
      v128.store(tmp + (r >> 1), sB, 64);
    }
    const s = sc + (b as usize) * 288;
    accA = combineSuper(accA, hsum4i(v128.load(tmp), v128.load(tmp, 16), v128.load(tmp, 32), v128.load(tmp, 48)), s, actA, n, b);
    accB = combineSuper(accB, hsum4i(v128.load(tmp, 64), v128.load(tmp, 80), v128.load(tmp, 96), v128.load(tmp, 112)), s, actB, n, b);
  }
  v128.store(tmp, accA, 128);
  v128.store(tmp, accB, 144);
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
  const TT = 64;
  const tmp = tile + (tileBytes(type & ~X4, n) as usize);
  const x4 = (type & X4) != 0;
  type &= ~X4;
  const block32 = isBlock32(type);
  const hb = x4Header(type) as usize;
  const bs = blockBytes(type) as usize;
  const x4Rows = x4 ? rows & ~3 : 0;
  for (let tb = 0; tb < nTok; tb += TT) {
    const te = min(tb + TT, nTok);
    for (let r = r0; r < r1; r += 4) {
      for (let i = 0; i < 4; i++) {
        const row = min(r + i, r1 - 1);
        const p = w + (row as usize) * rowBytes;
        if (row < x4Rows) {
          const G = w + ((row & ~3) as usize) * rowBytes;
          const j = (row & 3) as usize;
          unpackRow(type, p, n, tile, i, G + j * hb, G + (hb << 2) + j * (bs - hb), bs << 2);
        } else {
          unpackRow(type, p, n, tile, i, p, p + hb, bs);
        }
      }
      for (let t = tb; t < te; t++) {
        const a = act + (t as usize) * actStride;
        let res: v128;
        if (t + 1 < te) {
          if (block32) {
            if (type == 3 || type == 7) tokenPair32(tile, a, a + actStride, n, tmp, true);
            else tokenPair32(tile, a, a + actStride, n, tmp, false);
          }
          else tokenSuperPair(tile, a, a + actStride, n, tmp);
          res = v128.load(tmp, 128);
          storeRow4(y, yStride, t + 1, r, r1, v128.load(tmp, 144));
        } else {
          res = block32 ? tokenBlock32(tile, a, n, tmp) : tokenSuper(tile, a, n, tmp);
        }
        storeRow4(y, yStride, t, r, r1, res);
        if (t + 1 < te) t++;
      }
    }
  }
}

export { f16x4ToF32x4, gatherHalves };
