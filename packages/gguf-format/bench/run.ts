/**
 * `pnpm bench`: the gguf-format section of BENCHMARKS.md.
 *
 * 1. Writes a LLaMA-7B-shape F16 file (49,953-token Chinese-LLaMA vocabulary, ~13.8 GB) with
 *    `synthLlama` + `writeGgufFile` (random weights generated while writing), and a 4 GiB file of
 *    ready-made tensors (the writer alone); `dd` writes 4 GiB in the same run for comparison.
 * 2. Opens the 7B file and reads all metadata and tensor infos, beside @huggingface/gguf on the
 *    same file in the same run.
 * Big files go to $CLLAMA_BENCH_DIR (default /work/tmp/gguf-bench, else the repo's .bench/) and
 * are deleted afterwards.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { markdownTable, writeBenchSection } from "@cllama/tooling/bench";
import { fixtureNames, fixturePath, repoRoot } from "@cllama/tooling/fixtures";
import { oracleModuleDir, pythonWith } from "@cllama/tooling/oracles";
import { GgmlType, type GgufTypedValue, synthLlama } from "../src/index";
import { openGgufFile, writeGgufFile } from "../src/node";

const dir =
  process.env.CLLAMA_BENCH_DIR ??
  (existsSync("/work/tmp") ? "/work/tmp/gguf-bench" : join(repoRoot, ".bench", "gguf-format"));
mkdirSync(dir, { recursive: true });
const GB = 1e9;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The merged LLaMA + chinese_sp vocabulary (49,953 pieces), or a stand-in list of that size. */
function chineseLlamaVocab(): { metadata: Record<string, GgufTypedValue>; source: string } {
  const llama = fixturePath(fixtureNames.llamaModel);
  const chinese = fixturePath(fixtureNames.chineseSpModel);
  const python = pythonWith(["sentencepiece"]);
  let vocab: { pieces: string[]; scores: number[]; types: number[] };
  let source: string;
  if (llama && chinese && python) {
    const run = spawnSync(
      python,
      [join(repoRoot, "tooling", "golden", "gguf-bench-vocab.py"), llama, chinese],
      {
        encoding: "utf8",
        maxBuffer: 64 << 20,
      },
    );
    if (run.status !== 0) throw new Error(`vocabulary merge failed: ${run.stderr}`);
    vocab = JSON.parse(run.stdout);
    source = "LLaMA + chinese_sp merged by tooling/golden/gguf-bench-vocab.py";
  } else {
    const pieces = Array.from({ length: 49953 }, (_, i) =>
      i < 3 ? ["<unk>", "<s>", "</s>"][i] : `▁piece${i}`,
    );
    vocab = {
      pieces,
      scores: pieces.map((_, i) => -i),
      types: pieces.map((_, i) => (i === 0 ? 2 : i < 3 ? 3 : 1)),
    };
    source = "a stand-in list of 49,953 pieces (fixtures or sentencepiece missing)";
  }
  return {
    source,
    metadata: {
      "tokenizer.ggml.model": { type: "STRING", value: "llama" },
      "tokenizer.ggml.pre": { type: "STRING", value: "default" },
      "tokenizer.ggml.tokens": { type: "ARRAY", itemType: "STRING", value: vocab.pieces },
      "tokenizer.ggml.scores": { type: "ARRAY", itemType: "FLOAT32", value: Float32Array.from(vocab.scores) },
      "tokenizer.ggml.token_type": { type: "ARRAY", itemType: "INT32", value: Int32Array.from(vocab.types) },
      "tokenizer.ggml.bos_token_id": { type: "UINT32", value: 1 },
      "tokenizer.ggml.eos_token_id": { type: "UINT32", value: 2 },
      "tokenizer.ggml.unknown_token_id": { type: "UINT32", value: 0 },
      "tokenizer.ggml.add_bos_token": { type: "BOOL", value: true },
      "tokenizer.ggml.add_eos_token": { type: "BOOL", value: false },
    },
  };
}

