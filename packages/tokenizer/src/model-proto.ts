/**
 * SentencePiece `ModelProto` (sentencepiece_model.proto) read and write.
 *
 * Pieces are decoded into objects (they are what callers edit). `trainer_spec`,
 * `normalizer_spec`, `self_test_data` and `denormalizer_spec` are decoded for reading but kept as
 * their raw bytes, which is what gets written back: a read/write round trip is byte-exact even for
 * fields newer than this code. Unknown fields of the model and of each piece are kept verbatim.
 */
import { TokenizerError } from "./errors";
import { ProtoReader, ProtoWriter, type RawField, WIRE_FIXED32, WIRE_LEN, WIRE_VARINT } from "./protobuf";

/** `ModelProto.SentencePiece.Type`. */
export const PieceType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;
export type PieceType = (typeof PieceType)[keyof typeof PieceType];

/** `TrainerSpec.ModelType`. */
export const ModelType = { UNIGRAM: 1, BPE: 2, WORD: 3, CHAR: 4 } as const;
export type ModelType = (typeof ModelType)[keyof typeof ModelType];

export interface ModelPiece {
  piece: string;
  /** Absent when the file does not carry the field (reads as 0). */
  score?: number;
  /** Absent means NORMAL (protobuf does not write an unset field). */
  type?: number;
  unknownFields?: RawField[];
}

/** The trainer settings that matter for encoding, decoded from `raw` (proto2 defaults applied). */
export interface TrainerSpec {
  modelType: number;
  vocabSize: number;
  byteFallback: boolean;
  splitDigits: boolean;
  treatWhitespaceAsSuffix: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
  unkPiece: string;
  bosPiece: string;
  eosPiece: string;
  padPiece: string;
  unkSurface: string;
  userDefinedSymbols: string[];
  controlSymbols: string[];
  /** The serialized message (what `serializeModelProto` writes). */
  raw: Uint8Array;
}

export interface NormalizerSpec {
  name: string;
  precompiledCharsmap: Uint8Array;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
  raw: Uint8Array;
}

export interface ModelProto {
  pieces: ModelPiece[];
  trainerSpec?: TrainerSpec;
  normalizerSpec?: NormalizerSpec;
  /** `self_test_data`, raw message bytes. */
  selfTestData?: Uint8Array;
  denormalizerSpec?: NormalizerSpec;
  unknownFields: RawField[];
}

const DEFAULT_UNK_SURFACE = " \u2047 ";

function readPiece(r: ProtoReader, end: number, index: number): ModelPiece {
  const sub = r.sub(end, () => `${r.what}: piece ${index}`);
  const out: ModelPiece = { piece: "" };
  while (!sub.done()) {
    const tagStart = sub.pos;
    const [field, wire] = sub.tag();
    if (field === 1 && wire === WIRE_LEN) out.piece = sub.string("piece");
    else if (field === 2 && wire === WIRE_FIXED32) out.score = sub.float32("score");
    else if (field === 3 && wire === WIRE_VARINT) out.type = sub.int32("type");
    else {
      out.unknownFields ??= [];
      out.unknownFields.push({ field, bytes: sub.skip(wire, tagStart, field) });
    }
  }
  r.pos = end;
  return out;
}

export function decodeTrainerSpec(raw: Uint8Array, what = "trainer_spec"): TrainerSpec {
  const spec: TrainerSpec = {
    modelType: ModelType.UNIGRAM,
    vocabSize: 8000,
    byteFallback: false,
    splitDigits: false,
    treatWhitespaceAsSuffix: false,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    unkPiece: "<unk>",
    bosPiece: "<s>",
    eosPiece: "</s>",
    padPiece: "<pad>",
    unkSurface: DEFAULT_UNK_SURFACE,
    userDefinedSymbols: [],
    controlSymbols: [],
    raw,
  };
  const r = new ProtoReader(raw, what);
  while (!r.done()) {
    const tagStart = r.pos;
    const [field, wire] = r.tag();
    const isVarint = wire === WIRE_VARINT;
    const isLen = wire === WIRE_LEN;
    if (isVarint && field === 3) spec.modelType = r.int32("model_type");
    else if (isVarint && field === 4) spec.vocabSize = r.int32("vocab_size");
    else if (isVarint && field === 35) spec.byteFallback = r.varint("byte_fallback") !== 0;
    else if (isVarint && field === 25) spec.splitDigits = r.varint("split_digits") !== 0;
    else if (isVarint && field === 24)
      spec.treatWhitespaceAsSuffix = r.varint("treat_whitespace_as_suffix") !== 0;
    else if (isVarint && field === 40) spec.unkId = r.int32("unk_id");
    else if (isVarint && field === 41) spec.bosId = r.int32("bos_id");
    else if (isVarint && field === 42) spec.eosId = r.int32("eos_id");
    else if (isVarint && field === 43) spec.padId = r.int32("pad_id");
    else if (isLen && field === 45) spec.unkPiece = r.string("unk_piece");
    else if (isLen && field === 46) spec.bosPiece = r.string("bos_piece");
    else if (isLen && field === 47) spec.eosPiece = r.string("eos_piece");
    else if (isLen && field === 48) spec.padPiece = r.string("pad_piece");
    else if (isLen && field === 44) spec.unkSurface = r.string("unk_surface");
    else if (isLen && field === 30) spec.controlSymbols.push(r.string("control_symbols"));
    else if (isLen && field === 31) spec.userDefinedSymbols.push(r.string("user_defined_symbols"));
    else r.skip(wire, tagStart, field);
  }
  return spec;
}

