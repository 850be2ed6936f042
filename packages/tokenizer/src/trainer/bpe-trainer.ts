/**
 * A SentencePiece BPE trainer with byte fallback (the `model_type=bpe, byte_fallback=true` path
 * of sentencepiece's `bpe_model_trainer.cc`, identity normalizer as in LLaMA's tokenizer).
 *
 * The output is a `.model` that sentencepiece loads: `<unk> <s> </s>`, the 256 byte pieces, the
 * merged pieces (score = -merge index, so the encoder replays the merges in training order), then
 * the single characters kept by `characterCoverage` (scores below every merge). A character left
 * out is spelled with byte pieces at encode time, as are control characters (newline, tab).
 *
 * Like sentencepiece, words are whitespace-delimited with "▁" as their prefix, a merge never
 * crosses a change of script (Han / letters / digits / other), and no piece is longer than
 * `maxPieceLength` characters.
 */
import { TokenizerError } from "../errors";
import {
  decodeNormalizerSpec,
  decodeTrainerSpec,
  type ModelPiece,
  ModelType,
  PieceType,
  serializeModelProto,
} from "../model-proto";
import { ProtoWriter, WIRE_FIXED32, WIRE_VARINT } from "../protobuf";

export interface TrainBpeOptions {
  /** Total pieces, meta and byte pieces included. */
  vocabSize: number;
  /** Share of character occurrences the kept characters must cover (sentencepiece: 0.9995). */
  characterCoverage?: number;
  maxPieceLength?: number;
  /** Called every 200 merges. */
  onProgress?: (merges: number, target: number) => void;
}

export interface TrainBpeResult {
  /** The serialized `.model`. */
  bytes: Uint8Array;
  pieces: ModelPiece[];
  merges: number;
  characters: number;
}

const SPACE = "\u2581";
const META = 3;
const BYTES = 256;

type Script = 0 | 1 | 2 | 3 | 4;
/** Coarse script classes: merges stay inside one (sentencepiece's split_by_unicode_script). */
function scriptOf(ch: string): Script {
  if (ch === SPACE) return 0;
  if (/\p{Script=Han}/u.test(ch)) return 1;
  if (/\p{L}/u.test(ch)) return 2;
  if (/\p{N}/u.test(ch)) return 3;
  return 4;
}

/** Characters that always go through byte fallback (LLaMA spells "\n" as <0x0A>). */
function isControl(ch: string): boolean {
  const c = ch.codePointAt(0)!;
  return c < 0x20 || c === 0x7f;
}

/** sentencepiece's identity normalizer with add_dummy_prefix, whitespace kept: " " -> "▁". */
function toWords(line: string): string[] {
  const text = SPACE + line.replaceAll(" ", SPACE);
  // Split before each "▁" so a word is "▁" + its characters (a run of spaces gives lone "▁"s).
  return text.split(/(?=\u2581)/u).filter((w) => w.length > 0);
}

