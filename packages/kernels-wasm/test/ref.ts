// Scalar JavaScript references for the tests (float32 semantics through Math.fround).
import { readFileSync } from "node:fs";

const f = Math.fround;

/** float32 -> IEEE half bits, round to nearest even. */
export function fp32ToFp16(x: number): number {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setFloat32(0, x);
  const u = buf.getUint32(0);
  const sign = (u >>> 16) & 0x8000;
  const ax = u & 0x7fffffff;
  if (ax >= 0x7f800000) return sign | 0x7c00 | (ax > 0x7f800000 ? 0x200 : 0);
  if (ax >= 0x477ff000) return sign | 0x7c00;
  if (ax < 0x38800000) {
    buf.setUint32(0, ax);
    const v = f(buf.getFloat32(0) + 0.5);
    buf.setFloat32(0, v);
    return sign | (buf.getUint32(0) - 0x3f000000);
  }
  const odd = (ax >>> 13) & 1;
  return sign | (((ax + 0xc8000fff + odd) >>> 13) & 0xffff);
}

export function fp16ToFp32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

export const roundF16 = (x: number) => fp16ToFp32(fp32ToFp16(x));

export function roundBf16(x: number): number {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setFloat32(0, x);
  const u = buf.getUint32(0);
  buf.setUint32(0, (((u + (0x7fff + ((u >>> 16) & 1))) >>> 16) << 16) >>> 0);
  return buf.getFloat32(0);
}

/** Deterministic PRNG (mulberry32) for reproducible inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomF32(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 2 - 1) * scale;
  return out;
}

export function bytesF32(b: Uint8Array): Float32Array {
  const copy = b.slice();
  return new Float32Array(copy.buffer, 0, copy.byteLength >> 2);
}

export interface GoldenType {
  id: number;
  act: "q8_0" | "q8_1" | "q8_K";
  weights: Uint8Array;
  actBlocks: Uint8Array;
  dots: number[];
  dequant: Float32Array;
}

export interface Golden {
  cpu: string;
  n: number;
  rows: number;
  x: Float32Array;
  types: Record<string, GoldenType>;
}

const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

export function loadGolden(): Golden {
  const raw = JSON.parse(readFileSync(new URL("./golden/blocks.json", import.meta.url), "utf8"));
  const types: Record<string, GoldenType> = {};
  for (const [name, t] of Object.entries<Record<string, unknown>>(raw.types)) {
    types[name] = {
      id: t.id as number,
      act: t.act as GoldenType["act"],
      weights: b64(t.weights as string),
      actBlocks: b64(t.actBlocks as string),
      dots: t.dots as number[],
      dequant: bytesF32(b64(t.dequant as string)),
    };
  }
  return { cpu: raw.cpu, n: raw.n, rows: raw.rows, x: bytesF32(b64(raw.x)), types };
}

/** Slot of element i in the even/odd-per-16 activation layout. */
export function actSlot(i: number): number {
  const g = i >> 4;
  const w = i & 15;
  return (g << 4) + ((w & 1) << 3) + (w >> 1);
}

export const sumAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] * b[i]);
  return s;
};

export function dot(a: ArrayLike<number>, b: ArrayLike<number>, n = a.length, ao = 0, bo = 0): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
  return s;
}

/** ggml's RMS norm: double accumulation, float32 scale and products. */
export function rmsNormRef(x: Float32Array, w: Float32Array | null, eps: number): Float32Array {
  let sum = 0;
  for (const v of x) sum += f(v * v);
  const scale = f(1 / f(Math.sqrt(f(f(sum / x.length) + eps))));
  return x.map((v, i) => (w ? f(f(v * scale) * w[i]) : f(v * scale)));
}
