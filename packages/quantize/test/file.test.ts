/**
 * File level: our quantizeGgufFile against llama.cpp's llama_model_quantize (node-llama-cpp's
 * libllama through tooling/golden/quantize-llama.py) on small synthetic LLaMA models, for every
 * file type: same tensor order, types and bytes, same metadata: the same file, byte for byte.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GgmlType, LlamaFileType, parseGguf } from "@cllama/gguf-format";
import { llamaCppLibDir, pythonWith } from "@cllama/tooling/oracles";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ftypeFromName, supportedFtypeNames } from "../src/index";
import { quantizeGgufFile } from "../src/node";
import { writeSynthModel } from "./synth";

const libDir = llamaCppLibDir();
const python = pythonWith(["numpy"]);
const script = join(__dirname, "..", "..", "..", "tooling", "golden", "quantize-llama.py");
const dir = mkdtempSync(join(tmpdir(), "quantize-file-"));

type Job = [input: string, output: string, ftype: number, flags?: string[]];

/** llama.cpp's llama_model_quantize (2 threads) on every job in one Python process; true where it worked. */
function llamaQuantize(jobs: Job[]): boolean[] {
  const file = join(dir, "jobs.json");
  writeFileSync(file, JSON.stringify(jobs.map(([i, o, f, flags]) => [i, o, f, 2, ...(flags ?? [])])));
  const run = spawnSync(python!, [script, libDir!, "--jobs", file], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`quantize-llama.py failed: ${run.stderr}`);
  return run.stdout
    .trim()
    .split("\n")
    .map((line) => !("error" in JSON.parse(line)));
}

function describeDiff(ours: Uint8Array, theirs: Uint8Array): string {
  const a = parseGguf(ours);
  const b = parseGguf(theirs);
  const lines: string[] = [];
  const names = (f: typeof a) => f.tensors.map((t) => `${t.name}:${t.typeName}`).join(" ");
  if (names(a) !== names(b)) lines.push(`tensors:\n ours   ${names(a)}\n llama  ${names(b)}`);
  for (const t of a.tensors) {
    const u = b.tensors.find((x) => x.name === t.name);
    if (!u) continue;
    const da = ours.subarray(a.dataOffset + t.offset, a.dataOffset + t.offset + t.byteSize);
    const db = theirs.subarray(b.dataOffset + u.offset, b.dataOffset + u.offset + u.byteSize);
    if (!Buffer.from(da).equals(Buffer.from(db))) lines.push(`data of ${t.name} (${t.typeName}) differs`);
  }
  const keys = (f: typeof a) => Object.keys(f.metadata).join(",");
  if (keys(a) !== keys(b)) lines.push(`keys:\n ours  ${keys(a)}\n llama ${keys(b)}`);
  return lines.join("\n") || "headers differ";
}

const MODELS = {
  // row lengths of 256: every K-quant fits; 8 layers so the layer rules matter
  f32: { dim: 256, ff: 256, layers: 8, heads: 4, kvHeads: 2, vocab: 300, type: GgmlType.F32, seed: 1 },
  // rows of 320 (not a multiple of 256): K-quant fallbacks; GQA 5 (n_gqa >= 4 rules), tied embeddings
  f16: {
    dim: 320,
    ff: 256,
    layers: 9,
    heads: 5,
    kvHeads: 1,
    vocab: 260,
    type: GgmlType.F16,
    tied: true,
    seed: 2,
  },
};

describe.skipIf(!libDir || !python)("quantizeGgufFile vs llama.cpp's llama_model_quantize", () => {
  // llama.cpp first, every model to every file type in one process (starting Python is the slow part)
  beforeAll(async () => {
    const jobs: Job[] = [];
    for (const [name, model] of Object.entries(MODELS)) {
      await writeSynthModel(join(dir, `${name}.gguf`), model);
      for (const ftype of supportedFtypeNames) {
        jobs.push([
          join(dir, `${name}.gguf`),
          join(dir, `${name}-${ftype}-llama.gguf`),
          ftypeFromName(ftype),
        ]);
      }
    }
    llamaQuantize(jobs).forEach((success, i) => {
      if (!success) throw new Error(`llama.cpp failed on ${jobs[i][1]}`);
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const model of Object.keys(MODELS)) {
    it.each(supportedFtypeNames)(`${model} model to %s: llama.cpp's file, byte for byte`, async (name) => {
      const input = join(dir, `${model}.gguf`);
      {
        const ftype = ftypeFromName(name);
        const ours = join(dir, `${model}-${name}-ours.gguf`);
        const theirs = join(dir, `${model}-${name}-llama.gguf`);
        await quantizeGgufFile(input, ours, { ftype, threads: 2 });
        const a = new Uint8Array(readFileSync(ours));
        const b = new Uint8Array(readFileSync(theirs));
        const same = Buffer.from(a).equals(Buffer.from(b));
        expect(same ? "same" : `${model} ${name}: ${describeDiff(a, b)}`).toBe("same");
        rmSync(ours);
        rmSync(theirs);
      }
    });
  }

  it("--pure, --output-tensor-type, --token-embedding-type and --allow-requantize as llama-quantize", async () => {
    const input = join(dir, "f32.gguf");
    const q8 = join(dir, "f32-q8_0-input.gguf");
    await quantizeGgufFile(input, q8, { ftype: "q8_0", threads: 2 });
    const runs: { label: string; input: string; ftype: LlamaFileType; flags: string[]; options: object }[] = [
      {
        label: "pure q4_k_m",
        input,
        ftype: LlamaFileType.MOSTLY_Q4_K_M,
        flags: ["--pure"],
        options: { pure: true },
      },
      {
        label: "q4_k_m, output q8_0, token_embd q4_0",
        input,
        ftype: LlamaFileType.MOSTLY_Q4_K_M,
        flags: [
          "--output-tensor-type",
          String(GgmlType.Q8_0),
          "--token-embedding-type",
          String(GgmlType.Q4_0),
        ],
        options: { outputTensorType: "q8_0", tokenEmbeddingType: "q4_0" },
      },
      {
        label: "requantize q8_0 -> q4_0",
        input: q8,
        ftype: LlamaFileType.MOSTLY_Q4_0,
        flags: ["--allow-requantize"],
        options: { allowRequantize: true },
      },
    ];
    const done = llamaQuantize(
      runs.map((run, i) => [run.input, join(dir, `flags-${i}-llama.gguf`), run.ftype, run.flags]),
    );
    expect(done).toEqual(runs.map(() => true));
    for (const [i, run] of runs.entries()) {
      const ours = join(dir, "flags-ours.gguf");
      const theirs = join(dir, `flags-${i}-llama.gguf`);
      await quantizeGgufFile(run.input, ours, { ftype: run.ftype, threads: 2, ...run.options });
      const a = new Uint8Array(readFileSync(ours));
      const b = new Uint8Array(readFileSync(theirs));
      expect(Buffer.from(a).equals(Buffer.from(b)) ? "same" : `${run.label}: ${describeDiff(a, b)}`).toBe(
        "same",
      );
    }
  });
});
