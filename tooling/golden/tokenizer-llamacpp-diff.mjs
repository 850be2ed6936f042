#!/usr/bin/env node
/**
 * Where llama.cpp's own tokenizer (the one bundled with node-llama-cpp) disagrees with
 * sentencepiece on the tokenizer golden corpus (packages/tokenizer/test/golden, made by
 * tokenizer-golden.py). @cllama/tokenizer follows sentencepiece on every string, also when built
 * from this GGUF; this script shows how far llama.cpp is from it. With node-llama-cpp 3.21.1 the
 * answer was: 0 of 30013 strings differ (older llama.cpp builds differed on long runs of one
 * repeated symbol and on some text after U+00A0).
 *
 *   node tooling/golden/tokenizer-llamacpp-diff.mjs [max examples]
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const golden = join(root, "packages", "tokenizer", "test", "golden");
const fixtures = process.env.CLLAMA_FIXTURES ?? join(root, "..", "shared", "fixtures");
const { getLlama } = await import(
  pathToFileURL(join(root, "tooling", "oracle", "node_modules", "node-llama-cpp", "dist", "index.js")).href
);

const corpus = JSON.parse(gunzipSync(readFileSync(join(golden, "corpus.json.gz"))).toString("utf8")).strings;
const ids = gunzipSync(readFileSync(join(golden, "ids-llama.bin.gz")));
let pos = 0;
const varint = () => {
  let v = 0;
  let scale = 1;
  for (;;) {
    const b = ids[pos++];
    v += (b & 0x7f) * scale;
    if (b < 0x80) return v;
    scale *= 128;
  }
};

const llama = await getLlama({ gpu: false, logLevel: "error" });
const model = await llama.loadModel({
  modelPath: join(fixtures, "llama.cpp-vocab", "ggml-vocab-llama-spm.gguf"),
  vocabOnly: true,
});
const maxExamples = Number(process.argv[2] ?? 10);
let differ = 0;
const examples = [];
for (const text of corpus) {
  const want = Array.from({ length: varint() }, varint);
  const got = [...model.tokenize(text, false)];
  if (got.length !== want.length || got.some((id, j) => id !== want[j])) {
    differ++;
    if (examples.length < maxExamples) examples.push({ text: text.slice(0, 60), sentencepiece: want.slice(0, 12), llamaCpp: got.slice(0, 12) });
  }
}
console.log(`llama.cpp differs from sentencepiece on ${differ} of ${corpus.length} corpus strings`);
for (const e of examples) console.log(JSON.stringify(e));
await model.dispose();
