/**
 * The 256-element super-block formats Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and the activation format
 * Q8_K, ported step by step from ggml-quants.c's reference quantizers (`quantize_row_*_ref`, the
 * path llama-quantize takes without an importance matrix) with every step in float32 (`fr`) and
 * ggml's `nearest_int`. The scale searches (make_qkx2_quants, make_qx_quants, make_q3_quants)
 * must be mirrored operation by operation, or the bytes differ.
 *
 * Scratch buffers are module-level: one quantization runs at a time per thread (worker).
 */
// biome-ignore-all lint/complexity/useMathMinMax: integer clamps as explicit ternaries, and NaN must propagate as in C's MAX macro
import { fr, GROUP_MAX_EPS, nearestInt } from "../cfloat";
import { fp16Table, writeHalf } from "../half";

const QK_K = 256;
const F0_1 = fr(0.1);

const L = new Uint8Array(QK_K);
const Ls = new Int8Array(QK_K);
const Laux = new Uint8Array(32);
const weights = new Float32Array(32);
const scales = new Float32Array(16);
const mins = new Float32Array(16);

function half(y: Uint8Array, o: number): number {
  return fp16Table[y[o] | (y[o + 1] << 8)];
}

/** `*the_min` of make_qkx2_quants. */
let theMin = 0;

/**
 * Scale and min for n values with levels 0..nmax, minimising the weighted error over nstep+1
 * candidate scales. Levels go to L[lo..], the min (negated, as ggml stores it) to `theMin`.
 */
function makeQkx2Quants(
  n: number,
  nmax: number,
  x: Float32Array,
  xo: number,
  w: Float32Array,
  lo: number,
  rmin: number,
  rdelta: number,
  nstep: number,
  useMad: boolean,
): number {
  let min = x[xo];
  let max = x[xo];
  let sumW = w[0];
  let sumX = fr(sumW * x[xo]);
  for (let i = 1; i < n; i++) {
    const xi = x[xo + i];
    if (xi < min) min = xi;
    if (xi > max) max = xi;
    const wi = w[i];
    sumW = fr(sumW + wi);
    sumX = fr(sumX + fr(wi * xi));
  }
  if (min > 0) min = 0;
  if (max === min) {
    for (let i = 0; i < n; i++) L[lo + i] = 0;
    theMin = -min;
    return 0;
  }
  let iscale = fr(nmax / fr(max - min));
  let scale = fr(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i];
    let l = nearestInt(fr(iscale * fr(xi - min)));
    l = l < 0 ? 0 : l > nmax ? nmax : l;
    L[lo + i] = l;
    let diff = fr(fr(fr(scale * l) + min) - xi);
    diff = useMad ? Math.abs(diff) : fr(diff * diff);
    bestError = fr(bestError + fr(w[i] * diff));
  }
  if (nstep < 1) {
    theMin = -min;
    return scale;
  }
  for (let is = 0; is <= nstep; is++) {
    // `min` moves to the best fit so far, so the range is recomputed on every step (as in ggml)
    iscale = fr(fr(fr(rmin + fr(rdelta * is)) + nmax) / fr(max - min));
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i];
      let l = nearestInt(fr(iscale * fr(xi - min)));
      l = l < 0 ? 0 : l > nmax ? nmax : l;
      Laux[i] = l;
      const wl = fr(w[i] * l);
      sumL = fr(sumL + wl);
      sumL2 = fr(sumL2 + fr(wl * l));
      sumXL = fr(sumXL + fr(wl * xi));
    }
    const D = fr(fr(sumW * sumL2) - fr(sumL * sumL));
    if (D > 0) {
      let thisScale = fr(fr(fr(sumW * sumXL) - fr(sumX * sumL)) / D);
      let thisMin = fr(fr(fr(sumL2 * sumX) - fr(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = fr(sumXL / sumL2);
      }
      let curError = 0;
      for (let i = 0; i < n; i++) {
        let diff = fr(fr(fr(thisScale * Laux[i]) + thisMin) - x[xo + i]);
        diff = useMad ? Math.abs(diff) : fr(diff * diff);
        curError = fr(curError + fr(w[i] * diff));
      }
      if (curError < bestError) {
        for (let i = 0; i < n; i++) L[lo + i] = Laux[i];
        bestError = curError;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  theMin = -min;
  return scale;
}

/**
 * make_qx_quants with rmse_type 1 and no importance weights (w = x^2): symmetric levels
 * -nmax..nmax-1 stored as 0..2nmax-1 in Ls[lo..], scale returned. Used by Q6_K.
 */
function makeQxQuants(n: number, nmax: number, x: Float32Array, xo: number, lo: number): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i]);
    if (ax > amax) {
      amax = ax;
      max = x[xo + i];
    }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) Ls[lo + i] = 0;
    return 0;
  }
  let iscale = fr(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i];
    let l = nearestInt(fr(iscale * xi));
    l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
    Ls[lo + i] = l + nmax;
    const w = fr(xi * xi);
    sumlx = fr(sumlx + fr(fr(w * xi) * l));
    suml2 = fr(suml2 + fr(fr(w * l) * l));
  }
  let scale = suml2 !== 0 ? fr(sumlx / suml2) : 0;
  let best = fr(scale * sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = fr(-fr(nmax + fr(F0_1 * is)) / max);
    sumlx = 0;
    suml2 = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i];
      let l = nearestInt(fr(iscale * xi));
      l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
      const w = fr(xi * xi);
      sumlx = fr(sumlx + fr(fr(w * xi) * l));
      suml2 = fr(suml2 + fr(fr(w * l) * l));
    }
    if (suml2 > 0 && fr(sumlx * sumlx) > fr(best * suml2)) {
      for (let i = 0; i < n; i++) {
        const l = nearestInt(fr(iscale * x[xo + i]));
        Ls[lo + i] = nmax + (l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l);
      }
      scale = fr(sumlx / suml2);
      best = fr(scale * sumlx);
    }
  }
  return scale;
}

