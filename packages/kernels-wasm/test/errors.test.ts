import { describe, expect, it } from "vitest";
import { createKernels, KernelsError, WeightType } from "../src/index";

describe("errors", () => {
  it("refuses an allocation past the 4 GiB of one memory before touching memory", async () => {
    const k = await createKernels();
    expect(() => k.alloc(5 * 2 ** 30)).toThrow(KernelsError);
    try {
      k.alloc(5 * 2 ** 30, 0, "KV cache");
    } catch (e) {
      expect((e as KernelsError).code).toBe("KERNELS_OUT_OF_MEMORY");
      expect((e as KernelsError).message).toContain("KV cache");
    }
    await k.dispose();
  });

  it("element-wise ops need their operands in one memory", async () => {
    const k = await createKernels();
    await k.addArena();
    const a = k.allocF32(4, 0);
    const b = k.allocF32(4, 1);
    expect(() => k.add(a, b, a, 4)).toThrow(expect.objectContaining({ code: "KERNELS_ARENA_MISMATCH" }));
    await k.dispose();
  });

  it("shape checks name what was expected and found", async () => {
    const k = await createKernels();
    const w = await k.uploadWeights(WeightType.F32, 2, 4, new Uint8Array(32));
    expect(() => k.matvec(w, k.allocF32(3), k.allocF32(2))).toThrow(/input of 12 bytes, 16 needed/);
    expect(() => k.view(k.allocF32(2), 4, 8)).toThrow(expect.objectContaining({ code: "KERNELS_BAD_SHAPE" }));
    await expect(k.uploadWeights(WeightType.Q4_K, 1, 100, new Uint8Array(0))).rejects.toThrow(
      /multiple of 256/,
    );
    await k.dispose();
    expect(() => k.allocF32(1)).toThrow(expect.objectContaining({ code: "KERNELS_DISPOSED" }));
  });

  const hasWorker = (globalThis as { Worker?: unknown }).Worker !== undefined;
  it.skipIf(hasWorker)("threads > 1 without a Worker implementation is a clear error", async () => {
    await expect(createKernels({ threads: 2 })).rejects.toMatchObject({ code: "KERNELS_NO_WORKERS" });
  });
});
