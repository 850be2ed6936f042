import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKernels, type Kernels, WeightType, weightRowBytes } from "../src/node";
import { randomF32 } from "./ref";

// Splitting rows across threads or memories must not change a single bit of any result.
let one: Kernels;
let two: Kernels;
beforeAll(async () => {
  one = await createKernels({ threads: 1 });
  two = await createKernels({ threads: 2 });
});
afterAll(async () => {
  await one.dispose();
  await two.dispose();
});

function blocks(type: number, rows: number, cols: number): Uint8Array {
  const b = new Uint8Array(weightRowBytes(type, cols) * rows);
  for (let i = 0; i < b.length; i++) b[i] = (i * 131 + 7) & 0xff;
  const bs = type === WeightType.Q4_0 ? 18 : 144;
  const dv = new DataView(b.buffer);
  for (let o = 0; o < b.length; o += bs) {
    dv.setUint16(o, 0x2100, true);
    if (type === WeightType.Q4_K) dv.setUint16(o + 2, 0x1c00, true);
  }
  return b;
}

async function product(k: Kernels, type: number, rows: number, cols: number, nTok: number, arena?: number) {
  const w = await k.uploadWeights(
    type,
    rows,
    cols,
    blocks(type, rows, cols),
    arena === undefined ? {} : { arena },
  );
  const x = k.allocF32(cols * nTok);
  k.f32(x).set(randomF32(cols * nTok, 42));
  const y = k.allocF32(rows * nTok);
  k.matmul(w, x, y, nTok);
  return Array.from(k.f32(y));
}

describe("worker pool", () => {
  for (const [name, type] of [
    ["Q4_0", WeightType.Q4_0],
    ["Q4_K", WeightType.Q4_K],
  ] as const) {
    it(`${name}: 2 threads give exactly the 1-thread results (matvec and a 20-token matmul)`, async () => {
      expect(await product(two, type, 301, 512, 1)).toEqual(await product(one, type, 301, 512, 1));
      expect(await product(two, type, 301, 512, 20)).toEqual(await product(one, type, 301, 512, 20));
    });
  }

  it("weights in another memory than the activations give the same results as in one memory", async () => {
    const home = await createKernels({ threads: 1, weightsInHome: true });
    const together = await product(home, WeightType.Q4_0, 300, 512, 3);
    expect(home.arenaCount).toBe(1);
    await home.dispose();
    const apart = await product(two, WeightType.Q4_0, 300, 512, 3);
    expect(two.arenaCount).toBeGreaterThan(1); // weights in memory 1, input and output in memory 0
    expect(apart).toEqual(together);
  });

  it("uploads roll over to new memories when one is full (the >4 GiB model path)", async () => {
    // Keep all but 512 KiB of every memory as reserve, so each 288 KiB matrix after the first
    // needs a new memory (memory 0 is kept for activations and the KV cache).
    const k = await createKernels({ threads: 2, scratchReserve: 4 * 2 ** 30 - 2 ** 19 });
    const bytes = blocks(WeightType.Q4_0, 1024, 512);
    const ws = [];
    for (let i = 0; i < 3; i++) ws.push(await k.uploadWeights(WeightType.Q4_0, 1024, 512, bytes));
    expect(ws.map((w) => w.arena)).toEqual([1, 2, 3]);
    expect(k.arenaCount).toBe(4);
    const x = k.allocF32(512);
    k.f32(x).set(randomF32(512, 9));
    const outs = ws.map(() => k.allocF32(1024));
    k.matmulMany(
      ws.map((w, i) => ({ w, y: outs[i] })),
      x,
      1,
    );
    // The same matrix in three memories, one input copied into each: three identical outputs,
    // equal to a single-thread product in one memory.
    const single = await one.uploadWeights(WeightType.Q4_0, 1024, 512, bytes);
    const x1 = one.allocF32(512);
    one.f32(x1).set(randomF32(512, 9));
    const y1 = one.allocF32(1024);
    one.matvec(single, x1, y1);
    for (const o of outs) expect(Array.from(k.f32(o))).toEqual(Array.from(one.f32(y1)));
    await k.dispose();
  });

  it("matmulMany runs several weights (different memories and types) in one dispatch", async () => {
    const cols = 512;
    const wa = await two.uploadWeights(WeightType.Q4_0, 64, cols, blocks(WeightType.Q4_0, 64, cols), {
      arena: 0,
    });
    const wb = await two.uploadWeights(WeightType.Q4_K, 48, cols, blocks(WeightType.Q4_K, 48, cols), {
      arena: 1,
    });
    const x = two.allocF32(cols);
    two.f32(x).set(randomF32(cols, 5));
    const ya = two.allocF32(64);
    const yb = two.allocF32(48);
    two.matmulMany(
      [
        { w: wa, y: ya },
        { w: wb, y: yb },
      ],
      x,
      1,
    );
    const sa = Array.from(two.f32(ya));
    const sb = Array.from(two.f32(yb));
    two.matvec(wa, x, ya);
    two.matvec(wb, x, yb);
    expect(sa).toEqual(Array.from(two.f32(ya)));
    expect(sb).toEqual(Array.from(two.f32(yb)));
  });

  it("attention and batched norms split across threads give the 1-thread results", () => {
    const run = (k: Kernels) => {
      const nHead = 8;
      const hd = 32;
      const nTok = 12;
      const q = k.allocF32(nTok * nHead * hd);
      const kv = k.allocF32(nTok * 2 * hd);
      const vv = k.allocF32(nTok * 2 * hd);
      k.f32(q).set(randomF32(nTok * nHead * hd, 1));
      k.f32(kv).set(randomF32(nTok * 2 * hd, 2));
      k.f32(vv).set(randomF32(nTok * 2 * hd, 3));
      const out = k.allocF32(nTok * nHead * hd);
      k.attention({
        q,
        k: kv,
        v: vv,
        out,
        kvF16: false,
        nHead,
        nHeadKv: 2,
        headDim: hd,
        pos0: 0,
        nTok,
        scale: 0.1,
      });
      k.rmsNorm(out, null, out, nHead * hd, 1e-5, nTok);
      k.rope(
        out,
        nTok,
        nHead,
        hd,
        Array.from({ length: nTok }, (_, i) => i),
        { nRot: hd, freqBase: 10000 },
      );
      return Array.from(k.f32(out));
    };
    expect(run(two)).toEqual(run(one));
  });

  it("one token's attention without GQA, its heads split across threads, gives the 1-thread result", () => {
    const run = (k: Kernels) => {
      const nHead = 7;
      const hd = 64;
      const positions = 75;
      const cache = (seed: number) => {
        const b = k.alloc(positions * nHead * hd * 2);
        const x = k.allocF32(positions * nHead * hd);
        k.f32(x).set(randomF32(positions * nHead * hd, seed));
        k.storeF16(x, b, positions * nHead * hd);
        return b;
      };
      const q = k.allocF32(nHead * hd);
      k.f32(q).set(randomF32(nHead * hd, 4));
      const out = k.allocF32(nHead * hd);
      const kv = { k: cache(5), v: cache(6), kvF16: true, nHead, nHeadKv: nHead, headDim: hd };
      k.attention({ ...kv, q, out, pos0: positions - 1, nTok: 1, scale: 0.125 });
      return Array.from(k.f32(out));
    };
    const got = run(two);
    expect(got.some((x) => x !== 0)).toBe(true);
    expect(got).toEqual(run(one));
  });
});
