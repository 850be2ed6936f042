/**
 * `pnpm bench` for @cllama/lora-merge: a 7B-shape F16 Hugging Face base (random weights, sharded
 * .bin) + an r=64 LoRA on all seven projections with an enlarged 49,953-row embedding/lm_head,
 * merged to F16 GGUF by us, and by the seed's PyTorch method on the same files in the same run.
 * Big files live under $CLLAMA_BENCH_DIR (default /work/tmp/lora-bench) and are deleted after
 * (CLLAMA_BENCH_KEEP=1 keeps them). CLLAMA_BENCH_SIZE=small runs a tiny version of the same.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { openGgufFile } from "@cllama/gguf-format/node";
import { markdownTable, writeBenchSection } from "@cllama/tooling/bench";
import { fixtureNames, fixturePath } from "@cllama/tooling/fixtures";
import { debianPython } from "@cllama/tooling/oracles";
import { hfToGgufName, permuteHeadRows, readTorchCheckpoint, type TensorRef } from "../src/index";
import { openFileSource } from "../src/node";

const here = import.meta.dirname;
const tooling = resolve(here, "..", "..", "..", "tooling", "lora");
const small = process.env.CLLAMA_BENCH_SIZE === "small";
const dir = process.env.CLLAMA_BENCH_DIR ?? (small ? "/work/tmp/lora-bench-small" : "/work/tmp/lora-bench");
const dims = small
  ? { vocab: 32000, dim: 256, layers: 2, heads: 4, ff: 688 }
  : { vocab: 32000, dim: 4096, layers: Number(process.env.CLLAMA_BENCH_LAYERS ?? 32), heads: 32, ff: 11008 };
const dimArgs = [
  "--vocab",
  dims.vocab,
  "--dim",
  dims.dim,
  "--layers",
  dims.layers,
  "--heads",
  dims.heads,
  "--ff",
  dims.ff,
].map(String);

function py(script: string, args: string[]): string {
  const r = spawnSync(debianPython, [join(tooling, script), ...args], {
    cwd: tooling,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status})`);
  return r.stdout;
}

function timed<T>(label: string, f: () => T): T {
  const t = performance.now();
  const out = f();
  console.error(`${label}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return out;
}

const base = join(dir, "base");
const lora = join(dir, "lora");
const tokenizer = join(dir, "chinese-llama.model");
mkdirSync(dir, { recursive: true });
if (!existsSync(join(base, "pytorch_model.bin.index.json"))) {
  timed("make base", () => py("fixtures.py", ["big", "--out", base, ...dimArgs, "--shards", "3"]));
}
if (!existsSync(tokenizer)) {
  const llama = fixturePath(fixtureNames.llamaModel);
  const chinese = fixturePath(fixtureNames.chineseSpModel);
  if (!llama || !chinese)
    throw new Error("shared tokenizer fixtures are needed for the merged 49,953-piece tokenizer");
  py("fixtures.py", ["tokenizer", "--out", tokenizer, "--base", llama, "--extra", chinese]);
}
const vocab = 49953;
if (!existsSync(join(lora, "adapter_model.bin"))) {
  timed("make LoRA", () =>
    py("fixtures.py", [
      "lora",
      "--out",
      lora,
      ...dimArgs.slice(2),
      "--vocab",
      String(vocab),
      "--r",
      "64",
      "--alpha",
      "128",
      "--targets",
      "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
      "--save-embeddings",
      "--tokenizer",
      tokenizer,
      "--fast-random",
    ]),
  );
}
const sizeOf = (d: string) => spawnSync("du", ["-sb", d], { encoding: "utf8" }).stdout.split("\t")[0];

const gguf = join(dir, "merged-f16.gguf");
const torchOut = join(dir, "torch-merged");
rmSync(gguf, { force: true });
rmSync(torchOut, { recursive: true, force: true });

console.error("ours: merging ...");
const tsx = resolve(here, "..", "..", "..", "node_modules", ".bin", "tsx");
const ours = spawnSync(tsx, [join(here, "merge-child.ts"), base, lora, gguf], {
  encoding: "utf8",
  stdio: ["ignore", "pipe", "inherit"],
});
if (ours.status !== 0) throw new Error("our merge failed");
const oursResult = JSON.parse(ours.stdout) as { seconds: number; maxrss_mb: number };
// the 1-minute load average right after each run: the merges are single-threaded, so anything
// above ~1 means other work shared the 2 cores while it ran
const oursLoad = loadavg()[0]!;
console.error(`ours: ${oursResult.seconds.toFixed(0)} s, ${oursResult.maxrss_mb.toFixed(0)} MB`);

console.error("PyTorch (the seed's low-memory method): merging ...");
const torchResult = JSON.parse(
  py("reference_merge.py", ["--base", base, "--lora", lora, "--out", torchOut]),
) as {
  seconds: number;
  maxrss_mb: number;
};
const torchLoad = loadavg()[0]!;
console.error(`torch: ${torchResult.seconds.toFixed(0)} s, ${torchResult.maxrss_mb.toFixed(0)} MB`);

// the same numbers: compare tensors of our GGUF with PyTorch's merged shards
const params = { heads: dims.heads };
const checked: string[] = [];
// the seed writes its shards without an index: read each
const sources = await Promise.all(
  readdirSync(torchOut)
    .filter((f) => f.endsWith(".bin"))
    .map((f) => openFileSource(join(torchOut, f))),
);
const theirs = new Map<string, TensorRef>();
for (const s of sources) for (const t of await readTorchCheckpoint(s)) theirs.set(t.name, t);
const mine = await openGgufFile(gguf);
try {
  for (const name of [
    "model.embed_tokens.weight",
    "model.layers.0.self_attn.q_proj.weight",
    "model.layers.0.self_attn.v_proj.weight",
    `model.layers.${dims.layers - 1}.mlp.down_proj.weight`,
    `model.layers.${dims.layers - 1}.mlp.gate_proj.weight`,
    "lm_head.weight",
  ]) {
    const ref = theirs.get(name)!;
    let want = await ref.read();
    if (name.includes("q_proj")) want = permuteHeadRows(want, ref.shape[0]!, params.heads, "interleave");
    const got = await mine.readTensor(hfToGgufName(name)!);
    if (Buffer.compare(Buffer.from(got), Buffer.from(want)) !== 0)
      throw new Error(`${name} differs from PyTorch's merge`);
    checked.push(name);
  }
} finally {
  await Promise.all(sources.map((s) => s.close()));
  await mine.close();
}
console.error(`bit-identical to PyTorch: ${checked.join(", ")}`);

const baseBytes = Number(sizeOf(base));
const loraBytes = statSync(join(lora, "adapter_model.bin")).size;
const rows = [
  [
    "cllama merge-lora (to F16 GGUF)",
    oursResult.seconds.toFixed(0),
    oursResult.maxrss_mb.toFixed(0),
    "GGUF, ready for llama.cpp",
  ],
  [
    "seed's PyTorch low-memory script",
    torchResult.seconds.toFixed(0),
    torchResult.maxrss_mb.toFixed(0),
    "HF .bin shards; GGUF still needs convert.py",
  ],
];
const body = [
  `### LoRA merge, ${small ? "small test shape" : dims.layers === 32 ? "LLaMA-7B shape" : `LLaMA-7B widths, ${dims.layers} of 32 layers`}`,
  "",
  `Base: random F16 Hugging Face checkpoint, ${dims.layers} layers, hidden ${dims.dim}, FFN ${dims.ff}, 3 .bin shards (${(baseBytes / 1e9).toFixed(1)} GB). ` +
    `LoRA: r=64, alpha=128 on q,k,v,o,gate,up,down + embed_tokens/lm_head of ${vocab} rows (${(loraBytes / 1e9).toFixed(2)} GB, the Chinese-Alpaca-Plus layout). ` +
    `Both runs read the same files in the same session, one after the other (1-minute load average at the end of each: ours ${oursLoad.toFixed(1)}, PyTorch ${torchLoad.toFixed(1)} on 2 cores).`,
  "",
  markdownTable(["method", "time (s)", "peak RSS (MB)", "output"], rows),
  "",
  `Time ratio PyTorch / cllama: ${(torchResult.seconds / oursResult.seconds).toFixed(2)}x; RSS ratio ${(torchResult.maxrss_mb / oursResult.maxrss_mb).toFixed(1)}x. ` +
    `Checked bit-identical between the two outputs: ${checked.length} tensors (${checked.join(", ")}; q_proj after the GGUF row permutation).`,
  "",
  "PyTorch here is Debian's python3-torch 1.13 (generic BLAS, one thread), as a user of the seed's scripts would have on this machine.",
  "",
  "Reproduce: `pnpm --filter @cllama/lora-merge bench` (about 25 minutes to generate the random base, then both merges; CLLAMA_BENCH_KEEP=1 keeps the 40 GB of files under /work/tmp/lora-bench, CLLAMA_BENCH_LAYERS=8 a shallower base).",
].join("\n");
if (!small) writeBenchSection("lora-merge", body);
console.log(body);
if (process.env.CLLAMA_BENCH_KEEP !== "1") rmSync(dir, { recursive: true, force: true });
