import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openGgufFile } from "@cllama/gguf-format/node";
import { fixtureNames, fixturePath } from "@cllama/tooling/fixtures";
import { nodeLlamaCppDir } from "@cllama/tooling/oracles";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memorySource, readSafetensors } from "../src/index";
import { convertCheckpoint, mergeLoras } from "../src/node";
import { bitsEqual, python, runTools, tempDir, toolingDir } from "./helpers";

const llamaTokenizer = fixturePath(fixtureNames.llamaModel);
const chineseSp = fixturePath(fixtureNames.chineseSpModel);
const llamaCpp = nodeLlamaCppDir();
const TOKENS = "1,450,4996,17354,1701,29916,263,1243";

function llamaCppProbs(gguf: string): number[] {
  const r = spawnSync(process.execPath, [join(toolingDir, "llama-probs.mjs"), llamaCpp!, gguf, TOKENS], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`llama.cpp failed: ${r.stderr}`);
  return JSON.parse(r.stdout).probs;
}

const forward = (config: string, weights: string) => [
  "forward.py",
  "--config",
  config,
  "--weights",
  weights,
  "--tokens",
  TOKENS,
];

/** Largest |log p - log q| over tokens with non-negligible probability, and whether the argmax agrees. */
function compare(a: number[], b: number[]) {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (b[i]! < 1e-7) continue;
    worst = Math.max(worst, Math.abs(Math.log(a[i]!) - Math.log(b[i]!)));
  }
  const argmax = (p: number[]) => p.reduce((best, v, i) => (v > p[best]! ? i : best), 0);
  // KL(reference || ours): how much the whole next-token distribution moved
  let kl = 0;
  for (let i = 0; i < a.length; i++) if (b[i]! > 0 && a[i]! > 0) kl += b[i]! * Math.log(b[i]! / a[i]!);
  return { worst, kl, sameArgmax: argmax(a) === argmax(b) };
}

