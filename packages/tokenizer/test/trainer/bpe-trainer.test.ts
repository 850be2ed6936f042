/**
 * The BPE trainer's `.model` against sentencepiece 0.1.97 itself: it must load there, and
 * sentencepiece and our encoder must give the same ids for thousands of strings (the tokenizer's
 * differential corpus: CJK, emoji, control characters, whitespace runs, byte-fallback cases).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { pythonWith } from "@cllama/tooling/oracles";
import { describe, expect, it } from "vitest";
import {
  PieceType,
  parseModelProto,
  SentencePieceTokenizer,
  TokenizerError,
  trainBpe,
} from "../../src/index";

const corpus: string[] = JSON.parse(
  gunzipSync(readFileSync(join(import.meta.dirname, "..", "golden", "corpus.json.gz"))).toString("utf8"),
).strings;
const python = pythonWith(["sentencepiece"]);

/** Repetitive text (so there is something to merge) from a fixed seed, beside the odd strings. */
function wordyLines(count: number): string[] {
  const words = [
    "床前明月光",
    "疑是地上霜",
    "举头望明月",
    "低头思故乡",
    "hello",
    "world",
    "token",
    "2024",
    "春眠不觉晓",
  ];
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed;
  };
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + (next() % 6) }, () => words[next() % words.length]).join(
      next() % 2 ? " " : "，",
    ),
  );
}
const training = [...corpus.slice(0, 1000), ...wordyLines(5000)];

describe("trainBpe", () => {
  const trained = trainBpe(training, { vocabSize: 1200, characterCoverage: 0.95 });

  it("writes meta pieces, 256 byte pieces, merges and characters, exactly vocabSize of them", () => {
    const model = parseModelProto(trained.bytes);
    expect(model.pieces.length).toBe(1200);
    expect(model.pieces.slice(0, 3).map((p) => p.piece)).toEqual(["<unk>", "<s>", "</s>"]);
    expect(model.pieces[3 + 0x0a]).toMatchObject({ piece: "<0x0A>", type: PieceType.BYTE });
    expect(new Set(model.pieces.map((p) => p.piece)).size).toBe(1200);
    expect(trained.merges).toBeGreaterThan(100);
    expect(model.trainerSpec).toMatchObject({ modelType: 2, byteFallback: true, vocabSize: 1200 });
    // Every merge is reachable: both halves of some split are characters or earlier merges.
    const score = new Map(model.pieces.map((p) => [p.piece, p.score ?? 0]));
    for (const p of model.pieces.slice(259, 259 + trained.merges)) {
      const chars = [...p.piece];
      const ok = chars.some((_, i) => {
        if (i === 0) return false;
        const earlier = (part: string[]) => {
          const s = score.get(part.join(""));
          return s !== undefined && (part.length === 1 || s > p.score!);
        };
        return earlier(chars.slice(0, i)) && earlier(chars.slice(i));
      });
      expect(ok, p.piece).toBe(true);
    }
  });

  it("round-trips text through our encoder (byte fallback covers characters left out)", () => {
    const tok = SentencePieceTokenizer.fromModelProto(trained.bytes);
    for (const s of corpus.slice(0, 3000)) {
      if (s.includes("\u2581")) continue; // "▁" decodes as a space by design
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
  });

  it("rejects a vocabulary too small for byte fallback", () => {
    expect(() => trainBpe(["a"], { vocabSize: 100 })).toThrow(TokenizerError);
  });

  it.skipIf(!python)("loads in sentencepiece, which encodes 6,000 strings exactly as we do", () => {
    const dir = mkdtempSync(join(tmpdir(), "bpe-trainer-"));
    try {
      const strings = [...corpus.slice(0, 4000), ...wordyLines(2000)];
      writeFileSync(join(dir, "m.model"), trained.bytes);
      writeFileSync(join(dir, "s.json"), JSON.stringify(strings));
      const script = [
        "import json, sys, sentencepiece as spm",
        `sp = spm.SentencePieceProcessor(model_file=sys.argv[1] + "/m.model")`,
        `strings = json.load(open(sys.argv[1] + "/s.json"))`,
        "print(json.dumps({'vocab': sp.vocab_size(), 'ids': [sp.encode(s) for s in strings]}))",
      ].join("\n");
      const run = spawnSync(python!, ["-c", script, dir], { encoding: "utf8", maxBuffer: 1 << 28 });
      expect(run.stderr).toBe("");
      const out = JSON.parse(run.stdout) as { vocab: number; ids: number[][] };
      expect(out.vocab).toBe(1200);
      const tok = SentencePieceTokenizer.fromModelProto(trained.bytes);
      let differ = 0;
      strings.forEach((s, i) => {
        if (JSON.stringify(tok.encode(s)) !== JSON.stringify(out.ids[i])) differ++;
      });
      expect(differ).toBe(0);
      expect(out.ids.flat().length).toBeGreaterThan(50_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
