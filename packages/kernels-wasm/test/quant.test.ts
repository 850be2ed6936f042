import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKernels, type Kernels, kernelsModule, weightRowBytes } from "../src/index";
import { actSlot, dot, fp16ToFp32, fp32ToFp16, loadGolden, randomF32, sumAbs } from "./ref";

const golden = loadGolden();
const N = golden.n;

/** The raw module on a private memory, to look at the prepared activation layouts. */
async function rawModule() {
  const memory = new WebAssembly.Memory({ initial: 32, maximum: 65536, shared: true });
  const inst = new WebAssembly.Instance(await kernelsModule(), { env: { memory } });
  return { memory, fn: inst.exports as unknown as Record<string, (...a: number[]) => void> };
}

describe("activation quantization matches llama.cpp's CPU backend", () => {
  for (const act of ["q8_0", "q8_1", "q8_K"] as const) {
    it(`${act}: quants, scales and sums byte for byte`, async () => {
      const g = Object.values(golden.types).find((t) => t.act === act);
      if (!g) throw new Error("golden without this activation type");
      const { memory, fn } = await rawModule();
      const X = 65536;
      const OUT = X + N * 4;
      new Float32Array(memory.buffer, X, N).set(golden.x);
      if (act === "q8_K") fn.quantizeQ8K(X, N * 4, N, OUT, 0, 0, 1);
      else fn.quantizeQ8(X, N * 4, N, OUT, 0, 0, 1);
      const q16 = new Int16Array(memory.buffer, OUT, N);
      const dv = new DataView(g.actBlocks.buffer, g.actBlocks.byteOffset, g.actBlocks.byteLength);
      if (act === "q8_K") {
        const nk = N / 256;
        const d = new Float32Array(memory.buffer, OUT + 2 * N, nk);
        const bsum = new Int32Array(memory.buffer, OUT + 2 * N + 4 * nk, N / 16);
        for (let b = 0; b < nk; b++) {
          const o = b * 292;
          expect(d[b]).toBe(dv.getFloat32(o, true));
          for (let j = 0; j < 256; j++) expect(q16[actSlot(b * 256 + j)]).toBe(dv.getInt8(o + 4 + j));
          for (let g16 = 0; g16 < 16; g16++)
            expect(bsum[b * 16 + g16]).toBe(dv.getInt16(o + 260 + 2 * g16, true));
        }
      } else {
        const nb = N / 32;
        const d = new Float32Array(memory.buffer, OUT + 2 * N, nb);
        const s = new Float32Array(memory.buffer, OUT + 2 * N + 4 * nb, nb);
        const bs = act === "q8_1" ? 36 : 34;
        const qOff = act === "q8_1" ? 4 : 2;
        for (let b = 0; b < nb; b++) {
          const o = b * bs;
          expect(d[b]).toBe(fp16ToFp32(dv.getUint16(o, true)));
          if (act === "q8_1") expect(s[b]).toBe(fp16ToFp32(dv.getUint16(o + 2, true)));
          for (let j = 0; j < 32; j++) expect(q16[actSlot(b * 32 + j)]).toBe(dv.getInt8(o + qOff + j));
        }
      }
    });
  }
});

/** Edge values of the f32 -> f16 conversion (ties, subnormals, overflow, zeros, NaN), then random ones over every magnitude. */
function halfEdgeCases(count: number): Float32Array {
  const u = 2 ** -24; // a subnormal half's unit
  const edges = [
    1 + 2 ** -11,
    1 + 3 * 2 ** -11,
    -(1 + 2 ** -11),
    2 ** -14,
    2 ** -14 - 2 ** -26,
    2 ** -14 - u / 2,
    u / 2,
    (3 * u) / 2,
    (5 * u) / 2,
    -u / 2,
    u / 4,
    65504,
    65519,
    65520,
    -65520,
    1e30,
    0,
    -0,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NaN,
    1e-45,
    0.1,
    -0.3,
  ];
  const random = randomF32(count - edges.length, 21, 4);
  // a spread of magnitudes, from subnormal halves to beyond the largest half
  for (let i = 0; i < random.length; i++) random[i] *= 2 ** ((i % 48) - 30);
  return Float32Array.from([...edges, ...random]);
}