/** make_q3_quants(n, nmax, x, L, do_rmse = true): levels 0..2nmax-1 in Ls[lo..]. Used by Q3_K. */
function makeQ3Quants(n: number, nmax: number, x: Float32Array, xo: number, lo: number): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i]);
    if (ax > amax) {
      amax = ax;
      max = x[xo + i];
    }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) Ls[lo + i] = 0;
    return 0;
  }
  const iscale = fr(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i];
    let l = nearestInt(fr(iscale * xi));
    l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
    Ls[lo + i] = l;
    const w = fr(xi * xi);
    sumlx = fr(sumlx + fr(fr(w * xi) * l));
    suml2 = fr(suml2 + fr(fr(w * l) * l));
  }
  for (let itry = 0; itry < 5; itry++) {
    let nChanged = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i];
      const w = fr(xi * xi);
      const li = Ls[lo + i];
      let slx = fr(sumlx - fr(fr(w * xi) * li));
      if (slx > 0) {
        let sl2 = fr(suml2 - fr(fr(w * li) * li));
        let newL = nearestInt(fr(fr(xi * sl2) / slx));
        newL = newL < -nmax ? -nmax : newL > nmax - 1 ? nmax - 1 : newL;
        if (newL !== li) {
          slx = fr(slx + fr(fr(w * xi) * newL));
          sl2 = fr(sl2 + fr(fr(w * newL) * newL));
          if (sl2 > 0 && fr(fr(slx * slx) * suml2) > fr(fr(sumlx * sumlx) * sl2)) {
            Ls[lo + i] = newL;
            sumlx = slx;
            suml2 = sl2;
            nChanged++;
          }
        }
      }
    }
    if (nChanged === 0) break;
  }
  for (let i = 0; i < n; i++) Ls[lo + i] += nmax;
  return suml2 > 0 ? fr(sumlx / suml2) : 0;
}

