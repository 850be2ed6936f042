import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKernels, type KBuffer, type Kernels, ropeAngles, WeightType } from "../src/index";
import { dot, fp32ToFp16, randomF32, rmsNormRef, roundBf16, roundF16, sumAbs } from "./ref";

const f = Math.fround;
let k: Kernels;
beforeAll(async () => {
  k = await createKernels({ threads: 1 });
});
afterAll(() => k.dispose());

function upload(values: ArrayLike<number>) {
  const b = k.allocF32(values.length);
  k.f32(b).set(values);
  return b;
}

describe("float matrix-vector products", () => {
  const rows = 13;
  const cols = 100; // not a multiple of 8: exercises the scalar tails
  const W = randomF32(rows * cols, 1);
  const xs = randomF32(cols, 2);

  it("F32 weights", async () => {
    const w = await k.uploadWeights(WeightType.F32, rows, cols, new Uint8Array(W.buffer));
    const y = k.allocF32(rows);
    k.matvec(w, upload(xs), y);
    for (let r = 0; r < rows; r++) {
      const wr = W.subarray(r * cols, (r + 1) * cols);
      expect(Math.abs(k.f32(y)[r] - dot(wr, xs))).toBeLessThan(1e-6 * sumAbs(wr, xs) + 1e-7);
    }
  });

  it("F16 weights (activations rounded to half, as llama.cpp does)", async () => {
    const halves = new Uint16Array(W.length).map((_, i) => fp32ToFp16(W[i]));
    const w = await k.uploadWeights(WeightType.F16, rows, cols, new Uint8Array(halves.buffer));
    const y = k.allocF32(rows);
    k.matvec(w, upload(xs), y);
    const xh = xs.map(roundF16);
    for (let r = 0; r < rows; r++) {
      const wr = W.subarray(r * cols, (r + 1) * cols).map(roundF16);
      expect(Math.abs(k.f32(y)[r] - dot(wr, xh))).toBeLessThan(1e-6 * sumAbs(wr, xh) + 1e-7);
    }
  });

  it("BF16 weights", async () => {
    const bf = new Uint16Array(W.length).map(
      (_, i) => new Uint32Array(new Float32Array([roundBf16(W[i])]).buffer)[0] >>> 16,
    );
    const w = await k.uploadWeights(WeightType.BF16, rows, cols, new Uint8Array(bf.buffer));
    const y = k.allocF32(rows);
    k.matvec(w, upload(xs), y);
    const xb = xs.map(roundBf16);
    for (let r = 0; r < rows; r++) {
      const wr = W.subarray(r * cols, (r + 1) * cols).map(roundBf16);
      expect(Math.abs(k.f32(y)[r] - dot(wr, xb))).toBeLessThan(1e-6 * sumAbs(wr, xb) + 1e-7);
    }
  });

  it("rejects a byte count that does not match the shape", async () => {
    await expect(k.uploadWeights(WeightType.Q4_0, 2, 64, new Uint8Array(10))).rejects.toMatchObject({
      code: "KERNELS_BAD_SHAPE",
    });
    await expect(k.uploadWeights(99, 2, 64, new Uint8Array(10))).rejects.toMatchObject({
      code: "KERNELS_UNSUPPORTED_TYPE",
    });
  });
});

