import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mergeVocab, SentencePieceTokenizer, TokenizerError } from "../src/index";
import { chineseSpPath, haveModels, llamaPath, readFixture } from "./helpers";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe.skipIf(!haveModels)("mergeVocab", () => {
  it("LLaMA + chinese_sp.model is the published Chinese-LLaMA tokenizer.model", () => {
    const r = mergeVocab(readFixture(llamaPath), readFixture(chineseSpPath));
    expect({ kept: r.kept, added: r.added, skipped: r.skipped, total: r.total }).toEqual({
      kept: 32000,
      added: 17953,
      skipped: 2047,
      total: 49953,
    });
    expect(r.bytes.length).toBe(757958);
    expect(sha256(r.bytes)).toBe("e2676d4ca29ca1750f6ff203328d73b189321dc5776ceede037cbd36541d70c0");
  });

  it('with padToken "[PAD]" it is the published Chinese-Alpaca tokenizer.model', () => {
    const r = mergeVocab(readFixture(llamaPath), readFixture(chineseSpPath), { padToken: "[PAD]" });
    expect(r.total).toBe(49954);
    expect(r.bytes.length).toBe(757972);
    expect(sha256(r.bytes)).toBe("2d967e855b1213a439df6c8ce2791f869c84b4f3b6cfacf22b86440b8192a2f8");
    const t = SentencePieceTokenizer.fromModelProto(r.bytes);
    expect(t.pieceToId("[PAD]")).toBe(49953);
    expect(t.padId).toBe(49953);
  });

  it("equals the seed's Python merge over sentencepiece_model_pb2 (tooling/golden/tokenizer-golden.py)", () => {
    const python = JSON.parse(readFileSync(join(import.meta.dirname, "golden", "merge.json"), "utf8"));
    const llama = mergeVocab(readFixture(llamaPath), readFixture(chineseSpPath));
    const alpaca = mergeVocab(readFixture(llamaPath), readFixture(chineseSpPath), { padToken: "[PAD]" });
    expect({ bytes: llama.bytes.length, sha256: sha256(llama.bytes) }).toEqual({
      bytes: python["chinese-llama"].bytes,
      sha256: python["chinese-llama"].sha256,
    });
    expect(sha256(alpaca.bytes)).toBe(python["chinese-alpaca"].sha256);
  });

  it("added pieces merge first: digits merge again", () => {
    const merged = SentencePieceTokenizer.fromModelProto(
      mergeVocab(readFixture(llamaPath), readFixture(chineseSpPath)).bytes,
    );
    expect(merged.encodeToPieces("10 123")).toEqual(["▁10", "▁12", "3"]);
  });

  it("refuses inputs that are not SentencePiece models", () => {
    const notAModel = new TextEncoder().encode("this is a text file, not a model\n");
    let error: unknown;
    try {
      mergeVocab(readFixture(llamaPath), notAModel, { extraName: "notes.txt" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TokenizerError);
    expect((error as TokenizerError).code).toBe("TOKENIZER_NOT_SENTENCEPIECE");
    expect((error as TokenizerError).message).toMatch(/^notes\.txt is not a SentencePiece model/);
  });
});
