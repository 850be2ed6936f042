import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  byteLevelVocabMetadata,
  elementCount,
  fp32ToFp16,
  GgmlType,
  parseGguf,
  readLlamaHparams,
  rewriteOptions,
  synthLlama,
  tensorData,
  typedMetadata,
  writeGgufToBytes,
} from "../src/index";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

describe("synthLlama", () => {
  it("builds the tiny preset with llama.cpp's tensor names, shapes and keys, deterministically", async () => {
    const a = await writeGgufToBytes(synthLlama({ preset: "tiny", seed: 7 }));
    const b = await writeGgufToBytes(synthLlama({ preset: "tiny", seed: 7 }));
    const c = await writeGgufToBytes(synthLlama({ preset: "tiny", seed: 8 }));
    expect(sha(a)).toBe(sha(b));
    expect(sha(a)).not.toBe(sha(c));
    const file = parseGguf(a);
    expect(readLlamaHparams(file)).toMatchObject({
      embeddingLength: 64,
      blockCount: 2,
      headCount: 4,
      headCountKv: 4,
      feedForwardLength: 256,
      vocabSize: 512,
      fileType: 1,
      ropeDimensionCount: 16,
    });
    const byName = Object.fromEntries(file.tensors.map((t) => [t.name, t]));
    expect(file.tensors).toHaveLength(2 + 2 * 9 + 1);
    expect(byName["token_embd.weight"]).toMatchObject({ typeName: "F16", shape: [64, 512] });
    expect(byName["blk.1.ffn_down.weight"]).toMatchObject({ typeName: "F16", shape: [256, 64] });
    expect(byName["blk.0.attn_norm.weight"]).toMatchObject({ typeName: "F32", shape: [64] });
    expect(byName["output.weight"]).toMatchObject({ typeName: "F16", shape: [64, 512] });
    const norm = new Float32Array(tensorData(a, file, "output_norm.weight").slice().buffer);
    expect(norm.every((x) => x === 1)).toBe(true);
    // Projections: mean ~0, std ~1/sqrt(fan_in).
    const q = new Uint16Array(tensorData(a, file, "blk.0.ffn_down.weight").slice().buffer);
    const values = Array.from(q, halfToFloat);
    const mean = values.reduce((s, x) => s + x, 0) / values.length;
    const std = Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / values.length);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(std).toBeGreaterThan(0.95 / 16);
    expect(std).toBeLessThan(1.05 / 16);
  });

  it("reads back and rewrites a synth file byte for byte", async () => {
    const bytes = await writeGgufToBytes(
      synthLlama({
        dims: { dim: 64, layers: 1, heads: 2, kvHeads: 1, ff: 96, ctx: 64, vocab: 400 },
        seed: 5,
      }),
    );
    const file = parseGguf(bytes);
    const again = await writeGgufToBytes(
      {
        metadata: typedMetadata(file),
        tensors: file.tensors.map((t) => ({ ...t, data: tensorData(bytes, file, t) })),
      },
      rewriteOptions(file),
    );
    expect(sha(again)).toBe(sha(bytes));
  });

  it("describes the 1b and 7b shapes without generating anything", () => {
    const oneB = synthLlama({ preset: "1b" });
    const params = oneB.tensors.reduce((s, t) => s + elementCount(t.shape), 0);
    expect(params).toBe(1_100_048_384); // TinyLlama-1.1B
    expect(oneB.tensors.find((t) => t.name === "blk.0.attn_k.weight")?.shape).toEqual([2048, 256]);
    const sevenB = synthLlama({ preset: "7b", type: GgmlType.F32 });
    expect(sevenB.tensors.reduce((s, t) => s + elementCount(t.shape), 0)).toBe(6_738_415_616); // LLaMA-7B
    expect(sevenB.hparams).toMatchObject({
      embeddingLength: 4096,
      blockCount: 32,
      feedForwardLength: 11008,
      contextLength: 2048,
    });
  });

  it("takes tokenizer metadata and custom dims, and quantizes through the injected hook", async () => {
    const tokenizer = byteLevelVocabMetadata(400);
    const calls: number[] = [];
    // A stand-in Q8_0 quantizer: the layout only (scale 1, values truncated).
    const quantizeRows = (type: GgmlType, src: Float32Array, nRows: number, nPerRow: number) => {
      expect(type).toBe(GgmlType.Q8_0);
      calls.push(nRows);
      const out = new Uint8Array((nRows * nPerRow * 34) / 32);
      for (let blk = 0; blk < (nRows * nPerRow) / 32; blk++) {
        out[blk * 34 + 1] = 0x3c;
        for (let j = 0; j < 32; j++) out[blk * 34 + 2 + j] = Math.trunc(src[blk * 32 + j] * 10) & 0xff;
      }
      return out;
    };
    const s = synthLlama({
      dims: { dim: 96, layers: 1, heads: 6, kvHeads: 2, ff: 160, ctx: 256 },
      type: GgmlType.Q8_0,
      tokenizerMetadata: tokenizer,
      quantizeRows,
      seed: 3,
    });
    const file = parseGguf(await writeGgufToBytes(s));
    expect(file.metadata["general.quantization_version"]).toBe(2);
    expect(file.metadata["general.file_type"]).toBe(7);
    expect(file.metadata["llama.attention.head_count_kv"]).toBe(2);
    expect((file.metadata["tokenizer.ggml.tokens"] as string[]).length).toBe(400);
    expect(file.tensors.find((t) => t.name === "blk.0.attn_k.weight")).toMatchObject({
      typeName: "Q8_0",
      shape: [96, 32],
    });
    expect(file.tensors.find((t) => t.name === "blk.0.ffn_norm.weight")?.typeName).toBe("F32");
    expect(calls.length).toBeGreaterThan(0);
    expect(() => synthLlama({ preset: "tiny", type: GgmlType.Q4_0 })).toThrow(/quantizeRows/);
    expect(() => synthLlama({ dims: { dim: 64, layers: 1, heads: 3, ff: 64 } })).toThrow(/multiple of heads/);
  });

  it("converts to half precision with round-to-nearest-even", () => {
    expect(fp32ToFp16(1)).toBe(0x3c00);
    expect(fp32ToFp16(-2)).toBe(0xc000);
    expect(fp32ToFp16(65504)).toBe(0x7bff);
    expect(fp32ToFp16(65520)).toBe(0x7c00);
    expect(fp32ToFp16(2 ** -24)).toBe(1);
    expect(fp32ToFp16(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(fp32ToFp16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(fp32ToFp16(0.1)).toBe(0x2e66);
  });
});