describe("element-wise kernels", () => {
  it("rmsNorm equals ggml's float semantics exactly (with and without weight, several rows)", () => {
    const n = 96;
    const xs = randomF32(2 * n, 3, 4);
    const ws = randomF32(n, 4);
    const x = upload(xs);
    const w = upload(ws);
    const y = k.allocF32(2 * n);
    k.rmsNorm(x, w, y, n, 1e-6, 2);
    const ref = [...rmsNormRef(xs.subarray(0, n), ws, 1e-6), ...rmsNormRef(xs.subarray(n), ws, 1e-6)];
    expect(Array.from(k.f32(y))).toEqual(ref);
    k.rmsNorm(x, null, y, n, 1e-5, 1);
    expect(Array.from(k.f32(y).subarray(0, n))).toEqual(
      Array.from(rmsNormRef(xs.subarray(0, n), null, 1e-5)),
    );
  });

  it("siluMul, four lanes at a time and in the tail, across exp's clamped range", () => {
    const n = 1001;
    const g = randomF32(n, 5, 100);
    const u = randomF32(n, 6);
    const y = k.allocF32(n);
    k.siluMul(upload(g), upload(u), y, n);
    const got = k.f32(y);
    for (let i = 0; i < n; i++) {
      const ref = (g[i] / (1 + Math.exp(-g[i]))) * u[i];
      expect(Math.abs(got[i] - ref)).toBeLessThan(1e-6 * Math.abs(ref) + 1e-7);
    }
  });

  it("softmax with scale, two rows", () => {
    const xs = randomF32(2 * 50, 7, 10);
    const x = upload(xs);
    k.softmax(x, 50, 2, 0.5);
    const got = k.f32(x);
    for (let r = 0; r < 2; r++) {
      const row = Array.from(xs.subarray(r * 50, (r + 1) * 50), (v) => v * 0.5);
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      for (let i = 0; i < 50; i++) expect(Math.abs(got[r * 50 + i] - e[i] / s)).toBeLessThan(1e-6);
    }
  });

  it("add and mul", () => {
    const a = randomF32(10, 8);
    const b = randomF32(10, 9);
    const y = k.allocF32(10);
    k.add(upload(a), upload(b), y, 10);
    expect(Array.from(k.f32(y))).toEqual(Array.from(a, (v, i) => f(v + b[i])));
    k.mul(upload(a), upload(b), y, 10);
    expect(Array.from(k.f32(y))).toEqual(Array.from(a, (v, i) => f(v * b[i])));
  });
});

describe("RoPE", () => {
  it("angles follow pos * base^(-2i/d) (float32 steps as ggml's cache)", () => {
    const out = new Float32Array(128);
    ropeAngles(37, { nRot: 128, freqBase: 10000 }, out);
    for (let i = 0; i < 64; i++) {
      const theta = 37 * 10000 ** ((-2 * i) / 128);
      expect(Math.abs(out[2 * i] - Math.cos(theta))).toBeLessThan(2e-4);
      expect(Math.abs(out[2 * i + 1] - Math.sin(theta))).toBeLessThan(2e-4);
    }
  });

  it("linear scaling divides the position by the factor", () => {
    const a = new Float32Array(64);
    const b = new Float32Array(64);
    ropeAngles(40, { nRot: 64, freqBase: 10000, freqScale: 0.25 }, a);
    ropeAngles(10, { nRot: 64, freqBase: 10000 }, b);
    for (let i = 0; i < 64; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5);
  });

  it("YaRN keeps high frequencies, interpolates low ones and scales magnitudes", () => {
    const y = new Float32Array(128);
    const p = { nRot: 128, freqBase: 10000, freqScale: 0.25, extFactor: 1, attnFactor: 1, nCtxOrig: 4096 };
    ropeAngles(1000, p, y);
    const mscale = 1 + 0.1 * Math.log(4);
    // first pair: pure extrapolation (theta = pos)
    expect(Math.abs(y[0] - Math.cos(1000) * mscale)).toBeLessThan(1e-3);
    // last pair: pure interpolation (theta = pos * scale * base^(-126/128))
    const tl = 1000 * 0.25 * 10000 ** (-126 / 128);
    expect(Math.abs(y[127] - Math.sin(tl) * mscale)).toBeLessThan(1e-3);
  });

  /** k.rope of fresh random rows against the scalar rotation with ropeAngles' table. */
  function expectRope(positions: number[], params: { nRot: number; freqBase: number; freqScale?: number }) {
    const nHead = 3;
    const hd = 8;
    const nTok = positions.length;
    const xs = randomF32(nTok * nHead * hd, 10 + positions[0]!);
    const x = upload(xs);
    k.rope(x, nTok, nHead, hd, positions, params);
    const got = k.f32(x);
    const cs = new Float32Array(hd);
    for (let t = 0; t < nTok; t++) {
      ropeAngles(positions[t]!, params, cs);
      for (let h = 0; h < nHead; h++) {
        for (let i = 0; i < hd / 2; i++) {
          const o = t * nHead * hd + h * hd + 2 * i;
          const [x0, x1, c, s] = [xs[o], xs[o + 1], cs[2 * i], cs[2 * i + 1]];
          expect(got[o]).toBe(f(f(x0 * c) - f(x1 * s)));
          expect(got[o + 1]).toBe(f(f(x0 * s) + f(x1 * c)));
        }
      }
    }
  }

  it("rotates adjacent pairs of every head of every row", () => {
    expectRope([5, 9], { nRot: 8, freqBase: 10000 });
  });

  it("reuses its cos/sin table only for the same positions and parameters", () => {
    // the table of one call serves the next (q then k of a layer); any change must rebuild it
    const params = { nRot: 8, freqBase: 10000, freqScale: 1 };
    expectRope([5, 9], params);
    expectRope([5, 9], params);
    params.freqBase = 500000; // the same object, changed
    expectRope([5, 9], params);
    params.freqScale = 0.25;
    expectRope([5, 9], params);
    expectRope([5, 10], params);
    expectRope([5, 10, 11], params);
    expectRope([5, 10], params);
  });
});

