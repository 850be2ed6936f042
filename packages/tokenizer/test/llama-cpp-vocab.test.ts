/**
 * llama.cpp's own tokenizer test (test-tokenizer-0 with ggml-vocab-llama-spm.gguf): the tokenizer
 * is built from the GGUF's tokenizer.ggml.* metadata, and each case of the .inp file (cases end with
 * "\n__ggml_vocab_test__\n") must give the ids on the same line of the .out file (no BOS).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parseGguf } from "@cllama/gguf-format";
import { fixtureNames, fixturePath } from "@cllama/tooling/fixtures";
import { describe, expect, it } from "vitest";
import { SentencePieceTokenizer } from "../src/index";
import { llamaPath, readFixture } from "./helpers";

const ggufPath = fixturePath(fixtureNames.llamaCppVocab);
const inpPath = fixturePath(fixtureNames.llamaCppVocabInputs);
const outPath = fixturePath(fixtureNames.llamaCppVocabOutputs);
const have = !!(ggufPath && inpPath && outPath);

function cases(): [string, number[]][] {
  const separator = "\n__ggml_vocab_test__\n";
  const inputs = readFileSync(inpPath!, "utf8").split(separator);
  if (inputs.at(-1) === "") inputs.pop();
  const outputs = readFileSync(outPath!, "utf8").split("\n");
  if (outputs.at(-1) === "") outputs.pop();
  expect(outputs.length).toBe(inputs.length);
  return inputs.map((text, i) => [
    text,
    outputs[i]!.trim()
      .split(/\s+/)
      .filter((s) => s.length > 0)
      .map(Number),
  ]);
}

describe.skipIf(!have)("llama.cpp vocab test (ggml-vocab-llama-spm.gguf)", () => {
  const all = have ? cases() : [];
  const tokenizer = have
    ? SentencePieceTokenizer.fromGgufMetadata(
        parseGguf(readFileSync(ggufPath!)).metadata,
        "ggml-vocab-llama-spm.gguf",
      )
    : undefined!;

  it("has 46 cases", () => {
    expect(all.length).toBe(46);
  });

  it.each(all.map(([text, ids], i) => [i, JSON.stringify(text).slice(0, 60), text, ids] as const))(
    "case %i %s",
    (_i, _shown, text, ids) => {
      expect(tokenizer.encode(text)).toEqual(ids);
    },
  );

  it("the GGUF vocabulary equals LLaMA's tokenizer.model", () => {
    const fromModel = SentencePieceTokenizer.fromModelProto(readFixture(llamaPath));
    expect(tokenizer.vocabSize).toBe(fromModel.vocabSize);
    expect(tokenizer.vocabulary.pieces).toEqual(fromModel.vocabulary.pieces);
    expect([...tokenizer.vocabulary.types]).toEqual([...fromModel.vocabulary.types]);
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.unkId]).toEqual([1, 2, 0]);
    expect(
      Buffer.from(tokenizer.vocabulary.scores.buffer).equals(Buffer.from(fromModel.vocabulary.scores.buffer)),
    ).toBe(true);
  });

  it("follows sentencepiece, not llama.cpp, on the golden corpus (GGUF vocabularies alike)", () => {
    const gz = (name: string) => gunzipSync(readFileSync(join(import.meta.dirname, "golden", name)));
    const corpus: string[] = JSON.parse(gz("corpus.json.gz").toString("utf8")).strings;
    const ids = gz("ids-llama.bin.gz");
    let pos = 0;
    const varint = () => {
      let v = 0;
      let scale = 1;
      for (;;) {
        const b = ids[pos++]!;
        v += (b & 0x7f) * scale;
        if (b < 0x80) return v;
        scale *= 128;
      }
    };
    const bad: number[] = [];
    for (let i = 0; i < corpus.length; i++) {
      const want = Array.from({ length: varint() }, varint);
      const got = tokenizer.encode(corpus[i]!);
      if (got.length !== want.length || got.some((id, j) => id !== want[j])) bad.push(i);
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });
});
