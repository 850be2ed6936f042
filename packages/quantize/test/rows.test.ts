import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GgmlType } from "@cllama/gguf-format";
import { afterAll, describe, expect, it } from "vitest";
import {
  bf16ToFp32,
  canQuantize,
  dequantizeRow,
  fp16ToFp32,
  fp32ToBf16,
  fp32ToFp16,
  QuantizeError,
  quantizeRow,
  quantizeRows,
} from "../src/index";
import { setWasmEnabled, wasmQuantizes } from "../src/wasm";
import { edgeRows, randomRows } from "./oracle-cases";

interface GoldenCase {
  type: string;
  row: string;
  bytes: string;
  floatsSha256: string | null;
}
const golden = JSON.parse(readFileSync(join(__dirname, "golden", "rows.json"), "utf8")) as {
  nPerRow: number;
  cases: GoldenCase[];
};
const inputs = new Map<string, Float32Array>([
  ...edgeRows(golden.nPerRow, 1),
  ["random rows (seed 7)", randomRows(4, golden.nPerRow, 7)],
]);

function hex(bytes: Uint8Array, from: number): string {
  return Buffer.from(bytes.subarray(from, from + 16)).toString("hex");
}

// Both quantizer builds must give ggml's bytes: WebAssembly (the default) and the TypeScript port.
describe.each(["wasm", "typescript"])("golden rows made by ggml_quantize_chunk, %s quantizers", (engine) => {
  afterAll(() => setWasmEnabled(true));
  it("uses the intended build", () => {
    setWasmEnabled(engine === "wasm");
    expect(wasmQuantizes(GgmlType.Q4_K)).toBe(engine === "wasm");
  });
  const byType = new Map<string, GoldenCase[]>();
  for (const c of golden.cases) byType.set(c.type, [...(byType.get(c.type) ?? []), c]);

  for (const [typeName, cases] of byType) {
    it(`${typeName}: bytes and dequantized floats equal ggml's on ${cases.length} row sets`, () => {
      setWasmEnabled(engine === "wasm");
      const type = GgmlType[typeName as keyof typeof GgmlType];
      for (const c of cases) {
        const src = inputs.get(c.row);
        expect(src, c.row).toBeDefined();
        const ours = quantizeRows(type, src!, src!.length / golden.nPerRow, golden.nPerRow);
        const expected = new Uint8Array(Buffer.from(c.bytes, "base64"));
        const first = ours.findIndex((b, i) => b !== expected[i]);
        expect(
          first === -1
            ? "same"
            : `${c.row}: differs at byte ${first}: ${hex(ours, first)} vs ${hex(expected, first)}`,
        ).toBe("same");
        expect(ours.length).toBe(expected.length);
        if (c.floatsSha256) {
          const floats = dequantizeRow(type, expected, src!.length);
          const sha = createHash("sha256").update(new Uint8Array(floats.buffer)).digest("hex");
          expect(sha, `${c.row}: dequantized floats`).toBe(c.floatsSha256);
        }
      }
    });
  }
});

describe("fp16 and bf16", () => {
  it("round to nearest even, keep subnormals, overflow to infinity, quiet NaN", () => {
    expect(fp32ToFp16(1)).toBe(0x3c00);
    expect(fp32ToFp16(-2)).toBe(0xc000);
    expect(fp32ToFp16(65504)).toBe(0x7bff);
    expect(fp32ToFp16(65519.99)).toBe(0x7bff);
    expect(fp32ToFp16(65520)).toBe(0x7c00); // tie with an odd mantissa rounds up to infinity
    expect(fp32ToFp16(-1e6)).toBe(0xfc00);
    expect(fp32ToFp16(Number.POSITIVE_INFINITY)).toBe(0x7c00);
    expect(fp32ToFp16(Number.NaN)).toBe(0x7e00);
    expect(fp32ToFp16(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(fp32ToFp16(2 ** -25)).toBe(0x0000); // tie to even: 0
    expect(fp32ToFp16(3 * 2 ** -25)).toBe(0x0002); // tie to even: 2
    expect(fp32ToFp16(-0)).toBe(0x8000);
    expect(fp32ToFp16(1 + 2 ** -11)).toBe(0x3c00); // tie, even stays
    expect(fp32ToFp16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, odd rounds up
    expect(fp32ToFp16(2 ** -14 - 2 ** -25)).toBe(0x0400); // subnormal rounds up to the smallest normal
    expect(fp16ToFp32(0x0001)).toBe(2 ** -24);
    expect(fp16ToFp32(0x7bff)).toBe(65504);
    expect(fp16ToFp32(0xfc00)).toBe(Number.NEGATIVE_INFINITY);
    expect(fp16ToFp32(0x7e00)).toBeNaN();
  });

  it("every finite half survives fp16 -> fp32 -> fp16", () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaNs
      if (fp32ToFp16(fp16ToFp32(h)) !== h) throw new Error(`half 0x${h.toString(16)} does not round-trip`);
    }
  });

  it("bf16 as ggml: nearest even, NaN forced quiet", () => {
    expect(fp32ToBf16(1)).toBe(0x3f80);
    expect(fp32ToBf16(bf16ToFp32(0x3f81) + 2 ** -8)).toBe(0x3f82); // tie, odd rounds up
    expect(fp32ToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie, even stays
    expect(fp32ToBf16(Number.NaN)).toBe(0x7fc0);
    expect(bf16ToFp32(0xc040)).toBe(-3);
  });
});

describe("row API", () => {
  it("rejects rows a type cannot take, and unsupported types", () => {
    expect(canQuantize(GgmlType.Q4_K, 256)).toBe(true);
    expect(canQuantize(GgmlType.Q4_K, 4096 + 32)).toBe(false);
    expect(canQuantize(GgmlType.Q4_0, 4096 + 32)).toBe(true);
    expect(canQuantize(GgmlType.IQ2_XXS, 256)).toBe(false);
    expect(() => quantizeRow(GgmlType.Q4_K, new Float32Array(100))).toThrow(QuantizeError);
    expect(() => quantizeRow(GgmlType.IQ2_XXS, new Float32Array(256))).toThrowError(/not supported/);
    try {
      quantizeRow(GgmlType.Q6_K, new Float32Array(32));
    } catch (error) {
      expect((error as QuantizeError).code).toBe("QUANTIZE_BAD_ROW_LENGTH");
    }
  });

  it("quantizeRows equals row-by-row quantizeRow", () => {
    const src = randomRows(3, 512, 3);
    for (const type of [GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K]) {
      const all = quantizeRows(type, src, 3, 512);
      const rows = [0, 1, 2].map((r) => quantizeRow(type, src.subarray(r * 512, (r + 1) * 512)));
      expect(Buffer.from(all).equals(Buffer.concat(rows))).toBe(true);
    }
  });
});