/** 2-bit levels, four per byte, in ggml's interleaved order (Q2_K and Q3_K). */
function pack2bit(src: Uint8Array | Int8Array, y: Uint8Array, qo: number): void {
  for (let j = 0; j < QK_K; j += 128) {
    for (let l = 0; l < 32; l++) {
      y[qo + j / 4 + l] =
        src[j + l] | (src[j + l + 32] << 2) | (src[j + l + 64] << 4) | (src[j + l + 96] << 6);
    }
  }
}

// ---------------------------------------------------------------- Q2_K (84 bytes)
// scales[16] (low nibble scale, high nibble min), qs[64], d, dmin

export function quantizeQ2_K(x: Float32Array, xo: number, y: Uint8Array, yo: number, nb: number): void {
  for (let i = 0; i < nb; i++, xo += QK_K, yo += 84) {
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 16; j++) {
      for (let l = 0; l < 16; l++) weights[l] = Math.abs(x[xo + 16 * j + l]);
      const scale = makeQkx2Quants(16, 3, x, xo + 16 * j, weights, 16 * j, -0.5, F0_1, 15, true);
      scales[j] = scale;
      mins[j] = theMin;
      if (scales[j] > maxScale) maxScale = scales[j];
      if (mins[j] > maxMin) maxMin = mins[j];
    }
    if (maxScale > 0) {
      const iscale = fr(15 / maxScale);
      for (let j = 0; j < 16; j++) y[yo + j] = nearestInt(fr(iscale * scales[j]));
      writeHalf(y, yo + 80, fr(maxScale / 15));
    } else {
      for (let j = 0; j < 16; j++) y[yo + j] = 0;
      writeHalf(y, yo + 80, 0);
    }
    if (maxMin > 0) {
      const iscale = fr(15 / maxMin);
      for (let j = 0; j < 16; j++) y[yo + j] |= nearestInt(fr(iscale * mins[j])) << 4;
      writeHalf(y, yo + 82, fr(maxMin / 15));
    } else {
      writeHalf(y, yo + 82, 0);
    }
    const dAll = half(y, yo + 80);
    const mAll = half(y, yo + 82);
    for (let j = 0; j < 16; j++) {
      const d = fr(dAll * (y[yo + j] & 0xf));
      if (d === 0) continue;
      const dm = fr(mAll * (y[yo + j] >> 4));
      for (let ii = 0; ii < 16; ii++) {
        const l = nearestInt(fr(fr(x[xo + 16 * j + ii] + dm) / d));
        L[16 * j + ii] = l < 0 ? 0 : l > 3 ? 3 : l;
      }
    }
    pack2bit(L, y, yo + 16);
  }
}

export function dequantizeQ2_K(y: Uint8Array, yo: number, x: Float32Array, xo: number, nb: number): void {
  for (let i = 0; i < nb; i++, yo += 84) {
    const d = half(y, yo + 80);
    const min = half(y, yo + 82);
    let q = yo + 16;
    let is = 0;
    for (let n = 0; n < QK_K; n += 128) {
      let shift = 0;
      for (let j = 0; j < 4; j++) {
        let sc = y[yo + is++];
        let dl = fr(d * (sc & 0xf));
        let ml = fr(min * (sc >> 4));
        for (let l = 0; l < 16; l++) x[xo++] = fr(dl * ((y[q + l] >> shift) & 3)) - ml;
        sc = y[yo + is++];
        dl = fr(d * (sc & 0xf));
        ml = fr(min * (sc >> 4));
        for (let l = 0; l < 16; l++) x[xo++] = fr(dl * ((y[q + l + 16] >> shift) & 3)) - ml;
        shift += 2;
      }
      q += 32;
    }
  }
}

// ---------------------------------------------------------------- Q3_K (110 bytes)
// hmask[32], qs[64], scales[12] (6-bit, offset 32), d

