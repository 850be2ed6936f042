/**
 * The parts around the gradients: the kernels-wasm product, the schedule, AdamW steps that
 * learn, checkpoints that resume, and LoRA adapters that @cllama/lora-merge merges into the
 * same function the LoRA model computes.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mergeLoras } from "@cllama/lora-merge/node";
import { describe, expect, it } from "vitest";
import {
  AdamW,
  decodeSafetensors,
  ExampleSampler,
  encodeSafetensors,
  evaluate,
  exampleBatch,
  hfCheckpointFiles,
  jsMatmul,
  type LlamaConfig,
  LlamaModel,
  learningRate,
  optimizerStateFiles,
  paramsFromTensors,
  Rng,
  readHfCheckpoint,
  restoreOptimizer,
  StreamSampler,
  TrainError,
  train,
} from "../src/index";
import { createMatmul, loadHfCheckpoint, saveHfCheckpoint, savePeftAdapter } from "../src/node";
import { randomBatch, tiny, tinyModel } from "./helpers";

describe("kernels-wasm matmul backend", () => {
  it("gives the JS backend's loss and gradients on a model big enough to use it", async () => {
    const mid: LlamaConfig = { ...tiny, vocabSize: 300, dim: 64, ffnDim: 176, nHeads: 4, maxSeqLen: 32 };
    const mm = await createMatmul({ threads: 2 });
    try {
      const a = tinyModel(mid, jsMatmul);
      const b = new LlamaModel(mid, structuredClone(a.params), mm);
      a.enableLora({ r: 4, alpha: 8 });
      b.enableLora({ r: 4, alpha: 8 });
      const batch = randomBatch(mid, 2, 32);
      const ra = a.step(batch.tokens, batch.targets, 2, 32, { backward: true });
      const rb = b.step(batch.tokens, batch.targets, 2, 32, { backward: true });
      expect(rb.loss).toBeCloseTo(ra.loss, 5);
      const ta = a.trainable();
      const tb = b.trainable();
      for (let i = 0; i < ta.length; i++) {
        let max = 0;
        let diff = 0;
        for (let j = 0; j < ta[i]!.grad!.length; j++) {
          max = Math.max(max, Math.abs(ta[i]!.grad![j]!));
          diff = Math.max(diff, Math.abs(ta[i]!.grad![j]! - tb[i]!.grad![j]!));
        }
        expect(diff, ta[i]!.name).toBeLessThan(1e-4 * max + 1e-7);
      }
    } finally {
      await mm.dispose!();
    }
  });
});

describe("optimizer and loop", () => {
  it("warms up linearly, then decays by a cosine to the floor", () => {
    const s = { peakLr: 1, warmupSteps: 10, totalSteps: 110, minRatio: 0.1 };
    expect(learningRate(0, s)).toBeCloseTo(0.1);
    expect(learningRate(9, s)).toBeCloseTo(1);
    expect(learningRate(60, s)).toBeCloseTo(0.55);
    expect(learningRate(110, s)).toBeCloseTo(0.1);
  });

  it("scales the learning rate per parameter name (gentler modules_to_save)", () => {
    const param = (name: string) => ({
      name,
      shape: [2],
      data: Float32Array.from([1, 1]),
      grad: Float32Array.from([0.5, -0.5]),
    });
    const full = param("a");
    const gentle = param("lm_head.weight");
    new AdamW({ lr: 0.01, clipNorm: 0, lrScale: { "lm_head.weight": 0.1 } }).update([full, gentle]);
    // Adam's first step moves every weight by about lr against its gradient's sign.
    expect(full.data[0]!).toBeCloseTo(1 - 0.01, 5);
    expect(full.data[1]!).toBeCloseTo(1 + 0.01, 5);
    expect(gentle.data[0]!).toBeCloseTo(1 - 0.001, 6);
    expect(gentle.data[1]!).toBeCloseTo(1 + 0.001, 6);
  });

  it("learns a repeating sequence: training and held-out loss fall", async () => {
    const model = tinyModel(tiny, jsMatmul, 8);
    const stream = Int32Array.from({ length: 400 }, (_, i) => (i * 5) % 11);
    const sampler = new StreamSampler(stream, 8, 3);
    const heldOut = StreamSampler.windows(stream, 8, 2, 2);
    const before = evaluate(model, heldOut);
    const log = await train(model, {
      steps: 60,
      accumSteps: 2,
      nextBatch: () => sampler.next(2),
      peakLr: 1e-2,
      warmupSteps: 5,
      heldOut,
      evalEvery: 30,
    });
    expect(log).toHaveLength(60);
    expect(log.at(-1)!.evalLoss!).toBeLessThan(before * 0.3);
    expect(log.at(-1)!.loss).toBeLessThan(log[0]!.loss * 0.3);
  });

  it("instruction batches count only the answers, and the sampler trims padding", () => {
    const b = exampleBatch([{ prompt: [1, 5, 6], answer: [7, 2] }], 6, 0);
    expect([...b.tokens]).toEqual([1, 5, 6, 7, 0, 0]);
    expect([...b.targets]).toEqual([-1, -1, 7, 2, -1, -1]);
    const s = new ExampleSampler([{ prompt: [1, 5], answer: [7, 2] }], 64, 0);
    expect(s.next(2).seqLen).toBe(4);
  });

  it("resumes from a checkpoint exactly (weights and AdamW moments)", async () => {
    const straightRun = async () => {
      const model = tinyModel(tiny, jsMatmul, 2);
      const sampler = new StreamSampler(
        Int32Array.from({ length: 300 }, (_, i) => (i * 7) % 37),
        8,
        1,
      );
      await train(model, { steps: 6, nextBatch: () => sampler.next(2), peakLr: 5e-3, warmupSteps: 2 });
      return model;
    };
    // Train 3 steps, save, reload into a fresh model + optimizer, train 3 more.
    const model = tinyModel(tiny, jsMatmul, 2);
    const stream = Int32Array.from({ length: 300 }, (_, i) => (i * 7) % 37);
    const sampler = new StreamSampler(stream, 8, 1);
    const opt = new AdamW({ lr: 5e-3 });
    const base = { steps: 6, nextBatch: () => sampler.next(2), peakLr: 5e-3, warmupSteps: 2 };
    await train(model, { ...base, steps: 3, optimizer: opt });
    const files = { ...hfCheckpointFiles(model), ...optimizerStateFiles(opt) };
    const restored = readHfCheckpoint({
      config: files["config.json"]!,
      weights: files["model.safetensors"]!,
    });
    const model2 = new LlamaModel(restored.config, restored.params, jsMatmul);
    const opt2 = new AdamW({ lr: 5e-3 });
    restoreOptimizer(opt2, { state: files["trainer_state.json"]!, moments: files["optimizer.safetensors"]! });
    expect(opt2.step).toBe(3);
    await train(model2, { ...base, startStep: 3, optimizer: opt2 });
    const straight = await straightRun();
    const w1 = straight.params.get("lm_head.weight")!.data;
    const w2 = model2.params.get("lm_head.weight")!.data;
    for (let i = 0; i < w1.length; i += 13) expect(w2[i]).toBeCloseTo(w1[i]!, 6);
  });

  it("reports bad batches and configs with typed errors", () => {
    const model = tinyModel();
    expect(() => model.step(new Int32Array(3), new Int32Array(3), 1, 4)).toThrow(TrainError);
    expect(() => model.step(Int32Array.of(99), Int32Array.of(1), 1, 1)).toThrow(/outside the vocabulary/);
    expect(() => new LlamaModel({ ...tiny, nHeads: 3 }, model.params, jsMatmul)).toThrow(TrainError);
    expect(() => paramsFromTensors(tiny, new Map())).toThrow(/missing/);
  });
});

describe("files", () => {
  it("safetensors round trip with 8-aligned data", () => {
    const t = { name: "x", shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) };
    const bytes = encodeSafetensors([t]);
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0);
    expect([...decodeSafetensors(bytes).get("x")!.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("@cllama/lora-merge merges our PEFT adapter into the function the LoRA model computes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "train-merge-"));
    try {
      const model = tinyModel(tiny, jsMatmul, 4);
      await saveHfCheckpoint(join(dir, "base"), model);
      const lora = model.enableLora({ r: 4, alpha: 16 });
      const rng = new Rng(5);
      for (const { b } of lora.pairs.values())
        for (let i = 0; i < b.data.length; i++) b.data[i] = 0.3 * rng.normal();
      const emb = model.params.get("model.embed_tokens.weight")!.data;
      for (let i = 0; i < emb.length; i++) emb[i]! += 0.01 * rng.normal();
      await savePeftAdapter(join(dir, "lora"), model);
      const config = JSON.parse(readFileSync(join(dir, "lora", "adapter_config.json"), "utf8"));
      expect(config).toMatchObject({
        peft_type: "LORA",
        r: 4,
        lora_alpha: 16,
        modules_to_save: ["embed_tokens", "lm_head"],
      });
      await mergeLoras({
        base: join(dir, "base"),
        loras: [join(dir, "lora")],
        output: join(dir, "merged"),
        format: "safetensors",
        outType: "f32",
      });
      const merged = await loadHfCheckpoint(join(dir, "merged"), jsMatmul);
      const batch = randomBatch(tiny, 2, 8);
      const withLora = model.step(batch.tokens, batch.targets, 2, 8).loss;
      const fromMerge = merged.step(batch.tokens, batch.targets, 2, 8).loss;
      const base = (await loadHfCheckpoint(join(dir, "base"), jsMatmul)).step(
        batch.tokens,
        batch.targets,
        2,
        8,
      ).loss;
      expect(Math.abs(withLora - base)).toBeGreaterThan(1e-3);
      expect(fromMerge).toBeCloseTo(withLora, 5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
