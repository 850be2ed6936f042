/**
 * Differential test against sentencepiece 0.1.97: every id of every corpus string, for each
 * fixture tokenizer. Golden files come from tooling/golden/tokenizer-golden.py.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { mergeVocab, SentencePieceTokenizer } from "../src/index";
import { chineseLlama2Path, chineseSpPath, haveModels, llamaPath, readFixture } from "./helpers";

const goldenDir = join(import.meta.dirname, "golden");
const gz = (name: string) => gunzipSync(readFileSync(join(goldenDir, name)));

function readIds(name: string, count: number): number[][] {
  const buf = gz(name);
  let pos = 0;
  const varint = () => {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = buf[pos++]!;
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 128;
    }
  };
  const out: number[][] = [];
  for (let i = 0; i < count; i++) {
    const n = varint();
    const ids = new Array<number>(n);
    for (let j = 0; j < n; j++) ids[j] = varint();
    out.push(ids);
  }
  expect(pos).toBe(buf.length);
  return out;
}

const corpus: string[] = JSON.parse(gz("corpus.json.gz").toString("utf8")).strings;

function tokenizers(): Record<string, SentencePieceTokenizer> {
  const llama = readFixture(llamaPath);
  const zh = readFixture(chineseSpPath);
  return {
    llama: SentencePieceTokenizer.fromModelProto(llama),
    "chinese-llama": SentencePieceTokenizer.fromModelProto(mergeVocab(llama, zh).bytes),
    "chinese-alpaca": SentencePieceTokenizer.fromModelProto(
      mergeVocab(llama, zh, { padToken: "[PAD]" }).bytes,
    ),
    "chinese-llama-2": SentencePieceTokenizer.fromModelProto(readFixture(chineseLlama2Path)),
  };
}

describe.skipIf(!haveModels)("sentencepiece golden corpus", () => {
  const all = haveModels ? tokenizers() : {};
  it("has tens of thousands of strings of every class", () => {
    expect(corpus.length).toBeGreaterThan(30000);
    expect(corpus).toContain("");
    expect(corpus.some((s) => s.length > 5000)).toBe(true);
  });

  it.each(["llama", "chinese-llama", "chinese-alpaca", "chinese-llama-2"])(
    "%s: every id equals sentencepiece's, and decode restores the text",
    (name) => {
      const t = all[name]!;
      // Alpaca's ids equal Chinese-LLaMA's (asserted by the generator): one golden file for both.
      const expected = readIds(
        `ids-${name === "chinese-alpaca" ? "chinese-llama" : name}.bin.gz`,
        corpus.length,
      );
      const mismatches: string[] = [];
      let ids = 0;
      for (let i = 0; i < corpus.length; i++) {
        const got = t.encode(corpus[i]!);
        const want = expected[i]!;
        ids += want.length;
        if (got.length !== want.length || got.some((id, j) => id !== want[j])) {
          if (mismatches.length < 5)
            mismatches.push(
              `#${i} ${JSON.stringify(corpus[i]!.slice(0, 80))}: got ${got.slice(0, 20)} want ${want.slice(0, 20)}`,
            );
          else mismatches.push(`#${i}`);
        }
        // Decoding restores the text, except that a literal "▁" in it comes back as a space (it is
        // sentencepiece's space symbol; sentencepiece decodes it the same way).
        const back = t.decode(want);
        if (back !== corpus[i]!.replaceAll("\u2581", " "))
          mismatches.push(`decode #${i}: ${JSON.stringify(back.slice(0, 80))}`);
      }
      expect(mismatches.slice(0, 8)).toEqual([]);
      expect(ids).toBeGreaterThan(400000);
    },
  );

  it("streamed decoding equals one-shot decoding on the whole corpus, U+FFFD-free for valid text", () => {
    const t = all["llama"]!;
    const bad: number[] = [];
    corpus.forEach((text, i) => {
      const ids = t.encode(text, { bos: true });
      const d = t.createStreamDecoder();
      let out = "";
      let replacement = false;
      for (const id of ids) {
        const piece = d.push(id);
        if (piece.includes("\ufffd") && !text.includes("\ufffd")) replacement = true;
        out += piece;
      }
      out += d.flush();
      if (replacement || out !== t.decode(ids)) bad.push(i);
    });
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it.each(["llama", "chinese-llama", "chinese-alpaca", "chinese-llama-2"])(
    "%s: decode of random id sequences equals sentencepiece's",
    (name) => {
      const t = all[name]!;
      const { sequences, texts } = JSON.parse(gz(`decode-${name}.json.gz`).toString("utf8")) as {
        sequences: number[][];
        texts: string[];
      };
      const bad: string[] = [];
      sequences.forEach((seq, i) => {
        const got = t.decode(seq);
        if (got !== texts[i])
          bad.push(`${JSON.stringify(seq)}: got ${JSON.stringify(got)} want ${JSON.stringify(texts[i])}`);
      });
      expect(bad.slice(0, 5)).toEqual([]);
      expect(sequences.length).toBe(3000);
    },
  );
});
