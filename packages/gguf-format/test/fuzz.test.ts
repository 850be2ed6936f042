/**
 * Fuzzing the parser with mutated real files: every outcome must be a parsed file whose tensors
 * lie inside the file without overlapping (and which writes back and re-reads to the same
 * values), or a GgufError. Never another exception, a hang, or a huge allocation.
 */
import { readFileSync } from "node:fs";
import { fixtureNames, fixturePath } from "@cllama/tooling/fixtures";
import { describe, expect, it } from "vitest";
import {
  bytesSource,
  GgmlType,
  GgufError,
  type GgufFile,
  openGguf,
  parseGguf,
  rewriteOptions,
  synthLlama,
  tensorData,
  typedMetadata,
  writeGgufToBytes,
} from "../src/index";

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const INTERESTING_32 = [
  0, 1, 2, 3, 7, 8, 9, 12, 13, 31, 32, 33, 63, 64, 255, 0x7fffffff, 0x80000000, 0xffffffff,
];
const INTERESTING_64 = [0n, 1n, 2n ** 32n, 2n ** 40n, 2n ** 53n, 2n ** 60n, 2n ** 63n, 2n ** 64n - 1n];

/** One random mutation of `src`, mostly inside its header (where the parser looks). */
function mutate(src: Uint8Array, headerEnd: number, random: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(random() * n);
  const pos = () => (random() < 0.9 ? pick(Math.min(headerEnd + 64, src.length)) : pick(src.length));
  const out = src.slice();
  const view = new DataView(out.buffer);
  const kind = pick(8);
  switch (kind) {
    case 0: {
      const p = pos();
      out[p] ^= 1 << pick(8);
      return out;
    }
    case 1: {
      for (let i = 0, n = 1 + pick(8); i < n; i++) out[pos()] = pick(256);
      return out;
    }
    case 2: {
      const p = Math.min(pos(), out.length - 4);
      view.setUint32(p, INTERESTING_32[pick(INTERESTING_32.length)], true);
      return out;
    }
    case 3: {
      const p = Math.min(pos(), out.length - 8);
      view.setBigUint64(p, INTERESTING_64[pick(INTERESTING_64.length)], true);
      return out;
    }
    case 4:
      return src.slice(0, pos());
    case 5:
      return splice(src, pos(), 1 + pick(16), new Uint8Array(0));
    case 6:
      return splice(
        src,
        pos(),
        0,
        Uint8Array.from({ length: 1 + pick(16) }, () => pick(256)),
      );
    default: {
      const from = pos();
      const to = pos();
      const len = 1 + pick(32);
      out.set(
        src.subarray(from, Math.min(from + len, src.length)),
        Math.min(to, out.length - len > 0 ? out.length - len : 0),
      );
      return out;
    }
  }
}

/** `src` with `remove` bytes at `at` replaced by `insert`. */
function splice(src: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const tail = src.subarray(Math.min(src.length, at + remove));
  const out = new Uint8Array(at + insert.length + tail.length);
  out.set(src.subarray(0, at));
  out.set(insert, at);
  out.set(tail, at + insert.length);
  return out;
}

/** Plain checks (no expect() per case: 10,000 cases must stay fast). */
function checkInvariants(bytes: Uint8Array, file: GgufFile): void {
  const spans = file.tensors
    .map((t) => [file.dataOffset + t.offset, file.dataOffset + t.offset + t.byteSize] as const)
    .filter(([a, b]) => b > a);
  for (const [, end] of spans)
    if (end > bytes.length) throw new Error(`tensor ends at ${end}, past the file (${bytes.length})`);
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++)
    if (spans[i][0] < spans[i - 1][1]) throw new Error("overlapping tensors accepted");
}

/** What we accepted writes back, and re-reading that gives values that write the same bytes again. */
async function rewriteAndReread(bytes: Uint8Array, file: GgufFile): Promise<void> {
  const write = (from: Uint8Array, f: GgufFile) =>
    writeGgufToBytes(
      { metadata: typedMetadata(f), tensors: f.tensors.map((t) => ({ ...t, data: tensorData(from, f, t) })) },
      rewriteOptions(f),
    );
  const again = await write(bytes, file);
  const reread = parseGguf(again);
  if (Buffer.compare(await write(again, reread), again) !== 0) throw new Error("rewrite is not stable");
  if (Object.keys(reread.metadata).join("\n") !== Object.keys(file.metadata).join("\n"))
    throw new Error("keys changed");
  if (reread.tensors.length !== file.tensors.length) throw new Error("tensor count changed");
}

