import { describe, expect, it } from "vitest";
import { GgmlType, GgufError, hasLlamaCppLayout, parseGguf, writeGgufToBytes } from "../src/index";
import { decodeUtf8 } from "../src/utf8";
import { Raw } from "./raw";

function errorOf(bytes: Uint8Array): GgufError {
  try {
    parseGguf(bytes);
  } catch (error) {
    if (error instanceof GgufError) return error;
    throw new Error(`expected a GgufError, got ${String(error)}`);
  }
  throw new Error("expected parseGguf to fail");
}

async function sampleFile(): Promise<Uint8Array> {
  return writeGgufToBytes({
    metadata: {
      "general.architecture": "llama",
      "a.u8": { type: "UINT8", value: 1 },
      "a.i64": { type: "INT64", value: -5n },
      "a.f64": { type: "FLOAT64", value: 0.25 },
      "a.bool": true,
      "a.strs": ["x", "yy", "▁z"],
      "a.f32s": new Float32Array([1, 2, 3]),
      "a.nested": { type: "ARRAY", itemType: "ARRAY", value: [[1, 2], ["s"]] },
    },
    tensors: [
      { name: "w", type: GgmlType.F16, shape: [4, 2], data: new Uint8Array(16).fill(1) },
      { name: "q", type: GgmlType.Q4_0, shape: [32], data: new Uint8Array(18).fill(2) },
    ],
  });
}

