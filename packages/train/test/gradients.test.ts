/**
 * Gradients of the whole model (full and LoRA) against central finite differences along random
 * directions, and against PyTorch autograd (tooling/golden/train-grads.py) when Debian's
 * python3-torch is installed.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "@cllama/tooling/fixtures";
import { pythonWith } from "@cllama/tooling/oracles";
import { describe, expect, it } from "vitest";
import {
  decodeSafetensors,
  hfCheckpointFiles,
  type LlamaModel,
  type Param,
  peftAdapterFiles,
  Rng,
} from "../src/index";
import { randomBatch, tiny, tinyModel } from "./helpers";

const python = pythonWith(["torch", "numpy"]);

function lossOf(model: LlamaModel, b: ReturnType<typeof randomBatch>): number {
  return model.step(b.tokens, b.targets, b.batch, b.seqLen).loss;
}

/** (L(p + eps v) - L(p - eps v)) / 2 eps against g . v, in float64 sums. */
function directional(model: LlamaModel, params: Param[], b: ReturnType<typeof randomBatch>, seed: number) {
  const rng = new Rng(seed);
  const dirs = params.map((p) => Float64Array.from(p.data, () => rng.normal()));
  let analytic = 0;
  params.forEach((p, i) => {
    for (let j = 0; j < p.data.length; j++) analytic += p.grad![j]! * dirs[i]![j]!;
  });
  const eps = 2e-3;
  const shift = (s: number) =>
    params.forEach((p, i) => {
      for (let j = 0; j < p.data.length; j++) p.data[j]! += s * dirs[i]![j]!;
    });
  const saved = params.map((p) => p.data.slice());
  const restore = () => {
    for (const [i, p] of params.entries()) p.data.set(saved[i]!);
  };
  shift(eps);
  const up = lossOf(model, b);
  restore();
  shift(-eps);
  const down = lossOf(model, b);
  restore();
  return { analytic, numeric: (up - down) / (2 * eps) };
}

describe("gradients", () => {
  it("full model: every tensor's gradient matches finite differences", () => {
    const model = tinyModel();
    const b = randomBatch(tiny, 2, 7);
    model.step(b.tokens, b.targets, b.batch, b.seqLen, { backward: true });
    for (const p of model.trainable()) {
      const { analytic, numeric } = directional(model, [p], b, p.name.length);
      expect(Math.abs(analytic - numeric), p.name).toBeLessThan(2e-3 + 2e-2 * Math.abs(numeric));
    }
  });

  it("LoRA: adapters, embedding and lm_head gradients match finite differences; base frozen", () => {
    const model = tinyModel();
    const lora = model.enableLora({ r: 4, alpha: 8 });
    const rng = new Rng(9);
    for (const { b } of lora.pairs.values())
      for (let i = 0; i < b.data.length; i++) b.data[i] = 0.2 * rng.normal();
    const trainable = model.trainable();
    expect(trainable.length).toBe(2 + 2 * 7 * tiny.nLayers);
    expect(model.params.get("model.layers.0.self_attn.q_proj.weight")!.grad).toBeNull();
    const b = randomBatch(tiny, 2, 7);
    model.step(b.tokens, b.targets, b.batch, b.seqLen, { backward: true });
    for (const p of trainable) {
      const { analytic, numeric } = directional(model, [p], b, p.name.length + 1);
      expect(Math.abs(analytic - numeric), p.name).toBeLessThan(2e-3 + 2e-2 * Math.abs(numeric));
    }
  });

  it("gradScale scales every gradient (gradient accumulation)", () => {
    const m1 = tinyModel();
    const m2 = tinyModel();
    const b = randomBatch(tiny, 1, 8);
    m1.step(b.tokens, b.targets, 1, 8, { backward: true });
    m2.step(b.tokens, b.targets, 1, 8, { backward: true, gradScale: 0.25 });
    const g1 = m1.params.get("lm_head.weight")!.grad!;
    const g2 = m2.params.get("lm_head.weight")!.grad!;
    for (let i = 0; i < g1.length; i += 7) expect(g2[i]).toBeCloseTo(g1[i]! * 0.25, 6);
  });

  it.skipIf(!python)("loss and gradients equal PyTorch 1.13 autograd (full and LoRA)", () => {
    const script = join(repoRoot, "tooling", "golden", "train-grads.py");
    for (const useLora of [false, true]) {
      const dir = mkdtempSync(join(tmpdir(), "train-grads-"));
      try {
        const model = tinyModel();
        const b = randomBatch(tiny, 2, 8, 11);
        for (const [name, bytes] of Object.entries(hfCheckpointFiles(model)))
          writeFileSync(join(dir, name), bytes);
        let lora = null;
        if (useLora) {
          const state = model.enableLora({ r: 4, alpha: 16 });
          const rng = new Rng(4);
          for (const { b: bb } of state.pairs.values()) {
            for (let i = 0; i < bb.data.length; i++) bb.data[i] = 0.2 * rng.normal();
          }
          writeFileSync(
            join(dir, "adapter.safetensors"),
            peftAdapterFiles(model)["adapter_model.safetensors"]!,
          );
          lora = {
            r: 4,
            alpha: 16,
            adapter: "adapter.safetensors",
            modulesToSave: ["model.embed_tokens.weight", "lm_head.weight"],
          };
        }
        writeFileSync(
          join(dir, "batch.json"),
          JSON.stringify({ tokens: [...b.tokens], targets: [...b.targets], batch: 2, seqLen: 8, lora }),
        );
        const run = spawnSync(python!, [script, dir], { encoding: "utf8" });
        expect(run.status, run.stderr).toBe(0);
        const ref = JSON.parse(readFileSync(join(dir, "loss.json"), "utf8")).loss as number;
        const ours = model.step(b.tokens, b.targets, 2, 8, { backward: true });
        expect(Math.abs(ours.loss - ref)).toBeLessThan(1e-5 * Math.abs(ref));
        const grads = decodeSafetensors(readFileSync(join(dir, "grads.safetensors")));
        const trainable = model.trainable();
        expect(grads.size).toBe(trainable.length);
        for (const p of trainable) {
          const g = grads.get(p.name);
          expect(g, p.name).toBeDefined();
          let maxRef = 0;
          let maxDiff = 0;
          for (let i = 0; i < p.grad!.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(g!.data[i]!));
            maxDiff = Math.max(maxDiff, Math.abs(g!.data[i]! - p.grad![i]!));
          }
          expect(maxDiff, p.name).toBeLessThanOrEqual(1e-4 * maxRef + 1e-7);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
