/**
 * How many tokens a tokenizer folder defines, as `len(LlamaTokenizer)` counts them: the pieces
 * of tokenizer.model (protobuf field 1 of ModelProto, counted without decoding the rest) plus
 * added_tokens.json entries beyond them.
 */
import type { Directory } from "./directory";
import { fail } from "./errors";

export function countSentencePieces(model: Uint8Array, file: string): number {
  let pos = 0;
  let pieces = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= model.byteLength) fail("LORA_NO_TOKENIZER", `${file}: truncated protobuf`);
      const b = model[pos++]!;
      v += (b & 0x7f) * mul;
      if (!(b & 0x80)) return v;
      mul *= 128;
    }
    return fail("LORA_NO_TOKENIZER", `${file}: bad varint`);
  };
  while (pos < model.byteLength) {
    const key = varint();
    const wire = key % 8;
    const field = Math.floor(key / 8);
    if (wire === 2) {
      const len = varint();
      if (pos + len > model.byteLength)
        fail("LORA_NO_TOKENIZER", `${file}: truncated protobuf field ${field}`);
      if (field === 1) pieces++;
      pos += len;
    } else if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else fail("LORA_NO_TOKENIZER", `${file}: not a SentencePiece model (wire type ${wire})`);
  }
  if (pieces === 0) fail("LORA_NO_TOKENIZER", `${file}: no pieces; not a SentencePiece model`);
  return pieces;
}

export interface TokenizerInfo {
  /** tokenizer.model path inside the folder. */
  file: string;
  bytes: Uint8Array;
  pieces: number;
  /** len(tokenizer): pieces plus added tokens. */
  size: number;
  addedTokens: Record<string, number>;
}

export async function readTokenizerInfo(dir: Directory): Promise<TokenizerInfo | undefined> {
  const names = new Set(await dir.list());
  if (!names.has("tokenizer.model")) return undefined;
  const source = await dir.open("tokenizer.model");
  let bytes: Uint8Array;
  try {
    bytes = await source.read(0, source.size);
  } finally {
    await source.close?.();
  }
  const file = `${dir.path}/tokenizer.model`;
  const pieces = countSentencePieces(bytes, file);
  let addedTokens: Record<string, number> = {};
  if (names.has("added_tokens.json")) {
    try {
      addedTokens = JSON.parse(await dir.readText("added_tokens.json"));
    } catch {
      fail("LORA_NO_TOKENIZER", `${dir.path}/added_tokens.json is not JSON`);
    }
  }
  const extra = Object.values(addedTokens).filter((id) => typeof id === "number" && id >= pieces).length;
  return { file, bytes, pieces, size: pieces + extra, addedTokens };
}
