// The quantizers of src/blocks/*.ts compiled to WebAssembly: the same ggml reference algorithms,
// where f32 arithmetic is native (JS needs Math.fround after every operation, ~4x slower).
// Every function mirrors its TypeScript twin line by line; the tests hold both to ggml's bytes.
//
// Memory: the JS side grows the exported memory and places input and output at offsets it
// chooses (above DATA_END); the scratch buffers below live in static data.

const QK_K: i32 = 256;
const F0_1: f32 = 0.1;
const GROUP_MAX_EPS: f32 = 1e-15;
const FLT_MAX: f32 = 3.4028234663852886e38;

const L: usize = memory.data(256);
const LS: usize = memory.data(256); // int8 levels
const LAUX: usize = memory.data(32);
const WEIGHTS: usize = memory.data(32 * 4, 16);
const SCALES: usize = memory.data(16 * 4, 16);
const MINS: usize = memory.data(16 * 4, 16);

/** Where the JS side may start placing buffers. */
export const DATA_END: usize = 65536;

// ---------------------------------------------------------------- C semantics

// @ts-expect-error: decorator
@inline function nearestInt(f: f32): i32 {
  const v: f32 = f + 12582912.0;
  return (reinterpret<i32>(v) & 0x007fffff) - 0x00400000;
}

/** x86's cvttss2si: truncation, 0x80000000 for NaN and out-of-range values. */
// @ts-expect-error: decorator
@inline function cvtt(f: f32): i32 {
  return f >= -2147483648.0 && f < 2147483648.0 ? <i32>f : <i32>0x80000000;
}

/** C's roundf (half away from zero), as a float. */
// @ts-expect-error: decorator
@inline function roundf(x: f32): f32 {
  const a = abs<f32>(x);
  let r = trunc<f32>(a);
  if (a - r >= 0.5) r += 1.0;
  return x < 0 ? -r : r;
}

// @ts-expect-error: decorator
@inline function clamp(v: i32, lo: i32, hi: i32): i32 {
  return v < lo ? lo : v > hi ? hi : v;
}

// ---------------------------------------------------------------- halves

export function fp32ToFp16(x: f32): u32 {
  const w = reinterpret<u32>(x);
  const sign = (w >> 16) & 0x8000;
  const a = w & 0x7fffffff;
  if (a > 0x7f800000) return sign | 0x7e00;
  if (a >= 0x477ff000) return sign | 0x7c00;
  if (a >= 0x38800000) return sign | ((a + 0xfff + ((a >> 13) & 1) - 0x38000000) >> 13);
  const v: f64 = <f64>reinterpret<f32>(a) * 16777216.0;
  let r = floor<f64>(v);
  const frac = v - r;
  if (frac > 0.5 || (frac == 0.5 && (<i64>r & 1) == 1)) r += 1.0;
  return sign | <u32>r;
}

export function fp16ToFp32(h: u32): f32 {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp == 31) return reinterpret<f32>(sign | 0x7f800000 | (mant << 13) | (mant != 0 ? 0x400000 : 0));
  // (h & 0x7fff) << 13 is the float32 with an exponent 112 too small; * 2^112 is exact, subnormals included
  const mag = reinterpret<f32>((h & 0x7fff) << 13) * reinterpret<f32>(0x77800000);
  return reinterpret<f32>(reinterpret<u32>(mag) | sign);
}

// @ts-expect-error: decorator
@inline function writeHalf(p: usize, x: f32): void {
  store<u16>(p, <u16>fp32ToFp16(x));
}

// @ts-expect-error: decorator
@inline function readHalf(p: usize): f32 {
  return fp16ToFp32(<u32>load<u16>(p));
}

export function bf16Row(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const w = load<u32>(x + (<usize>i << 2));
    const h = (w & 0x7fffffff) > 0x7f800000 ? (w >> 16) | 64 : (w + (0x7fff + ((w >> 16) & 1))) >> 16;
    store<u16>(y + (<usize>i << 1), <u16>h);
  }
}

export function f16Row(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<u16>(y + (<usize>i << 1), <u16>fp32ToFp16(load<f32>(x + (<usize>i << 2))));
}

/** F16 / BF16 source rows to float32 (the converter's input side). */
export function f16ToF32Row(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), fp16ToFp32(<u32>load<u16>(x + (<usize>i << 1))));
}

