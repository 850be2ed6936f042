/**
 * fp32 -> IEEE half bits exactly as ggml does it (`ggml_compute_fp32_to_fp16`): round to nearest
 * even, subnormals kept, overflow to infinity, every NaN to the quiet NaN 0x7E00 with its sign.
 * It lives here, in the format layer every other package builds on, so F16 tensors written by
 * synth, the converter and the quantizer all round the same way. Node 20 has no Float16Array.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** fp32 -> fp16 bits (round to nearest even). `x` is rounded to float32 first. */
export function fp32ToFp16(x: number): number {
  f32[0] = x;
  const w = u32[0];
  const sign = (w >>> 16) & 0x8000;
  const abs = w & 0x7fffffff;
  if (abs > 0x7f800000) return sign | 0x7e00; // NaN
  if (abs >= 0x477ff000) return sign | 0x7c00; // >= 65520 rounds to infinity
  if (abs >= 0x38800000) {
    // normal half: rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits
    return sign | ((abs + 0xfff + ((abs >>> 13) & 1) - 0x38000000) >>> 13);
  }
  // subnormal half (or zero): count units of 2^-24, ties to even; 1024 units is the smallest normal
  const v = Math.abs(f32[0]) * 16777216;
  let r = Math.floor(v);
  const frac = v - r;
  if (frac > 0.5 || (frac === 0.5 && (r & 1) === 1)) r++;
  return sign | r;
}
