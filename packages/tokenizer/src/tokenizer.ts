/**
 * `SentencePieceTokenizer`: sentencepiece's BPE encoding and decoding (byte fallback included),
 * built from a `.model` file or from a GGUF's `tokenizer.ggml.*` metadata.
 */
import { type BpeVocab, bpeMerge, PairTable } from "./bpe";
import { TokenizerError } from "./errors";
import { type GgufTypedValue, vocabularyFromGguf, vocabularyToGguf } from "./gguf-metadata";
import { ModelType, PieceType, parseModelProto } from "./model-proto";
import { createStreamDecoder, type StreamDecoder } from "./stream-decoder";
import { utf8OfCodePoint } from "./utf8";
import type { Vocabulary } from "./vocabulary";

export interface EncodeOptions {
  /** Prepend the BOS id (default false, like sentencepiece). */
  bos?: boolean;
  /** Append the EOS id (default false). */
  eos?: boolean;
  /**
   * Recognise control pieces (`<s>`, `</s>`, `<unk>`...) written in the text and emit their ids.
   * The text between them is encoded as separate pieces of text (each with its dummy prefix), as
   * llama.cpp and Hugging Face's slow LLaMA tokenizer do. Default false: such text is plain text.
   */
  special?: boolean;
}

const SPACE_SYMBOL = 0x2581; // ▁
const SPACE_SYMBOL_STR = "\u2581";

export class SentencePieceTokenizer {
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly unkId: number;
  readonly padId: number;
  /** Whether a BOS is conventionally added (GGUF `add_bos_token`); `encode` still needs `bos: true`. */
  readonly addBosToken: boolean;
  readonly addEosToken: boolean;
  readonly vocabulary: Vocabulary;

  /** Pieces that BPE may produce (NORMAL, USER_DEFINED, UNUSED): sentencepiece's `pieces_`. */
  private readonly pieceIds = new Map<string, number>();
  /** CONTROL, UNKNOWN and BYTE pieces: sentencepiece's `reserved_id_map_`. */
  private readonly reservedIds = new Map<string, number>();
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly byteOfId: Int16Array;
  private readonly userDefined: Map<number, string[]> | undefined;
  private bpe: BpeVocab | undefined;
  private specialPattern: RegExp | undefined | null;
  private readonly decodedPieces: string[];

  private constructor(vocab: Vocabulary) {
    this.vocabulary = vocab;
    const { pieces, types } = vocab;
    const n = pieces.length;
    this.vocabSize = n;
    this.byteOfId = new Int16Array(n).fill(-1);
    let unkId = -1;
    const userDefined = new Map<number, string[]>();
    for (let id = 0; id < n; id++) {
      const piece = pieces[id]!;
      const type = types[id]!;
      if (type < 1 || type > 6) {
        throw new TokenizerError(
          "TOKENIZER_CORRUPT",
          `${vocab.source}: piece ${id} ${JSON.stringify(piece)} has type ${type} (expected 1..6)`,
        );
      }
      const normal =
        type === PieceType.NORMAL || type === PieceType.USER_DEFINED || type === PieceType.UNUSED;
      const map = normal ? this.pieceIds : this.reservedIds;
      if (map.has(piece)) {
        throw new TokenizerError(
          "TOKENIZER_DUPLICATE_PIECE",
          `${vocab.source}: piece ${JSON.stringify(piece)} is defined twice (ids ${map.get(piece)} and ${id})`,
          "sentencepiece refuses such a model too",
        );
      }
      map.set(piece, id);
      if (type === PieceType.UNKNOWN) unkId = id;
      if (type === PieceType.USER_DEFINED && piece.length > 0) {
        const first = piece.codePointAt(0)!;
        const list = userDefined.get(first) ?? [];
        list.push(piece);
        userDefined.set(first, list);
      }
      if (type === PieceType.BYTE) {
        const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
        if (!m) {
          throw new TokenizerError(
            "TOKENIZER_CORRUPT",
            `${vocab.source}: byte piece ${id} is ${JSON.stringify(piece)}, expected <0xXX>`,
          );
        }
        const b = Number.parseInt(m[1]!, 16);
        this.byteIds[b] = id;
        this.byteOfId[id] = b;
      }
    }
    if (vocab.unkId !== undefined && vocab.unkId >= 0 && vocab.unkId < n) unkId = vocab.unkId;
    if (unkId < 0) {
      throw new TokenizerError(
        "TOKENIZER_CORRUPT",
        `${vocab.source}: no <unk> piece (no piece of type UNKNOWN)`,
        "sentencepiece requires an unknown piece",
      );
    }
    for (const list of userDefined.values()) list.sort((a, b) => b.length - a.length);
    this.userDefined = userDefined.size > 0 ? userDefined : undefined;
    this.unkId = unkId;
    const inRange = (id: number | undefined) => (id !== undefined && id >= 0 && id < n ? id : -1);
    this.bosId = inRange(vocab.bosId);
    this.eosId = inRange(vocab.eosId);
    this.padId = inRange(vocab.padId);
    this.addBosToken = vocab.addBosToken;
    this.addEosToken = vocab.addEosToken;
    this.decodedPieces = pieces.map((p) =>
      p.includes(SPACE_SYMBOL_STR) ? p.replaceAll(SPACE_SYMBOL_STR, " ") : p,
    );
  }