describe.skipIf(!python || !llamaCpp || !llamaTokenizer || !chineseSp)(
  "converted models in llama.cpp vs a PyTorch forward pass",
  () => {
    const tmp = tempDir("convert");
    const dims = ["--dim", "64", "--layers", "2", "--heads", "4", "--ff", "192", "--vocab", "32000"];
    const torch: Record<string, number[]> = {};
    beforeAll(() => {
      const d = tmp.dir;
      const jobs: string[][] = [];
      jobs.push([
        "fixtures.py",
        "checkpoint",
        "--out",
        join(d, "hf"),
        "--format",
        "st",
        ...dims,
        "--kv-heads",
        "2",
        "--rope-theta",
        "500000",
        "--rope-scale",
        "2",
        "--eps",
        "1e-5",
        "--tokenizer",
        llamaTokenizer!,
      ]);
      jobs.push([
        "fixtures.py",
        "checkpoint",
        "--out",
        join(d, "tied"),
        "--format",
        "bin",
        ...dims,
        "--tie",
        "--seed",
        "7",
        "--tokenizer",
        llamaTokenizer!,
      ]);
      // Meta's layout: tokenizer.model in the parent folder, weights in 7B/
      mkdirSync(join(d, "meta"));
      cpSync(llamaTokenizer!, join(d, "meta", "tokenizer.model"));
      jobs.push([
        "fixtures.py",
        "checkpoint",
        "--out",
        join(d, "meta", "7B"),
        "--format",
        "meta2",
        ...dims,
        "--seed",
        "9",
        "--reference",
        join(d, "meta.ref.safetensors"),
      ]);
      writeFileSync(
        join(d, "meta.config.json"),
        JSON.stringify({ hidden_size: 64, num_attention_heads: 4, num_hidden_layers: 2, rms_norm_eps: 1e-6 }),
      );
      jobs.push([
        "fixtures.py",
        "checkpoint",
        "--out",
        join(d, "base"),
        "--format",
        "bin-sharded",
        ...dims,
        "--seed",
        "11",
      ]);
      jobs.push([
        "fixtures.py",
        "lora",
        "--out",
        join(d, "lora"),
        ...dims,
        "--r",
        "8",
        "--alpha",
        "16",
        "--save-embeddings",
        "--seed",
        "12",
        "--targets",
        "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
        "--default-keys",
        "--tokenizer",
        llamaTokenizer!,
      ]);
      jobs.push([
        "reference_merge.py",
        "--base",
        join(d, "base"),
        "--lora",
        join(d, "lora"),
        "--out",
        join(d, "merged.ref.safetensors"),
      ]);
      // Chinese-Alpaca-Plus-like chain: a second LoRA grows the vocabulary to 49953 and brings the
      // merged LLaMA + Chinese tokenizer
      const zhTokenizer = join(d, "chinese-llama.model");
      jobs.push([
        "fixtures.py",
        "tokenizer",
        "--out",
        zhTokenizer,
        "--base",
        llamaTokenizer!,
        "--extra",
        chineseSp!,
      ]);
      jobs.push([
        "fixtures.py",
        "lora",
        "--out",
        join(d, "zh-lora"),
        ...dims,
        "--vocab",
        "49953",
        "--r",
        "8",
        "--alpha",
        "32",
        "--save-embeddings",
        "--seed",
        "13",
        "--tokenizer",
        zhTokenizer,
      ]);
      jobs.push([
        "reference_merge.py",
        "--base",
        join(d, "base"),
        "--lora",
        join(d, "lora"),
        "--lora",
        join(d, "zh-lora"),
        "--out",
        join(d, "zh.ref.safetensors"),
      ]);
      const forwards: [string, string[]][] = [
        ["hf", forward(join(d, "hf", "config.json"), join(d, "hf"))],
        ["tied", forward(join(d, "tied", "config.json"), join(d, "tied"))],
        ["meta", forward(join(d, "meta.config.json"), join(d, "meta.ref.safetensors"))],
        ["merged", forward(join(d, "base", "config.json"), join(d, "merged.ref.safetensors"))],
        ["zh", forward(join(d, "base", "config.json"), join(d, "zh.ref.safetensors"))],
      ];
      const outputs = runTools([...jobs, ...forwards.map(([, job]) => job)]);
      forwards.forEach(([name], i) => {
        torch[name] = JSON.parse(outputs[jobs.length + i]!).probs;
      });
    }, 180_000);
    afterAll(() => tmp.cleanup());

    it("HF safetensors, GQA, rope theta 5e5 + linear scaling x2, eps 1e-5, F32 output", async () => {
      const out = join(tmp.dir, "hf.gguf");
      const progress: number[] = [];
      await convertCheckpoint({
        input: join(tmp.dir, "hf"),
        output: out,
        outType: "f32",
        onProgress: (p) => progress.push(p.tensorIndex),
      });
      expect(progress.length).toBeGreaterThan(0);
      const gguf = await openGgufFile(out);
      const meta = gguf.file.metadata;
      await gguf.close();
      expect(meta["llama.attention.head_count_kv"]).toBe(2);
      expect(meta["llama.rope.freq_base"]).toBe(500000);
      expect(meta["llama.rope.scaling.type"]).toBe("linear");
      expect(meta["llama.rope.scaling.factor"]).toBe(2);
      expect(meta["llama.attention.layer_norm_rms_epsilon"]).toBeCloseTo(1e-5, 10);
      expect((meta["tokenizer.ggml.tokens"] as string[]).length).toBe(32000);
      const r = compare(llamaCppProbs(out), torch.hf!);
      expect(r.sameArgmax).toBe(true);
      expect(r.worst).toBeLessThan(1e-2);
    });

    it("HF .bin with tied embeddings, F16 output: no output.weight, same logits", async () => {
      const out = join(tmp.dir, "tied.gguf");
      await convertCheckpoint({ input: join(tmp.dir, "tied"), output: out, outType: "f16" });
      const gguf = await openGgufFile(out);
      expect(gguf.file.tensors.map((t) => t.name)).not.toContain("output.weight");
      await gguf.close();
      const r = compare(llamaCppProbs(out), torch.tied!);
      expect(r.sameArgmax).toBe(true);
      expect(r.worst).toBeLessThan(2e-2);
    });

    it("Meta consolidated.00/01.pth + params.json (no Q/K permutation needed), tokenizer from the parent folder", async () => {
      const out = join(tmp.dir, "meta.gguf");
      await convertCheckpoint({ input: join(tmp.dir, "meta", "7B"), output: out, outType: "f32" });
      const r = compare(llamaCppProbs(out), torch.meta!);
      expect(r.sameArgmax).toBe(true);
      expect(r.worst).toBeLessThan(1e-2);
    });

    it("merge-lora to GGUF gives the logits of the PyTorch-merged weights", async () => {
      const out = join(tmp.dir, "merged.gguf");
      await mergeLoras({
        base: join(tmp.dir, "base"),
        loras: [join(tmp.dir, "lora")],
        output: out,
        outType: "f16",
      });
      const r = compare(llamaCppProbs(out), torch.merged!);
      expect(r.sameArgmax).toBe(true);
      expect(r.worst).toBeLessThan(2e-2);
    });

    it("two LoRAs growing the vocabulary 32000 -> 49953, tokenizer from the last one", async () => {
      const out = join(tmp.dir, "zh.gguf");
      const result = await mergeLoras({
        base: join(tmp.dir, "base"),
        loras: [join(tmp.dir, "lora"), join(tmp.dir, "zh-lora")],
        output: out,
        outType: "f16",
      });
      expect(result.vocabSize).toBe(49953);
      const gguf = await openGgufFile(out);
      const meta = gguf.file.metadata;
      const embd = gguf.file.tensors.find((t) => t.name === "token_embd.weight")!;
      await gguf.close();
      expect((meta["tokenizer.ggml.tokens"] as string[]).length).toBe(49953);
      expect(meta["llama.vocab_size"]).toBe(49953);
      expect(embd.shape).toEqual([64, 49953]);
      const r = compare(llamaCppProbs(out), torch.zh!);
      expect(r.sameArgmax).toBe(true);
      expect(r.worst).toBeLessThan(2e-2);
    });

    it("merge-lora straight to a quantized type (q8_0 through @cllama/quantize): llama.cpp's answer stays", async () => {
      const out = join(tmp.dir, "merged-q8_0.gguf");
      await mergeLoras({
        base: join(tmp.dir, "base"),
        loras: [join(tmp.dir, "lora")],
        output: out,
        outType: "q8_0",
        threads: 1,
      });
      const gguf = await openGgufFile(out);
      const types = new Set(gguf.file.tensors.filter((t) => t.shape.length === 2).map((t) => t.typeName));
      await gguf.close();
      expect(types).toEqual(new Set(["Q8_0"]));
      expect(existsSync(`${out}.f16.tmp`)).toBe(false);
      const r = compare(llamaCppProbs(out), torch.merged!);
      // 8-bit weights: single small log-probabilities move by up to ~0.2 on this random model,
      // the distribution as a whole (KL) hardly at all
      console.log(`q8_0 vs PyTorch: max |dlogp| ${r.worst.toFixed(4)}, KL ${r.kl.toExponential(2)}`);
      expect(r.sameArgmax).toBe(true);
      expect(r.kl).toBeLessThan(2e-3);
    });

    it("merge-lora --format safetensors writes the PyTorch merge bit for bit, with config and tokenizer", async () => {
      const out = join(tmp.dir, "merged-hf");
      await mergeLoras({
        base: join(tmp.dir, "base"),
        loras: [join(tmp.dir, "lora")],
        output: out,
        format: "safetensors",
        outType: "f16",
      });
      const ours = await readSafetensors(memorySource(readFileSync(join(out, "model.safetensors"))));
      const ref = await readSafetensors(memorySource(readFileSync(join(tmp.dir, "merged.ref.safetensors"))));
      expect(ours.tensors.map((t) => t.name).sort()).toEqual(ref.tensors.map((t) => t.name).sort());
      for (const t of ref.tensors) {
        const mine = ours.tensors.find((o) => o.name === t.name)!;
        expect(bitsEqual(await mine.read(), await t.read()), t.name).toBe(true);
      }
      expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).vocab_size).toBe(32000);
      expect(existsSync(join(out, "tokenizer.model"))).toBe(true);
      expect(existsSync(join(out, "model.safetensors.partial"))).toBe(false);
    });

    it("leaves no output when a check fails", async () => {
      const out = join(tmp.dir, "bad.gguf");
      const error = await convertCheckpoint({
        input: join(tmp.dir, "hf"),
        output: out,
        vocab: fixturePath(fixtureNames.chineseLlama2Model)!,
      }).catch((e) => e);
      expect(error.code).toBe("LORA_VOCAB_MISMATCH");
      expect(existsSync(out)).toBe(false);
      expect(existsSync(`${out}.partial`)).toBe(false);
    });
  },
);
