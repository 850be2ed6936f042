import { describe, expect, it } from "vitest";
import {
  GgmlType,
  GgufError,
  type GgufTypedValue,
  parseGguf,
  rewriteOptions,
  serializeGgufHeader,
  tensorData,
  typedMetadata,
  writeGgufToBytes,
} from "../src/index";

const everyType: Record<string, GgufTypedValue> = {
  "t.u8": { type: "UINT8", value: 255 },
  "t.i8": { type: "INT8", value: -128 },
  "t.u16": { type: "UINT16", value: 65535 },
  "t.i16": { type: "INT16", value: -32768 },
  "t.u32": { type: "UINT32", value: 4294967295 },
  "t.i32": { type: "INT32", value: -2147483648 },
  "t.f32": { type: "FLOAT32", value: Math.fround(1e-5) },
  "t.bool": { type: "BOOL", value: true },
  "t.str": { type: "STRING", value: "héllo ▁世界 🦙" },
  "t.u64": { type: "UINT64", value: 2n ** 64n - 1n },
  "t.i64": { type: "INT64", value: -(2n ** 63n) },
  "t.f64": { type: "FLOAT64", value: Math.PI },
  "t.arr.u8": { type: "ARRAY", itemType: "UINT8", value: new Uint8Array([1, 2, 3]) },
  "t.arr.i8": { type: "ARRAY", itemType: "INT8", value: new Int8Array([-1, 2]) },
  "t.arr.u16": { type: "ARRAY", itemType: "UINT16", value: new Uint16Array([1, 65535]) },
  "t.arr.i16": { type: "ARRAY", itemType: "INT16", value: new Int16Array([-5]) },
  "t.arr.u32": { type: "ARRAY", itemType: "UINT32", value: [1, 2, 3] },
  "t.arr.i32": { type: "ARRAY", itemType: "INT32", value: new Int32Array([1, -2, 3]) },
  "t.arr.f32": { type: "ARRAY", itemType: "FLOAT32", value: new Float32Array([0.5, -1.25]) },
  "t.arr.f64": { type: "ARRAY", itemType: "FLOAT64", value: new Float64Array([0.1]) },
  "t.arr.u64": { type: "ARRAY", itemType: "UINT64", value: new BigUint64Array([1n, 2n ** 60n]) },
  "t.arr.i64": { type: "ARRAY", itemType: "INT64", value: [-1n, 5n] },
  "t.arr.bool": { type: "ARRAY", itemType: "BOOL", value: [true, false, true] },
  "t.arr.str": { type: "ARRAY", itemType: "STRING", value: ["a", "", "<0x0A>", "▁the"] },
  "t.arr.empty": { type: "ARRAY", itemType: "STRING", value: [] },
  "t.arr.nested": {
    type: "ARRAY",
    itemType: "ARRAY",
    value: [
      { type: "ARRAY", itemType: "INT32", value: [1, 2] },
      { type: "ARRAY", itemType: "STRING", value: ["x"] },
      {
        type: "ARRAY",
        itemType: "ARRAY",
        value: [{ type: "ARRAY", itemType: "BOOL", value: [false] }],
      },
    ],
  },
};

function tinyTensors() {
  const a = new Uint8Array(4 * 8 * 2).map((_, i) => i);
  const b = new Uint8Array(18 * 2).map((_, i) => 255 - i);
  const c = new Uint8Array(4 * 3).map((_, i) => i * 3);
  return [
    { name: "a.weight", type: GgmlType.F16, shape: [8, 4], data: a },
    { name: "b.weight", type: GgmlType.Q4_0, shape: [32, 2], data: async () => b },
    {
      name: "c",
      type: GgmlType.F32,
      shape: [3],
      data: () =>
        (async function* () {
          yield c.subarray(0, 5);
          yield c.subarray(5);
        })(),
    },
  ];
}