export function bf16ToF32Row(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<u32>(y + (<usize>i << 2), <u32>load<u16>(x + (<usize>i << 1)) << 16);
}

// ---------------------------------------------------------------- 32-element blocks

// @ts-expect-error: decorator
@inline function xf(x: usize, i: i32): f32 {
  return load<f32>(x + (<usize>i << 2));
}

function signedMax(x: usize): f32 {
  let amax: f32 = 0;
  let max: f32 = 0;
  for (let j = 0; j < 32; j++) {
    const v = xf(x, j);
    const a = abs<f32>(v);
    if (amax < a) {
      amax = a;
      max = v;
    }
  }
  return max;
}

export function quantizeQ4_0(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 128, y += 18) {
    const d: f32 = signedMax(x) / <f32>-8.0;
    const id: f32 = d != 0 ? <f32>1.0 / d : 0;
    writeHalf(y, d);
    for (let j = 0; j < 16; j++) {
      const xi0 = min(15, <i32>(<i8>cvtt(xf(x, j) * id + <f32>8.5)));
      const xi1 = min(15, <i32>(<i8>cvtt(xf(x, 16 + j) * id + <f32>8.5)));
      store<u8>(y + 2 + j, <u8>(xi0 | (xi1 << 4)));
    }
  }
}

export function quantizeQ4_1(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 128, y += 20) {
    let mn: f32 = FLT_MAX;
    let mx: f32 = -FLT_MAX;
    for (let j = 0; j < 32; j++) {
      const v = xf(x, j);
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    const d: f32 = (mx - mn) / <f32>15.0;
    const id: f32 = d != 0 ? <f32>1.0 / d : 0;
    writeHalf(y, d);
    writeHalf(y + 2, mn);
    for (let j = 0; j < 16; j++) {
      const xi0 = min(15, <i32>(<i8>cvtt((xf(x, j) - mn) * id + <f32>0.5)));
      const xi1 = min(15, <i32>(<i8>cvtt((xf(x, 16 + j) - mn) * id + <f32>0.5)));
      store<u8>(y + 4 + j, <u8>(xi0 | (xi1 << 4)));
    }
  }
}

export function quantizeQ5_0(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 128, y += 22) {
    const d: f32 = signedMax(x) / <f32>-16.0;
    const id: f32 = d != 0 ? <f32>1.0 / d : 0;
    writeHalf(y, d);
    let qh: u32 = 0;
    for (let j = 0; j < 16; j++) {
      const xi0 = <u32>min(31, <i32>(<i8>cvtt(xf(x, j) * id + <f32>16.5))) & 0xff;
      const xi1 = <u32>min(31, <i32>(<i8>cvtt(xf(x, 16 + j) * id + <f32>16.5))) & 0xff;
      store<u8>(y + 6 + j, <u8>((xi0 & 0x0f) | ((xi1 & 0x0f) << 4)));
      qh |= ((xi0 & 0x10) >> 4) << j;
      qh |= ((xi1 & 0x10) >> 4) << (j + 16);
    }
    store<u32>(y + 2, qh);
  }
}

export function quantizeQ5_1(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 128, y += 24) {
    let mn: f32 = FLT_MAX;
    let mx: f32 = -FLT_MAX;
    for (let j = 0; j < 32; j++) {
      const v = xf(x, j);
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    const d: f32 = (mx - mn) / <f32>31.0;
    const id: f32 = d != 0 ? <f32>1.0 / d : 0;
    writeHalf(y, d);
    writeHalf(y + 2, mn);
    let qh: u32 = 0;
    for (let j = 0; j < 16; j++) {
      const xi0 = <u32>cvtt((xf(x, j) - mn) * id + <f32>0.5) & 0xff;
      const xi1 = <u32>cvtt((xf(x, 16 + j) - mn) * id + <f32>0.5) & 0xff;
      store<u8>(y + 8 + j, <u8>((xi0 & 0x0f) | ((xi1 & 0x0f) << 4)));
      qh |= ((xi0 & 0x10) >> 4) << j;
      qh |= ((xi1 & 0x10) >> 4) << (j + 16);
    }
    store<u32>(y + 4, qh);
  }
}

