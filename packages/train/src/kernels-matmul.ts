/**
 * The matrix product on @cllama/kernels-wasm's F32 kernel (SIMD128, split over the worker pool).
 * B goes in as the kernel's "weights", A as its tokens. The kernels' memories only grow (bump
 * allocation), so three scratch buffers are kept and reused; they grow when a product is bigger.
 */
import { type KBuffer, type Kernels, type KWeights, WeightType } from "@cllama/kernels-wasm";
import { jsMatmul, type MatmulBackend } from "./matmul";

/** Below this many multiply-adds the dispatch costs more than the product. */
const SMALL = 1 << 17;

export function kernelsMatmul(kernels: Kernels): MatmulBackend {
  const slots: { buf: KBuffer | null; floats: number }[] = [
    { buf: null, floats: 0 },
    { buf: null, floats: 0 },
    { buf: null, floats: 0 },
  ];
  const slot = (i: number, floats: number): KBuffer => {
    const s = slots[i]!;
    if (!s.buf || s.floats < floats) {
      s.floats = Math.ceil(floats * 1.25);
      s.buf = kernels.allocF32(s.floats, 0, `train scratch ${i}`);
    }
    return s.buf;
  };
  return {
    name: "kernels-wasm",
    abt(a, b, m, n, k, out = new Float32Array(m * n)) {
      if (m * n * k < SMALL || k % 4 !== 0) return jsMatmul.abt(a, b, m, n, k, out);
      const x = slot(0, m * k);
      const wb = slot(1, n * k);
      const y = slot(2, m * n);
      // Views after every allocation: a memory that grew detaches the old ones.
      kernels.f32(x).set(a.subarray(0, m * k));
      kernels.f32(wb).set(b.subarray(0, n * k));
      // Plain row layout (kernels-wasm versions that know other layouts read `layout`).
      const w = {
        ...wb,
        bytes: n * k * 4,
        type: WeightType.F32,
        rows: n,
        cols: k,
        rowBytes: k * 4,
        layout: "ggml" as const,
      };
      kernels.matmul(w satisfies Omit<KWeights, "layout">, x, y, m);
      out.set(kernels.f32(y).subarray(0, m * n));
      return out;
    },
    dispose: () => kernels.dispose(),
  };
}
