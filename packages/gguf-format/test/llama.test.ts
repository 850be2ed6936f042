import { describe, expect, it } from "vitest";
import { GgufError, llamaMetadata, parseGguf, readLlamaHparams, writeGgufToBytes } from "../src/index";

describe("LLaMA metadata", () => {
  it("writes llama.cpp's key types and reads them back", async () => {
    const meta = llamaMetadata({
      name: "tiny",
      contextLength: 2048,
      embeddingLength: 64,
      blockCount: 2,
      feedForwardLength: 172,
      headCount: 4,
      headCountKv: 2,
      rmsEps: 1e-5,
      vocabSize: 300,
      fileType: 1,
      ropeScaling: { type: "linear", factor: 2, originalContextLength: 1024 },
    });
    const types = Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, v.type]));
    expect(types).toEqual({
      "general.architecture": "STRING",
      "general.name": "STRING",
      "llama.block_count": "UINT32",
      "llama.context_length": "UINT32",
      "llama.embedding_length": "UINT32",
      "llama.feed_forward_length": "UINT32",
      "llama.attention.head_count": "UINT32",
      "llama.attention.head_count_kv": "UINT32",
      "llama.rope.freq_base": "FLOAT32",
      "llama.attention.layer_norm_rms_epsilon": "FLOAT32",
      "general.file_type": "UINT32",
      "llama.vocab_size": "UINT32",
      "llama.rope.dimension_count": "UINT32",
      "llama.rope.scaling.type": "STRING",
      "llama.rope.scaling.factor": "FLOAT32",
      "llama.rope.scaling.original_context_length": "UINT32",
    });
    const file = parseGguf(await writeGgufToBytes({ metadata: meta, tensors: [] }));
    expect(readLlamaHparams(file)).toEqual({
      architecture: "llama",
      name: "tiny",
      contextLength: 2048,
      embeddingLength: 64,
      blockCount: 2,
      feedForwardLength: 172,
      headCount: 4,
      headCountKv: 2,
      rmsEps: Math.fround(1e-5),
      ropeDimensionCount: 16,
      ropeFreqBase: 10000,
      vocabSize: 300,
      fileType: 1,
      quantizationVersion: undefined,
      ropeScaling: { type: "linear", factor: 2, originalContextLength: 1024 },
    });
  });

  it("names a missing or mistyped key", async () => {
    const file = parseGguf(
      await writeGgufToBytes({
        metadata: { "general.architecture": "llama", "llama.context_length": "x" },
        tensors: [],
      }),
    );
    const error = (() => {
      try {
        readLlamaHparams(file);
      } catch (e) {
        return e as GgufError;
      }
    })();
    expect(error).toBeInstanceOf(GgufError);
    expect(error?.code).toBe("GGUF_MISSING_KEY");
    expect(error?.field).toBe("llama.embedding_length");
    const bad = parseGguf(
      await writeGgufToBytes({
        metadata: {
          ...llamaMetadata({
            contextLength: 1,
            embeddingLength: 8,
            blockCount: 1,
            feedForwardLength: 8,
            headCount: 1,
          }),
          "llama.block_count": "two",
        },
        tensors: [],
      }),
    );
    expect(() => readLlamaHparams(bad)).toThrow(/llama.block_count.*expected an integer, found STRING/);
  });
});