function absMax32(x: usize): f32 {
  let amax: f32 = 0;
  for (let j = 0; j < 32; j++) {
    const a = abs<f32>(xf(x, j));
    amax = amax > a ? amax : a;
  }
  return amax;
}

export function quantizeQ8_0(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 128, y += 34) {
    const d: f32 = absMax32(x) / <f32>127.0;
    const id: f32 = d != 0 ? <f32>1.0 / d : 0;
    writeHalf(y, d);
    for (let j = 0; j < 32; j++) store<u8>(y + 2 + j, <u8>cvtt(roundf(xf(x, j) * id)));
  }
}

export function quantizeQ8_1(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 128, y += 36) {
    const d: f32 = absMax32(x) / <f32>127.0;
    const id: f32 = d != 0 ? <f32>1.0 / d : 0;
    writeHalf(y, d);
    let sum: i32 = 0;
    for (let j = 0; j < 32; j++) {
      const q = <i32>(<i8>cvtt(roundf(xf(x, j) * id)));
      store<u8>(y + 4 + j, <u8>q);
      sum += q;
    }
    writeHalf(y + 2, <f32>sum * d);
  }
}

// ---------------------------------------------------------------- K-quant helpers

let theMin: f32 = 0;

// @ts-expect-error: decorator
@inline function wf(i: i32): f32 {
  return load<f32>(WEIGHTS + (<usize>i << 2));
}

function makeQkx2Quants(n: i32, nmax: i32, x: usize, lo: i32, rmin: f32, rdelta: f32, nstep: i32, useMad: bool): f32 {
  let mn = xf(x, 0);
  let mx = xf(x, 0);
  let sumW = wf(0);
  let sumX: f32 = sumW * xf(x, 0);
  for (let i = 1; i < n; i++) {
    const xi = xf(x, i);
    if (xi < mn) mn = xi;
    if (xi > mx) mx = xi;
    const w = wf(i);
    sumW += w;
    sumX += w * xi;
  }
  if (mn > 0) mn = 0;
  if (mx == mn) {
    for (let i = 0; i < n; i++) store<u8>(L + lo + i, 0);
    theMin = -mn;
    return 0;
  }
  const fmax = <f32>nmax;
  let iscale: f32 = fmax / (mx - mn);
  let scale: f32 = <f32>1.0 / iscale;
  let bestError: f32 = 0;
  for (let i = 0; i < n; i++) {
    const xi = xf(x, i);
    const l = clamp(nearestInt(iscale * (xi - mn)), 0, nmax);
    store<u8>(L + lo + i, <u8>l);
    let diff: f32 = scale * <f32>l + mn - xi;
    diff = useMad ? abs<f32>(diff) : diff * diff;
    bestError += wf(i) * diff;
  }
  if (nstep < 1) {
    theMin = -mn;
    return scale;
  }
  for (let is = 0; is <= nstep; is++) {
    iscale = (rmin + rdelta * <f32>is + fmax) / (mx - mn);
    let sumL: f32 = 0;
    let sumL2: f32 = 0;
    let sumXL: f32 = 0;
    for (let i = 0; i < n; i++) {
      const xi = xf(x, i);
      const l = clamp(nearestInt(iscale * (xi - mn)), 0, nmax);
      store<u8>(LAUX + i, <u8>l);
      const wl: f32 = wf(i) * <f32>l;
      sumL += wl;
      sumL2 += wl * <f32>l;
      sumXL += wl * xi;
    }
    const D: f32 = sumW * sumL2 - sumL * sumL;
    if (D > 0) {
      let thisScale: f32 = (sumW * sumXL - sumX * sumL) / D;
      let thisMin: f32 = (sumL2 * sumX - sumL * sumXL) / D;
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = sumXL / sumL2;
      }
      let curError: f32 = 0;
      for (let i = 0; i < n; i++) {
        let diff: f32 = thisScale * <f32>load<u8>(LAUX + i) + thisMin - xf(x, i);
        diff = useMad ? abs<f32>(diff) : diff * diff;
        curError += wf(i) * diff;
      }
      if (curError < bestError) {
        for (let i = 0; i < n; i++) store<u8>(L + lo + i, load<u8>(LAUX + i));
        bestError = curError;
        scale = thisScale;
        mn = thisMin;
      }
    }
  }
  theMin = -mn;
  return scale;
}

