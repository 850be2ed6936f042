import { describe, expect, it } from "vitest";
import { SentencePieceTokenizer, TokenizerError } from "../src/index";
import { chineseLlama2Path, chineseSpPath, haveModels, llamaPath, readFixture } from "./helpers";

// Expected ids from sentencepiece 0.1.97 (python3-sentencepiece) on LLaMA's tokenizer.model.
const llamaCases: [string, number[]][] = [
  ["", []],
  [" ", [259]],
  ["  hello", [259, 22172]],
  ["hello world", [22172, 3186]],
  ["\u00a0x", [20246, 29916]],
  ["<s>a</s>", [529, 29879, 29958, 29874, 829, 29879, 29958]],
  ["𠀀", [29871, 243, 163, 131, 131]],
];

describe.skipIf(!haveModels)("SentencePieceTokenizer (LLaMA)", () => {
  const t = haveModels ? SentencePieceTokenizer.fromModelProto(readFixture(llamaPath)) : undefined!;

  it("has LLaMA's special ids", () => {
    expect([t.vocabSize, t.unkId, t.bosId, t.eosId, t.padId]).toEqual([32000, 0, 1, 2, -1]);
    expect(t.idToPiece(3)).toBe("<0x00>");
    expect(t.pieceToId("▁hello")).toBe(22172);
    expect(t.pieceToId("no such piece")).toBe(0);
  });

  it.each(llamaCases)("encodes %j like sentencepiece", (text, ids) => {
    expect(t.encode(text)).toEqual(ids);
    expect(t.decode(ids)).toBe(text);
  });

  it("adds BOS/EOS on request and parses special tokens only on request", () => {
    expect(t.encode("hello", { bos: true, eos: true })).toEqual([1, 22172, 2]);
    expect(t.encode("<s>hello</s>", { special: true })).toEqual([1, 22172, 2]);
    expect(t.encode("<s>")).not.toContain(1);
  });

  it("decodes like sentencepiece (dummy prefix, control, unk, bytes)", () => {
    expect(t.decode([29871])).toBe("");
    expect(t.decode([29871, 29871])).toBe(" ");
    expect(t.decode([1, 29871, 22172])).toBe(" hello");
    expect(t.decode([3 + 0xe4])).toBe("\ufffd");
    expect(t.decode([0, 22172])).toBe(" \u2047  hello");
    expect(t.decode([13, 22172])).toBe("\n hello");
  });

  it("rejects ids out of range with a typed error", () => {
    expect(() => t.decode([5, 32000])).toThrowError(TokenizerError);
    expect(() => t.decode([-1])).toThrowError(/out of range/);
    expect(() => t.idToPiece(1.5)).toThrowError(/out of range/);
    expect(() => t.encode(42 as unknown as string)).toThrowError(/encode expects a string/);
  });

  it("round-trips through GGUF metadata", () => {
    const meta = t.toGgufMetadata();
    expect(meta["tokenizer.ggml.model"]).toEqual({ type: "STRING", value: "llama" });
    expect(meta["tokenizer.ggml.pre"]).toEqual({ type: "STRING", value: "default" });
    expect(meta["tokenizer.ggml.bos_token_id"]).toEqual({ type: "UINT32", value: 1 });
    expect(meta["tokenizer.ggml.add_bos_token"]).toEqual({ type: "BOOL", value: true });
    expect(meta["tokenizer.ggml.add_eos_token"]).toEqual({ type: "BOOL", value: false });
    expect(meta["tokenizer.ggml.token_type"]!.itemType).toBe("INT32");
    expect(meta["tokenizer.ggml.scores"]!.itemType).toBe("FLOAT32");
    expect(meta["tokenizer.ggml.padding_token_id"]).toBeUndefined();
    const back = SentencePieceTokenizer.fromGgufMetadata(meta);
    const plain = Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, v.value]));
    const back2 = SentencePieceTokenizer.fromGgufMetadata(plain);
    for (const [text, ids] of llamaCases) {
      expect(back.encode(text)).toEqual(ids);
      expect(back2.encode(text)).toEqual(ids);
    }
    expect([back.bosId, back.eosId, back.unkId, back.vocabSize]).toEqual([1, 2, 0, 32000]);
  });

  it("names the key and what was wrong in bad GGUF metadata", () => {
    const meta = t.toGgufMetadata();
    const broken = {
      ...meta,
      "tokenizer.ggml.scores": { type: "ARRAY", itemType: "FLOAT32", value: new Float32Array(3) },
    };
    expect(() => SentencePieceTokenizer.fromGgufMetadata(broken, "x.gguf")).toThrowError(
      /^x\.gguf: tokenizer\.ggml\.scores should be an array of 32000 numbers/,
    );
    const badTokens = { ...meta, "tokenizer.ggml.tokens": [1, 2, 3] };
    expect(() => SentencePieceTokenizer.fromGgufMetadata(badTokens)).toThrowError(
      /tokenizer\.ggml\.tokens should be/,
    );
  });

  it("refuses GGUF metadata of another tokenizer kind", () => {
    expect(() => SentencePieceTokenizer.fromGgufMetadata({ "tokenizer.ggml.model": "gpt2" })).toThrowError(
      /only "llama"/,
    );
    expect(() => SentencePieceTokenizer.fromGgufMetadata({ "tokenizer.ggml.model": "llama" })).toThrowError(
      /tokenizer\.ggml\.tokens/,
    );
  });
});

describe.skipIf(!haveModels)("other fixture models", () => {
  it("refuses the unigram chinese_sp.model with TOKENIZER_UNSUPPORTED_MODEL", () => {
    let error: unknown;
    try {
      SentencePieceTokenizer.fromModelProto(readFixture(chineseSpPath), "chinese_sp.model");
    } catch (e) {
      error = e;
    }
    expect((error as TokenizerError).code).toBe("TOKENIZER_UNSUPPORTED_MODEL");
    expect((error as TokenizerError).message).toMatch(/chinese_sp\.model: a unigram SentencePiece model/);
  });

  it("loads Chinese-LLaMA-2 (55296 pieces, <pad> at 32000)", () => {
    const t = SentencePieceTokenizer.fromModelProto(readFixture(chineseLlama2Path));
    expect(t.vocabSize).toBe(55296);
    expect(t.pieceToId("<pad>")).toBe(32000);
    expect(t.decode(t.encode("你好，世界！Hello"))).toBe("你好，世界！Hello");
  });
});