  /** Build from a SentencePiece `.model` file (BPE models; unigram models are refused). */
  static fromModelProto(bytes: Uint8Array | ArrayBuffer, name = "tokenizer.model"): SentencePieceTokenizer {
    const model = parseModelProto(bytes, name);
    const trainer = model.trainerSpec;
    const normalizer = model.normalizerSpec;
    const modelType = trainer?.modelType ?? ModelType.UNIGRAM;
    if (modelType !== ModelType.BPE) {
      const typeName = { 1: "unigram", 2: "BPE", 3: "word", 4: "char" }[modelType] ?? `type ${modelType}`;
      throw new TokenizerError(
        "TOKENIZER_UNSUPPORTED_MODEL",
        `${name}: a ${typeName} SentencePiece model (trainer_spec.model_type = ${modelType}); only BPE models (LLaMA's kind) can encode`,
        "unigram models such as chinese_sp.model can still be read, written and merged (cllama merge-vocab)",
      );
    }
    if (
      normalizer &&
      (normalizer.precompiledCharsmap.length > 0 || (normalizer.name && normalizer.name !== "identity"))
    ) {
      throw new TokenizerError(
        "TOKENIZER_UNSUPPORTED_MODEL",
        `${name}: normalizer "${normalizer.name}" with a ${normalizer.precompiledCharsmap.length}-byte charsmap; only the identity normalizer is supported`,
      );
    }
    const vocab: Vocabulary = {
      source: name,
      pieces: model.pieces.map((p) => p.piece),
      scores: Float32Array.from(model.pieces, (p) => p.score ?? 0),
      types: Int32Array.from(model.pieces, (p) => p.type ?? PieceType.NORMAL),
      unkId: undefined,
      bosId: trainer?.bosId ?? 1,
      eosId: trainer?.eosId ?? 2,
      padId: trainer?.padId ?? -1,
      byteFallback: trainer?.byteFallback ?? false,
      addDummyPrefix: normalizer?.addDummyPrefix ?? true,
      removeExtraWhitespaces: normalizer?.removeExtraWhitespaces ?? true,
      escapeWhitespaces: normalizer?.escapeWhitespaces ?? true,
      treatWhitespaceAsSuffix: trainer?.treatWhitespaceAsSuffix ?? false,
      unkSurface: trainer?.unkSurface ?? " \u2047 ",
      addBosToken: true,
      addEosToken: false,
    };
    if (vocab.padId < 0) vocab.padId = fallbackPadId(vocab.pieces);
    return new SentencePieceTokenizer(vocab);
  }

  /** Build from GGUF `tokenizer.ggml.*` metadata (plain values or `{ type, value }` typed values). */
  static fromGgufMetadata(metadata: Record<string, unknown>, name = "GGUF metadata"): SentencePieceTokenizer {
    return new SentencePieceTokenizer(vocabularyFromGguf(metadata, name));
  }

  /** Build from a vocabulary description (tests, tools). */
  static fromVocabulary(vocab: Vocabulary): SentencePieceTokenizer {
    return new SentencePieceTokenizer(vocab);
  }

  /** The `tokenizer.ggml.*` keys llama.cpp's converter writes for this vocabulary. */
  toGgufMetadata(): Record<string, GgufTypedValue> {
    return vocabularyToGguf(this.vocabulary, {
      bosId: this.bosId,
      eosId: this.eosId,
      unkId: this.unkId,
      padId: this.padId,
    });
  }

  idToPiece(id: number): string {
    this.checkId(id);
    return this.vocabulary.pieces[id]!;
  }

  /** Like sentencepiece: the id of `piece`, or the unknown id when there is no such piece. */
  pieceToId(piece: string): number {
    return this.reservedIds.get(piece) ?? this.pieceIds.get(piece) ?? this.unkId;
  }

  /** Whether `piece` is in the vocabulary. */
  hasPiece(piece: string): boolean {
    return this.reservedIds.has(piece) || this.pieceIds.has(piece);
  }