describe("bad input", () => {
  it("rejects a file truncated at every offset with a typed error naming the offset", async () => {
    const bytes = await sampleFile();
    const file = parseGguf(bytes);
    const dataEnd = file.dataOffset + Math.max(...file.tensors.map((t) => t.offset + t.byteSize));
    for (let cut = 0; cut < dataEnd; cut++) {
      const error = errorOf(bytes.subarray(0, cut));
      expect(["GGUF_TRUNCATED", "GGUF_BAD_LENGTH", "GGUF_BAD_COUNT", "GGUF_TENSOR_OUT_OF_BOUNDS"]).toContain(
        error.code,
      );
      if (error.code === "GGUF_TRUNCATED") expect(error.offset).toBeLessThanOrEqual(cut);
      expect(error.field).toBeTruthy();
    }
  });

  it("rejects lying counts and lengths before allocating anything", () => {
    const start = performance.now();
    expect(errorOf(new Raw().header(3, 2n ** 60n, 0).done())).toMatchObject({
      code: "GGUF_BAD_COUNT",
      field: "tensor_count",
      offset: 8,
    });
    expect(errorOf(new Raw().header(3, 1000, 0).done())).toMatchObject({
      code: "GGUF_BAD_COUNT",
      field: "tensor_count",
    });
    expect(errorOf(new Raw().header(3, 0, 2n ** 62n).done())).toMatchObject({
      code: "GGUF_BAD_COUNT",
      field: "kv_count",
      offset: 16,
    });
    const pad = new Uint8Array(16);
    expect(
      errorOf(
        new Raw()
          .header(3, 0, 1)
          .u64(2n ** 40n)
          .bytes(pad)
          .done(),
      ),
    ).toMatchObject({
      code: "GGUF_BAD_LENGTH",
      offset: 24,
      field: "kv[0].key length",
    });
    expect(
      errorOf(
        new Raw()
          .header(3, 0, 1)
          .u64(2n ** 63n)
          .bytes(pad)
          .done(),
      ),
    ).toMatchObject({ code: "GGUF_BAD_LENGTH" });
    // A string array claiming 2^40 items, and a u64 array claiming 2^58.
    expect(
      errorOf(
        new Raw()
          .header(3, 0, 1)
          .str("k")
          .u32(9)
          .u32(8)
          .u64(2n ** 40n)
          .done(),
      ),
    ).toMatchObject({
      code: "GGUF_BAD_COUNT",
      field: 'kv[0] "k" count',
    });
    expect(
      errorOf(
        new Raw()
          .header(3, 0, 1)
          .str("k")
          .u32(9)
          .u32(10)
          .u64(2n ** 50n)
          .u64(0)
          .done(),
      ).code,
    ).toBe("GGUF_BAD_COUNT");
    expect(errorOf(new Raw().header(3, 0, 1).str("k").u32(9).u32(10).u64(2).u64(0).done()).code).toBe(
      "GGUF_BAD_COUNT",
    );
    // A string inside an array whose length runs past the end.
    expect(
      errorOf(new Raw().header(3, 0, 1).str("k").u32(9).u32(8).u64(1).u64(100).bytes([65]).done()),
    ).toMatchObject({
      code: "GGUF_BAD_LENGTH",
      field: 'kv[0] "k"[0] length',
    });
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it("rejects unknown value, item and tensor types", () => {
    expect(errorOf(new Raw().header(3, 0, 1).str("k").u32(13).u32(0).done())).toMatchObject({
      code: "GGUF_BAD_VALUE_TYPE",
      offset: 33,
    });
    expect(errorOf(new Raw().header(3, 0, 1).str("k").u32(9).u32(99).u64(0).done()).code).toBe(
      "GGUF_BAD_VALUE_TYPE",
    );
    for (const type of [4, 5, 31, 36, 40, 1000]) {
      const bytes = new Raw().header(3, 1, 0).tensor("t", [32], type, 0).data(32, 64).done();
      expect(errorOf(bytes)).toMatchObject({ code: "GGUF_BAD_TENSOR_TYPE", field: 'tensor "t".type' });
    }
  });

  it("rejects tensors outside the file, overlapping or misaligned", () => {
    const outside = new Raw().header(3, 1, 0).tensor("t", [8], GgmlType.F32, 0).data(32, 16).done();
    expect(errorOf(outside)).toMatchObject({ code: "GGUF_TENSOR_OUT_OF_BOUNDS", field: 'tensor "t".offset' });
    const far = new Raw()
      .header(3, 1, 0)
      .tensor("t", [8], GgmlType.F32, 2n ** 52n)
      .data(32, 32)
      .done();
    expect(errorOf(far).code).toBe("GGUF_TENSOR_OUT_OF_BOUNDS");
    const huge = new Raw()
      .header(3, 1, 0)
      .tensor("t", [8], GgmlType.F32, 2n ** 63n)
      .data(32, 32)
      .done();
    expect(errorOf(huge).code).toBe("GGUF_TENSOR_OUT_OF_BOUNDS");
    const overlap = new Raw()
      .header(3, 2, 0)
      .tensor("a", [16], GgmlType.F32, 0)
      .tensor("b", [16], GgmlType.F32, 32)
      .data(32, 128)
      .done();
    expect(errorOf(overlap)).toMatchObject({ code: "GGUF_TENSOR_OVERLAP", field: 'tensor "b".offset' });
    // Aligned and apart but with a gap: readable, yet not the layout llama.cpp accepts.
    const gap = new Raw()
      .header(3, 2, 0)
      .tensor("a", [4], GgmlType.F32, 0)
      .tensor("b", [4], GgmlType.F32, 64)
      .data(32, 96)
      .done();
    expect(hasLlamaCppLayout(parseGguf(gap))).toBe(false);
    const tight = new Raw()
      .header(3, 2, 0)
      .tensor("a", [4], GgmlType.F32, 0)
      .tensor("b", [4], GgmlType.F32, 32)
      .data(32, 64)
      .done();
    expect(hasLlamaCppLayout(parseGguf(tight))).toBe(true);
    const misaligned = new Raw().header(3, 1, 0).tensor("a", [4], GgmlType.F32, 16).data(32, 64).done();
    expect(errorOf(misaligned)).toMatchObject({ code: "GGUF_MISALIGNED_TENSOR" });
  });

  it("rejects duplicate keys and tensor names", () => {
    expect(errorOf(new Raw().header(3, 0, 2).kvU32("k", 1).kvU32("k", 2).done())).toMatchObject({
      code: "GGUF_DUPLICATE_KEY",
      field: "kv[1].key",
      offset: 24 + 17,
    });
    const dup = new Raw().header(3, 2, 0).tensor("t", [8], 0, 0).tensor("t", [8], 0, 32).data(32, 64).done();
    expect(errorOf(dup)).toMatchObject({ code: "GGUF_DUPLICATE_TENSOR", field: "tensor[1].name" });
  });

  it("rejects bad UTF-8 in keys, values and names", () => {
    const bad = [
      [0xff],
      [0xc0, 0x80],
      [0xe0, 0x80, 0x80],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe4, 0xb8],
      [0x80],
    ];
    for (const seq of bad) {
      const key = new Raw()
        .header(3, 0, 1)
        .str(Uint8Array.from([0x61, ...seq]))
        .u32(4)
        .u32(1)
        .done();
      expect(errorOf(key)).toMatchObject({ code: "GGUF_BAD_UTF8", field: "kv[0].key", offset: 32 });
      const value = new Raw().header(3, 0, 1).str("k").u32(8).str(Uint8Array.from(seq)).done();
      expect(errorOf(value).code).toBe("GGUF_BAD_UTF8");
      const name = new Raw()
        .header(3, 1, 0)
        .str(Uint8Array.from(seq))
        .u32(1)
        .u64(4)
        .u32(0)
        .u64(0)
        .data(32, 32)
        .done();
      expect(errorOf(name).code).toBe("GGUF_BAD_UTF8");
    }
  });

  it("decodes UTF-8 exactly as a fatal TextDecoder on random byte strings", () => {
    const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    let seed = 12345;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 8;
    };
    const interesting = [
      0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x90,
      0x8f,
    ];
    for (let n = 0; n < 20000; n++) {
      const length = next() % 12;
      const bytes = Uint8Array.from({ length }, () =>
        next() % 3 === 0 ? next() & 0xff : interesting[next() % interesting.length],
      );
      let expected: string | undefined;
      try {
        expected = decoder.decode(bytes);
      } catch {
        expected = undefined;
      }
      expect(decodeUtf8(bytes, 0, bytes.length)).toBe(expected);
    }
  });

  it("rejects bad alignment values and types", () => {
    for (const a of [0, 3, 24, 100]) {
      expect(errorOf(new Raw().header(3, 0, 1).kvU32("general.alignment", a).done())).toMatchObject({
        code: "GGUF_BAD_ALIGNMENT",
      });
    }
    const wrongType = new Raw().header(3, 0, 1).str("general.alignment").u32(5).u32(32).done();
    expect(errorOf(wrongType)).toMatchObject({ code: "GGUF_BAD_KEY_TYPE" });
    const ok = new Raw()
      .header(3, 1, 1)
      .kvU32("general.alignment", 64)
      .tensor("t", [4], 0, 0)
      .data(64, 64)
      .done();
    expect(parseGguf(ok).dataOffset % 64).toBe(0);
  });

  it("rejects bad magic, versions, shapes, names and nesting", () => {
    expect(errorOf(new TextEncoder().encode("GGML\x03\x00\x00\x00"))).toMatchObject({
      code: "GGUF_BAD_MAGIC",
      offset: 0,
    });
    expect(errorOf(new Raw().header(1, 0, 0).done())).toMatchObject({
      code: "GGUF_UNSUPPORTED_VERSION",
      offset: 4,
    });
    expect(errorOf(new Raw().header(4, 0, 0).done()).code).toBe("GGUF_UNSUPPORTED_VERSION");
    expect(errorOf(new Raw().header(0x03000000, 0, 0).done()).hint).toMatch(/big-endian/);
    expect(parseGguf(new Raw().header(2, 0, 0).done()).version).toBe(2);
    const fiveDims = new Raw().header(3, 1, 0).str("t").u32(5).bytes(new Uint8Array(64)).done();
    expect(errorOf(fiveDims)).toMatchObject({ code: "GGUF_BAD_SHAPE", field: 'tensor "t".n_dims' });
    const notBlocks = new Raw().header(3, 1, 0).tensor("t", [33], GgmlType.Q4_0, 0).data(32, 64).done();
    expect(errorOf(notBlocks)).toMatchObject({ code: "GGUF_BAD_SHAPE", field: 'tensor "t".ne[0]' });
    const overflow = new Raw()
      .header(3, 1, 0)
      .tensor("t", [2 ** 40, 2 ** 40], 0, 0)
      .data(32, 64)
      .done();
    expect(errorOf(overflow).code).toBe("GGUF_BAD_SHAPE");
    const hugeDim = new Raw()
      .header(3, 1, 0)
      .str("t")
      .u32(1)
      .u64(2n ** 62n)
      .u32(0)
      .u64(0)
      .done();
    expect(errorOf(hugeDim).code).toBe("GGUF_BAD_SHAPE");
    const longName = new Raw().header(3, 1, 0).tensor("n".repeat(64), [4], 0, 0).data(32, 32).done();
    expect(errorOf(longName)).toMatchObject({ code: "GGUF_NAME_TOO_LONG" });
    const deep = new Raw().header(3, 0, 1).str("k").u32(9);
    for (let i = 0; i < 40; i++) deep.u32(9).u64(1);
    deep.u32(0).u64(0);
    expect(errorOf(deep.done())).toMatchObject({ code: "GGUF_TOO_DEEP" });
  });
});
