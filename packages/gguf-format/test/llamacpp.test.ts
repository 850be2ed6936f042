/**
 * Interoperability: models we write load and generate in llama.cpp (through node-llama-cpp).
 * Kept small (two tiny models, 12 tokens each) so it costs a few seconds.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixtureNames, fixturePath } from "@cllama/tooling/fixtures";
import { nodeLlamaCppDir } from "@cllama/tooling/oracles";
import { afterAll, describe, expect, it } from "vitest";
import { GgmlType, parseGguf, synthLlama, typedMetadata } from "../src/index";
import { writeGgufFile } from "../src/node";

const oracle = nodeLlamaCppDir();
const vocabPath = fixturePath(fixtureNames.llamaCppVocab);
const dir = mkdtempSync(join(tmpdir(), "gguf-llamacpp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface NodeLlamaCpp {
  getLlama(options: object): Promise<{
    loadModel(options: { modelPath: string }): Promise<{
      tokenize(text: string): number[];
      detokenize(tokens: number[]): string;
      tokens: { bos: number };
      trainContextSize: number;
      fileInfo: { metadata: Record<string, unknown> };
      createContext(options: object): Promise<{
        getSequence(): { evaluate(tokens: number[], options: object): AsyncIterable<number> };
        dispose(): Promise<void>;
      }>;
      dispose(): Promise<void>;
    }>;
    dispose(): Promise<void>;
  }>;
}

async function generate(modelPath: string, prompt: string, n: number) {
  const { getLlama } = (await import(join(oracle as string, "dist", "index.js"))) as NodeLlamaCpp;
  const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
  try {
    const model = await llama.loadModel({ modelPath });
    const context = await model.createContext({ contextSize: 128, threads: 1 });
    const promptTokens = model.tokenize(prompt);
    const out: number[] = [];
    for await (const token of context
      .getSequence()
      .evaluate([model.tokens.bos, ...promptTokens], { temperature: 0 })) {
      out.push(token);
      if (out.length >= n) break;
    }
    const result = { promptTokens, out, text: model.detokenize(out), ctx: model.trainContextSize };
    await context.dispose();
    await model.dispose();
    return result;
  } finally {
    await llama.dispose();
  }
}

describe.skipIf(!oracle || !vocabPath)("llama.cpp loads what we write", () => {
  it("runs a tiny F16 synth model with LLaMA's vocabulary and generates varied tokens", async () => {
    const path = join(dir, "tiny-f16.gguf");
    const vocab = parseGguf(readFileSync(vocabPath as string));
    const tokenizer = Object.fromEntries(
      Object.entries(typedMetadata(vocab)).filter(([k]) => k.startsWith("tokenizer.")),
    );
    await writeGgufFile(path, synthLlama({ preset: "tiny", seed: 1, tokenizerMetadata: tokenizer }));
    const result = await generate(path, "Hello world", 12);
    expect(result.promptTokens).toEqual([15043, 3186]); // llama.cpp tokenizes with the vocabulary we copied
    expect(result.ctx).toBe(512);
    expect(result.out).toHaveLength(12);
    expect(result.out.every((t) => t >= 0 && t < 32000)).toBe(true);
    expect(new Set(result.out).size).toBeGreaterThan(3); // not degenerate
  });

  it("runs a grouped-query-attention F32 model with the built-in byte vocabulary", async () => {
    const path = join(dir, "gqa-f32.gguf");
    await writeGgufFile(
      path,
      synthLlama({
        dims: { dim: 64, layers: 2, heads: 4, kvHeads: 2, ff: 128, ctx: 256, vocab: 400 },
        type: GgmlType.F32,
        seed: 2,
      }),
    );
    const result = await generate(path, "abc", 8);
    expect(result.out).toHaveLength(8);
    expect(result.out.every((t) => t >= 0 && t < 400)).toBe(true);
    expect(new Set(result.out).size).toBeGreaterThan(2);
  });
});
