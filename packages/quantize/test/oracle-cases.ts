import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const oracleScript = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "tooling",
  "golden",
  "quantize-oracle.py",
);

/**
 * Rows built to break a quantizer, shared by the golden generator
 * (tooling/golden/quantize-golden.mjs, run with tsx) and the tests: zeros, constants, one huge value, tiny and subnormal values, ties at
 * rounding boundaries, values beyond half precision, plus seeded random rows.
 */

/** mulberry32: a tiny seeded PRNG, so rows are reproducible anywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Fill `n` floats from `f(i)`. */
function row(n: number, f: (i: number) => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = f(i);
  return out;
}

/** [name, Float32Array] pairs; every row has `n` elements (a multiple of 256). */
export function edgeRows(n = 256, seed = 1): [string, Float32Array][] {
  const rand = prng(seed);
  const g = () => gaussian(rand);
  return [
    ["zeros", row(n, () => 0)],
    ["negative zeros", row(n, () => -0)],
    ["constant 0.5", row(n, () => 0.5)],
    ["constant -3.25", row(n, () => -3.25)],
    ["constant tiny 1e-30", row(n, () => 1e-30)],
    ["one huge 1e4 among small", row(n, (i) => (i === 37 ? 1e4 : g() * 0.01))],
    ["one huge negative -3e4", row(n, (i) => (i === 200 ? -3e4 : g() * 0.1))],
    [
      "beyond half range",
      row(n, (i) => [7e4, -7e4, 65504, 65519, 65520, -65536, 1e6, 3e38][i % 8] * (1 + (i >> 3) * 1e-3)),
    ],
    ["one beyond half range 1e6", row(n, (i) => (i === 5 ? 1e6 : g()))],
    ["tiny 1e-6", row(n, () => g() * 1e-6)],
    ["fp16 subnormal range", row(n, () => g() * 3e-6)],
    ["float32 subnormals", row(n, () => g() * 1e-40)],
    ["below half subnormal", row(n, () => g() * 1e-8)],
    [
      "fp16 rounding ties",
      row(n, (i) => (1 + (2 * (i % 64) + 1) * 2 ** -11) * (i & 64 ? -1 : 1) * 2 ** ((i >> 7) - 1)),
    ],
    // max 127 -> Q8_0 d = 1: x*id lands on k + 0.5 (roundf ties away from zero)
    ["q8_0 ties", row(n, (i) => (i % 32 === 0 ? 127 : (i % 31) - 15 + 0.5))],
    // max -8 -> Q4_0 d = 1, id = 1: x + 8.5 on integers and halves
    ["q4_0 ties", row(n, (i) => (i % 32 === 0 ? -8 : (i % 16) - 8 + (i & 1 ? 0.5 : 0)))],
    ["q4_1 ties", row(n, (i) => (i % 32 === 0 ? 0 : i % 32 === 1 ? 15 : (i % 15) + 0.5))],
    ["integers -31..31", row(n, (i) => (i % 63) - 31)],
    ["all positive", row(n, () => 1 + Math.abs(g()))],
    ["all negative", row(n, () => -1 - Math.abs(g()))],
    ["alternating +-1", row(n, (i) => (i % 17 === 0 ? 0 : i & 1 ? 1 : -1))],
    ["sparse", row(n, (i) => (i % 29 === 0 ? g() : 0))],
    ["step", row(n, (i) => (i < n / 2 ? -1 : 2))],
    ["ramp", row(n, (i) => i / n - 0.25)],
    ["random 0.02", row(n, () => g() * 0.02)],
    ["random 1", row(n, () => g())],
    ["random 100 + offset", row(n, () => g() * 100 + 40)],
    ["random heavy tails", row(n, () => g() * Math.exp(2 * g()))],
  ];
}

/** Random rows as a model's weights look (normal, a few outliers), `count` rows of `n`. */
export function randomRows(count: number, n: number, seed: number): Float32Array {
  const rand = prng(seed);
  const out = new Float32Array(count * n);
  for (let i = 0; i < out.length; i++) {
    const scale = rand() < 0.01 ? 8 : 1;
    out[i] = gaussian(rand) * 0.02 * scale + (rand() < 0.05 ? 0.01 : 0);
  }
  return out;
}

export interface OracleCase {
  type: number;
  nrows: number;
  nPerRow: number;
  data: Float32Array;
}

export interface OracleResult {
  bytes: Uint8Array;
  /** ggml's dequantization, undefined where ggml has none (F32, Q8_1). */
  floats: Float32Array | undefined;
}

/** Request file of the oracle (tooling/golden/quantize-oracle.py). */
export function encodeRequest(cases: OracleCase[]): Uint8Array {
  let size = 8;
  for (const c of cases) size += 12 + c.data.byteLength;
  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
  buf.set([0x51, 0x52, 0x45, 0x51], 0); // "QREQ"
  view.setUint32(4, cases.length, true);
  let pos = 8;
  for (const c of cases) {
    view.setUint32(pos, c.type, true);
    view.setUint32(pos + 4, c.nrows, true);
    view.setUint32(pos + 8, c.nPerRow, true);
    pos += 12;
    buf.set(new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength), pos);
    pos += c.data.byteLength;
  }
  return buf;
}

/** Response file of the oracle. */
export function decodeResponse(buf: Uint8Array): OracleResult[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = String.fromCharCode(buf[0], buf[1], buf[2], buf[3]);
  if (tag !== "QRES") throw new Error(`not an oracle response (tag ${tag})`);
  const n = view.getUint32(4, true);
  const out: OracleResult[] = [];
  let pos = 8;
  for (let i = 0; i < n; i++) {
    const nbytes = view.getUint32(pos, true);
    const bytes = buf.slice(pos + 4, pos + 4 + nbytes);
    pos += 4 + nbytes;
    const nfloats = view.getUint32(pos, true);
    pos += 4;
    const floats = nfloats ? new Float32Array(buf.slice(pos, pos + 4 * nfloats).buffer) : undefined;
    pos += 4 * nfloats;
    out.push({ bytes, floats });
  }
  return out;
}

/**
 * Run ggml's reference quantizer (tooling/golden/quantize-oracle.py through Debian's python3 and
 * node-llama-cpp's libggml-base.so) on a batch of cases, in one process.
 */
export function runOracle(libDir: string, cases: OracleCase[]): OracleResult[] {
  const tmp = mkdtempSync(join(tmpdir(), "quantize-oracle-"));
  try {
    writeFileSync(join(tmp, "req.bin"), encodeRequest(cases));
    const run = spawnSync(
      "/usr/bin/python3",
      [oracleScript, libDir, join(tmp, "req.bin"), join(tmp, "res.bin")],
      { encoding: "utf8" },
    );
    if (run.status !== 0) throw new Error(`quantize-oracle.py failed: ${run.stderr || run.error}`);
    return decodeResponse(new Uint8Array(readFileSync(join(tmp, "res.bin"))));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
