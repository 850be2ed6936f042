/**
 * IEEE half (fp16) and bfloat16 conversions, bit-exact with ggml.
 *
 * fp32 -> fp16 rounds to nearest even, keeps subnormals, overflows to infinity and turns every
 * NaN into the quiet NaN 0x7E00 with the input's sign (ggml's `ggml_compute_fp32_to_fp16`).
 * fp32 -> bf16 rounds to nearest even and forces NaNs quiet (`ggml_compute_fp32_to_bf16`).
 * Node 20 has no Float16Array, hence the bit twiddling.
 */

import { fp32ToFp16 } from "@cllama/gguf-format";

export { fp32ToFp16 };

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Every fp16 bit pattern as float32: a 256 KiB table, because dequantization reads one per block. */
export const fp16Table: Float32Array = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) table[h] = sign * mant * 2 ** -24;
    else if (exp === 31) table[h] = mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else table[h] = sign * (1024 + mant) * 2 ** (exp - 25);
  }
  // NaN payloads: ggml keeps the fp16 mantissa in the top of the float32 mantissa (quiet bit set)
  const bits = new Uint32Array(table.buffer);
  for (let h = 0; h < 65536; h++) {
    if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) {
      bits[h] = ((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13) | 0x400000;
    }
  }
  return table;
})();

/** fp16 bits -> number (exact). */
export function fp16ToFp32(h: number): number {
  return fp16Table[h & 0xffff];
}

/** fp32 -> bf16 bits, as ggml: round to nearest even, NaNs forced quiet. */
export function fp32ToBf16(x: number): number {
  f32[0] = x;
  const w = u32[0];
  if ((w & 0x7fffffff) > 0x7f800000) return ((w >>> 16) | 64) & 0xffff;
  return ((w + (0x7fff + ((w >>> 16) & 1))) >>> 16) & 0xffff;
}

/** bf16 bits -> number (exact). */
export function bf16ToFp32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

/** Read the little-endian fp16 at `bytes[offset]` as a number. */
export function readHalf(bytes: Uint8Array, offset: number): number {
  return fp16Table[bytes[offset] | (bytes[offset + 1] << 8)];
}

/** Write `x` as a little-endian fp16 at `bytes[offset]`. */
export function writeHalf(bytes: Uint8Array, offset: number, x: number): void {
  const h = fp32ToFp16(x);
  bytes[offset] = h & 0xff;
  bytes[offset + 1] = h >>> 8;
}