/** The 6-bit signed scale j of a Q3_K block (-32..31). */
function q3Scale(y: Uint8Array, so: number, j: number): number {
  const low = j < 8 ? y[so + j] & 0xf : y[so + j - 8] >> 4;
  return (low | (((y[so + 8 + (j % 4)] >> (2 * (j >> 2))) & 3) << 4)) - 32;
}

export function quantizeQ3_K(x: Float32Array, xo: number, y: Uint8Array, yo: number, nb: number): void {
  const so = 96; // scales offset in the block
  for (let i = 0; i < nb; i++, xo += QK_K, yo += 110) {
    let maxScale = 0;
    let amax = 0;
    for (let j = 0; j < 16; j++) {
      scales[j] = makeQ3Quants(16, 4, x, xo + 16 * j, 16 * j);
      const scale = Math.abs(scales[j]);
      if (scale > amax) {
        amax = scale;
        maxScale = scales[j];
      }
    }
    for (let j = 0; j < 12; j++) y[yo + so + j] = 0;
    if (maxScale !== 0) {
      const iscale = fr(-32 / maxScale);
      for (let j = 0; j < 16; j++) {
        let l = (nearestInt(fr(iscale * scales[j])) << 24) >> 24; // int8_t l = nearest_int(...)
        l = (l < -32 ? -32 : l > 31 ? 31 : l) + 32;
        if (j < 8) y[yo + so + j] = l & 0xf;
        else y[yo + so + j - 8] |= (l & 0xf) << 4;
        l >>= 4;
        y[yo + so + 8 + (j % 4)] |= l << (2 * (j >> 2));
      }
      writeHalf(y, yo + 108, fr(1 / iscale));
    } else {
      writeHalf(y, yo + 108, 0);
    }
    const dAll = half(y, yo + 108);
    for (let j = 0; j < 16; j++) {
      const d = fr(dAll * q3Scale(y, yo + so, j));
      if (d === 0) continue;
      for (let ii = 0; ii < 16; ii++) {
        const l = nearestInt(fr(x[xo + 16 * j + ii] / d));
        Ls[16 * j + ii] = (l < -4 ? -4 : l > 3 ? 3 : l) + 4;
      }
    }
    // the high bit of levels 0..31 goes to bit 0 of hmask[0..31], of 32..63 to bit 1, ...
    for (let j = 0; j < 32; j++) y[yo + j] = 0;
    for (let j = 0; j < QK_K; j++) {
      if (Ls[j] > 3) {
        y[yo + (j & 31)] |= 1 << (j >> 5);
        Ls[j] -= 4;
      }
    }
    pack2bit(Ls, y, yo + 32);
  }
}

export function dequantizeQ3_K(y: Uint8Array, yo: number, x: Float32Array, xo: number, nb: number): void {
  for (let i = 0; i < nb; i++, yo += 110) {
    const dAll = half(y, yo + 108);
    let q = yo + 32;
    let m = 1;
    let is = 0;
    for (let n = 0; n < QK_K; n += 128) {
      let shift = 0;
      for (let j = 0; j < 4; j++) {
        let dl = fr(dAll * q3Scale(y, yo + 96, is++));
        for (let l = 0; l < 16; l++) {
          x[xo++] = dl * (((y[q + l] >> shift) & 3) - (y[yo + l] & m ? 0 : 4));
        }
        dl = fr(dAll * q3Scale(y, yo + 96, is++));
        for (let l = 0; l < 16; l++) {
          x[xo++] = dl * (((y[q + l + 16] >> shift) & 3) - (y[yo + l + 16] & m ? 0 : 4));
        }
        shift += 2;
        m <<= 1;
      }
      q += 32;
    }
  }
}

// ---------------------------------------------------------------- Q4_K / Q5_K shared pieces
// d, dmin, scales[12]: eight 6-bit scales and eight 6-bit mins

function scaleK4(y: Uint8Array, so: number, j: number): number {
  return j < 4 ? y[so + j] & 63 : (y[so + j + 4] & 0xf) | ((y[so + j - 4] >> 6) << 4);
}

