/**
 * `pnpm bench` for @cllama/runtime: cllama (kernels-wasm backend) beside llama.cpp (node-llama-cpp,
 * native) on the same synth GGUF with the same threads, each measurement in its own process.
 * Models are made once under /.bench (gitignored) with `cllama synth`.
 *
 *   BENCH_MODELS=1b-q4_0,1b-q8_0 BENCH_THREADS=1,2 pnpm bench
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { markdownTable, writeBenchSection } from "@cllama/tooling/bench";
import { repoRoot } from "@cllama/tooling/fixtures";

const benchDir = join(repoRoot, ".bench");
const cli = join(repoRoot, "apps", "cli", "dist", "cli.js");
const tokenizer = join(repoRoot, "..", "shared", "fixtures", "tokenizers", "llama.model");
const models = (process.env.BENCH_MODELS ?? "1b-q4_0").split(",");
const threads = (process.env.BENCH_THREADS ?? "1,2").split(",").map(Number);

function ensureModel(name: string): string {
  const [preset, type] = name.split("-") as [string, string];
  const path = join(benchDir, `runtime-${name}.gguf`);
  if (!existsSync(path)) {
    mkdirSync(benchDir, { recursive: true });
    execFileSync(
      "node",
      [cli, "synth", "-o", path, "--tokenizer", tokenizer, "--preset", preset, "--type", type, "--seed", "1"],
      {
        stdio: "inherit",
      },
    );
  }
  return path;
}

interface Figures {
  load_ms: number;
  prompt_tps: number;
  gen_tps: number;
  peak_rss_mb: number;
}

function measure(engine: string, path: string, t: number): Figures {
  const out = execFileSync("npx", ["tsx", join("bench", "one.ts"), engine, path, String(t)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(out.trim().split("\n").pop()!) as Figures;
}

const rows: (string | number)[][] = [];
for (const name of models) {
  const path = ensureModel(name);
  for (const t of threads) {
    const ours = measure("cllama", path, t);
    const ref = measure("llama.cpp", path, t);
    console.log(name, t, { ours, ref });
    rows.push([
      name,
      t,
      `${ours.prompt_tps} / ${ref.prompt_tps} (${(ours.prompt_tps / ref.prompt_tps).toFixed(2)}x)`,
      `${ours.gen_tps} / ${ref.gen_tps} (${(ours.gen_tps / ref.gen_tps).toFixed(2)}x)`,
      `${ours.load_ms} / ${ref.load_ms}`,
      `${ours.peak_rss_mb} / ${ref.peak_rss_mb}`,
    ]);
  }
}

writeBenchSection(
  "runtime",
  `## runtime: cllama (kernels-wasm) vs llama.cpp native (node-llama-cpp 3.21.1), same file, same threads

Prompt ${process.env.BENCH_PROMPT ?? 512} tokens, then ${process.env.BENCH_GEN ?? 128} greedy tokens; each figure from its own process. Models: \`cllama synth\`
(random weights, LLaMA tokenizer). Cells are cllama / llama.cpp (ratio).

${markdownTable(["model", "threads", "prompt tok/s", "generation tok/s", "load ms", "peak RSS MB"], rows)}

Command: \`BENCH_MODELS=${models.join(",")} BENCH_THREADS=${threads.join(",")} BENCH_PROMPT=${process.env.BENCH_PROMPT ?? 512} BENCH_GEN=${process.env.BENCH_GEN ?? 128} pnpm --filter @cllama/runtime bench\`.
Measured on an otherwise idle machine (run it that way: llama.cpp's spinning threads suffer
most from other load). Not measured yet: the 7B shape, Q8_0 / Q4_K_M, wllama, GB/s
against the machine's read bandwidth.`,
);