  pieceType(id: number): number {
    this.checkId(id);
    return this.vocabulary.types[id]!;
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new TokenizerError(
        "TOKENIZER_ID_OUT_OF_RANGE",
        `token id ${id} is out of range: the vocabulary has ${this.vocabSize} pieces (0..${this.vocabSize - 1})`,
        "the ids were made with another tokenizer (LLaMA has 32000 pieces, Chinese-LLaMA 49953, Chinese-Alpaca 49954)",
      );
    }
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== "string") {
      throw new TokenizerError("TOKENIZER_BAD_ARGUMENT", `encode expects a string, got ${typeof text}`);
    }
    const out: number[] = [];
    if (options.bos && this.bosId >= 0) out.push(this.bosId);
    if (options.special) {
      const pattern = this.specialTokenPattern();
      let last = 0;
      if (pattern) {
        pattern.lastIndex = 0;
        for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
          if (m.index > last) this.encodePlain(text.slice(last, m.index), out);
          out.push(this.reservedIds.get(m[0])!);
          last = m.index + m[0].length;
        }
      }
      if (last < text.length) this.encodePlain(text.slice(last), out);
    } else {
      this.encodePlain(text, out);
    }
    if (options.eos && this.eosId >= 0) out.push(this.eosId);
    return out;
  }

  /** Encode to piece strings (sentencepiece's `encode(out_type=str)`). */
  encodeToPieces(text: string, options: EncodeOptions = {}): string[] {
    return this.encode(text, options).map((id) => this.vocabulary.pieces[id]!);
  }

  private specialTokenPattern(): RegExp | undefined {
    if (this.specialPattern === undefined) {
      const specials: string[] = [];
      const { pieces, types } = this.vocabulary;
      for (let id = 0; id < pieces.length; id++) {
        const t = types[id];
        if ((t === PieceType.CONTROL || t === PieceType.UNKNOWN) && pieces[id]!.length > 0)
          specials.push(pieces[id]!);
      }
      specials.sort((a, b) => b.length - a.length);
      this.specialPattern =
        specials.length > 0
          ? new RegExp(specials.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g")
          : null;
    }
    return this.specialPattern ?? undefined;
  }

  private buildBpe(): BpeVocab {
    const { pieces, types, scores } = this.vocabulary;
    const n = pieces.length;
    const mergeable = new Uint8Array(n);
    const unused = new Uint8Array(n);
    const bmpCharId = new Int32Array(0x10000).fill(-1);
    const astralCharId = new Map<number, number>();
    for (let id = 0; id < n; id++) {
      const t = types[id];
      if (t === PieceType.NORMAL || t === PieceType.USER_DEFINED || t === PieceType.UNUSED) mergeable[id] = 1;
      if (t === PieceType.UNUSED) unused[id] = 1;
    }
    for (const [piece, id] of this.pieceIds) {
      const cp = piece.codePointAt(0);
      if (cp === undefined || piece.length !== (cp > 0xffff ? 2 : 1)) continue;
      if (cp < 0x10000) bmpCharId[cp] = id;
      else astralCharId.set(cp, id);
    }
    // Every way a mergeable piece splits into two symbols (each a piece or one character): the
    // only pairs that can ever merge. Anything else answers NO_PIECE without building a string.
    let splits = 0;
    for (const piece of this.pieceIds.keys()) splits += piece.length - 1;
    const pairs = new PairTable(splits);
    const keyOf = (s: string): number => {
      const id = this.pieceIds.get(s);
      if (id !== undefined) return id;
      const cp = s.codePointAt(0)!;
      return s.length === (cp > 0xffff ? 2 : 1) ? n + cp : -1;
    };
    for (const [piece, id] of this.pieceIds) {
      for (let i = 1; i < piece.length; i++) {
        const c = piece.charCodeAt(i);
        if (c >= 0xdc00 && c < 0xe000) continue; // never split a surrogate pair
        const a = keyOf(piece.slice(0, i));
        if (a < 0) continue;
        const b = keyOf(piece.slice(i));
        if (b >= 0) pairs.set(a, b, id);
      }
    }
    return {
      vocabSize: n,
      scores: Float32Array.from(scores),
      mergeable,
      unused,
      bmpCharId,
      astralCharId,
      pairs,
    };
  }

  private symbolKeys = new Int32Array(256);
  private symbolFrozen = new Uint8Array(256);

  /** sentencepiece's normalizer (identity rules) + BPE + byte fallback, appending ids to `out`. */
  private encodePlain(input: string, out: number[]): void {
    const voc = this.vocabulary;
    let text = input;
    if (voc.removeExtraWhitespaces) text = text.replace(/ +/g, " ").replace(/^ | $/g, "");
    if (text.length === 0) return;
    this.bpe ??= this.buildBpe();
    const bpe = this.bpe;
    const n = this.vocabSize;
    const maxSymbols = text.length + 1;
    if (this.symbolKeys.length < maxSymbols) {
      this.symbolKeys = new Int32Array(maxSymbols * 2);
      this.symbolFrozen = new Uint8Array(maxSymbols * 2);
    }
    const keys = this.symbolKeys;
    const frozen = this.userDefined ? this.symbolFrozen : undefined;
    const { bmpCharId, astralCharId } = bpe;
    const spaceKey = this.escapeSpaceKey(bpe);
    let count = 0;
    if (voc.addDummyPrefix && !voc.treatWhitespaceAsSuffix) {
      if (frozen) frozen[count] = 0;
      keys[count++] = spaceKey;
    }
    const len = text.length;
    for (let i = 0; i < len; ) {
      let cp = text.charCodeAt(i);
      if (this.userDefined) {
        const hit = this.matchUserDefined(text, i);
        if (hit) {
          frozen![count] = 1;
          keys[count++] = this.pieceIds.get(hit)!;
          i += hit.length;
          continue;
        }
        frozen![count] = 0;
      }
      let width = 1;
      if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < len) {
        const lo = text.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo < 0xe000) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          width = 2;
        }
      }
      if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd; // a lone surrogate is what UTF-8 encoding makes U+FFFD
      i += width;
      if (cp === 0x20 && voc.escapeWhitespaces) {
        keys[count++] = spaceKey;
        continue;
      }
      let id: number;
      if (cp < 0x10000) id = bmpCharId[cp]!;
      else id = astralCharId.get(cp) ?? -1;
      keys[count++] = id >= 0 ? id : n + cp;
    }
    if (voc.addDummyPrefix && voc.treatWhitespaceAsSuffix) {
      if (frozen) frozen[count] = 0;
      keys[count++] = spaceKey;
    }
    const unkId = this.unkId;
    const byteFallback = voc.byteFallback;
    const byteIds = this.byteIds;
    const bytes: number[] = [];
    let lastWasUnk = false;
    const [finalKeys, finalCount] = bpeMerge(bpe, keys, frozen, count);
    for (let i = 0; i < finalCount; i++) {
      const key = finalKeys[i]!;
      if (key < n) {
        out.push(key);
        lastWasUnk = false;
        continue;
      }
      const cp = key - n;
      const reserved = this.reservedIds.get(String.fromCodePoint(cp));
      if (reserved !== undefined && reserved !== unkId) {
        // a lone character that is a control/byte piece: sentencepiece's PieceToId finds it
        out.push(reserved);
        lastWasUnk = false;
      } else if (byteFallback) {
        bytes.length = 0;
        utf8OfCodePoint(cp, bytes);
        for (const b of bytes) out.push(byteIds[b]! >= 0 ? byteIds[b]! : unkId);
        lastWasUnk = false;
      } else if (!lastWasUnk) {
        // sentencepiece merges a run of unknown pieces into one <unk>
        out.push(unkId);
        lastWasUnk = true;
      }
    }
  }

  private escapeSpaceKey(bpe: BpeVocab): number {
    const id = bpe.bmpCharId[SPACE_SYMBOL]!;
    return id >= 0 ? id : this.vocabSize + SPACE_SYMBOL;
  }

  private matchUserDefined(text: string, at: number): string | undefined {
    const cp = text.codePointAt(at)!;
    const list = this.userDefined!.get(cp);
    if (!list) return undefined;
    for (const piece of list) if (text.startsWith(piece, at)) return piece;
    return undefined;
  }

  /** sentencepiece's `decode`: byte pieces to UTF-8, `▁` to space, the dummy-prefix space dropped. */
  decode(ids: ArrayLike<number>): string {
    const stream = this.createStreamDecoder();
    let out = "";
    for (let i = 0; i < ids.length; i++) out += stream.push(ids[i]!);
    return out + stream.flush();
  }

  /**
   * Decoder for ids that arrive one at a time: `push` returns only whole characters (bytes of an
   * incomplete UTF-8 sequence wait for the rest), `flush` returns what is left. The concatenated
   * output equals `decode(allIds)`.
   */
  createStreamDecoder(): StreamDecoder {
    return createStreamDecoder({
      checkId: (id) => this.checkId(id),
      types: this.vocabulary.types,
      byteOfId: this.byteOfId,
      decodedPieces: this.decodedPieces,
      stripLeadingSpace: this.vocabulary.addDummyPrefix || this.vocabulary.removeExtraWhitespaces,
      removeExtraWhitespaces: this.vocabulary.removeExtraWhitespaces,
      unkSurface: this.vocabulary.unkSurface,
      unkId: this.unkId,
      pieces: this.vocabulary.pieces,
    });
  }
}

/** When the trainer spec names no pad id: the `<pad>` / `[PAD]` piece that Chinese models append. */
function fallbackPadId(pieces: string[]): number {
  for (const name of ["<pad>", "[PAD]"]) {
    const id = pieces.indexOf(name);
    if (id >= 0) return id;
  }
  return -1;
}

export { SentencePieceTokenizer as Tokenizer };