describe("rounding activations to half (the F16-weight partner and the f16 attention)", () => {
  it("rounds to nearest even at every edge: ties, subnormals, overflow, zeros, NaN", async () => {
    const { memory, fn } = await rawModule();
    const x = halfEdgeCases(4096);
    const n = x.length;
    const X = 65536;
    const OUT = X + n * 4;
    new Float32Array(memory.buffer, X, n).set(x);
    fn.roundRows(X, n * 4, n, OUT, 0, 0, 0, 1);
    const got = new Float32Array(memory.buffer, OUT, n);
    for (let i = 0; i < n; i++) {
      // even/odd order per group of 8, as the F16 kernels read halves
      const slot = (i & ~7) + ((i & 1) << 2) + ((i & 7) >> 1);
      const want = fp16ToFp32(fp32ToFp16(x[i]!));
      if (Number.isNaN(want)) expect(got[slot], `x = ${x[i]}`).toBeNaN();
      else
        expect(Object.is(got[slot], want) || got[slot] === want, `x = ${x[i]}: ${got[slot]} vs ${want}`).toBe(
          true,
        );
    }
  });

  it("storeF16 (the KV cache writes) gives every edge's half bits, eight at a time and in the tail", async () => {
    const { memory, fn } = await rawModule();
    const x = halfEdgeCases(4093); // not a multiple of 8: the last ones take the scalar path
    const n = x.length;
    const X = 65536;
    const OUT = X + n * 4;
    new Float32Array(memory.buffer, X, n).set(x);
    fn.storeF16(X, OUT, n);
    const got = new Uint16Array(memory.buffer, OUT, n);
    for (let i = 0; i < n; i++) expect(got[i], `x = ${x[i]}`).toBe(fp32ToFp16(x[i]!));
  });
});

describe("quantized matrix-vector products against llama.cpp's ggml_vec_dot", () => {
  let k: Kernels;
  beforeAll(async () => {
    k = await createKernels({ threads: 1 });
  });
  afterAll(() => k.dispose());

  for (const [name, g] of Object.entries(golden.types)) {
    it(`${name}: ${golden.rows} rows of ${N}`, async () => {
      const w = await k.uploadWeights(g.id, golden.rows, N, g.weights);
      const x = k.allocF32(N);
      const y = k.allocF32(golden.rows);
      k.f32(x).set(golden.x);
      k.matvec(w, x, y);
      const got = k.f32(y);
      for (let r = 0; r < golden.rows; r++) {
        const ref = g.dots[r];
        // Same integer sums; the float combine differs only in summation order.
        expect(Math.abs(got[r] - ref)).toBeLessThanOrEqual(
          2e-6 * sumAbs(g.dequant.subarray(0, N), golden.x) + 1e-6,
        );
      }
    });

    it(`${name}: dequantizeRows equals ggml's dequantize_row`, async () => {
      const w = await k.uploadWeights(g.id, golden.rows, N, g.weights);
      const y = k.allocF32(2 * N);
      k.dequantizeRows(w, 0, 2, y);
      expect(Array.from(k.f32(y))).toEqual(Array.from(g.dequant));
    });
  }
});

