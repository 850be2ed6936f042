import { describe, expect, it } from "vitest";
import { jsDeltaKernel, wasmAvailable, wasmDeltaKernel } from "../src/index";

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * (i % 7 === 0 ? 1e3 : 1);
  }
  return out;
}

describe("LoRA delta kernels", () => {
  it("WebAssembly SIMD128 is available on this engine", () => {
    expect(wasmAvailable()).toBe(true);
  });

  for (const [rows, r, n] of [
    [7, 8, 64],
    [33, 64, 512],
    [2, 3, 16],
    [5, 4, 172],
  ] as const) {
    it(`WASM and JS agree bit for bit (rows ${rows}, r ${r}, n ${n})`, () => {
      const a = random(r * n, 1);
      const b = random((rows + 3) * r, 2);
      const w1 = random(rows * n, 3);
      const w2 = w1.slice();
      jsDeltaKernel.addRows(w1, 3, rows, a, b, r, n, 2);
      wasmDeltaKernel.addRows(w2, 3, rows, a, b, r, n, 2);
      expect(Buffer.compare(Buffer.from(w1.buffer), Buffer.from(w2.buffer))).toBe(0);
      // and the update was not a no-op
      expect(Buffer.compare(Buffer.from(w1.buffer), Buffer.from(random(rows * n, 3).buffer))).not.toBe(0);
    });
  }
});
