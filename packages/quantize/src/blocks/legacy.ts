/**
 * The 32-element block formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and the activation format Q8_1,
 * ported from ggml-quants.c's `quantize_row_*_ref` / `dequantize_row_*` with float32 steps.
 * Each function handles `nb` consecutive blocks: no allocation, typed arrays in and out.
 */
// biome-ignore-all lint/complexity/useMathMinMax: integer clamps as explicit ternaries, and NaN must propagate as in C's MAX macro
import { fr, roundf } from "../cfloat";
import { fp16Table, writeHalf } from "../half";

const FLT_MAX = 3.4028234663852886e38;

/** Largest-magnitude element of a block, keeping its sign (the first one on ties). */
function signedMax(x: Float32Array, xo: number): number {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < 32; j++) {
    const v = x[xo + j];
    const a = Math.abs(v);
    if (amax < a) {
      amax = a;
      max = v;
    }
  }
  return max;
}

export function quantizeQ4_0(x: Float32Array, xo: number, y: Uint8Array, yo: number, nb: number): void {
  for (let i = 0; i < nb; i++, xo += 32, yo += 18) {
    const d = fr(signedMax(x, xo) / -8);
    const id = d !== 0 ? fr(1 / d) : 0;
    writeHalf(y, yo, d);
    for (let j = 0; j < 16; j++) {
      // (int8_t)(x*id + 8.5f): truncation toward zero; NaN/inf become 0 like cvttss2si's low byte
      const xi0 = Math.min(15, fr(fr(x[xo + j] * id) + 8.5) | 0);
      const xi1 = Math.min(15, fr(fr(x[xo + 16 + j] * id) + 8.5) | 0);
      y[yo + 2 + j] = xi0 | (xi1 << 4);
    }
  }
}

export function dequantizeQ4_0(y: Uint8Array, yo: number, x: Float32Array, xo: number, nb: number): void {
  for (let i = 0; i < nb; i++, xo += 32, yo += 18) {
    const d = fp16Table[y[yo] | (y[yo + 1] << 8)];
    for (let j = 0; j < 16; j++) {
      const q = y[yo + 2 + j];
      x[xo + j] = ((q & 0x0f) - 8) * d;
      x[xo + 16 + j] = ((q >> 4) - 8) * d;
    }
  }
}

export function quantizeQ4_1(x: Float32Array, xo: number, y: Uint8Array, yo: number, nb: number): void {
  for (let i = 0; i < nb; i++, xo += 32, yo += 20) {
    let min = FLT_MAX;
    let max = -FLT_MAX;
    for (let j = 0; j < 32; j++) {
      const v = x[xo + j];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = fr(fr(max - min) / 15);
    const id = d !== 0 ? fr(1 / d) : 0;
    writeHalf(y, yo, d);
    writeHalf(y, yo + 2, min);
    for (let j = 0; j < 16; j++) {
      const xi0 = Math.min(15, fr(fr(fr(x[xo + j] - min) * id) + 0.5) | 0);
      const xi1 = Math.min(15, fr(fr(fr(x[xo + 16 + j] - min) * id) + 0.5) | 0);
      y[yo + 4 + j] = xi0 | (xi1 << 4);
    }
  }
}

export function dequantizeQ4_1(y: Uint8Array, yo: number, x: Float32Array, xo: number, nb: number): void {
  for (let i = 0; i < nb; i++, xo += 32, yo += 20) {
    const d = fp16Table[y[yo] | (y[yo + 1] << 8)];
    const m = fp16Table[y[yo + 2] | (y[yo + 3] << 8)];
    for (let j = 0; j < 16; j++) {
      const q = y[yo + 4 + j];
      x[xo + j] = fr((q & 0x0f) * d) + m;
      x[xo + 16 + j] = fr((q >> 4) * d) + m;
    }
  }
}

function writeU32(y: Uint8Array, o: number, v: number): void {
  y[o] = v;
  y[o + 1] = v >>> 8;
  y[o + 2] = v >>> 16;
  y[o + 3] = v >>> 24;
}

export function quantizeQ5_0(x: Float32Array, xo: number, y: Uint8Array, yo: number, nb: number): void {
  for (let i = 0; i < nb; i++, xo += 32, yo += 22) {
    const d = fr(signedMax(x, xo) / -16);
    const id = d !== 0 ? fr(1 / d) : 0;
    writeHalf(y, yo, d);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const xi0 = Math.min(31, fr(fr(x[xo + j] * id) + 16.5) | 0);
      const xi1 = Math.min(31, fr(fr(x[xo + 16 + j] * id) + 16.5) | 0);
      y[yo + 6 + j] = (xi0 & 0x0f) | ((xi1 & 0x0f) << 4);
      qh |= ((xi0 & 0x10) >>> 4) << j;
      qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
    }
    writeU32(y, yo + 2, qh);
  }
}

