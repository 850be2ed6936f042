/**
 * Differential test against ggml's reference quantizer on fresh random rows: a new seed every
 * run (printed in the test name, so a failure can be replayed), every type, bytes and
 * dequantized floats. CI has the oracle (CLLAMA_REQUIRE_ORACLES=1); elsewhere it skips.
 */
import { randomInt } from "node:crypto";
import { GgmlType } from "@cllama/gguf-format";
import { llamaCppLibDir, pythonWith } from "@cllama/tooling/oracles";
import { describe, expect, it } from "vitest";
import { dequantizeRow, fp32ToFp16, quantizeRows } from "../src/index";
import { setWasmEnabled } from "../src/wasm";
import { gaussian, type OracleCase, prng, runOracle } from "./oracle-cases";

const libDir = llamaCppLibDir();
const python = pythonWith(["numpy"]);
const seed = Number(process.env.QUANTIZE_SEED ?? randomInt(2 ** 31));

const TYPES = [
  GgmlType.F16,
  GgmlType.BF16,
  GgmlType.Q4_0,
  GgmlType.Q4_1,
  GgmlType.Q5_0,
  GgmlType.Q5_1,
  GgmlType.Q8_0,
  GgmlType.Q8_1,
  GgmlType.Q2_K,
  GgmlType.Q3_K,
  GgmlType.Q4_K,
  GgmlType.Q5_K,
  GgmlType.Q6_K,
  GgmlType.Q8_K,
];

/** Rows that look like weights, with per-row scale and offset and a few outliers. */
function freshRows(rand: () => number, nrows: number, n: number): Float32Array {
  const out = new Float32Array(nrows * n);
  for (let r = 0; r < nrows; r++) {
    const scale = 10 ** (rand() * 6 - 4);
    const offset = rand() < 0.3 ? gaussian(rand) * scale : 0;
    for (let i = 0; i < n; i++) {
      const outlier = rand() < 0.005 ? 20 : 1;
      out[r * n + i] = gaussian(rand) * scale * outlier + offset;
    }
  }
  return out;
}

/** Float32 bit patterns of every kind (normals, subnormals, huge, inf, NaN) for the half conversions. */
function randomBits(rand: () => number, n: number): Float32Array {
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) bits[i] = Math.floor(rand() * 2 ** 32);
  return new Float32Array(bits.buffer);
}

function sameFloats(a: Float32Array, b: Float32Array): number {
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  }
  return -1;
}

describe.skipIf(!libDir || !python)(`differential vs ggml_quantize_chunk (seed ${seed})`, () => {
  it("every type: same bytes and same dequantized floats on fresh random rows", () => {
    const rand = prng(seed);
    const cases: OracleCase[] = [];
    for (const type of TYPES) {
      const nPerRow = [256, 512, 4096][Math.floor(rand() * 3)];
      const nrows = Math.max(1, Math.floor(32768 / nPerRow));
      cases.push({ type, nrows, nPerRow, data: freshRows(rand, nrows, nPerRow) });
    }
    const results = runOracle(libDir!, cases);
    cases.forEach((c, i) => {
      const name = `${GgmlType[c.type]} (${c.nrows}x${c.nPerRow}, seed ${seed})`;
      const ours = quantizeRows(c.type, c.data, c.nrows, c.nPerRow);
      // the TypeScript port on the first rows too (the WebAssembly build is the default)
      setWasmEnabled(false);
      const js = quantizeRows(c.type, c.data.subarray(0, c.nPerRow), 1, c.nPerRow);
      setWasmEnabled(true);
      expect(
        js.findIndex((b, j) => b !== results[i].bytes[j]),
        `${name}: TypeScript port`,
      ).toBe(-1);
      const expected = results[i].bytes;
      const first = ours.findIndex((b, j) => b !== expected[j]);
      expect(first, `${name}: first differing byte`).toBe(-1);
      const floats = results[i].floats;
      if (floats) {
        expect(
          sameFloats(dequantizeRow(c.type, expected, c.data.length), floats),
          `${name}: first differing float`,
        ).toBe(-1);
      }
    });
  });

  it("fp32 -> fp16 on random bit patterns (NaN, inf, subnormals) and fp16 -> fp32 on every half", () => {
    const rand = prng(seed ^ 0x5bd1e995);
    const bits = randomBits(rand, 1 << 18);
    // the float32 value of every half (NaN halves replaced by 0: ggml makes them all 0x7E00)
    const halves = new Float32Array(0x10000);
    for (let h = 0; h < 0x10000; h++) {
      const exp = (h >> 10) & 0x1f;
      const mant = h & 0x3ff;
      const sign = h & 0x8000 ? -1 : 1;
      halves[h] =
        exp === 31
          ? mant
            ? 0
            : sign * Number.POSITIVE_INFINITY
          : exp === 0
            ? sign * mant * 2 ** -24
            : sign * (1024 + mant) * 2 ** (exp - 25);
    }
    const [f16, bf16, all] = runOracle(libDir!, [
      { type: GgmlType.F16, nrows: 1, nPerRow: bits.length, data: bits },
      { type: GgmlType.BF16, nrows: 1, nPerRow: bits.length, data: bits },
      { type: GgmlType.F16, nrows: 1, nPerRow: halves.length, data: halves },
    ]);
    const ours16 = quantizeRows(GgmlType.F16, bits, 1, bits.length);
    expect(ours16.findIndex((b, i) => b !== f16.bytes[i])).toBe(-1);
    const oursBf = quantizeRows(GgmlType.BF16, bits, 1, bits.length);
    expect(oursBf.findIndex((b, i) => b !== bf16.bytes[i])).toBe(-1);
    expect(sameFloats(dequantizeRow(GgmlType.F16, all.bytes, halves.length), all.floats!)).toBe(-1);
    expect(fp32ToFp16(halves[0x3c00])).toBe(0x3c00);
  });
});