/** Reference causal attention with GQA; `r` rounds K, V, q and probabilities (identity or half). */
function attentionRef(
  q: Float32Array,
  K: Float32Array,
  V: Float32Array,
  o: { nHead: number; nHeadKv: number; hd: number; pos0: number; nTok: number; scale: number },
  r: (x: number) => number,
): Float32Array {
  const { nHead, nHeadKv, hd, pos0, nTok, scale } = o;
  const out = new Float32Array(nTok * nHead * hd);
  for (let t = 0; t < nTok; t++) {
    for (let h = 0; h < nHead; h++) {
      const kvh = Math.floor(h / (nHead / nHeadKv));
      const nKv = pos0 + t + 1;
      const s = new Float64Array(nKv);
      for (let j = 0; j < nKv; j++) {
        let acc = 0;
        for (let i = 0; i < hd; i++)
          acc += r(q[t * nHead * hd + h * hd + i]) * r(K[j * nHeadKv * hd + kvh * hd + i]);
        s[j] = acc * scale;
      }
      const m = Math.max(...s);
      let sum = 0;
      for (let j = 0; j < nKv; j++) {
        s[j] = Math.exp(s[j] - m);
        sum += s[j];
      }
      for (let j = 0; j < nKv; j++) {
        const p = r(s[j] / sum);
        for (let i = 0; i < hd; i++)
          out[t * nHead * hd + h * hd + i] += p * r(V[j * nHeadKv * hd + kvh * hd + i]);
      }
    }
  }
  return out;
}

