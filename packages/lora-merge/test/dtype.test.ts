import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { convertDType, fromFloat32, toFloat32 } from "../src/index";
import { python, runTools, tempDir } from "./helpers";

/** Float32 bit patterns around every rounding edge: ties, subnormals, overflow, NaN, random. */
function edgeValues(): Float32Array {
  const bits: number[] = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f7fffff, 0x00000001];
  for (let e = 90; e <= 160; e++) {
    for (const m of [
      0, 1, 0xfff, 0x1000, 0x1001, 0x2000, 0x3000, 0x7fff, 0x8000, 0x8001, 0x18000, 0x7fffff,
    ]) {
      bits.push((e << 23) | m, 0x80000000 | (e << 23) | m);
    }
  }
  let s = 12345;
  for (let i = 0; i < 20000; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    bits.push(s);
  }
  return new Float32Array(Uint32Array.from(bits).buffer);
}

describe.skipIf(!python)("dtype conversions round like PyTorch", () => {
  const tmp = tempDir("dtype");
  afterAll(() => tmp.cleanup());

  it("float32 -> float16 and -> bfloat16, bit for bit (NaN payloads aside)", () => {
    const values = edgeValues();
    const file = join(tmp.dir, "values.f32");
    writeFileSync(file, new Uint8Array(values.buffer));
    runTools([["dtype_round.py", file]]);
    const want16 = new Uint16Array(new Uint8Array(readFileSync(`${file}.f16`)).buffer);
    const wantBf = new Uint16Array(new Uint8Array(readFileSync(`${file}.bf16`)).buffer);
    const got16 = new Uint16Array(fromFloat32("F16", values).slice().buffer);
    const gotBf = new Uint16Array(fromFloat32("BF16", values).slice().buffer);
    const bits = new Uint32Array(values.buffer);
    const wrong: string[] = [];
    let checked = 0;
    for (let i = 0; i < values.length; i++) {
      if (Number.isNaN(values[i]!)) {
        if (!Number.isNaN(toFloat32("F16", new Uint8Array(got16.slice(i, i + 1).buffer))[0]!))
          wrong.push(`NaN 0x${bits[i]!.toString(16)}`);
        continue;
      }
      if (got16[i] !== want16[i])
        wrong.push(`f16 of 0x${bits[i]!.toString(16)}: ${got16[i]} vs ${want16[i]}`);
      if (gotBf[i] !== wantBf[i])
        wrong.push(`bf16 of 0x${bits[i]!.toString(16)}: ${gotBf[i]} vs ${wantBf[i]}`);
      checked++;
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(checked).toBeGreaterThan(20000);
  });
});

describe("dtype round trips", () => {
  it("every float16 survives f16 -> f32 -> f16", () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = new Uint16Array(
      convertDType("F32", "F16", convertDType("F16", "F32", new Uint8Array(all.buffer))).slice().buffer,
    );
    const wrong = [...back.keys()].filter((i) => !((i & 0x7c00) === 0x7c00 && i & 0x3ff) && back[i] !== i);
    expect(wrong).toEqual([]);
  });
  it("every bfloat16 survives bf16 -> f32 -> bf16", () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = new Uint16Array(
      convertDType("F32", "BF16", convertDType("BF16", "F32", new Uint8Array(all.buffer))).slice().buffer,
    );
    const wrong = [...back.keys()].filter((i) => !((i & 0x7f80) === 0x7f80 && i & 0x7f) && back[i] !== i);
    expect(wrong).toEqual([]);
  });
});
