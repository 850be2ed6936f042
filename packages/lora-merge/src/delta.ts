/**
 * The LoRA update of a block of rows, in PyTorch's float32 arithmetic: `P = B @ A` summed over
 * the rank in order (each product rounded to float32, then added and rounded: what torch's
 * CPU matmul does here, verified bit for bit by the differential tests), then
 * `W += P * scaling` rounded to float32. Float32Array stores do the rounding; double rounding
 * through a double is harmless for + and * of float32 operands (53 >= 2*24 + 2).
 */
export interface DeltaKernel {
  /**
   * w: `rows` rows of `n` float32 weights starting at output row `row0`; a: [r, n]; b: [out, r].
   * Adds `(b @ a)[row0 .. row0+rows] * scaling` into w.
   */
  addRows(
    w: Float32Array,
    row0: number,
    rows: number,
    a: Float32Array,
    b: Float32Array,
    r: number,
    n: number,
    scaling: number,
  ): void;
}

export const jsDeltaKernel: DeltaKernel = {
  addRows(w, row0, rows, a, b, r, n, scaling) {
    const acc = new Float32Array(n);
    const s = Math.fround(scaling);
    for (let i = 0; i < rows; i++) {
      acc.fill(0);
      const bRow = (row0 + i) * r;
      for (let k = 0; k < r; k++) {
        const bk = b[bRow + k]!;
        const off = k * n;
        for (let j = 0; j < n; j++) acc[j]! += Math.fround(bk * a[off + j]!);
      }
      const wRow = i * n;
      for (let j = 0; j < n; j++) w[wRow + j]! += Math.fround(acc[j]! * s);
    }
  },
};

/** [rows, cols] -> [cols, rows] */
export function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = m[i * cols + j]!;
  return out;
}
