import { describe, expect, it } from "vitest";
import {
  GgmlType,
  ggmlTypeFromName,
  ggmlTypeInfo,
  ggmlTypes,
  isGgmlType,
  rowByteSize,
  tensorByteSize,
} from "../src/index";
import fromLibggml from "./golden/ggml-types.json";

// ggml's type_traits (block size, bytes per block), as ggml.c defines them.
const GGML: Record<string, [number, number, number]> = {
  F32: [0, 1, 4],
  F16: [1, 1, 2],
  Q4_0: [2, 32, 18],
  Q4_1: [3, 32, 20],
  Q5_0: [6, 32, 22],
  Q5_1: [7, 32, 24],
  Q8_0: [8, 32, 34],
  Q8_1: [9, 32, 36],
  Q2_K: [10, 256, 84],
  Q3_K: [11, 256, 110],
  Q4_K: [12, 256, 144],
  Q5_K: [13, 256, 176],
  Q6_K: [14, 256, 210],
  Q8_K: [15, 256, 292],
  IQ2_XXS: [16, 256, 66],
  IQ2_XS: [17, 256, 74],
  IQ3_XXS: [18, 256, 98],
  IQ1_S: [19, 256, 50],
  IQ4_NL: [20, 32, 18],
  IQ3_S: [21, 256, 110],
  IQ2_S: [22, 256, 82],
  IQ4_XS: [23, 256, 136],
  I8: [24, 1, 1],
  I16: [25, 1, 2],
  I32: [26, 1, 4],
  I64: [27, 1, 8],
  F64: [28, 1, 8],
  IQ1_M: [29, 256, 56],
  BF16: [30, 1, 2],
  TQ1_0: [34, 256, 54],
  TQ2_0: [35, 256, 66],
  MXFP4: [39, 32, 17],
};

describe("ggml types", () => {
  it("has every type's id, block size and byte size as ggml defines them", () => {
    expect(ggmlTypes.length).toBe(Object.keys(GGML).length);
    for (const [name, [id, block, size]] of Object.entries(GGML)) {
      expect(GgmlType[name as keyof typeof GgmlType]).toBe(id);
      expect(ggmlTypeInfo(id)).toMatchObject({ name, blockSize: block, typeSize: size });
      expect(ggmlTypeFromName(name.toLowerCase())).toBe(id);
    }
  });

  it("matches the type table of llama.cpp's libggml-base.so (golden from tooling/golden/gguf-types.py)", () => {
    for (const t of fromLibggml) {
      if (t.blockSize === 0) {
        expect(isGgmlType(t.id), t.name).toBe(false); // deprecated or removed
        continue;
      }
      expect(ggmlTypeInfo(t.id), t.name).toMatchObject({ blockSize: t.blockSize, typeSize: t.typeSize });
      expect(ggmlTypeInfo(t.id).name.toLowerCase()).toBe(t.name.toLowerCase());
    }
    expect(fromLibggml.filter((t) => t.blockSize > 0)).toHaveLength(ggmlTypes.length);
  });

  it("rejects removed and unknown ids", () => {
    for (const id of [4, 5, 31, 32, 33, 36, 37, 38, 40, -1])
      expect(() => ggmlTypeInfo(id)).toThrow(RangeError);
    expect(ggmlTypeFromName("q4_2")).toBeUndefined();
  });

  it("computes row and tensor sizes innermost first", () => {
    expect(rowByteSize(GgmlType.Q4_0, 4096)).toBe(128 * 18);
    expect(tensorByteSize(GgmlType.Q4_0, [4096, 32000])).toBe(128 * 18 * 32000);
    expect(tensorByteSize(GgmlType.F16, [4096, 11008])).toBe(4096 * 11008 * 2);
    expect(tensorByteSize(GgmlType.F32, [64])).toBe(256);
    expect(() => rowByteSize(GgmlType.Q4_K, 4096 + 32)).toThrow(/block size 256/);
  });
});
