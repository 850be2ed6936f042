/**
 * Fast deterministic normal-ish numbers for synthetic weights.
 *
 * Each value is a 16-bit uniform index into a table of 65536 normal quantiles, so one 32-bit
 * draw of xoshiro128** gives two values and no transcendental function runs per element: a 7B
 * model's 6.7 billion weights take seconds, not minutes. The tails stop at ~4.3 sigma, which is
 * what a weight initialiser truncates anyway.
 */
import { fp32ToFp16 } from "./half";

/** Acklam's rational approximation of the inverse normal CDF (relative error < 1.2e-9). */
function inverseNormalCdf(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - low) return -inverseNormalCdf(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

let quantiles: Float64Array | undefined;
function normalQuantiles(): Float64Array {
  if (!quantiles) {
    quantiles = new Float64Array(65536);
    for (let i = 0; i < 65536; i++) quantiles[i] = inverseNormalCdf((i + 0.5) / 65536);
  }
  return quantiles;
}

const tables = new Map<string, Float32Array | Uint16Array>();
/** 65536 normal quantiles times `std`, as float32 or as half bits. */
export function normalTable(std: number, half: boolean): Float32Array | Uint16Array {
  const key = `${half ? "h" : "f"}${std}`;
  let table = tables.get(key);
  if (!table) {
    const q = normalQuantiles();
    table = half ? new Uint16Array(65536) : new Float32Array(65536);
    for (let i = 0; i < 65536; i++) table[i] = half ? fp32ToFp16(q[i] * std) : q[i] * std;
    if (tables.size > 64) tables.clear();
    tables.set(key, table);
  }
  return table;
}

/** 32-bit FNV-1a of a string (to derive one stream per tensor from the seed). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * xoshiro128** seeded by splitmix32. The fill loops are written out per output type and keep
 * every intermediate a 32-bit integer: a generic or `>>> 0` version runs several times slower.
 */
export class NormalStream {
  private readonly state = new Int32Array(4);

  constructor(seed: number, stream: number) {
    let x = (seed ^ Math.imul(stream, 0x9e3779b9)) | 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.state[i] = z ^ (z >>> 16);
    }
    this.state[3] |= 1; // never all zero
  }

  /** Fill `out` (n half-precision values as bits, packed in pairs; n rounded up to even) from `table`. */
  halves(out: Uint32Array, table: Uint16Array): void {
    fillPairs(out, table, this.state);
  }

  /** Fill `out` with float32 values drawn from `table`. */
  floats(out: Float32Array, table: Float32Array): void {
    fillFloats(out, table, this.state);
  }
}

/** Two table entries per 32-bit draw, stored as one little-endian pair. */
function fillPairs(out: Uint32Array, table: Uint16Array, st: Int32Array): void {
  let s0 = st[0];
  let s1 = st[1];
  let s2 = st[2];
  let s3 = st[3];
  const n = out.length;
  for (let i = 0; i < n; i++) {
    const a = Math.imul(s1, 5);
    const r = Math.imul((a << 7) | (a >>> 25), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    out[i] = table[r & 0xffff] | (table[(r >>> 16) & 0xffff] << 16);
  }
  st[0] = s0;
  st[1] = s1;
  st[2] = s2;
  st[3] = s3;
}

function fillFloats(out: Float32Array, table: Float32Array, st: Int32Array): void {
  let s0 = st[0];
  let s1 = st[1];
  let s2 = st[2];
  let s3 = st[3];
  const n = out.length;
  for (let i = 0; i < n; i += 2) {
    const a = Math.imul(s1, 5);
    const r = Math.imul((a << 7) | (a >>> 25), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    out[i] = table[r & 0xffff];
    if (i + 1 < n) out[i + 1] = table[(r >>> 16) & 0xffff];
  }
  st[0] = s0;
  st[1] = s1;
  st[2] = s2;
  st[3] = s3;
}