function minK4(y: Uint8Array, so: number, j: number): number {
  return j < 4 ? y[so + j + 4] & 63 : (y[so + j + 4] >> 4) | ((y[so + j] >> 6) << 4);
}

/**
 * The part of quantize_row_q4_K_ref / q5_K_ref up to the final levels: per 32-element group a
 * scale/min search, 6-bit scales and mins, d and dmin, then levels 0..nmax requantized into L.
 */
function quantizeK4Scales(
  x: Float32Array,
  xo: number,
  y: Uint8Array,
  yo: number,
  nmax: number,
  rmin: number,
  nstep: number,
): void {
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    const go = xo + 32 * j;
    let sumX2 = 0;
    for (let l = 0; l < 32; l++) sumX2 = fr(sumX2 + fr(x[go + l] * x[go + l]));
    const avX = fr(Math.sqrt(fr(sumX2 / 32)));
    for (let l = 0; l < 32; l++) weights[l] = avX + Math.abs(x[go + l]);
    scales[j] = makeQkx2Quants(32, nmax, x, go, weights, 32 * j, rmin, F0_1, nstep, false);
    mins[j] = theMin;
    if (scales[j] > maxScale) maxScale = scales[j];
    if (mins[j] > maxMin) maxMin = mins[j];
  }
  const invScale = maxScale > 0 ? fr(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? fr(63 / maxMin) : 0;
  const so = yo + 4;
  for (let j = 0; j < 8; j++) {
    const ls = Math.min(63, nearestInt(fr(invScale * scales[j])) & 0xff);
    const lm = Math.min(63, nearestInt(fr(invMin * mins[j])) & 0xff);
    if (j < 4) {
      y[so + j] = ls;
      y[so + j + 4] = lm;
    } else {
      y[so + j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
      y[so + j - 4] |= (ls >> 4) << 6;
      y[so + j] |= (lm >> 4) << 6;
    }
  }
  writeHalf(y, yo, fr(maxScale / 63));
  writeHalf(y, yo + 2, fr(maxMin / 63));
  const dAll = half(y, yo);
  const mAll = half(y, yo + 2);
  for (let j = 0; j < 8; j++) {
    const d = fr(dAll * scaleK4(y, so, j));
    if (d === 0) continue;
    const dm = fr(mAll * minK4(y, so, j));
    for (let ii = 0; ii < 32; ii++) {
      const l = nearestInt(fr(fr(x[xo + 32 * j + ii] + dm) / d));
      L[32 * j + ii] = l < 0 ? 0 : l > nmax ? nmax : l;
    }
  }
}

// ---------------------------------------------------------------- Q4_K (144 bytes)

export function quantizeQ4_K(x: Float32Array, xo: number, y: Uint8Array, yo: number, nb: number): void {
  for (let i = 0; i < nb; i++, xo += QK_K, yo += 144) {
    quantizeK4Scales(x, xo, y, yo, 15, -1, 20);
    let q = yo + 16;
    for (let j = 0; j < QK_K; j += 64, q += 32) {
      for (let l = 0; l < 32; l++) y[q + l] = L[j + l] | (L[j + l + 32] << 4);
    }
  }
}

export function dequantizeQ4_K(y: Uint8Array, yo: number, x: Float32Array, xo: number, nb: number): void {
  for (let i = 0; i < nb; i++, yo += 144) {
    const d = half(y, yo);
    const min = half(y, yo + 2);
    let q = yo + 16;
    for (let is = 0; is < 8; is += 2, q += 32) {
      const d1 = fr(d * scaleK4(y, yo + 4, is));
      const m1 = fr(min * minK4(y, yo + 4, is));
      const d2 = fr(d * scaleK4(y, yo + 4, is + 1));
      const m2 = fr(min * minK4(y, yo + 4, is + 1));
      for (let l = 0; l < 32; l++) x[xo++] = fr(d1 * (y[q + l] & 0xf)) - m1;
      for (let l = 0; l < 32; l++) x[xo++] = fr(d2 * (y[q + l] >> 4)) - m2;
    }
  }
}

// ---------------------------------------------------------------- Q5_K (176 bytes)
// d, dmin, scales[12], qh[32], qs[128]

export function quantizeQ5_K(x: Float32Array, xo: number, y: Uint8Array, yo: number, nb: number): void {
  for (let i = 0; i < nb; i++, xo += QK_K, yo += 176) {
    quantizeK4Scales(x, xo, y, yo, 31, -0.5, 15);
    const qh = yo + 16;
    let ql = yo + 48;
    for (let j = 0; j < 32; j++) y[qh + j] = 0;
    let m1 = 1;
    let m2 = 2;
    for (let n = 0; n < QK_K; n += 64, ql += 32) {
      for (let j = 0; j < 32; j++) {
        let l1 = L[n + j];
        if (l1 > 15) {
          l1 -= 16;
          y[qh + j] |= m1;
        }
        let l2 = L[n + j + 32];
        if (l2 > 15) {
          l2 -= 16;
          y[qh + j] |= m2;
        }
        y[ql + j] = l1 | (l2 << 4);
      }
      m1 <<= 2;
      m2 <<= 2;
    }
  }
}

export function dequantizeQ5_K(y: Uint8Array, yo: number, x: Float32Array, xo: number, nb: number): void {
  for (let i = 0; i < nb; i++, yo += 176) {
    const d = half(y, yo);
    const min = half(y, yo + 2);
    const qh = yo + 16;
    let ql = yo + 48;
    let u1 = 1;
    let u2 = 2;
    for (let is = 0; is < 8; is += 2, ql += 32) {
      const d1 = fr(d * scaleK4(y, yo + 4, is));
      const m1 = fr(min * minK4(y, yo + 4, is));
      const d2 = fr(d * scaleK4(y, yo + 4, is + 1));
      const m2 = fr(min * minK4(y, yo + 4, is + 1));
      for (let l = 0; l < 32; l++) x[xo++] = fr(d1 * ((y[ql + l] & 0xf) + (y[qh + l] & u1 ? 16 : 0))) - m1;
      for (let l = 0; l < 32; l++) x[xo++] = fr(d2 * ((y[ql + l] >> 4) + (y[qh + l] & u2 ? 16 : 0))) - m2;
      u1 <<= 2;
      u2 <<= 2;
    }
  }
}

// ---------------------------------------------------------------- Q6_K (210 bytes)
// ql[128], qh[64], scales[16] (int8), d

export function quantizeQ6_K(x: Float32Array, xo: number, y: Uint8Array, yo: number, nb: number): void {
  for (let i = 0; i < nb; i++, xo += QK_K, yo += 210) {
    let maxScale = 0;
    let maxAbsScale = 0;
    for (let ib = 0; ib < 16; ib++) {
      scales[ib] = makeQxQuants(16, 32, x, xo + 16 * ib, 16 * ib);
      const absScale = Math.abs(scales[ib]);
      if (absScale > maxAbsScale) {
        maxAbsScale = absScale;
        maxScale = scales[ib];
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) {
      for (let j = 0; j < 210; j++) y[yo + j] = 0;
      continue;
    }
    const iscale = fr(-128 / maxScale);
    writeHalf(y, yo + 208, fr(1 / iscale));
    for (let ib = 0; ib < 16; ib++) y[yo + 192 + ib] = Math.min(127, nearestInt(fr(iscale * scales[ib])));
    const dAll = half(y, yo + 208);
    for (let j = 0; j < 16; j++) {
      const d = fr(dAll * ((y[yo + 192 + j] << 24) >> 24));
      if (d === 0) continue;
      for (let ii = 0; ii < 16; ii++) {
        const l = nearestInt(fr(x[xo + 16 * j + ii] / d));
        Ls[16 * j + ii] = (l < -32 ? -32 : l > 31 ? 31 : l) + 32;
      }
    }
    let ql = yo;
    let qh = yo + 128;
    for (let j = 0; j < QK_K; j += 128, ql += 64, qh += 32) {
      for (let l = 0; l < 32; l++) {
        const a = Ls[j + l];
        const b = Ls[j + l + 32];
        const c = Ls[j + l + 64];
        const e = Ls[j + l + 96];
        y[ql + l] = (a & 0xf) | ((c & 0xf) << 4);
        y[ql + l + 32] = (b & 0xf) | ((e & 0xf) << 4);
        y[qh + l] = (a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6);
      }
    }
  }
}

export function dequantizeQ6_K(y: Uint8Array, yo: number, x: Float32Array, xo: number, nb: number): void {
  for (let i = 0; i < nb; i++, yo += 210) {
    const d = half(y, yo + 208);
    let ql = yo;
    let qh = yo + 128;
    let sc = yo + 192;
    for (let n = 0; n < QK_K; n += 128, xo += 128, ql += 64, qh += 32, sc += 8) {
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = y[qh + l];
        const q1 = ((y[ql + l] & 0xf) | ((h & 3) << 4)) - 32;
        const q2 = ((y[ql + l + 32] & 0xf) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((y[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const q4 = ((y[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32;
        x[xo + l] = fr(d * ((y[sc + is] << 24) >> 24)) * q1;
        x[xo + l + 32] = fr(d * ((y[sc + is + 2] << 24) >> 24)) * q2;
        x[xo + l + 64] = fr(d * ((y[sc + is + 4] << 24) >> 24)) * q3;
        x[xo + l + 96] = fr(d * ((y[sc + is + 6] << 24) >> 24)) * q4;
      }
    }
  }
}

// ---------------------------------------------------------------- Q8_K (292 bytes, activations)
// d (float32), qs[256] int8, bsums[16] int16

const q8f = new Float32Array(1);
const q8b = new Uint8Array(q8f.buffer);

export function quantizeQ8_K(x: Float32Array, xo: number, y: Uint8Array, yo: number, nb: number): void {
  for (let i = 0; i < nb; i++, xo += QK_K, yo += 292) {
    let max = 0;
    let amax = 0;
    for (let j = 0; j < QK_K; j++) {
      const ax = Math.abs(x[xo + j]);
      if (ax > amax) {
        amax = ax;
        max = x[xo + j];
      }
    }
    if (amax === 0) {
      // ggml leaves bsums untouched here; we write zeros
      for (let j = 0; j < 292; j++) y[yo + j] = 0;
      continue;
    }
    const iscale = fr(-127 / max);
    for (let j = 0; j < QK_K; j++) y[yo + 4 + j] = Math.min(127, nearestInt(fr(iscale * x[xo + j])));
    for (let j = 0; j < 16; j++) {
      let sum = 0;
      for (let ii = 0; ii < 16; ii++) sum += (y[yo + 4 + j * 16 + ii] << 24) >> 24;
      y[yo + 260 + 2 * j] = sum;
      y[yo + 261 + 2 * j] = sum >> 8;
    }
    q8f[0] = 1 / iscale;
    y[yo] = q8b[0];
    y[yo + 1] = q8b[1];
    y[yo + 2] = q8b[2];
    y[yo + 3] = q8b[3];
  }
}

export function dequantizeQ8_K(y: Uint8Array, yo: number, x: Float32Array, xo: number, nb: number): void {
  for (let i = 0; i < nb; i++, yo += 292, xo += QK_K) {
    q8b[0] = y[yo];
    q8b[1] = y[yo + 1];
    q8b[2] = y[yo + 2];
    q8b[3] = y[yo + 3];
    const d = q8f[0];
    for (let j = 0; j < QK_K; j++) x[xo + j] = d * ((y[yo + 4 + j] << 24) >> 24);
  }
}