export function dequantizeQ5_0(y: Uint8Array, yo: number, x: Float32Array, xo: number, nb: number): void {
  for (let i = 0; i < nb; i++, xo += 32, yo += 22) {
    const d = fp16Table[y[yo] | (y[yo + 1] << 8)];
    const qh = y[yo + 2] | (y[yo + 3] << 8) | (y[yo + 4] << 16) | (y[yo + 5] << 24);
    for (let j = 0; j < 16; j++) {
      const q = y[yo + 6 + j];
      const h0 = ((qh >>> j) << 4) & 0x10;
      const h1 = (qh >>> (j + 12)) & 0x10;
      x[xo + j] = (((q & 0x0f) | h0) - 16) * d;
      x[xo + 16 + j] = (((q >> 4) | h1) - 16) * d;
    }
  }
}

export function quantizeQ5_1(x: Float32Array, xo: number, y: Uint8Array, yo: number, nb: number): void {
  for (let i = 0; i < nb; i++, xo += 32, yo += 24) {
    let min = FLT_MAX;
    let max = -FLT_MAX;
    for (let j = 0; j < 32; j++) {
      const v = x[xo + j];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = fr(fr(max - min) / 31);
    const id = d !== 0 ? fr(1 / d) : 0;
    writeHalf(y, yo, d);
    writeHalf(y, yo + 2, min);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      // (uint8_t)(x + 0.5f): no clamp in ggml
      const xi0 = (fr(fr(fr(x[xo + j] - min) * id) + 0.5) | 0) & 0xff;
      const xi1 = (fr(fr(fr(x[xo + 16 + j] - min) * id) + 0.5) | 0) & 0xff;
      y[yo + 8 + j] = (xi0 & 0x0f) | ((xi1 & 0x0f) << 4);
      qh |= ((xi0 & 0x10) >>> 4) << j;
      qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
    }
    writeU32(y, yo + 4, qh);
  }
}

export function dequantizeQ5_1(y: Uint8Array, yo: number, x: Float32Array, xo: number, nb: number): void {
  for (let i = 0; i < nb; i++, xo += 32, yo += 24) {
    const d = fp16Table[y[yo] | (y[yo + 1] << 8)];
    const m = fp16Table[y[yo + 2] | (y[yo + 3] << 8)];
    const qh = y[yo + 4] | (y[yo + 5] << 8) | (y[yo + 6] << 16) | (y[yo + 7] << 24);
    for (let j = 0; j < 16; j++) {
      const q = y[yo + 8 + j];
      const h0 = ((qh >>> j) << 4) & 0x10;
      const h1 = (qh >>> (j + 12)) & 0x10;
      x[xo + j] = fr(((q & 0x0f) | h0) * d) + m;
      x[xo + 16 + j] = fr(((q >> 4) | h1) * d) + m;
    }
  }
}

/** Block absolute max as ggml's MAX macro computes it (a NaN only sticks when it comes last). */
function absMax(x: Float32Array, xo: number): number {
  let amax = 0;
  for (let j = 0; j < 32; j++) {
    const a = Math.abs(x[xo + j]);
    amax = amax > a ? amax : a;
  }
  return amax;
}

export function quantizeQ8_0(x: Float32Array, xo: number, y: Uint8Array, yo: number, nb: number): void {
  for (let i = 0; i < nb; i++, xo += 32, yo += 34) {
    const d = fr(absMax(x, xo) / 127);
    const id = d !== 0 ? fr(1 / d) : 0;
    writeHalf(y, yo, d);
    for (let j = 0; j < 32; j++) y[yo + 2 + j] = roundf(fr(x[xo + j] * id)) | 0;
  }
}

export function dequantizeQ8_0(y: Uint8Array, yo: number, x: Float32Array, xo: number, nb: number): void {
  for (let i = 0; i < nb; i++, xo += 32, yo += 34) {
    const d = fp16Table[y[yo] | (y[yo + 1] << 8)];
    for (let j = 0; j < 32; j++) x[xo + j] = ((y[yo + 2 + j] << 24) >> 24) * d;
  }
}

export function quantizeQ8_1(x: Float32Array, xo: number, y: Uint8Array, yo: number, nb: number): void {
  for (let i = 0; i < nb; i++, xo += 32, yo += 36) {
    const d = fr(absMax(x, xo) / 127);
    const id = d !== 0 ? fr(1 / d) : 0;
    writeHalf(y, yo, d);
    let sum = 0;
    for (let j = 0; j < 32; j++) {
      const q = (roundf(fr(x[xo + j] * id)) << 24) >> 24;
      y[yo + 4 + j] = q;
      sum += q;
    }
    writeHalf(y, yo + 2, fr(sum * d));
  }
}

/** Q8_1 has no dequantizer in ggml (activations only); this one is y = q * d. */
export function dequantizeQ8_1(y: Uint8Array, yo: number, x: Float32Array, xo: number, nb: number): void {
  for (let i = 0; i < nb; i++, xo += 32, yo += 36) {
    const d = fp16Table[y[yo] | (y[yo + 1] << 8)];
    for (let j = 0; j < 32; j++) x[xo + j] = ((y[yo + 4 + j] << 24) >> 24) * d;
  }
}
