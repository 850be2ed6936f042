// Kernel micro-benchmark: GMAC/s and GB/s of matrix x vector (and matrix x 64 tokens) per weight
// type at 7B shapes, 1 and 2 threads, beside llama.cpp's own ggml_vec_dot (1 thread, native,
// same machine, same run) and the machine's read bandwidth measured by a tiny C program.
// Writes the kernels-wasm section of BENCHMARKS.md. Usage: pnpm bench [--quick]
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { markdownTable, writeBenchSection } from "@cllama/tooling/bench";
import { llamaCppLibDir } from "@cllama/tooling/oracles";
import { createKernels, type Kernels, WeightType, weightRowBytes, weightTypeInfo } from "../src/node";

const quick = process.argv.includes("--quick");
const here = new URL(".", import.meta.url).pathname;
const benchDir = join(here, "..", ".bench");

function compileNative(): string | undefined {
  try {
    mkdirSync(benchDir, { recursive: true });
    const exe = join(benchDir, "native");
    execFileSync("gcc", ["-O3", "-march=native", "-o", exe, join(here, "native.c"), "-ldl", "-lpthread"]);
    return exe;
  } catch {
    return undefined;
  }
}

/**
 * GMAC/s per CPU-second of bench/peak.ts: i32x4.dot_i16x8_s + i32x4.add with the operands in
 * registers, the most any SIMD128 integer kernel can do here (Node 20 has no int8 dot product).
 */
function simd128Ceiling(): string {
  try {
    mkdirSync(benchDir, { recursive: true });
    const out = join(benchDir, "peak.wasm");
    const asc = join(here, "..", "node_modules", ".bin", "asc");
    execFileSync(asc, [join(here, "peak.ts"), "--target", "release", "-o", out], { cwd: join(here, "..") });
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const module = new WebAssembly.Module(readFileSync(out));
    const { peakDot } = new WebAssembly.Instance(module, { env: { memory } }).exports as {
      peakDot: (p: number, n: number) => number;
    };
    new Uint8Array(memory.buffer, 0, 2048).fill(3);
    const n = 20_000_000;
    let best = 0;
    for (let i = 0; i < 6; i++) {
      const c0 = process.cpuUsage();
      peakDot(0, n);
      const c = process.cpuUsage(c0);
      best = Math.max(best, (n * 48) / ((c.user + c.system) * 1e3));
    }
    return `${best.toFixed(1)} GMAC/s per CPU-second`;
  } catch (error) {
    return `not measured (${(error as Error).message.split("\n")[0]})`;
  }
}

function readBandwidth(exe: string | undefined, threads: number): string {
  if (exe)
    return `${execFileSync(exe, ["bw", String(threads), "1024"])
      .toString()
      .trim()} GB/s (C read loop)`;
  // Fallback: Buffer.compare of two 256 MiB buffers reads 512 MiB.
  const a = Buffer.alloc(256 * 2 ** 20, 1);
  const b = Buffer.alloc(256 * 2 ** 20, 1);
  const t0 = performance.now();
  Buffer.compare(a, b);
  return `${((512 * 2 ** 20) / ((performance.now() - t0) / 1000) / 1e9).toFixed(2)} GB/s (Buffer.compare, 1 thread)`;
}

function randomBlocks(type: number, rows: number, cols: number): Uint8Array {
  const bytes = new Uint8Array(weightRowBytes(type, cols) * rows);
  let s = 12345;
  for (let i = 0; i < bytes.length; i += 4) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    bytes[i] = s >>> 24;
    bytes[i + 1] = s >>> 16;
    bytes[i + 2] = s >>> 8;
    bytes[i + 3] = s;
  }
  const info = weightTypeInfo(type);
  if (info.blockSize === 1) {
    // float weights: keep halves/bfloats finite (clear the top exponent bit)
    if (type !== WeightType.F32) for (let i = 1; i < bytes.length; i += 2) bytes[i] &= 0x3f;
    return bytes;
  }
  const scaleAt: Record<number, number[]> = {
    2: [0],
    8: [0],
    12: [0, 2],
    14: [208],
    3: [0, 2],
    6: [0],
    7: [0, 2],
    10: [80, 82],
    11: [108],
    13: [0, 2],
  };
  const dv = new DataView(bytes.buffer);
  for (let b = 0; b < bytes.length / info.typeSize; b++)
    for (const o of scaleAt[type]) dv.setUint16(b * info.typeSize + o, 0x2000, true);
  return bytes;
}

/**
 * Seconds per call, the best of several batches, as CPU time of this process (meaningful with one
 * thread: the cores are shared with other jobs, so wall time mostly measures them) and as wall time.
 */
function timeIt(fn: () => void, minMs: number): { cpu: number; wall: number } {
  for (let i = 0; i < 3; i++) fn(); // warm-up: lets V8 tier the kernels up
  let cpu = Number.POSITIVE_INFINITY;
  let wall = Number.POSITIVE_INFINITY;
  const start = performance.now();
  let batches = 0;
  while (performance.now() - start < minMs || batches < 5) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) fn();
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6 / 3);
    wall = Math.min(wall, (performance.now() - t0) / 1000 / 3);
    batches++;
  }
  return { cpu, wall };
}

