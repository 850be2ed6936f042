/**
 * The .model reader never crashes, hangs or over-allocates on corrupt input: mutated fixture
 * files either parse or fail with a TokenizerError; what parses serializes, and what builds a
 * tokenizer encodes and decodes without any other kind of error.
 */
import { describe, expect, it } from "vitest";
import { parseModelProto, SentencePieceTokenizer, serializeModelProto, TokenizerError } from "../src/index";
import { chineseSpPath, haveModels, llamaPath, readFixture } from "./helpers";

function xorshift(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(rnd() * n);
  let out = src.slice();
  const edits = 1 + pick(4);
  for (let e = 0; e < edits; e++) {
    const at = pick(out.length);
    switch (pick(6)) {
      case 0:
        out[at] = out[at]! ^ (1 << pick(8));
        break;
      case 1:
        out[at] = pick(256);
        break;
      case 2:
        out = out.slice(0, at); // truncate
        break;
      case 3: {
        const len = pick(16);
        const ins = Uint8Array.from({ length: len }, () => pick(256));
        out = Uint8Array.from([...out.subarray(0, at), ...ins, ...out.subarray(at)]);
        break;
      }
      case 4:
        out[at] = [0x00, 0x7f, 0x80, 0xff][pick(4)]!;
        break;
      default: {
        const len = 1 + pick(32);
        out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + len)]); // delete
      }
    }
    if (out.length === 0) break;
  }
  return out;
}

/** A small but complete BPE model: LLaMA's specs with its first 600 pieces. */
function smallLlama(): Uint8Array {
  const model = parseModelProto(readFixture(llamaPath));
  return serializeModelProto({ ...model, pieces: model.pieces.slice(0, 600) });
}

function expectOnlyTokenizerErrors(bytes: Uint8Array, counts: Record<string, number>): void {
  try {
    const model = parseModelProto(bytes, "fuzz.model");
    serializeModelProto(model);
    const t = SentencePieceTokenizer.fromModelProto(bytes, "fuzz.model");
    const ids = t.encode("Hello 你好 𠀀 <s>  x\n", { bos: true, eos: true, special: true });
    t.decode(ids);
    counts.ok = (counts.ok ?? 0) + 1;
  } catch (error) {
    if (!(error instanceof TokenizerError)) throw error;
    expect(error.message).toMatch(/fuzz\.model/);
    counts[error.code] = (counts[error.code] ?? 0) + 1;
  }
}

describe.skipIf(!haveModels)("fuzzing the .model reader", () => {
  it("3000 mutations of a small LLaMA model: a model or a TokenizerError, never a crash", {
    timeout: 180_000,
  }, () => {
    const base = smallLlama();
    expect(SentencePieceTokenizer.fromModelProto(base).encode("hello")).toBeInstanceOf(Array);
    const rnd = xorshift(12345);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 3000; i++) expectOnlyTokenizerErrors(mutate(base, rnd), counts);
    // both outcomes happen: the fuzzer reaches the tokenizer and the error paths
    expect(counts.ok).toBeGreaterThan(50);
    expect(counts.TOKENIZER_TRUNCATED).toBeGreaterThan(50);
  });

  // Few cases: each builds a whole 32000-piece tokenizer. The small model above carries the volume.
  it("mutations of the full fixture files", { timeout: 180_000 }, () => {
    const rnd = xorshift(777);
    const counts: Record<string, number> = {};
    for (const path of [llamaPath, chineseSpPath]) {
      const base = readFixture(path);
      for (let i = 0; i < 8; i++) expectOnlyTokenizerErrors(mutate(base, rnd), counts);
    }
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(16);
  });

  it("every prefix length class of a truncated model is a TOKENIZER_TRUNCATED naming the offset", () => {
    const base = smallLlama();
    for (let cut = 1; cut < base.length; cut += 37) {
      let error: unknown;
      try {
        parseModelProto(base.subarray(0, cut), "cut.model");
      } catch (e) {
        error = e;
      }
      if (error === undefined) continue; // a cut exactly between fields is a valid (smaller) message
      expect(error).toBeInstanceOf(TokenizerError);
      expect((error as TokenizerError).message).toMatch(/^cut\.model(: piece \d+)?: (truncated|.*byte \d+)/);
    }
  });
});
