/**
 * Incremental version of sentencepiece's decode. Bytes from byte pieces are held until they form
 * a whole character, so a chat printing token by token never shows U+FFFD for valid text; the
 * concatenation of everything `push` and `flush` return equals the one-shot decode.
 */
import { PieceType } from "./model-proto";
import { decodeUtf8Bytes } from "./utf8";

export interface StreamDecoder {
  /** Text made complete by this id (possibly ""). Throws TokenizerError for an id out of range. */
  push(id: number): string;
  /** Whatever is still held (an incomplete UTF-8 sequence becomes U+FFFD per byte). */
  flush(): string;
}

export interface StreamDecoderTables {
  checkId(id: number): void;
  types: Int32Array;
  byteOfId: Int16Array;
  pieces: string[];
  /** Pieces with `▁` already replaced by spaces. */
  decodedPieces: string[];
  stripLeadingSpace: boolean;
  removeExtraWhitespaces: boolean;
  unkSurface: string;
  unkId: number;
}

export function createStreamDecoder(t: StreamDecoderTables): StreamDecoder {
  // sentencepiece's `is_bos_ws`: the first visible piece loses the dummy-prefix space.
  let atStart = true;
  const pending: number[] = [];

  const drain = (final: boolean): string => {
    if (pending.length === 0) return "";
    const [text, used] = decodeUtf8Bytes(pending, pending.length, final);
    pending.splice(0, used);
    if (text.length > 0) atStart = false;
    return text;
  };

  return {
    push(id: number): string {
      t.checkId(id);
      const type = t.types[id]!;
      if (type === PieceType.BYTE) {
        pending.push(t.byteOfId[id]!);
        return drain(false);
      }
      const held = drain(true);
      if (type === PieceType.CONTROL) return held;
      if (type === PieceType.UNKNOWN) {
        atStart = false;
        return held + t.unkSurface;
      }
      let surface = t.decodedPieces[id]!;
      let consumedSpace = false;
      if (atStart && t.stripLeadingSpace && t.pieces[id]!.startsWith("\u2581")) {
        surface = surface.slice(1);
        consumedSpace = !t.removeExtraWhitespaces;
      }
      if (atStart && (surface.length > 0 || consumedSpace)) atStart = false;
      return held + surface;
    },
    flush(): string {
      return drain(true);
    },
  };
}
