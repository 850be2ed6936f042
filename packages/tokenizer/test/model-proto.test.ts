import { describe, expect, it } from "vitest";
import { parseModelProto, serializeModelProto, TokenizerError } from "../src/index";
import { ProtoWriter } from "../src/protobuf";
import { chineseLlama2Path, chineseSpPath, haveModels, llamaPath, readFixture } from "./helpers";

describe("ModelProto codec", () => {
  it.skipIf(!haveModels).each([
    ["llama.model", () => llamaPath, 32000, 2],
    ["chinese_sp.model", () => chineseSpPath, 20000, 1],
    ["chinese-llama-2.model", () => chineseLlama2Path, 55296, 2],
  ])("read then write reproduces %s byte for byte", (_name, path, pieces, modelType) => {
    const bytes = readFixture(path());
    const model = parseModelProto(bytes);
    expect(model.pieces.length).toBe(pieces);
    expect(model.trainerSpec?.modelType).toBe(modelType);
    const out = serializeModelProto(model);
    expect(out.length).toBe(bytes.length);
    expect(Buffer.from(out).equals(Buffer.from(bytes))).toBe(true);
  });

  it.skipIf(!haveModels)("decodes LLaMA's trainer and normalizer settings", () => {
    const model = parseModelProto(readFixture(llamaPath));
    expect(model.trainerSpec).toMatchObject({
      byteFallback: true,
      splitDigits: true,
      unkId: 0,
      bosId: 1,
      eosId: 2,
      padId: -1,
    });
    expect(model.normalizerSpec).toMatchObject({
      name: "identity",
      addDummyPrefix: true,
      removeExtraWhitespaces: false,
    });
    expect(model.pieces[0]).toEqual({ piece: "<unk>", score: 0, type: 2 });
    expect(model.pieces[3]).toEqual({ piece: "<0x00>", score: 0, type: 6 });
  });

  it("keeps unknown fields of the model and of pieces", () => {
    const w = new ProtoWriter();
    const piece = new ProtoWriter();
    piece.string(1, "a");
    piece.tag(2, 5);
    piece.float32(-1.5);
    piece.tag(9, 0);
    piece.varint(300); // unknown varint field in a piece
    w.lengthDelimited(1, piece.finish());
    const trainer = new ProtoWriter();
    trainer.tag(3, 0);
    trainer.varint(2);
    trainer.tag(43, 0);
    trainer.int32(-1);
    trainer.string(99, "future"); // unknown to us
    w.lengthDelimited(2, trainer.finish());
    w.tag(7, 1); // unknown fixed64 at top level
    for (let i = 0; i < 8; i++) w.raw(new Uint8Array([i]));
    w.string(8, "unknown string");
    const bytes = w.finish();
    const model = parseModelProto(bytes);
    expect(model.pieces[0]!.unknownFields?.map((f) => f.field)).toEqual([9]);
    expect(model.unknownFields.map((f) => f.field)).toEqual([7, 8]);
    expect(model.trainerSpec?.padId).toBe(-1);
    expect(Buffer.from(serializeModelProto(model)).equals(Buffer.from(bytes))).toBe(true);
  });

  it("writes negative int32 as 10-byte varints like protobuf", () => {
    const w = new ProtoWriter();
    w.int32(-1);
    expect([...w.finish()]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });

  it("rejects a truncated file with the offset", () => {
    const w = new ProtoWriter();
    w.string(1, "abc");
    const bytes = w.finish();
    const cut = new Uint8Array([0x0a, 0x10, 0x0a, 0x03, 0x61]);
    expect(() => parseModelProto(cut, "cut.model")).toThrowError(/cut\.model: truncated/);
    expect(() => parseModelProto(new Uint8Array(0), "empty.model")).toThrowError(TokenizerError);
    expect(() => parseModelProto(bytes.subarray(0, 3))).toThrowError(/truncated/);
  });
});