const types: [string, number, string][] = [
  ["Q4_0", WeightType.Q4_0, "q8_0"],
  ["Q8_0", WeightType.Q8_0, "q8_0"],
  ["Q4_K", WeightType.Q4_K, "q8_K"],
  ["Q6_K", WeightType.Q6_K, "q8_K"],
  ["Q5_K", WeightType.Q5_K, "q8_K"],
  ["Q3_K", WeightType.Q3_K, "q8_K"],
  ["Q2_K", WeightType.Q2_K, "q8_K"],
  ["Q4_1", WeightType.Q4_1, "q8_1"],
  ["Q5_0", WeightType.Q5_0, "q8_0"],
  ["Q5_1", WeightType.Q5_1, "q8_1"],
  ["F16", WeightType.F16, ""],
];
const shapes: [number, number][] = quick
  ? [[4096, 4096]]
  : [
      [4096, 4096],
      [11008, 4096],
    ];

async function main() {
  const loadStart = loadavg()[0].toFixed(1);
  const exe = compileNative();
  const libDir = llamaCppLibDir();
  const bw1 = readBandwidth(exe, 1);
  const bw2 = readBandwidth(exe, 2);
  const ceiling = simd128Ceiling();
  console.log(`SIMD128 ceiling: ${ceiling}`);
  const pools: Record<number, Kernels> = {
    1: await createKernels({ threads: 1 }),
    2: await createKernels({ threads: 2 }),
  };
  const rows: (string | number)[][] = [];
  const mmRows: (string | number)[][] = [];
  for (const [name, type, act] of quick ? types.slice(0, 4) : types) {
    for (const [R, C] of shapes) {
      const data = randomBlocks(type, R, C);
      const cells: (string | number)[] = [name, `${R}x${C}`];
      for (const t of [1, 2]) {
        const k = pools[t];
        const w = await k.uploadWeights(type, R, C, data);
        const x = k.allocF32(C * 64);
        k.f32(x).set(Float32Array.from({ length: C * 64 }, (_, i) => Math.sin(i)));
        const y = k.allocF32(R * 64);
        const s = timeIt(() => k.matvec(w, x, y), quick ? 200 : 600);
        if (t === 1) cells.push(((R * C) / s.cpu / 1e9).toFixed(1), (w.bytes / s.cpu / 1e9).toFixed(1));
        cells.push(((R * C) / s.wall / 1e9).toFixed(1));
        if (R === 4096) {
          const sm = timeIt(() => k.matmul(w, x, y, 64), quick ? 300 : 800);
          const cpuCell = t === 1 ? ((R * C * 64) / sm.cpu / 1e9).toFixed(1) : "";
          mmRows.push([name, `${R}x${C} x 64 tokens`, t, cpuCell, ((R * C * 64) / sm.wall / 1e9).toFixed(1)]);
        }
      }
      let native = "n/a";
      if (exe && libDir && act) {
        const [secs, bytes] = execFileSync(exe, [
          "dot",
          libDir,
          name.toLowerCase().replace("_k", "_K"),
          act,
          String(type),
          String(R),
          String(C),
          "10",
        ])
          .toString()
          .trim()
          .split(" ")
          .map(Number);
        native = `${((R * C) / secs / 1e9).toFixed(1)} (${(bytes / secs / 1e9).toFixed(1)} GB/s)`;
      }
      cells.push(native);
      rows.push(cells);
      console.log(cells.join(" | "));
    }
  }
  for (const k of Object.values(pools)) await k.dispose();
  const md = [
    "Matrix x vector (one token, activations quantized as llama.cpp does), random weights.",
    "GMAC/s = rows*cols / time; GB/s = weight bytes / time. Native = llama.cpp's `ggml_vec_dot_*`",
    "(the AVX-512 build in node-llama-cpp's libraries) looped over the rows on 1 thread, same run.",
    `${Number(loadStart) < 2.5 ? "Nothing else ran on these 2 cores" : "Other jobs shared these 2 cores"} during the run (load average ${loadStart} at the start, ${loadavg()[0].toFixed(1)} at the end). The first`,
    "figures (ours and native) are per CPU-second (process / thread CPU time, best batch), which other jobs",
    "disturb least; wall-time figures for 1 and 2 threads follow: compare ratios within a row.",
    "",
    `Read bandwidth, same run: ${bw1} on 1 thread, ${bw2} on 2 threads.`,
    "",
    `The SIMD128 ceiling, same run (bench/peak.ts: \`i32x4.dot_i16x8_s\` + \`i32x4.add\`, 8 multiply-adds each, operands in registers, one core): ${ceiling}. Node 20 has no int8 dot product (relaxed SIMD is off), so this is about the most a SIMD128 integer kernel can reach (the dot instruction alone retires at most 2 per cycle); llama.cpp's AVX-512 VNNI \`vpdpbusd\` does 64 per instruction.`,
    "",
    markdownTable(
      [
        "type",
        "rows x cols",
        "1 thread GMAC/s (CPU time)",
        "1 thread GB/s (CPU time)",
        "1 thread GMAC/s (wall)",
        "2 threads GMAC/s (wall)",
        "llama.cpp native 1 thread GMAC/s (CPU time)",
      ],
      rows,
    ),
    "",
    "Matrix x matrix (prompt processing, 64 tokens):",
    "",
    markdownTable(["type", "shape", "threads", "GMAC/s (CPU time)", "GMAC/s (wall)"], mmRows),
    "",
    `Command: \`pnpm --filter @cllama/kernels-wasm bench${quick ? " -- --quick" : ""}\`. SPEC-NOTES baseline for a straightforward SIMD128 Q4_0 matvec: 11.5 GMAC/s per core; llama.cpp's prompt processing reaches ~140 GMAC/s per core here (SPEC-NOTES).`,
  ].join("\n");
  writeBenchSection("kernels-wasm", md);
  console.log(md);
}

await main();