describe("reader and writer", () => {
  it("round-trips every value type, nested arrays included, in v3 and v2", async () => {
    for (const version of [3, 2] as const) {
      const bytes = await writeGgufToBytes({ metadata: everyType, tensors: tinyTensors() }, { version });
      const file = parseGguf(bytes);
      expect(file.version).toBe(version);
      expect(file.metadata["t.u8"]).toBe(255);
      expect(file.metadata["t.i64"]).toBe(-(2n ** 63n));
      expect(file.metadata["t.u64"]).toBe(2n ** 64n - 1n);
      expect(file.metadata["t.str"]).toBe("héllo ▁世界 🦙");
      expect(file.metadata["t.f32"]).toBe(Math.fround(1e-5));
      expect(file.metadata["t.arr.u32"]).toEqual(new Uint32Array([1, 2, 3]));
      expect(file.metadata["t.arr.i64"]).toEqual(new BigInt64Array([-1n, 5n]));
      expect(file.metadata["t.arr.bool"]).toEqual([true, false, true]);
      expect(file.metadata["t.arr.str"]).toEqual(["a", "", "<0x0A>", "▁the"]);
      expect(file.metadata["t.arr.empty"]).toEqual([]);
      expect(file.metadata["t.arr.nested"]).toEqual([new Int32Array([1, 2]), ["x"], [[false]]]);
      expect(file.metadataTypes["t.arr.nested"]).toEqual({
        type: "ARRAY",
        itemType: "ARRAY",
        items: [
          { type: "ARRAY", itemType: "INT32" },
          { type: "ARRAY", itemType: "STRING" },
          { type: "ARRAY", itemType: "ARRAY", items: [{ type: "ARRAY", itemType: "BOOL" }] },
        ],
      });
      expect(Object.keys(file.metadata)).toEqual(Object.keys(everyType));
      // And back to the same bytes.
      const again = await writeGgufToBytes(
        {
          metadata: typedMetadata(file),
          tensors: file.tensors.map((t) => ({ ...t, data: tensorData(bytes, file, t) })),
        },
        rewriteOptions(file),
      );
      expect(Buffer.compare(again, bytes)).toBe(0);
    }
  });

  it("lays tensors out contiguously with llama.cpp's padding", async () => {
    const bytes = await writeGgufToBytes({
      metadata: { "general.architecture": "llama" },
      tensors: tinyTensors(),
    });
    const file = parseGguf(bytes);
    expect(file.alignment).toBe(32);
    expect(file.dataOffset % 32).toBe(0);
    expect(file.tensors.map((t) => [t.name, t.typeName, t.shape, t.offset, t.byteSize])).toEqual([
      ["a.weight", "F16", [8, 4], 0, 64],
      ["b.weight", "Q4_0", [32, 2], 64, 36],
      ["c", "F32", [3], 64 + 64, 12],
    ]);
    expect(bytes.length).toBe(file.dataOffset + 64 + 64 + 32);
    expect(tensorData(bytes, file, "b.weight")[0]).toBe(255);
    expect(Array.from(tensorData(bytes, file, "c"))).toEqual(Array.from({ length: 12 }, (_, i) => i * 3));
    // Padding is zeros.
    expect(bytes.subarray(file.dataOffset + 64 + 36, file.dataOffset + 128).every((b) => b === 0)).toBe(true);
  });

  it("honours and records a custom alignment", async () => {
    const bytes = await writeGgufToBytes({ metadata: {}, tensors: tinyTensors() }, { alignment: 64 });
    const file = parseGguf(bytes);
    expect(file.metadata["general.alignment"]).toBe(64);
    expect(file.metadataTypes["general.alignment"]).toEqual({ type: "UINT32" });
    expect(file.tensors.map((t) => t.offset)).toEqual([0, 64, 128]);
    expect(file.dataOffset % 64).toBe(0);
    await expect(writeGgufToBytes({ metadata: {}, tensors: [] }, { alignment: 24 })).rejects.toMatchObject({
      code: "GGUF_BAD_ALIGNMENT",
    });
  });

  it("infers types of plain values and rejects ambiguous or impossible ones", async () => {
    const bytes = await writeGgufToBytes({
      metadata: {
        a: 3,
        b: -3,
        c: 0.5,
        d: "s",
        e: true,
        f: 5n,
        g: ["x", "y"],
        h: new Float32Array([1]),
        i: [1, 2],
      },
      tensors: [],
    });
    const file = parseGguf(bytes);
    expect(
      Object.fromEntries(Object.entries(file.metadataTypes).map(([k, v]) => [k, v.itemType ?? v.type])),
    ).toEqual({
      a: "UINT32",
      b: "INT32",
      c: "FLOAT32",
      d: "STRING",
      e: "BOOL",
      f: "UINT64",
      g: "STRING",
      h: "FLOAT32",
      i: "UINT32",
    });
    await expect(writeGgufToBytes({ metadata: { x: [] }, tensors: [] })).rejects.toBeInstanceOf(GgufError);
    await expect(
      writeGgufToBytes({ metadata: { x: { type: "UINT8", value: 256 } }, tensors: [] }),
    ).rejects.toMatchObject({
      code: "GGUF_BAD_VALUE",
      field: 'metadata "x"',
    });
    await expect(writeGgufToBytes({ metadata: { x: "\ud800" }, tensors: [] })).rejects.toMatchObject({
      code: "GGUF_BAD_UTF8",
    });
  });

  it("checks tensor specs and data lengths when writing", async () => {
    const t = tinyTensors();
    expect(() => serializeGgufHeader({ metadata: {}, tensors: [t[0], t[0]] })).toThrow(
      /duplicate tensor name/,
    );
    expect(() => serializeGgufHeader({ metadata: {}, tensors: [{ ...t[0], name: "x".repeat(64) }] })).toThrow(
      /63 bytes/,
    );
    expect(() => serializeGgufHeader({ metadata: {}, tensors: [{ ...t[1], shape: [33, 2] }] })).toThrow(
      /block size/,
    );
    await expect(
      writeGgufToBytes({ metadata: {}, tensors: [{ ...t[0], data: new Uint8Array(10) }] }),
    ).rejects.toMatchObject({ code: "GGUF_BAD_TENSOR_DATA" });
  });

  it("reads only what is needed: tensor data stays in the buffer", async () => {
    const bytes = await writeGgufToBytes({ metadata: {}, tensors: tinyTensors() });
    const file = parseGguf(bytes.buffer as ArrayBuffer);
    expect(file.tensors).toHaveLength(3);
    expect(file.fileSize).toBe(bytes.length);
  });
});