export function decodeNormalizerSpec(raw: Uint8Array, what = "normalizer_spec"): NormalizerSpec {
  const spec: NormalizerSpec = {
    name: "",
    precompiledCharsmap: new Uint8Array(0),
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    escapeWhitespaces: true,
    raw,
  };
  const r = new ProtoReader(raw, what);
  while (!r.done()) {
    const tagStart = r.pos;
    const [field, wire] = r.tag();
    if (wire === WIRE_LEN && field === 1) spec.name = r.string("name");
    else if (wire === WIRE_LEN && field === 2) spec.precompiledCharsmap = r.bytes("precompiled_charsmap");
    else if (wire === WIRE_VARINT && field === 3) spec.addDummyPrefix = r.varint("add_dummy_prefix") !== 0;
    else if (wire === WIRE_VARINT && field === 4)
      spec.removeExtraWhitespaces = r.varint("remove_extra_whitespaces") !== 0;
    else if (wire === WIRE_VARINT && field === 5)
      spec.escapeWhitespaces = r.varint("escape_whitespaces") !== 0;
    else r.skip(wire, tagStart, field);
  }
  return spec;
}

/**
 * Parse a `.model` file. Throws `TokenizerError` (TOKENIZER_TRUNCATED / TOKENIZER_CORRUPT /
 * TOKENIZER_NOT_SENTENCEPIECE) naming the byte offset where the file stops making sense.
 */
export function parseModelProto(input: Uint8Array | ArrayBuffer, name = "model"): ModelProto {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const r = new ProtoReader(bytes, name);
  const model: ModelProto = { pieces: [], unknownFields: [] };
  while (!r.done()) {
    const tagStart = r.pos;
    const [field, wire] = r.tag();
    if (field >= 1 && field <= 5) {
      r.expectWire(
        field,
        wire,
        WIRE_LEN,
        ["pieces", "trainer_spec", "normalizer_spec", "self_test_data", "denormalizer_spec"][field - 1]!,
      );
      const len = r.varint("a message length");
      if (len > r.end - r.pos) {
        throw new TokenizerError(
          "TOKENIZER_TRUNCATED",
          `${name}: truncated: field ${field} at byte ${tagStart} declares ${len} bytes, ${r.end - r.pos} remain`,
          "the .model file is incomplete; download it again",
        );
      }
      const end = r.pos + len;
      if (field === 1) model.pieces.push(readPiece(r, end, model.pieces.length));
      else {
        const payload = bytes.slice(r.pos, end);
        r.pos = end;
        if (field === 2) model.trainerSpec = decodeTrainerSpec(payload, `${name}: trainer_spec`);
        else if (field === 3)
          model.normalizerSpec = decodeNormalizerSpec(payload, `${name}: normalizer_spec`);
        else if (field === 4) model.selfTestData = payload;
        else model.denormalizerSpec = decodeNormalizerSpec(payload, `${name}: denormalizer_spec`);
      }
    } else {
      model.unknownFields.push({ field, bytes: r.skip(wire, tagStart, field) });
    }
  }
  if (model.pieces.length === 0) {
    throw new TokenizerError(
      "TOKENIZER_NOT_SENTENCEPIECE",
      `${name}: no pieces found (${bytes.length} bytes): not a SentencePiece model`,
      "pass a SentencePiece tokenizer.model file",
    );
  }
  return model;
}

/** Unknown fields go where protobuf would put them: merged by field number after known ones. */
function writeWithUnknown(
  w: ProtoWriter,
  known: [number, () => void][],
  unknown: RawField[] | undefined,
): void {
  const all: [number, () => void][] = [...known];
  for (const f of unknown ?? []) all.push([f.field, () => w.raw(f.bytes)]);
  all.sort((a, b) => a[0] - b[0]);
  for (const [, emit] of all) emit();
}

function serializePiece(p: ModelPiece): Uint8Array {
  const w = new ProtoWriter();
  const known: [number, () => void][] = [[1, () => w.string(1, p.piece)]];
  if (p.score !== undefined)
    known.push([
      2,
      () => {
        w.tag(2, WIRE_FIXED32);
        w.float32(p.score!);
      },
    ]);
  if (p.type !== undefined)
    known.push([
      3,
      () => {
        w.tag(3, WIRE_VARINT);
        w.int32(p.type!);
      },
    ]);
  writeWithUnknown(w, known, p.unknownFields);
  return w.finish();
}

export function serializeModelProto(model: ModelProto): Uint8Array {
  const w = new ProtoWriter();
  const known: [number, () => void][] = [
    [
      1,
      () => {
        for (const p of model.pieces) w.lengthDelimited(1, serializePiece(p));
      },
    ],
  ];
  if (model.trainerSpec) known.push([2, () => w.lengthDelimited(2, model.trainerSpec!.raw)]);
  if (model.normalizerSpec) known.push([3, () => w.lengthDelimited(3, model.normalizerSpec!.raw)]);
  if (model.selfTestData) known.push([4, () => w.lengthDelimited(4, model.selfTestData!)]);
  if (model.denormalizerSpec) known.push([5, () => w.lengthDelimited(5, model.denormalizerSpec!.raw)]);
  writeWithUnknown(w, known, model.unknownFields);
  return w.finish();
}
