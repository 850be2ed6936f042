/**
 * Training tokens/s on the demo model's shape (forward + backward + AdamW, full training and
 * LoRA), ours on @cllama/kernels-wasm beside PyTorch on the CPU with the same threads, same run.
 * `pnpm bench` writes the "train" section of BENCHMARKS.md.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { machineLine, markdownTable, writeBenchSection } from "@cllama/tooling/bench";
import { repoRoot } from "@cllama/tooling/fixtures";
import { pythonWith } from "@cllama/tooling/oracles";
import {
  AdamW,
  hfCheckpointFiles,
  initParams,
  type LlamaConfig,
  LlamaModel,
  type MatmulBackend,
  StreamSampler,
} from "../src/index";
import { createMatmul } from "../src/node";

const threads = Number(process.env.BENCH_THREADS ?? 2);
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
// the shape of apps/cli/models/demo.gguf (tooling/demo/recipe.mjs)
const demo: LlamaConfig = {
  vocabSize: 6144,
  dim: 256,
  ffnDim: 704,
  nLayers: 4,
  nHeads: 4,
  maxSeqLen: 256,
  normEps: 1e-5,
  ropeTheta: 10000,
};
const batch = 4;
const seqLen = 128;

function ours(mm: MatmulBackend, lora: boolean): number {
  const model = new LlamaModel(demo, initParams(demo, 1), mm);
  if (lora) model.enableLora({ r: 8, alpha: 32 });
  const stream = Int32Array.from({ length: 50_000 }, (_, i) => (i * 7919) % demo.vocabSize);
  const sampler = new StreamSampler(stream, seqLen, 1);
  const opt = new AdamW({ lr: 1e-4 });
  const params = model.trainable();
  let steps = 0;
  let start = 0;
  for (;;) {
    for (const p of params) p.grad!.fill(0);
    const b = sampler.next(batch);
    model.step(b.tokens, b.targets, batch, seqLen, { backward: true });
    opt.update(params);
    steps++;
    if (steps === 1)
      start = performance.now(); // the first step warms up
    else if ((performance.now() - start) / 1000 > seconds && steps >= 3) break;
  }
  return ((steps - 1) * batch * seqLen) / ((performance.now() - start) / 1000);
}

interface TorchBench {
  tokensPerSecond: number;
  matmulGflops: number;
  blas: string;
}

function torch(): TorchBench | undefined {
  const python = pythonWith(["torch", "numpy"]);
  if (!python) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "train-bench-"));
  try {
    const model = new LlamaModel(demo, initParams(demo, 1), { name: "none", abt: () => new Float32Array(0) });
    for (const [name, bytes] of Object.entries(hfCheckpointFiles(model)))
      writeFileSync(join(dir, name), bytes);
    const script = join(repoRoot, "tooling", "golden", "train-grads.py");
    const args = [script, dir, "--bench", String(seconds), String(threads), String(batch), String(seqLen)];
    const run = spawnSync(python, args, { encoding: "utf8" });
    if (run.status !== 0) throw new Error(run.stderr);
    return JSON.parse(run.stdout) as TorchBench;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const mm = await createMatmul({ threads });
const full = ours(mm, false);
const lora = ours(mm, true);
await mm.dispose!();
const ref = torch();
const ratio = ref ? `${(full / ref.tokensPerSecond).toFixed(2)}x` : "-";
const rows: (string | number)[][] = [
  ["full training (fwd + bwd + AdamW)", full.toFixed(0), ref?.tokensPerSecond.toFixed(0) ?? "-", ratio],
  ["LoRA r=8 (+ embed/lm_head)", lora.toFixed(0), "-", "-"],
];
const body = [
  `Training tokens/s on the demo model's shape: ${demo.nLayers} layers, dim ${demo.dim}, ${demo.nHeads} heads, FFN ${demo.ffnDim}, vocabulary ${demo.vocabSize}; batch ${batch} x ${seqLen} tokens, float32, ${threads} threads on both sides, ${seconds} s each after one warm-up step. PyTorch ${"1.13"} (Debian python3-torch) runs the same model (tooling/golden/train-grads.py --bench) with torch.optim.AdamW.`,
  "",
  markdownTable(["", "@cllama/train tok/s", "PyTorch CPU tok/s", "ours / PyTorch"], rows),
  "",
  machineLine(),
  ref
    ? `Caveat: this PyTorch build reports BLAS_INFO=${ref.blas}; its float32 product of ${batch * seqLen} x ${demo.dim} by ${demo.vocabSize} x ${demo.dim} runs at ${ref.matmulGflops.toFixed(1)} GFLOP/s here, where kernels-wasm's F32 kernel reaches about 10 GFLOP/s on this machine. A PyTorch linked to MKL or OpenBLAS would be several times faster than this one.`
    : "",
  `1-minute load average when the run ended: ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores (above ~2, other jobs shared the cores: compare the ratio, not the absolute figures).`,
].join("\n");
console.log(body);
writeBenchSection("train", body);
