/**
 * C float semantics in JS. ggml's quantizers do every step in float32; a JS expression is
 * float32-exact when each operation on float32 values is wrapped in `fr` (for + - * / and sqrt,
 * rounding the double result to float32 equals the float32 operation).
 */

export const fr = Math.fround;

const nf = new Float32Array(1);
const ni = new Int32Array(nf.buffer);

/**
 * ggml's `nearest_int`: add 1.5 * 2^23 in float32 and read the low mantissa bits, i.e. round
 * half to even. Outside +-2^22 (and for NaN/inf) it returns the same garbage as the C code.
 */
export function nearestInt(f: number): number {
  if (f > -4194304 && f < 4194304) return fr(f + 12582912) - 12582912;
  nf[0] = f + 12582912;
  return (ni[0] & 0x007fffff) - 0x00400000;
}

/** C's `roundf`: half away from zero. */
export function roundf(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** ggml's GROUP_MAX_EPS (1e-15f): a group whose largest magnitude is below it is all zeros. */
export const GROUP_MAX_EPS = fr(1e-15);
