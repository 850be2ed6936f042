/**
 * The one matrix product training needs: C[M,N] = A[M,K] * B[N,K]^T (row-major). The forward
 * pass (X W^T), the input gradient (dY (W^T)^T) and the weight gradient (dY^T (X^T)^T) are all
 * this product after a transpose, so a backend supplies only this.
 */
export interface MatmulBackend {
  readonly name: string;
  /** C = A B^T; writes into `out` when given. */
  abt(a: Float32Array, b: Float32Array, m: number, n: number, k: number, out?: Float32Array): Float32Array;
  dispose?(): Promise<void>;
}

/** Plain typed-array loops: four dot products share each row of A. */
export const jsMatmul: MatmulBackend = {
  name: "js",
  abt(a, b, m, n, k, out = new Float32Array(m * n)) {
    for (let i = 0; i < m; i++) {
      const ao = i * k;
      const co = i * n;
      let j = 0;
      for (; j + 3 < n; j += 4) {
        const b0 = j * k;
        const b1 = b0 + k;
        const b2 = b1 + k;
        const b3 = b2 + k;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let p = 0; p < k; p++) {
          const x = a[ao + p]!;
          s0 += x * b[b0 + p]!;
          s1 += x * b[b1 + p]!;
          s2 += x * b[b2 + p]!;
          s3 += x * b[b3 + p]!;
        }
        out[co + j] = s0;
        out[co + j + 1] = s1;
        out[co + j + 2] = s2;
        out[co + j + 3] = s3;
      }
      for (; j < n; j++) {
        const bo = j * k;
        let s = 0;
        for (let p = 0; p < k; p++) s += a[ao + p]! * b[bo + p]!;
        out[co + j] = s;
      }
    }
    return out;
  },
};

/** out[c, r] = x[r, c]. */
export function transpose(x: Float32Array, rows: number, cols: number, out = new Float32Array(rows * cols)) {
  // Blocked so both sides stay in cache.
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) {
        const ro = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = x[ro + c]!;
      }
    }
  }
  return out;
}