/** Peak RSS while `task` runs, sampled every 50 ms. */
async function withPeakRss<T>(task: () => Promise<T>): Promise<{ result: T; peakRss: number }> {
  let peakRss = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  try {
    const result = await task();
    return { result, peakRss: Math.max(peakRss, process.memoryUsage().rss) };
  } finally {
    clearInterval(timer);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function main(): Promise<void> {
  const rows: (string | number)[][] = [];
  const notes: string[] = [];

  // --- the 7B-shape file ---------------------------------------------------------------------
  const vocab = chineseLlamaVocab();
  const path7b = join(dir, "synth-7b-f16-49953.gguf");
  const model = synthLlama({ preset: "7b", type: GgmlType.F16, seed: 1, tokenizerMetadata: vocab.metadata });
  log(`writing ${path7b} ...`);
  let ms7b = 0;
  const { peakRss } = await withPeakRss(async () => {
    ms7b = await timeIt(() => writeGgufFile(path7b, model));
  });
  const size7b = statSync(path7b).size;
  log(`  ${size7b} bytes in ${ms7b.toFixed(0)} ms`);

  // --- metadata read: ours vs @huggingface/gguf ----------------------------------------------
  const hfDir = oracleModuleDir("@huggingface/gguf");
  const hf = hfDir ? await import(join(hfDir, "dist", "index.mjs")) : undefined;
  const ours = async () => {
    const handle = await openGgufFile(path7b);
    await handle.close();
    if ((handle.file.metadata["tokenizer.ggml.tokens"] as string[]).length !== 49953)
      throw new Error("wrong vocab");
    return handle.file;
  };
  const theirs = async () => {
    const r = await hf.gguf(path7b, { allowLocalFile: true });
    if (r.metadata["tokenizer.ggml.tokens"].length !== 49953) throw new Error("wrong vocab");
    return r;
  };
  for (let i = 0; i < 2; i++) {
    await ours();
    if (hf) await theirs();
  }
  const oursMs: number[] = [];
  const theirsMs: number[] = [];
  for (let i = 0; i < 9; i++) {
    oursMs.push(await timeIt(ours));
    if (hf) theirsMs.push(await timeIt(theirs));
  }
  const file = await ours();
  const headerMb = (file.headerSize / 1e6).toFixed(2);
  rows.push([
    `open 7B-shape F16 file, read all metadata + ${file.tensors.length} tensor infos (header ${headerMb} MB, 49,953 tokens)`,
    `${median(oursMs).toFixed(1)} ms`,
    hf ? `${median(theirsMs).toFixed(1)} ms (@huggingface/gguf 0.4.6)` : "n/a",
    hf ? `${(median(theirsMs) / median(oursMs)).toFixed(1)}x faster` : "",
  ]);
  rmSync(path7b, { force: true });

  // --- writer alone vs dd, alternated (other jobs share the disk: best of 2 each) ------------
  const pathW = join(dir, "writer-4g.gguf");
  const chunk = new Uint8Array(4096 * 11008 * 2).fill(0x3c); // one 7B ffn matrix in F16 (90 MB)
  const tensors = Array.from({ length: 46 }, (_, i) => ({
    name: `blk.${i}.ffn_up.weight`,
    type: GgmlType.F16,
    shape: [4096, 11008],
    data: async () => chunk,
  }));
  const pathDd = join(dir, "dd-4g.bin");
  let msW = Number.POSITIVE_INFINITY;
  let msDd = Number.POSITIVE_INFINITY;
  let sizeW = 0;
  let sizeDd = 0;
  for (let round = 0; round < 2; round++) {
    log(`writing ${pathW} ...`);
    msW = Math.min(
      msW,
      await timeIt(() => writeGgufFile(pathW, { metadata: { "general.architecture": "llama" }, tensors })),
    );
    sizeW = statSync(pathW).size;
    rmSync(pathW, { force: true });
    const ddCount = Math.round(sizeW / (16 << 20));
    log(`dd ${ddCount} x 16 MiB ...`);
    const ddStart = performance.now();
    const dd = spawnSync("dd", ["if=/dev/zero", `of=${pathDd}`, "bs=16M", `count=${ddCount}`, "conv=fsync"], {
      encoding: "utf8",
    });
    msDd = Math.min(msDd, performance.now() - ddStart);
    sizeDd = existsSync(pathDd) ? statSync(pathDd).size : 0;
    rmSync(pathDd, { force: true });
    if (dd.status !== 0) notes.push(`dd failed: ${dd.stderr.trim()}`);
  }

  const rate = (bytes: number, ms: number) => `${((bytes / GB) * (1000 / ms)).toFixed(2)} GB/s`;
  const ddRate = sizeDd / msDd;
  rows.push([
    `write ${(sizeW / GB).toFixed(2)} GB GGUF from ready tensors (writeGgufFile, fsync, rename; best of 2)`,
    rate(sizeW, msW),
    `${rate(sizeDd, msDd)} (dd bs=16M conv=fsync, ${(sizeDd / GB).toFixed(2)} GB, best of 2)`,
    `${((sizeW / msW / ddRate) * 100).toFixed(0)}% of dd`,
  ]);
  rows.push([
    `synth 7B-shape F16 (${(size7b / GB).toFixed(2)} GB): generate random weights + write`,
    `${rate(size7b, ms7b)} (${(ms7b / 1000).toFixed(1)} s, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB)`,
    rate(sizeDd, msDd),
    `${((size7b / ms7b / ddRate) * 100).toFixed(0)}% of dd`,
  ]);

  const md = [
    markdownTable(["task", "@cllama/gguf-format", "reference (same run)", "ratio"], rows),
    "",
    `Vocabulary: ${vocab.source}. Medians of 9 runs after 2 warm-ups, header in the page cache for both readers.`,
    "The machine is shared with other jobs (2 cores), so absolute times vary; the ratios are measured in the same run.",
    ...notes,
  ].join("\n");
  writeBenchSection("gguf-format", md);
  process.stdout.write(`${md}\n`);
}

await main();
