import { describe, expect, it } from "vitest";
import { SentencePieceTokenizer } from "../src/index";
import { haveModels, llamaPath, readFixture } from "./helpers";

describe.skipIf(!haveModels)("createStreamDecoder", () => {
  const t = haveModels ? SentencePieceTokenizer.fromModelProto(readFixture(llamaPath)) : undefined!;

  const streamed = (ids: number[]) => {
    const d = t.createStreamDecoder();
    const parts = ids.map((id) => d.push(id));
    return { parts, rest: d.flush() };
  };

  it("holds the byte tokens of a character until it is whole (rare CJK as 4 byte tokens)", () => {
    const ids = t.encode("𠀀好");
    expect(ids).toEqual([29871, 243, 163, 131, 131, 31076]);
    const { parts, rest } = streamed(ids);
    expect(parts).toEqual(["", "", "", "", "𠀀", "好"]);
    expect(rest).toBe("");
  });

  it("emits emoji only when complete, never U+FFFD", () => {
    const text = "ok 👨‍👩‍👧‍👦 🫠 🇨🇳!";
    const ids = t.encode(text);
    const { parts, rest } = streamed(ids);
    expect(parts.join("") + rest).toBe(text);
    for (const p of parts) expect(p).not.toContain("\ufffd");
    expect(parts.filter((p) => p === "").length).toBeGreaterThan(3); // bytes were held back
  });

  it("flush returns an incomplete sequence as U+FFFD per byte, like decode", () => {
    const ids = [29871, 3 + 0xe4, 3 + 0xb8]; // "▁" + first two bytes of 中
    const { parts, rest } = streamed(ids);
    expect(parts.join("")).toBe("");
    expect(rest).toBe("\ufffd\ufffd");
    expect(t.decode(ids)).toBe("\ufffd\ufffd");
  });

  it("matches one-shot decode on mixed text, id by id, without U+FFFD for valid text", () => {
    const texts = [
      "你好，世界！Hello world 123",
      "  leading spaces and 𪚥𪚥 rare 㐀 chars\n\tand tabs",
      "表情😀😂🤣 and byte-fallback 鿿 at the end 𠀀",
    ];
    for (const text of texts) {
      for (const bos of [false, true]) {
        const ids = t.encode(text, { bos });
        const { parts, rest } = streamed(ids);
        expect(parts.join("") + rest).toBe(t.decode(ids));
        expect(parts.join("") + rest).toBe(text);
        expect(parts.join("")).not.toContain("\ufffd");
      }
    }
  });

  it("rejects ids out of range", () => {
    expect(() => t.createStreamDecoder().push(32000)).toThrowError(/out of range/);
  });
});
