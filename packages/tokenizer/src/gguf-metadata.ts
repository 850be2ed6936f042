/**
 * The `tokenizer.ggml.*` GGUF keys, both ways. Declared locally (structurally the same as
 * @cllama/gguf-format's `GgufTypedValue`) so this package stays a leaf.
 */
import { TokenizerError } from "./errors";
import { PieceType } from "./model-proto";
import type { Vocabulary } from "./vocabulary";

export type GgufValueTypeName =
  | "UINT8"
  | "INT8"
  | "UINT16"
  | "INT16"
  | "UINT32"
  | "INT32"
  | "FLOAT32"
  | "BOOL"
  | "STRING"
  | "ARRAY"
  | "UINT64"
  | "INT64"
  | "FLOAT64";

export interface GgufTypedValue {
  type: GgufValueTypeName;
  value: unknown;
  itemType?: GgufValueTypeName;
}

export function vocabularyToGguf(
  vocab: Vocabulary,
  ids: { bosId: number; eosId: number; unkId: number; padId: number },
): Record<string, GgufTypedValue> {
  const meta: Record<string, GgufTypedValue> = {
    "tokenizer.ggml.model": { type: "STRING", value: "llama" },
    "tokenizer.ggml.pre": { type: "STRING", value: "default" },
    "tokenizer.ggml.tokens": { type: "ARRAY", itemType: "STRING", value: [...vocab.pieces] },
    "tokenizer.ggml.scores": { type: "ARRAY", itemType: "FLOAT32", value: Float32Array.from(vocab.scores) },
    "tokenizer.ggml.token_type": { type: "ARRAY", itemType: "INT32", value: Int32Array.from(vocab.types) },
  };
  if (ids.bosId >= 0) meta["tokenizer.ggml.bos_token_id"] = { type: "UINT32", value: ids.bosId };
  if (ids.eosId >= 0) meta["tokenizer.ggml.eos_token_id"] = { type: "UINT32", value: ids.eosId };
  if (ids.unkId >= 0) meta["tokenizer.ggml.unknown_token_id"] = { type: "UINT32", value: ids.unkId };
  if (ids.padId >= 0) meta["tokenizer.ggml.padding_token_id"] = { type: "UINT32", value: ids.padId };
  meta["tokenizer.ggml.add_bos_token"] = { type: "BOOL", value: vocab.addBosToken };
  meta["tokenizer.ggml.add_eos_token"] = { type: "BOOL", value: vocab.addEosToken };
  // llama.cpp assumes a space prefix for "llama" vocabularies; say so only when it is off.
  if (!vocab.addDummyPrefix) meta["tokenizer.ggml.add_space_prefix"] = { type: "BOOL", value: false };
  return meta;
}

/** Accept both GgufFile.metadata values and `{ type, value }` typed values. */
function plain(v: unknown): unknown {
  if (
    v &&
    typeof v === "object" &&
    "type" in v &&
    "value" in v &&
    typeof (v as GgufTypedValue).type === "string"
  ) {
    return (v as GgufTypedValue).value;
  }
  return v;
}

function bad(source: string, key: string, expected: string, found: unknown): never {
  const shown =
    found === undefined ? "nothing" : Array.isArray(found) ? `an array of ${found.length}` : typeof found;
  throw new TokenizerError(
    "TOKENIZER_BAD_METADATA",
    `${source}: ${key} should be ${expected}, found ${shown}`,
    "the GGUF file carries no usable LLaMA (SentencePiece) vocabulary",
  );
}

function numberArray(source: string, key: string, v: unknown, length: number): ArrayLike<number> | undefined {
  if (v === undefined) return undefined;
  const ok =
    (Array.isArray(v) && v.every((x) => typeof x === "number")) ||
    (ArrayBuffer.isView(v) &&
      !(v instanceof DataView) &&
      !(v instanceof BigInt64Array) &&
      !(v instanceof BigUint64Array));
  if (!ok) bad(source, key, "an array of numbers", v);
  const arr = v as ArrayLike<number>;
  if (arr.length !== length) bad(source, key, `an array of ${length} numbers (one per token)`, v);
  return arr;
}

function optionalId(source: string, key: string, v: unknown, n: number): number | undefined {
  if (v === undefined) return undefined;
  const id = typeof v === "bigint" ? Number(v) : v;
  if (typeof id !== "number" || !Number.isInteger(id)) bad(source, key, "an integer token id", v);
  if (id < 0 || id >= n) return -1; // llama.cpp treats out-of-range special ids as absent
  return id;
}

export function vocabularyFromGguf(metadata: Record<string, unknown>, source: string): Vocabulary {
  const get = (k: string) => plain(metadata[k]);
  const model = get("tokenizer.ggml.model");
  if (model !== "llama") {
    throw new TokenizerError(
      model === undefined ? "TOKENIZER_BAD_METADATA" : "TOKENIZER_UNSUPPORTED_MODEL",
      `${source}: tokenizer.ggml.model is ${model === undefined ? "missing" : JSON.stringify(model)}; only "llama" (SentencePiece BPE) is supported`,
    );
  }
  const tokens = get("tokenizer.ggml.tokens");
  if (!Array.isArray(tokens) || !tokens.every((t) => typeof t === "string") || tokens.length === 0) {
    bad(source, "tokenizer.ggml.tokens", "a non-empty array of strings", tokens);
  }
  const n = tokens.length;
  const scores = numberArray(source, "tokenizer.ggml.scores", get("tokenizer.ggml.scores"), n);
  const types = numberArray(source, "tokenizer.ggml.token_type", get("tokenizer.ggml.token_type"), n);
  const typeArr = types ? Int32Array.from(types) : new Int32Array(n).fill(PieceType.NORMAL);
  const flag = (k: string, dflt: boolean): boolean => {
    const v = get(k);
    if (v === undefined) return dflt;
    if (typeof v !== "boolean") bad(source, k, "a boolean", v);
    return v;
  };
  const unkId = optionalId(
    source,
    "tokenizer.ggml.unknown_token_id",
    get("tokenizer.ggml.unknown_token_id"),
    n,
  );
  return {
    source,
    pieces: tokens as string[],
    scores: scores ? Float32Array.from(scores) : new Float32Array(n),
    types: typeArr,
    unkId: unkId !== undefined && unkId >= 0 ? unkId : undefined,
    bosId: optionalId(source, "tokenizer.ggml.bos_token_id", get("tokenizer.ggml.bos_token_id"), n) ?? 1,
    eosId: optionalId(source, "tokenizer.ggml.eos_token_id", get("tokenizer.ggml.eos_token_id"), n) ?? 2,
    padId:
      optionalId(source, "tokenizer.ggml.padding_token_id", get("tokenizer.ggml.padding_token_id"), n) ?? -1,
    // llama.cpp's SPM tokenizer falls back to bytes whenever the vocabulary has byte pieces.
    byteFallback: typeArr.includes(PieceType.BYTE),
    addDummyPrefix: flag("tokenizer.ggml.add_space_prefix", true),
    removeExtraWhitespaces: false,
    escapeWhitespaces: true,
    treatWhitespaceAsSuffix: false,
    unkSurface: " \u2047 ",
    addBosToken: flag("tokenizer.ggml.add_bos_token", true),
    addEosToken: flag("tokenizer.ggml.add_eos_token", false),
  };
}
