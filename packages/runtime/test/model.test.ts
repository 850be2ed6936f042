import { GgmlType, synthLlama, writeGgufToBytes } from "@cllama/gguf-format";
import { quantizeRows } from "@cllama/quantize";
import { describe, expect, it } from "vitest";
import { loadModel, RuntimeError } from "../src/index";
import { synthModelBytes } from "./helpers";

describe("loadModel + completion (TypeScript reference path)", () => {
  it("loads a tiny synth model and generates greedily, deterministically", async () => {
    const bytes = await synthModelBytes({ preset: "tiny", seed: 1 });
    const model = await loadModel(bytes, { contextSize: 128, backend: "reference" });
    expect(model.hparams.nVocab).toBe(512);
    const a = await model.complete("hello world", { temperature: 0, maxTokens: 16 });
    const b = await model.complete("hello world", { temperature: 0, maxTokens: 16 });
    expect(a.tokens).toHaveLength(16);
    expect(a.tokens).toEqual(b.tokens);
    expect(a.promptTokens[0]).toBe(model.tokenizer.bosId);
  });

  it("batched prompt processing equals token-by-token evaluation", async () => {
    const bytes = await synthModelBytes({
      preset: "tiny",
      dims: { kvHeads: 2 },
      seed: 2,
      type: GgmlType.Q8_0,
    });
    const model = await loadModel(bytes, { contextSize: 64, batchSize: 5, backend: "reference" });
    const tokens = [1, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51];
    const batched = await model.createContext().evaluate(tokens, true);
    const single = model.createContext();
    for (let i = 0; i < tokens.length; i++) {
      const [logits] = await single.evaluate([tokens[i]!]);
      for (let j = 0; j < logits!.length; j += 37) expect(logits![j]).toBeCloseTo(batched[i]![j]!, 4);
    }
  });

  it("shifts the context instead of failing when it fills up", async () => {
    const bytes = await synthModelBytes({ preset: "tiny", seed: 3 });
    const model = await loadModel(bytes, { contextSize: 32 });
    const result = await model.complete("abc", { temperature: 0, maxTokens: 80 });
    expect(result.tokens).toHaveLength(80);
    // The reference backend shifts the same way and so continues identically.
    const reference = await loadModel(bytes, { contextSize: 32, backend: "reference" });
    expect((await reference.complete("abc", { temperature: 0, maxTokens: 80 })).tokens).toEqual(
      result.tokens,
    );
    await model.dispose();
  });

  it("tied embeddings: no output.weight", async () => {
    const synth = synthLlama({ preset: "tiny", type: GgmlType.F32, seed: 4 });
    synth.tensors = synth.tensors.filter((t) => t.name !== "output.weight");
    const model = await loadModel(await writeGgufToBytes(synth), { contextSize: 32 });
    expect(model.hparams.tiedEmbeddings).toBe(true);
    expect((await model.complete("x", { temperature: 0, maxTokens: 4 })).tokens).toHaveLength(4);
    await model.dispose();
  });

  it("stops at once when the AbortSignal fires", async () => {
    const model = await loadModel(await synthModelBytes({ preset: "tiny", seed: 5 }), { contextSize: 256 });
    const controller = new AbortController();
    let chunks = 0;
    const result = await model.complete("a", {
      temperature: 1,
      seed: 1,
      maxTokens: 200,
      onText: () => {
        if (++chunks === 3) setImmediate(() => controller.abort());
      },
      signal: controller.signal,
    });
    expect(result.stopReason).toBe("abort");
    expect(result.tokens.length).toBeLessThan(10);
    await model.dispose();
  });
});