// @ts-expect-error: decorator
@inline function lsGet(i: i32): i32 {
  return <i32>load<i8>(LS + i);
}

// @ts-expect-error: decorator
@inline function lsSet(i: i32, v: i32): void {
  store<i8>(LS + i, <i8>v);
}

function makeQxQuants(n: i32, nmax: i32, x: usize, lo: i32): f32 {
  let mx: f32 = 0;
  let amax: f32 = 0;
  for (let i = 0; i < n; i++) {
    const ax = abs<f32>(xf(x, i));
    if (ax > amax) {
      amax = ax;
      mx = xf(x, i);
    }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) lsSet(lo + i, 0);
    return 0;
  }
  let iscale: f32 = <f32>-nmax / mx;
  let sumlx: f32 = 0;
  let suml2: f32 = 0;
  for (let i = 0; i < n; i++) {
    const xi = xf(x, i);
    const l = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
    lsSet(lo + i, l + nmax);
    const w: f32 = xi * xi;
    sumlx += w * xi * <f32>l;
    suml2 += w * <f32>l * <f32>l;
  }
  let scale: f32 = suml2 != 0 ? sumlx / suml2 : 0;
  let best: f32 = scale * sumlx;
  for (let is = -9; is <= 9; is++) {
    if (is == 0) continue;
    iscale = -(<f32>nmax + F0_1 * <f32>is) / mx;
    sumlx = 0;
    suml2 = 0;
    for (let i = 0; i < n; i++) {
      const xi = xf(x, i);
      const l = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
      const w: f32 = xi * xi;
      sumlx += w * xi * <f32>l;
      suml2 += w * <f32>l * <f32>l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (let i = 0; i < n; i++) lsSet(lo + i, nmax + clamp(nearestInt(iscale * xf(x, i)), -nmax, nmax - 1));
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

function makeQ3Quants(n: i32, nmax: i32, x: usize, lo: i32): f32 {
  let mx: f32 = 0;
  let amax: f32 = 0;
  for (let i = 0; i < n; i++) {
    const ax = abs<f32>(xf(x, i));
    if (ax > amax) {
      amax = ax;
      mx = xf(x, i);
    }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) lsSet(lo + i, 0);
    return 0;
  }
  const iscale: f32 = <f32>-nmax / mx;
  let sumlx: f32 = 0;
  let suml2: f32 = 0;
  for (let i = 0; i < n; i++) {
    const xi = xf(x, i);
    const l = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
    lsSet(lo + i, l);
    const w: f32 = xi * xi;
    sumlx += w * xi * <f32>l;
    suml2 += w * <f32>l * <f32>l;
  }
  for (let itry = 0; itry < 5; itry++) {
    let nChanged = 0;
    for (let i = 0; i < n; i++) {
      const xi = xf(x, i);
      const w: f32 = xi * xi;
      const li = lsGet(lo + i);
      let slx: f32 = sumlx - w * xi * <f32>li;
      if (slx > 0) {
        let sl2: f32 = suml2 - w * <f32>li * <f32>li;
        const newL = clamp(nearestInt((xi * sl2) / slx), -nmax, nmax - 1);
        if (newL != li) {
          slx += w * xi * <f32>newL;
          sl2 += w * <f32>newL * <f32>newL;
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            lsSet(lo + i, newL);
            sumlx = slx;
            suml2 = sl2;
            nChanged++;
          }
        }
      }
    }
    if (nChanged == 0) break;
  }
  for (let i = 0; i < n; i++) lsSet(lo + i, lsGet(lo + i) + nmax);
  return suml2 > 0 ? sumlx / suml2 : 0;
}

function pack2bit(src: usize, y: usize): void {
  for (let j = 0; j < QK_K; j += 128) {
    for (let l = 0; l < 32; l++) {
      const p = src + j + l;
      store<u8>(
        y + (j >> 2) + l,
        load<u8>(p) | (load<u8>(p + 32) << 2) | (load<u8>(p + 64) << 4) | (load<u8>(p + 96) << 6),
      );
    }
  }
}

// @ts-expect-error: decorator
@inline function sf(j: i32): f32 {
  return load<f32>(SCALES + (<usize>j << 2));
}