interface Outcome {
  ok: number;
  errors: Map<string, number>;
}

async function fuzz(
  seedFile: Uint8Array,
  cases: number,
  seed: number,
  outcome: Outcome,
  lazyFirstRead = 40,
): Promise<void> {
  const headerEnd = parseGguf(seedFile).headerSize;
  const random = rng(seed);
  for (let i = 0; i < cases; i++) {
    const bytes = mutate(seedFile, headerEnd, random);
    let file: GgufFile | undefined;
    let code: string | undefined;
    try {
      file = parseGguf(bytes);
    } catch (error) {
      if (!(error instanceof GgufError)) {
        throw new Error(`case ${i} (seed ${seed}): ${String(error)}\n${(error as Error).stack}`);
      }
      code = error.code;
    }
    if (file) {
      outcome.ok++;
      checkInvariants(bytes, file);
      if (i % 4 === 0) await rewriteAndReread(bytes, file);
    } else {
      outcome.errors.set(code as string, (outcome.errors.get(code as string) ?? 0) + 1);
    }
    // The lazy reader (prefixes grown on demand) must agree with the in-memory one.
    if (i % 10 === 0) {
      const lazy = await openGguf(bytesSource(bytes), { initialReadBytes: lazyFirstRead + (i % 97) }).then(
        (h) => h.file,
        (e: unknown) => (e instanceof GgufError ? e.code : e),
      );
      if (file) expect(lazy).toEqual(file);
      else expect(lazy).toBe(code);
    }
  }
}

async function seedFiles(): Promise<Uint8Array[]> {
  const everything = await writeGgufToBytes({
    metadata: {
      "general.architecture": "llama",
      "general.alignment": { type: "UINT32", value: 64 },
      u8: { type: "UINT8", value: 1 },
      i16: { type: "INT16", value: -2 },
      u64: 2n ** 40n,
      f64: { type: "FLOAT64", value: 0.5 },
      flag: true,
      strs: ["a", "bc", "▁中文"],
      f32s: new Float32Array([1.5, -2]),
      bools: [true, false],
      nested: {
        type: "ARRAY",
        itemType: "ARRAY",
        value: [[1, 2], ["s", "t"], { type: "ARRAY", itemType: "INT8", value: [] }],
      },
    },
    tensors: [
      { name: "a", type: GgmlType.F32, shape: [4, 2], data: new Uint8Array(32) },
      { name: "b", type: GgmlType.Q8_0, shape: [32, 2], data: new Uint8Array(68) },
      { name: "c", type: GgmlType.IQ4_XS, shape: [256], data: new Uint8Array(136) },
    ],
  });
  const synth = await writeGgufToBytes(
    synthLlama({
      dims: { dim: 32, layers: 1, heads: 2, ff: 64, ctx: 32, vocab: 360 },
      type: GgmlType.F32,
      seed: 9,
    }),
  );
  const v2 = await writeGgufToBytes(
    {
      metadata: { k: "v", n: 3 },
      tensors: [{ name: "x", type: GgmlType.F16, shape: [2], data: new Uint8Array(4) }],
    },
    { version: 2 },
  );
  return [everything, synth, v2];
}

describe("fuzzing the reader with mutated files", () => {
  it("survives 10,500 mutations of written files with typed errors only", async () => {
    const outcome: Outcome = { ok: 0, errors: new Map() };
    const [everything, synth, v2] = await seedFiles();
    await fuzz(everything, 5000, 1, outcome);
    await fuzz(synth, 3500, 2, outcome);
    await fuzz(v2, 2000, 3, outcome);
    const failed = [...outcome.errors.values()].reduce((a, b) => a + b, 0);
    expect(outcome.ok + failed).toBe(10500);
    // Both outcomes happen a lot, and many distinct errors are exercised.
    expect(outcome.ok).toBeGreaterThan(1000);
    expect(failed).toBeGreaterThan(3000);
    expect(outcome.errors.size).toBeGreaterThan(8);
  });

  const vocabPath = fixturePath(fixtureNames.llamaCppVocab);
  it.skipIf(!vocabPath)("survives mutations of llama.cpp's vocab file", async () => {
    const outcome: Outcome = { ok: 0, errors: new Map() };
    await fuzz(new Uint8Array(readFileSync(vocabPath as string)), 100, 4, outcome, 256 << 10);
    expect(outcome.ok + [...outcome.errors.values()].reduce((a, b) => a + b, 0)).toBe(100);
  });
});
