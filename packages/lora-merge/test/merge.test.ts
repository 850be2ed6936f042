import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  memorySource,
  mergeTensor,
  openCheckpoint,
  openLoraAdapter,
  planMerge,
  readSafetensors,
} from "../src/index";
import { nodeDirectory } from "../src/node";
import { bitsEqual, python, runTools, tempDir } from "./helpers";

function referenceJob(root: string, base: string, loras: string[], reference: string): string[] {
  return [
    "reference_merge.py",
    "--base",
    join(root, base),
    ...loras.flatMap((l) => ["--lora", join(root, l)]),
    "--out",
    reference,
  ];
}

/** Our merge of the torch-built files against the seed's arithmetic run by PyTorch (referenceJob). */
async function mergeAndCompare(root: string, base: string, loras: string[], reference: string) {
  const ref = await readSafetensors(memorySource(readFileSync(reference)));
  const ckpt = await openCheckpoint(nodeDirectory(join(root, base)));
  const adapters = await Promise.all(loras.map((l) => openLoraAdapter(nodeDirectory(join(root, l)))));
  try {
    const plan = planMerge(ckpt, adapters);
    expect(plan.tensors.map((t) => t.name).sort()).toEqual(ref.tensors.map((t) => t.name).sort());
    let changed = 0;
    for (const r of ref.tensors) {
      const planned = plan.tensors.find((t) => t.name === r.name)!;
      const merged = await mergeTensor(planned);
      expect(merged.dtype).toBe(r.dtype);
      expect(planned.shape).toEqual(r.shape);
      expect(bitsEqual(merged.data, await r.read()), `${r.name} differs from PyTorch`).toBe(true);
      if (planned.steps.length) changed++;
    }
    expect(changed).toBeGreaterThan(0);
    return plan;
  } finally {
    await ckpt.close();
    await Promise.all(adapters.map((a) => a.close()));
  }
}

describe.skipIf(!python)("merge vs the seed's PyTorch merge, bit for bit", () => {
  const tmp = tempDir("merge");
  const dims = ["--dim", "64", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--ff", "172"];
  beforeAll(() => {
    const d = tmp.dir;
    const jobs: string[][] = [];
    jobs.push([
      "fixtures.py",
      "checkpoint",
      "--out",
      join(d, "base-st"),
      "--format",
      "st",
      "--vocab",
      "300",
      ...dims,
    ]);
    jobs.push([
      "fixtures.py",
      "checkpoint",
      "--out",
      join(d, "base-bin"),
      "--format",
      "bin-sharded",
      "--vocab",
      "300",
      ...dims,
    ]);
    // "LLaMA-Plus": old keys, .bin, r=8 alpha=32 on attention, embeddings grow 300 -> 320
    jobs.push([
      "fixtures.py",
      "lora",
      "--out",
      join(d, "plus"),
      ...dims,
      "--vocab",
      "320",
      "--r",
      "8",
      "--alpha",
      "32",
      "--save-embeddings",
      "--seed",
      "2",
    ]);
    // "Alpaca-Plus": new .default keys, safetensors, r=16 alpha=32 on all seven, 321 rows
    jobs.push([
      "fixtures.py",
      "lora",
      "--out",
      join(d, "alpaca"),
      ...dims,
      "--vocab",
      "321",
      "--r",
      "16",
      "--alpha",
      "32",
      "--targets",
      "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
      "--default-keys",
      "--format",
      "st",
      "--save-embeddings",
      "--seed",
      "3",
    ]);
    jobs.push([
      "fixtures.py",
      "lora",
      "--out",
      join(d, "conv1d"),
      ...dims,
      "--r",
      "4",
      "--alpha",
      "8",
      "--targets",
      "q_proj,down_proj",
      "--fan-in-fan-out",
      "--seed",
      "4",
    ]);
    // bigger shapes: rank-64 sums over realistic row lengths
    const big = ["--dim", "512", "--layers", "1", "--heads", "8", "--ff", "1376", "--vocab", "64"];
    jobs.push(["fixtures.py", "checkpoint", "--out", join(d, "big"), "--format", "bin", ...big]);
    jobs.push([
      "fixtures.py",
      "lora",
      "--out",
      join(d, "big-lora"),
      ...big,
      "--r",
      "64",
      "--alpha",
      "128",
      "--targets",
      "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
      "--seed",
      "5",
    ]);
    jobs.push(referenceJob(d, "base-st", ["plus", "alpaca"], join(d, "ref1.safetensors")));
    jobs.push(referenceJob(d, "base-bin", ["conv1d"], join(d, "ref2.safetensors")));
    jobs.push(referenceJob(d, "big", ["big-lora"], join(d, "ref3.safetensors")));
    runTools(jobs);
  }, 180_000);
  afterAll(() => tmp.cleanup());

  it("two LoRAs in order (old + .default keys, .bin + safetensors, vocabulary growing)", async () => {
    const plan = await mergeAndCompare(
      tmp.dir,
      "base-st",
      ["plus", "alpaca"],
      join(tmp.dir, "ref1.safetensors"),
    );
    expect(plan.vocabSize).toBe(321);
  });

  it("a sharded .bin base and a fan_in_fan_out adapter", async () => {
    await mergeAndCompare(tmp.dir, "base-bin", ["conv1d"], join(tmp.dir, "ref2.safetensors"));
  });

  it("rank 64 on 512 x 1376 projections", async () => {
    await mergeAndCompare(tmp.dir, "big", ["big-lora"], join(tmp.dir, "ref3.safetensors"));
  });
});