// @ts-expect-error: decorator
@inline function mf(j: i32): f32 {
  return load<f32>(MINS + (<usize>j << 2));
}

// ---------------------------------------------------------------- Q2_K

export function quantizeQ2_K(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 1024, y += 84) {
    let maxScale: f32 = 0;
    let maxMin: f32 = 0;
    for (let j = 0; j < 16; j++) {
      for (let l = 0; l < 16; l++) store<f32>(WEIGHTS + (<usize>l << 2), abs<f32>(xf(x, 16 * j + l)));
      store<f32>(SCALES + (<usize>j << 2), makeQkx2Quants(16, 3, x + (<usize>(16 * j) << 2), 16 * j, -0.5, F0_1, 15, true));
      store<f32>(MINS + (<usize>j << 2), theMin);
      if (sf(j) > maxScale) maxScale = sf(j);
      if (mf(j) > maxMin) maxMin = mf(j);
    }
    if (maxScale > 0) {
      const iscale: f32 = <f32>15.0 / maxScale;
      for (let j = 0; j < 16; j++) store<u8>(y + j, <u8>nearestInt(iscale * sf(j)));
      writeHalf(y + 80, maxScale / <f32>15.0);
    } else {
      for (let j = 0; j < 16; j++) store<u8>(y + j, 0);
      writeHalf(y + 80, 0);
    }
    if (maxMin > 0) {
      const iscale: f32 = <f32>15.0 / maxMin;
      for (let j = 0; j < 16; j++) store<u8>(y + j, load<u8>(y + j) | <u8>(nearestInt(iscale * mf(j)) << 4));
      writeHalf(y + 82, maxMin / <f32>15.0);
    } else {
      writeHalf(y + 82, 0);
    }
    const dAll = readHalf(y + 80);
    const mAll = readHalf(y + 82);
    for (let j = 0; j < 16; j++) {
      const sc = <i32>load<u8>(y + j);
      const d: f32 = dAll * <f32>(sc & 0xf);
      if (d == 0) continue;
      const dm: f32 = mAll * <f32>(sc >> 4);
      for (let ii = 0; ii < 16; ii++) {
        store<u8>(L + 16 * j + ii, <u8>clamp(nearestInt((xf(x, 16 * j + ii) + dm) / d), 0, 3));
      }
    }
    pack2bit(L, y + 16);
  }
}

// ---------------------------------------------------------------- Q3_K

// @ts-expect-error: decorator
@inline function q3Scale(so: usize, j: i32): i32 {
  const low = j < 8 ? <i32>load<u8>(so + j) & 0xf : <i32>load<u8>(so + j - 8) >> 4;
  return (low | (((<i32>load<u8>(so + 8 + (j % 4)) >> (2 * (j >> 2))) & 3) << 4)) - 32;
}

export function quantizeQ3_K(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 1024, y += 110) {
    const so = y + 96;
    let maxScale: f32 = 0;
    let amax: f32 = 0;
    for (let j = 0; j < 16; j++) {
      store<f32>(SCALES + (<usize>j << 2), makeQ3Quants(16, 4, x + (<usize>(16 * j) << 2), 16 * j));
      const scale = abs<f32>(sf(j));
      if (scale > amax) {
        amax = scale;
        maxScale = sf(j);
      }
    }
    for (let j = 0; j < 12; j++) store<u8>(so + j, 0);
    if (maxScale != 0) {
      const iscale: f32 = <f32>-32.0 / maxScale;
      for (let j = 0; j < 16; j++) {
        let l = <i32>(<i8>nearestInt(iscale * sf(j)));
        l = clamp(l, -32, 31) + 32;
        if (j < 8) store<u8>(so + j, <u8>(l & 0xf));
        else store<u8>(so + j - 8, load<u8>(so + j - 8) | <u8>((l & 0xf) << 4));
        l >>= 4;
        store<u8>(so + 8 + (j % 4), load<u8>(so + 8 + (j % 4)) | <u8>(l << (2 * (j >> 2))));
      }
      writeHalf(y + 108, <f32>1.0 / iscale);
    } else {
      writeHalf(y + 108, 0);
    }
    const dAll = readHalf(y + 108);
    for (let j = 0; j < 16; j++) {
      const d: f32 = dAll * <f32>q3Scale(so, j);
      if (d == 0) continue;
      for (let ii = 0; ii < 16; ii++) {
        lsSet(16 * j + ii, clamp(nearestInt(xf(x, 16 * j + ii) / d), -4, 3) + 4);
      }
    }
    for (let j = 0; j < 32; j++) store<u8>(y + j, 0);
    for (let j = 0; j < QK_K; j++) {
      const l = lsGet(j);
      if (l > 3) {
        store<u8>(y + (j & 31), load<u8>(y + (j & 31)) | <u8>(<i32>1 << (j >> 5)));
        lsSet(j, l - 4);
      }
    }
    pack2bit(LS, y + 32);
  }
}