describe("bad input is refused before heavy work", () => {
  async function withMetadata(
    change: (m: Record<string, unknown>) => void,
    tensors?: (t: { name: string }[]) => void,
  ) {
    const synth = synthLlama({ preset: "tiny", type: GgmlType.F32 });
    change(synth.metadata as Record<string, unknown>);
    tensors?.(synth.tensors);
    return writeGgufToBytes(synth);
  }

  it("another architecture", async () => {
    const bytes = await withMetadata((m) => {
      m["general.architecture"] = { type: "STRING", value: "gpt2" };
    });
    await expect(loadModel(bytes)).rejects.toMatchObject({ code: "RUNTIME_BAD_ARCHITECTURE" });
  });

  it("a missing tensor", async () => {
    const synth = synthLlama({ preset: "tiny", type: GgmlType.F32 });
    synth.tensors = synth.tensors.filter((t) => t.name !== "blk.1.ffn_up.weight");
    await expect(loadModel(await writeGgufToBytes(synth))).rejects.toMatchObject({
      code: "RUNTIME_MISSING_TENSOR",
      message: expect.stringContaining("blk.1.ffn_up.weight"),
    });
  });

  it("shapes that do not fit the hyper-parameters", async () => {
    const bytes = await withMetadata((m) => {
      m["llama.feed_forward_length"] = { type: "UINT32", value: 128 };
    });
    await expect(loadModel(bytes)).rejects.toMatchObject({ code: "RUNTIME_BAD_TENSOR_SHAPE" });
  });

  it("a context too large for memory", async () => {
    const bytes = await synthModelBytes({ preset: "tiny" });
    const error = await loadModel(bytes, { contextSize: 1 << 22, memoryLimitBytes: 1 << 30 }).catch((e) => e);
    expect(error).toBeInstanceOf(RuntimeError);
    expect(error.code).toBe("RUNTIME_CONTEXT_TOO_LARGE");
  });

  it("micro-batches: a batch split into micro-batches gives the logits of the whole batch", async () => {
    const bytes = await synthModelBytes({
      preset: "tiny",
      dims: { kvHeads: 2 },
      seed: 4,
      type: GgmlType.Q4_0,
    });
    const whole = await loadModel(bytes, { contextSize: 64 });
    const split = await loadModel(bytes, { contextSize: 64, microBatchSize: 7 });
    const tokens = Array.from({ length: 30 }, (_, i) => (i === 0 ? 1 : 3 + ((i * 37) % 500)));
    const rows = [0, 6, 7, 13, 29];
    const want = await whole.createContext().evaluate(tokens, true);
    const ctx = split.createContext();
    const got = await ctx.evaluate(tokens, true);
    expect(got).toHaveLength(tokens.length);
    for (const t of rows) {
      let maxDiff = 0;
      for (let j = 0; j < want[t]!.length; j++)
        maxDiff = Math.max(maxDiff, Math.abs(got[t]![j]! - want[t]![j]!));
      expect(maxDiff, `token ${t}`).toBeLessThan(1e-3);
    }
    // the cache the micro-batches wrote serves the next token as the whole batch's does
    const [next] = await ctx.evaluate([42]);
    const wholeCtx = whole.createContext();
    await wholeCtx.evaluate(tokens);
    const [wantNext] = await wholeCtx.evaluate([42]);
    expect(next!.indexOf(Math.max(...next!))).toBe(wantNext!.indexOf(Math.max(...wantNext!)));
    await whole.dispose();
    await split.dispose();
  });

  it("quantized synth models of every weight type: wasm kernels and reference agree", async () => {
    for (const type of [
      GgmlType.F16,
      GgmlType.Q4_0,
      GgmlType.Q4_1,
      GgmlType.Q5_0,
      GgmlType.Q5_1,
      GgmlType.Q8_0,
      GgmlType.Q2_K,
      GgmlType.Q3_K,
      GgmlType.Q5_K,
    ]) {
      const kQuant = type >= GgmlType.Q2_K && type <= GgmlType.Q6_K;
      const dims = kQuant ? { dim: 256, ff: 512, heads: 4, kvHeads: 4, layers: 1 } : undefined;
      const bytes = await writeGgufToBytes(synthLlama({ preset: "tiny", dims, type, quantizeRows, seed: 9 }));
      const model = await loadModel(bytes, { contextSize: 16 });
      const reference = await loadModel(bytes, { contextSize: 16, backend: "reference" });
      const got = await model.complete("z", { temperature: 0, maxTokens: 4 });
      expect(got.tokens).toEqual((await reference.complete("z", { temperature: 0, maxTokens: 4 })).tokens);
      await model.dispose();
    }
  });
});
