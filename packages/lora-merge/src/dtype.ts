/**
 * The three element types checkpoints use here, and exact conversions between them.
 * Conversions round to nearest even, as PyTorch's `.half()` / `.bfloat16()` do, so merged
 * tensors come out bit-identical to the Python reference.
 */
import { fail } from "./errors";

export type DType = "F32" | "F16" | "BF16";

export function dtypeSize(dtype: DType): number {
  return dtype === "F32" ? 4 : 2;
}

const f16Table = buildF16Table();

function buildF16Table(): Float32Array {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    let v: number;
    if (exp === 0) v = mant * 2 ** -24;
    else if (exp === 31) v = mant ? Number.NaN : Number.POSITIVE_INFINITY;
    else v = (1 + mant / 1024) * 2 ** (exp - 15);
    table[h] = sign * v;
  }
  return table;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** float32 bits -> float16 bits, round to nearest even (IEEE, as torch/numpy). */
export function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    // subnormal half: shift the full significand, round to nearest even
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // may carry into the exponent: correct
  return sign | h;
}

export function f32ToF16(v: number): number {
  f32Scratch[0] = v;
  return f32BitsToF16(u32Scratch[0]!);
}

export function f32BitsToBf16(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) & 0xffff) | 0x40; // quiet NaN
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Element data (little-endian bytes) -> a fresh Float32Array. */
export function toFloat32(dtype: DType, bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength / dtypeSize(dtype);
  const out = new Float32Array(n);
  if (dtype === "F32") {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const src = aligned16(bytes);
  if (dtype === "F16") {
    for (let i = 0; i < n; i++) out[i] = f16Table[src[i]!]!;
  } else {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) bits[i] = src[i]! << 16;
  }
  return out;
}

/** Float32Array -> little-endian bytes of `dtype` (rounded to nearest even). */
export function fromFloat32(dtype: DType, values: Float32Array): Uint8Array {
  if (dtype === "F32") return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  if (dtype === "F16") for (let i = 0; i < out.length; i++) out[i] = f32BitsToF16(bits[i]!);
  else for (let i = 0; i < out.length; i++) out[i] = f32BitsToBf16(bits[i]!);
  return new Uint8Array(out.buffer);
}

/** Re-encode element data from one dtype to another (identity when equal). */
export function convertDType(from: DType, to: DType, bytes: Uint8Array): Uint8Array {
  if (from === to) return bytes;
  return fromFloat32(to, toFloat32(from, bytes));
}

function aligned16(bytes: Uint8Array): Uint16Array {
  if (bytes.byteOffset % 2 === 0)
    return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1);
  return new Uint16Array(bytes.slice().buffer);
}

export function parseDType(name: string, where: string): DType {
  const upper = name.toUpperCase();
  if (upper === "F32" || upper === "F16" || upper === "BF16") return upper;
  return fail(
    "LORA_UNSUPPORTED_DTYPE",
    `${where}: element type ${name} is not supported (expected F32, F16 or BF16)`,
    "convert the checkpoint to float16/bfloat16/float32 first",
  );
}

export { f16Table as f16ToF32Table };