// ---------------------------------------------------------------- Q4_K / Q5_K

// @ts-expect-error: decorator
@inline function scaleK4(so: usize, j: i32): i32 {
  return j < 4 ? <i32>load<u8>(so + j) & 63 : (<i32>load<u8>(so + j + 4) & 0xf) | ((<i32>load<u8>(so + j - 4) >> 6) << 4);
}

// @ts-expect-error: decorator
@inline function minK4(so: usize, j: i32): i32 {
  return j < 4 ? <i32>load<u8>(so + j + 4) & 63 : (<i32>load<u8>(so + j + 4) >> 4) | ((<i32>load<u8>(so + j) >> 6) << 4);
}

function quantizeK4Scales(x: usize, y: usize, nmax: i32, rmin: f32, nstep: i32): void {
  let maxScale: f32 = 0;
  let maxMin: f32 = 0;
  for (let j = 0; j < 8; j++) {
    const g = x + (<usize>(32 * j) << 2);
    let sumX2: f32 = 0;
    for (let l = 0; l < 32; l++) sumX2 += xf(g, l) * xf(g, l);
    const avX: f32 = sqrt<f32>(sumX2 / <f32>32.0);
    for (let l = 0; l < 32; l++) store<f32>(WEIGHTS + (<usize>l << 2), avX + abs<f32>(xf(g, l)));
    store<f32>(SCALES + (<usize>j << 2), makeQkx2Quants(32, nmax, g, 32 * j, rmin, F0_1, nstep, false));
    store<f32>(MINS + (<usize>j << 2), theMin);
    if (sf(j) > maxScale) maxScale = sf(j);
    if (mf(j) > maxMin) maxMin = mf(j);
  }
  const invScale: f32 = maxScale > 0 ? <f32>63.0 / maxScale : 0;
  const invMin: f32 = maxMin > 0 ? <f32>63.0 / maxMin : 0;
  const so = y + 4;
  for (let j = 0; j < 8; j++) {
    const ls = min(63, nearestInt(invScale * sf(j)) & 0xff);
    const lm = min(63, nearestInt(invMin * mf(j)) & 0xff);
    if (j < 4) {
      store<u8>(so + j, <u8>ls);
      store<u8>(so + j + 4, <u8>lm);
    } else {
      store<u8>(so + j + 4, <u8>((ls & 0xf) | ((lm & 0xf) << 4)));
      store<u8>(so + j - 4, load<u8>(so + j - 4) | <u8>((ls >> 4) << 6));
      store<u8>(so + j, load<u8>(so + j) | <u8>((lm >> 4) << 6));
    }
  }
  writeHalf(y, maxScale / <f32>63.0);
  writeHalf(y + 2, maxMin / <f32>63.0);
  const dAll = readHalf(y);
  const mAll = readHalf(y + 2);
  for (let j = 0; j < 8; j++) {
    const d: f32 = dAll * <f32>scaleK4(so, j);
    if (d == 0) continue;
    const dm: f32 = mAll * <f32>minK4(so, j);
    for (let ii = 0; ii < 32; ii++) {
      store<u8>(L + 32 * j + ii, <u8>clamp(nearestInt((xf(x, 32 * j + ii) + dm) / d), 0, nmax));
    }
  }
}

export function quantizeQ4_K(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 1024, y += 144) {
    quantizeK4Scales(x, y, 15, -1.0, 20);
    let q = y + 16;
    for (let j = 0; j < QK_K; j += 64, q += 32) {
      for (let l = 0; l < 32; l++) store<u8>(q + l, load<u8>(L + j + l) | (load<u8>(L + j + l + 32) << 4));
    }
  }
}