export function trainBpe(corpusLines: Iterable<string>, options: TrainBpeOptions): TrainBpeResult {
  const coverage = options.characterCoverage ?? 0.9995;
  const maxLen = options.maxPieceLength ?? 16;
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < META + BYTES + 1) {
    throw new TokenizerError(
      "TOKENIZER_BAD_ARGUMENT",
      `vocabSize ${options.vocabSize}: a byte-fallback BPE vocabulary needs at least ${META + BYTES + 1} pieces`,
    );
  }

  // 1. Count words and characters.
  const wordCounts = new Map<string, number>();
  const charCounts = new Map<string, number>();
  for (const line of corpusLines) {
    if (line.length === 0) continue;
    for (const w of toWords(line)) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
  }
  for (const [w, n] of wordCounts) {
    for (const ch of w) charCounts.set(ch, (charCounts.get(ch) ?? 0) + n);
  }

  // 2. Keep the most frequent characters up to the coverage (and the vocabulary size).
  const chars = [...charCounts.entries()]
    .filter(([ch]) => !isControl(ch))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const totalChars = chars.reduce((s, [, n]) => s + n, 0);
  const budget = options.vocabSize - META - BYTES;
  const kept: string[] = [];
  let covered = 0;
  for (const [ch, n] of chars) {
    if (kept.length >= budget || (covered / totalChars >= coverage && ch !== SPACE)) break;
    kept.push(ch);
    covered += n;
  }
  if (!kept.includes(SPACE) && charCounts.has(SPACE) && kept.length < budget) kept.push(SPACE);

  // 3. Symbols: ids into `symbols`; words become id sequences (unknown characters break words).
  const symbols: string[] = [...kept];
  const symbolId = new Map<string, number>(kept.map((s, i) => [s, i]));
  const symbolScript: Script[] = kept.map(scriptOf);
  const symbolLen: number[] = kept.map(() => 1);
  const words: Int32Array[] = [];
  const freqs: number[] = [];
  for (const [w, n] of wordCounts) {
    let run: number[] = [];
    const flush = () => {
      if (run.length > 1) {
        words.push(Int32Array.from(run));
        freqs.push(n);
      }
      run = [];
    };
    for (const ch of w) {
      const id = symbolId.get(ch);
      if (id === undefined) flush();
      else run.push(id);
    }
    flush();
  }

  // 4. Pair statistics, updated incrementally: count per pair and the words holding it.
  const KEY = 1 << 22;
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const mergeable = (a: number, b: number) =>
    symbolScript[b] !== 0 &&
    (symbolScript[a] === symbolScript[b] || symbolScript[a] === 0) &&
    symbolLen[a]! + symbolLen[b]! <= maxLen;
  const addWord = (wi: number, sign: number) => {
    const w = words[wi]!;
    const n = freqs[wi]! * sign;
    for (let i = 0; i + 1 < w.length; i++) {
      const a = w[i]!;
      const b = w[i + 1]!;
      if (!mergeable(a, b)) continue;
      const key = a * KEY + b;
      const c = (pairCount.get(key) ?? 0) + n;
      if (c === 0) pairCount.delete(key);
      else pairCount.set(key, c);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) {
          set = new Set();
          pairWords.set(key, set);
        }
        set.add(wi);
      }
    }
  };
  for (let wi = 0; wi < words.length; wi++) addWord(wi, 1);

  const mergeTarget = options.vocabSize - META - BYTES - kept.length;
  const merged: string[] = [];
  while (merged.length < mergeTarget) {
    let bestKey = -1;
    let bestCount = 0;
    for (const [key, c] of pairCount) {
      if (c > bestCount || (c === bestCount && key < bestKey)) {
        bestCount = c;
        bestKey = key;
      }
    }
    if (bestKey < 0 || bestCount < 2) break;
    const a = Math.floor(bestKey / KEY);
    const b = bestKey % KEY;
    const text = symbols[a]! + symbols[b]!;
    let id = symbolId.get(text);
    if (id === undefined) {
      id = symbols.length;
      symbols.push(text);
      symbolId.set(text, id);
      symbolScript.push(symbolScript[a] === 0 ? symbolScript[b]! : symbolScript[a]!);
      symbolLen.push(symbolLen[a]! + symbolLen[b]!);
      merged.push(text);
    }
    const holders = pairWords.get(bestKey) ?? new Set<number>();
    pairWords.delete(bestKey);
    for (const wi of holders) {
      const w = words[wi]!;
      addWord(wi, -1);
      const out: number[] = [];
      for (let i = 0; i < w.length; i++) {
        if (i + 1 < w.length && w[i] === a && w[i + 1] === b) {
          out.push(id);
          i++;
        } else out.push(w[i]!);
      }
      words[wi] = Int32Array.from(out);
      addWord(wi, 1);
    }
    pairCount.delete(bestKey);
    if (merged.length % 200 === 0) options.onProgress?.(merged.length, mergeTarget);
  }

  // 5. The model: meta, bytes, merges by order, then the characters by frequency.
  const pieces: ModelPiece[] = [
    { piece: "<unk>", score: 0, type: PieceType.UNKNOWN },
    { piece: "<s>", score: 0, type: PieceType.CONTROL },
    { piece: "</s>", score: 0, type: PieceType.CONTROL },
  ];
  for (let i = 0; i < BYTES; i++) {
    pieces.push({
      piece: `<0x${i.toString(16).toUpperCase().padStart(2, "0")}>`,
      score: 0,
      type: PieceType.BYTE,
    });
  }
  const seen = new Set<string>();
  merged.forEach((p, i) => {
    seen.add(p);
    pieces.push({ piece: p, score: -i, type: PieceType.NORMAL });
  });
  kept.forEach((ch, i) => {
    if (!seen.has(ch)) pieces.push({ piece: ch, score: -(merged.length + i), type: PieceType.NORMAL });
  });

  const bytes = serializeModelProto({
    pieces,
    trainerSpec: decodeTrainerSpec(trainerSpecBytes(pieces.length, coverage, maxLen)),
    normalizerSpec: decodeNormalizerSpec(normalizerSpecBytes()),
    unknownFields: [],
  });
  return { bytes, pieces, merges: merged.length, characters: kept.length };
}

function trainerSpecBytes(vocabSize: number, coverage: number, maxLen: number): Uint8Array {
  const w = new ProtoWriter();
  const varint = (field: number, v: number) => {
    w.tag(field, WIRE_VARINT);
    w.int32(v);
  };
  varint(3, ModelType.BPE); // model_type
  varint(4, vocabSize); // vocab_size
  w.tag(10, WIRE_FIXED32); // character_coverage
  w.float32(coverage);
  varint(20, maxLen); // max_sentencepiece_length
  varint(35, 1); // byte_fallback
  varint(40, 0); // unk_id
  varint(41, 1); // bos_id
  varint(42, 2); // eos_id
  varint(43, -1); // pad_id
  return w.finish();
}

function normalizerSpecBytes(): Uint8Array {
  const w = new ProtoWriter();
  w.string(1, "identity");
  w.tag(3, WIRE_VARINT); // add_dummy_prefix
  w.int32(1);
  w.tag(4, WIRE_VARINT); // remove_extra_whitespaces: off, as LLaMA's tokenizer
  w.int32(0);
  w.tag(5, WIRE_VARINT); // escape_whitespaces
  w.int32(1);
  return w.finish();
}