// A token generated alone without GQA goes through attentionHeads (all its heads walk the cache
// together); the same token as the lone last token of a batch goes through attention's lone-query
// path. Both do the same operations per head and position: the same bits.
it.each([
  { hd: 128, nHead: 5, pos0: 140 },
  { hd: 72, nHead: 3, pos0: 23 },
])(
  "attention: one token alone (heads together) has the bits of the batch's lone last token, head size $hd",
  ({ hd, nHead, pos0 }) => {
    const nTok = 9; // token blocks of 8 and 1
    const positions = pos0 + nTok;
    const width = nHead * hd;
    const qs = randomF32(nTok * width, 21);
    const cache = (seed: number) => {
      const b = k.alloc(positions * width * 2);
      k.storeF16(upload(randomF32(positions * width, seed)), b, positions * width);
      return b;
    };
    const kv = {
      k: cache(22),
      v: cache(23),
      kvF16: true,
      nHead,
      nHeadKv: nHead,
      headDim: hd,
      scale: 1 / Math.sqrt(hd),
    };
    const batch = k.allocF32(nTok * width);
    k.attention({ ...kv, q: upload(qs), out: batch, pos0, nTok });
    const alone = k.allocF32(width);
    k.attention({
      ...kv,
      q: upload(qs.subarray((nTok - 1) * width)),
      out: alone,
      pos0: pos0 + nTok - 1,
      nTok: 1,
    });
    const last = Array.from(k.f32(batch).subarray((nTok - 1) * width));
    expect(last.some((x) => x !== 0)).toBe(true);
    expect(Array.from(k.f32(alone))).toEqual(last);
  },
);

// The kernel takes a KV head's whole GQA group and ceil(8 / group) tokens per work unit and walks
// the cache in chunks of 128 positions: the shapes cover groups of 1, 2 and 8, a partial last
// token block, caches longer than one chunk (with a chunk boundary inside the batch), and the
// lone-query units (group 1, one token) that read the f16 cache without converting it first.
describe.each([
  { hd: 16, nHead: 4, nHeadKv: 2, pos0: 5, nTok: 3 },
  { hd: 64, nHead: 4, nHeadKv: 2, pos0: 5, nTok: 3 },
  { hd: 72, nHead: 4, nHeadKv: 2, pos0: 5, nTok: 3 },
  { hd: 64, nHead: 16, nHeadKv: 2, pos0: 120, nTok: 19 },
  { hd: 40, nHead: 3, nHeadKv: 3, pos0: 250, nTok: 11 },
  { hd: 128, nHead: 2, nHeadKv: 2, pos0: 300, nTok: 1 },
  { hd: 72, nHead: 2, nHeadKv: 2, pos0: 130, nTok: 1 },
])(
  "attention, head size $hd, $nHead/$nHeadKv heads, $pos0 cached + $nTok new",
  ({ hd, nHead, nHeadKv, pos0, nTok }) => {
    const o = { nHead, nHeadKv, hd, pos0, nTok, scale: 1 / Math.sqrt(hd) };
    const positions = o.pos0 + o.nTok;
    const qs = randomF32(o.nTok * o.nHead * o.hd, 11);
    const Ks = randomF32(positions * o.nHeadKv * o.hd, 12);
    const Vs = randomF32(positions * o.nHeadKv * o.hd, 13);

    /** The kernel's output for caches k and v (f32 or f16 buffers). */
    const run = (kv: { k: KBuffer; v: KBuffer; kvF16: boolean }) => {
      const out = k.allocF32(qs.length);
      k.attention({ q: upload(qs), ...kv, out, nHead, nHeadKv, headDim: hd, pos0, nTok, scale: o.scale });
      return k.f32(out);
    };

    it("f32 cache, GQA, causal over a batch", () => {
      const got = run({ k: upload(Ks), v: upload(Vs), kvF16: false });
      const ref = attentionRef(qs, Ks, Vs, o, (x) => x);
      for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i] - ref[i])).toBeLessThan(2e-6);
    });

    it("f16 cache written with storeF16", () => {
      const kb = k.alloc(Ks.length * 2);
      const vb = k.alloc(Vs.length * 2);
      k.storeF16(upload(Ks), kb, Ks.length);
      k.storeF16(upload(Vs), vb, Vs.length);
      expect(Array.from(new Uint16Array(k.u8(kb).slice().buffer).subarray(0, 8))).toEqual(
        Array.from(Ks.subarray(0, 8), fp32ToFp16),
      );
      const got = run({ k: kb, v: vb, kvF16: true });
      const ref = attentionRef(qs, Ks, Vs, o, roundF16);
      for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i] - ref[i])).toBeLessThan(2e-5);
    });
  },
);