describe("quantized products at model sizes", () => {
  let k1: Kernels;
  beforeAll(async () => {
    k1 = await createKernels({ threads: 1 });
  });
  afterAll(() => k1.dispose());

  // Random block bytes are valid blocks once their half scales are sane: build them directly.
  function randomBlocks(type: number, rows: number, cols: number, seed: number): Uint8Array {
    const bytes = new Uint8Array(weightRowBytes(type, cols) * rows);
    let s = seed;
    for (let i = 0; i < bytes.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      bytes[i] = s >>> 24;
    }
    return setScales(type, bytes, (b, o) => 0x2000 + ((b * 7 + o) % 0x400)); // ~0.008..0.016
  }

  /** Block bytes and offsets of the half scales of each quantized type. */
  const scaleOffsets: Record<number, [number, number[]]> = {
    2: [18, [0]],
    3: [20, [0, 2]],
    6: [22, [0]],
    7: [24, [0, 2]],
    8: [34, [0]],
    10: [84, [80, 82]],
    11: [110, [108]],
    12: [144, [0, 2]],
    13: [176, [0, 2]],
    14: [210, [208]],
  };

  /** randomBlocks' half scales (d, and the min where the type has one) at each block's offsets. */
  function setScales(
    type: number,
    bytes: Uint8Array,
    half: (block: number, offset: number) => number,
  ): Uint8Array {
    const [bs, offs] = scaleOffsets[type];
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let b = 0; b < bytes.length / bs; b++)
      for (const o of offs) dv.setUint16(b * bs + o, half(b, o), true);
    return bytes;
  }

  const cases: [string, number, number][] = [
    ["Q4_0", 2, 4096],
    ["Q8_0", 8, 4096],
    ["Q4_1", 3, 1024],
    ["Q5_0", 6, 1024],
    ["Q5_1", 7, 1024],
    ["Q4_K", 12, 4096],
    ["Q6_K", 14, 4096],
    ["Q2_K", 10, 1024],
    ["Q3_K", 11, 1024],
    ["Q5_K", 13, 1024],
  ];
  // Rows wider than 6144 columns are also cut in slabs (assembly/x4.ts): 70 rows are one full
  // super-group of 64, a super-group of one 4-row group and two rows in ggml's layout.
  const wide: [string, number, number][] = [
    ["Q4_0", 2, 8192],
    ["Q4_1", 3, 6400],
    ["Q8_0", 8, 11008],
    ["Q4_K", 12, 11008],
    ["Q6_K", 14, 6656],
  ];
  const shapes: [string, number, number, number][] = [
    ...cases.map(([name, type, cols]): [string, number, number, number] => [name, type, 11, cols]),
    ...wide.map(([name, type, cols]): [string, number, number, number] => [name, type, 70, cols]),
  ];
  for (const [name, type, rows, cols] of shapes) {
    it(`${name}: ${rows} rows x ${cols}, 5 tokens (unpacked tiles): W X equals dequant(W) dequant(X) within rounding`, async () => {
      const nTok = 5;
      const w = await k1.uploadWeights(type, rows, cols, randomBlocks(type, rows, cols, type * 977));
      const xs = randomF32(cols * nTok, type);
      const x = k1.allocF32(cols * nTok);
      const y = k1.allocF32(rows * nTok);
      k1.f32(x).set(xs);
      k1.matmul(w, x, y, nTok);
      const deq = k1.allocF32(rows * cols);
      k1.dequantizeRows(w, 0, rows, deq);
      const W = k1.f32(deq).slice();
      const got = k1.f32(y).slice();
      for (let t = 0; t < nTok; t++) {
        const xt = xs.subarray(t * cols, (t + 1) * cols);
        for (let r = 0; r < rows; r++) {
          const wr = W.subarray(r * cols, (r + 1) * cols);
          // The activation is quantized to 8 bits: allow its error (1/254 of each block max) plus rounding.
          const ref = dot(wr, xt);
          expect(Math.abs(got[t * rows + r] - ref)).toBeLessThanOrEqual(0.01 * sumAbs(wr, xt) + 1e-5);
        }
      }
      // A single-token matvec (the per-token kernels) gives the same numbers as the tiled batch.
      const y1 = k1.allocF32(rows);
      k1.matvec(w, k1.view(x, 4 * cols, 4 * cols), y1);
      expect(Array.from(k1.f32(y1))).toEqual(Array.from(got.subarray(rows, 2 * rows)));
    });
  }

  for (const [name, type, cols] of wide) {
    it(`${name}: a matrix of 70 rows x ${cols} (cut in slabs) keeps every row's bytes: dequantizeRows equals each row uploaded alone`, async () => {
      const rows = 70;
      const bytes = randomBlocks(type, rows, cols, type * 131);
      const w = await k1.uploadWeights(type, rows, cols, bytes);
      const all = k1.allocF32(rows * cols);
      k1.dequantizeRows(w, 0, rows, all);
      const got = k1.f32(all).slice();
      const rowBytes = weightRowBytes(type, cols);
      const one = k1.allocF32(cols);
      for (const r of [0, 1, 5, 31, 63, 64, 66, 67, 68, 69]) {
        const alone = await k1.uploadWeights(type, 1, cols, bytes.subarray(r * rowBytes, (r + 1) * rowBytes));
        k1.dequantizeRows(alone, 0, 1, one);
        expect(Array.from(got.subarray(r * cols, (r + 1) * cols))).toEqual(Array.from(k1.f32(one)));
      }
    });
  }

  // Subnormal half scales are common in real files (most Q6_K blocks of a 7B model: d is about
  // max|w| / 4064, below 2^-14), and the kernels convert them without denormal floats (f16.ts).
  // Scales m * 2^-24 against the same blocks with scales m * 2^-14 (normal halves): every product
  // and sum scales by exactly 2^10, so the results must be exactly 1024 times smaller.
  for (const [name, type, rows, cols] of shapes) {
    it(`${name}: subnormal half scales give exactly the results of normal ones / 1024 (${rows} x ${cols}, 1 and 5 tokens, dequantizeRows)`, async () => {
      const nTok = 5;
      const m = (b: number, o: number) => 1 + ((b * 37 + o * 11) % 1023);
      // a negative min (the second half of types that have one) in every third block
      const minOffset = scaleOffsets[type]![1][1];
      const sign = (b: number, o: number) => (o === minOffset && b % 3 === 0 ? 0x8000 : 0);
      const base = randomBlocks(type, rows, cols, type * 71);
      const tiny = setScales(type, base.slice(), (b, o) => sign(b, o) | m(b, o));
      const normal = setScales(type, base.slice(), (b, o) => sign(b, o) | fp32ToFp16(m(b, o) * 2 ** -14));
      const xs = randomF32(cols * nTok, type + 1);
      const x = k1.allocF32(cols * nTok);
      k1.f32(x).set(xs);
      const results = [];
      for (const bytes of [tiny, normal]) {
        const w = await k1.uploadWeights(type, rows, cols, bytes);
        const y = k1.allocF32(rows * nTok);
        k1.matmul(w, x, y, nTok);
        const y1 = k1.allocF32(rows);
        k1.matvec(w, x, y1);
        const deq = k1.allocF32(rows * cols);
        k1.dequantizeRows(w, 0, rows, deq);
        results.push([k1.f32(y).slice(), k1.f32(y1).slice(), k1.f32(deq).slice()]);
      }
      const [sub, ref] = results;
      for (let i = 0; i < 3; i++) {
        expect(sub![i]!.some((v) => v !== 0)).toBe(true);
        expect(Array.from(sub![i]!, (v) => v * 1024)).toEqual(Array.from(ref![i]!));
      }
    });
  }
});