export function quantizeQ5_K(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 1024, y += 176) {
    quantizeK4Scales(x, y, 31, -0.5, 15);
    const qh = y + 16;
    let ql = y + 48;
    for (let j = 0; j < 32; j++) store<u8>(qh + j, 0);
    let m1: u32 = 1;
    let m2: u32 = 2;
    for (let n = 0; n < QK_K; n += 64, ql += 32) {
      for (let j = 0; j < 32; j++) {
        let l1 = <u32>load<u8>(L + n + j);
        if (l1 > 15) {
          l1 -= 16;
          store<u8>(qh + j, load<u8>(qh + j) | <u8>m1);
        }
        let l2 = <u32>load<u8>(L + n + j + 32);
        if (l2 > 15) {
          l2 -= 16;
          store<u8>(qh + j, load<u8>(qh + j) | <u8>m2);
        }
        store<u8>(ql + j, <u8>(l1 | (l2 << 4)));
      }
      m1 <<= 2;
      m2 <<= 2;
    }
  }
}

// ---------------------------------------------------------------- Q6_K

export function quantizeQ6_K(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 1024, y += 210) {
    let maxScale: f32 = 0;
    let maxAbsScale: f32 = 0;
    for (let ib = 0; ib < 16; ib++) {
      store<f32>(SCALES + (<usize>ib << 2), makeQxQuants(16, 32, x + (<usize>(16 * ib) << 2), 16 * ib));
      const a = abs<f32>(sf(ib));
      if (a > maxAbsScale) {
        maxAbsScale = a;
        maxScale = sf(ib);
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) {
      memory.fill(y, 0, 210);
      continue;
    }
    const iscale: f32 = <f32>-128.0 / maxScale;
    writeHalf(y + 208, <f32>1.0 / iscale);
    for (let ib = 0; ib < 16; ib++) store<i8>(y + 192 + ib, <i8>min(127, nearestInt(iscale * sf(ib))));
    const dAll = readHalf(y + 208);
    for (let j = 0; j < 16; j++) {
      const d: f32 = dAll * <f32>load<i8>(y + 192 + j);
      if (d == 0) continue;
      for (let ii = 0; ii < 16; ii++) {
        lsSet(16 * j + ii, clamp(nearestInt(xf(x, 16 * j + ii) / d), -32, 31) + 32);
      }
    }
    let ql = y;
    let qh = y + 128;
    for (let j = 0; j < QK_K; j += 128, ql += 64, qh += 32) {
      for (let l = 0; l < 32; l++) {
        const a = lsGet(j + l);
        const b = lsGet(j + l + 32);
        const c = lsGet(j + l + 64);
        const e = lsGet(j + l + 96);
        store<u8>(ql + l, <u8>((a & 0xf) | ((c & 0xf) << 4)));
        store<u8>(ql + l + 32, <u8>((b & 0xf) | ((e & 0xf) << 4)));
        store<u8>(qh + l, <u8>((a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6)));
      }
    }
  }
}

// ---------------------------------------------------------------- Q8_K

export function quantizeQ8_K(x: usize, y: usize, nb: i32): void {
  for (let i = 0; i < nb; i++, x += 1024, y += 292) {
    let mx: f32 = 0;
    let amax: f32 = 0;
    for (let j = 0; j < QK_K; j++) {
      const ax = abs<f32>(xf(x, j));
      if (ax > amax) {
        amax = ax;
        mx = xf(x, j);
      }
    }
    if (amax == 0) {
      memory.fill(y, 0, 292);
      continue;
    }
    const iscale: f32 = <f32>-127.0 / mx;
    for (let j = 0; j < QK_K; j++) store<i8>(y + 4 + j, <i8>min(127, nearestInt(iscale * xf(x, j))));
    for (let j = 0; j < 16; j++) {
      let sum: i32 = 0;
      for (let ii = 0; ii < 16; ii++) sum += <i32>load<i8>(y + 4 + j * 16 + ii);
      store<i16>(y + 260 + 2 * j, <i16>sum);
    }
    store<f32>(y, <f32>1.0 / iscale);
  }
}
