// Scalar dequantization of whole rows (token embedding lookups and reference paths).

import { f16ToF32 } from "./f16";

// @ts-expect-error: decorator
@inline
function h(p: usize): f32 {
  return f16ToF32(load<u16>(p));
}

// @ts-expect-error: decorator
@inline
function put(y: usize, i: i32, v: f32): void {
  store<f32>(y + ((i as usize) << 2), v);
}

// @ts-expect-error: decorator
@inline
function scaleMinK4(q: usize, j: i32): i32 {
  // Read as i32: shifts on u8 values would wrap at 8 bits.
  if (j < 4) return ((load<u8>(q + j) as i32) & 63) | (((load<u8>(q + j + 4) as i32) & 63) << 8);
  const hi = load<u8>(q + j + 4) as i32;
  const sc = (hi & 0xf) | (((load<u8>(q + j - 4) as i32) >> 6) << 4);
  const mn = (hi >> 4) | (((load<u8>(q + j) as i32) >> 6) << 4);
  return sc | (mn << 8);
}

function dequantRow(type: i32, x: usize, y: usize, n: i32): void {
  if (type == 0) {
    memory.copy(y, x, (n as usize) << 2);
    return;
  }
  if (type == 1) {
    for (let i = 0; i < n; i++) put(y, i, h(x + ((i as usize) << 1)));
    return;
  }
  if (type == 30) {
    for (let i = 0; i < n; i++) put(y, i, reinterpret<f32>((load<u16>(x + ((i as usize) << 1)) as u32) << 16));
    return;
  }
  if (type == 2 || type == 3 || type == 6 || type == 7 || type == 8) {
    const bs: usize = type == 2 ? 18 : type == 3 ? 20 : type == 6 ? 22 : type == 7 ? 24 : 34;
    for (let b = 0; b < n >> 5; b++) {
      const p = x + (b as usize) * bs;
      const yb = b << 5;
      const d = h(p);
      if (type == 8) {
        for (let j = 0; j < 32; j++) put(y, yb + j, (load<i8>(p + 2 + j) as f32) * d);
        continue;
      }
      const m: f32 = type == 3 || type == 7 ? h(p + 2) : 0;
      const qh: u32 = type == 6 ? load<u32>(p + 2) : type == 7 ? load<u32>(p + 4) : 0;
      const qs = p + (type == 2 ? 2 : type == 3 ? 4 : type == 6 ? 6 : 8);
      const off: i32 = type == 2 ? 8 : type == 6 ? 16 : 0;
      for (let j = 0; j < 16; j++) {
        const byte = load<u8>(qs + j) as i32;
        const x0 = (byte & 15) | ((((qh >> j) & 1) << 4) as i32);
        const x1 = (byte >> 4) | ((((qh >> (j + 16)) & 1) << 4) as i32);
        // No "+ m" for the offset types: adding 0 would turn -0 into +0 (ggml keeps -0).
        if (off) {
          put(y, yb + j, ((x0 - off) as f32) * d);
          put(y, yb + j + 16, ((x1 - off) as f32) * d);
        } else {
          put(y, yb + j, (x0 as f32) * d + m);
          put(y, yb + j + 16, (x1 as f32) * d + m);
        }
      }
    }
    return;
  }
  for (let b = 0; b < n >> 8; b++) {
    const yb = b << 8;
    if (type == 10) {
      const p = x + (b as usize) * 84;
      const d = h(p + 80);
      const dmin = h(p + 82);
      for (let hh = 0; hh < 2; hh++) {
        for (let j = 0; j < 4; j++) {
          for (let l = 0; l < 32; l++) {
            const g = (hh << 3) + (j << 1) + (l >> 4);
            const sc = load<u8>(p + g);
            const q = ((load<u8>(p + 16 + (hh << 5) + l) as i32) >> (j << 1)) & 3;
            put(y, yb + (hh << 7) + (j << 5) + l, d * ((sc & 15) as f32) * (q as f32) - dmin * ((sc >> 4) as f32));
          }
        }
      }
    } else if (type == 11) {
      const p = x + (b as usize) * 110;
      const d = h(p + 108);
      for (let hh = 0; hh < 2; hh++) {
        for (let j = 0; j < 4; j++) {
          for (let l = 0; l < 32; l++) {
            const g = (hh << 3) + (j << 1) + (l >> 4);
            const q = ((load<u8>(p + 32 + (hh << 5) + l) >> (j << 1)) & 3) as i32;
            const hb = ((load<u8>(p + l) as i32) >> ((hh << 2) + j)) & 1;
            put(y, yb + (hh << 7) + (j << 5) + l, d * (q3Scale(p + 96, g) as f32) * ((q - (hb ? 0 : 4)) as f32));
          }
        }
      }
    } else if (type == 12 || type == 13) {
      const five = type == 13;
      const p = x + (b as usize) * (five ? 176 : 144);
      const d = h(p);
      const dmin = h(p + 2);
      const qs = p + (five ? 48 : 16);
      for (let j = 0; j < 4; j++) {
        const a = scaleMinK4(p + 4, j << 1);
        const c = scaleMinK4(p + 4, (j << 1) + 1);
        const d1 = d * ((a & 0xff) as f32);
        const m1 = dmin * ((a >> 8) as f32);
        const d2 = d * ((c & 0xff) as f32);
        const m2 = dmin * ((c >> 8) as f32);
        for (let l = 0; l < 32; l++) {
          const byte = load<u8>(qs + (j << 5) + l);
          let q0 = (byte & 15) as i32;
          let q1 = (byte >> 4) as i32;
          if (five) {
            const hb = load<u8>(p + 16 + l) as i32;
            q0 += ((hb >> (j << 1)) & 1) << 4;
            q1 += ((hb >> ((j << 1) + 1)) & 1) << 4;
          }
          put(y, yb + (j << 6) + l, d1 * (q0 as f32) - m1);
          put(y, yb + (j << 6) + 32 + l, d2 * (q1 as f32) - m2);
        }
      }
    } else if (type == 14) {
      const p = x + (b as usize) * 210;
      const d = h(p + 208);
      for (let hh = 0; hh < 2; hh++) {
        const ql = p + (hh << 6);
        const qh = p + 128 + (hh << 5);
        const sc = p + 192 + (hh << 3);
        for (let l = 0; l < 32; l++) {
          const is = l >> 4;
          const hv = load<u8>(qh + l) as i32;
          const a = load<u8>(ql + l) as i32;
          const c = load<u8>(ql + l + 32) as i32;
          const q1 = ((a & 15) | ((hv & 3) << 4)) - 32;
          const q2 = ((c & 15) | (((hv >> 2) & 3) << 4)) - 32;
          const q3 = ((a >> 4) | (((hv >> 4) & 3) << 4)) - 32;
          const q4 = ((c >> 4) | (((hv >> 6) & 3) << 4)) - 32;
          const base = yb + (hh << 7) + l;
          put(y, base, d * (load<i8>(sc + is) as f32) * (q1 as f32));
          put(y, base + 32, d * (load<i8>(sc + is + 2) as f32) * (q2 as f32));
          put(y, base + 64, d * (load<i8>(sc + is + 4) as f32) * (q3 as f32));
          put(y, base + 96, d * (load<i8>(sc + is + 6) as f32) * (q4 as f32));
        }
      }
    } else {
      unreachable();
    }
  }
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

/** Dequantize rows [r0, r1) of a matrix (rowBytes apart) into f32 rows of n floats (yStride floats apart). */
export function dequantizeRows(type: i32, x: usize, rowBytes: usize, n: i32, y: usize, yStride: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) dequantRow(type, x + (r as usize) * rowBytes, y + (((r - r0) * yStride) as usize) * 4, n);
}
