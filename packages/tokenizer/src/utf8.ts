/**
 * UTF-8 decoding exactly as sentencepiece decodes byte pieces: a byte that does not start a
 * complete, valid sequence (overlong, surrogate, above U+10FFFF, truncated) becomes one U+FFFD
 * and decoding resumes at the next byte. (TextDecoder groups bytes differently, so it is not used.)
 */

export const REPLACEMENT = "\uFFFD";

const isTrail = (b: number) => (b & 0xc0) === 0x80;

/**
 * Length of the sequence at `bytes[start]`: > 0 a valid character of that many bytes, 0 when
 * more bytes are needed to decide (only if `final` is false), -1 invalid (emit U+FFFD, skip 1).
 */
export function utf8SequenceAt(bytes: ArrayLike<number>, start: number, end: number, final: boolean): number {
  const b0 = bytes[start]!;
  if (b0 < 0x80) return 1;
  let need: number;
  let min: number;
  if ((b0 & 0xe0) === 0xc0) {
    need = 2;
    min = 0x80;
  } else if ((b0 & 0xf0) === 0xe0) {
    need = 3;
    min = 0x800;
  } else if ((b0 & 0xf8) === 0xf0) {
    need = 4;
    min = 0x10000;
  } else return -1;
  const avail = Math.min(end - start, need);
  for (let i = 1; i < avail; i++) if (!isTrail(bytes[start + i]!)) return -1;
  if (avail < need) return final ? -1 : 0;
  let cp = b0 & (0x7f >> need);
  for (let i = 1; i < need; i++) cp = (cp << 6) | (bytes[start + i]! & 0x3f);
  if (cp < min || (cp >= 0xd800 && cp < 0xe000) || cp > 0x10ffff) return -1;
  return need;
}

function codePointAt(bytes: ArrayLike<number>, start: number, len: number): number {
  const b0 = bytes[start]!;
  if (len === 1) return b0;
  let cp = b0 & (0x7f >> len);
  for (let i = 1; i < len; i++) cp = (cp << 6) | (bytes[start + i]! & 0x3f);
  return cp;
}

/**
 * Decode `bytes[0..length)`; returns the text and how many bytes were consumed. With
 * `final` false, an incomplete sequence at the end stays unconsumed (for streaming).
 */
export function decodeUtf8Bytes(bytes: ArrayLike<number>, length: number, final: boolean): [string, number] {
  let out = "";
  let i = 0;
  while (i < length) {
    const n = utf8SequenceAt(bytes, i, length, final);
    if (n === 0) break;
    if (n < 0) {
      out += REPLACEMENT;
      i += 1;
    } else {
      out += String.fromCodePoint(codePointAt(bytes, i, n));
      i += n;
    }
  }
  return [out, i];
}

/** UTF-8 bytes of one code point (for byte fallback). */
export function utf8OfCodePoint(cp: number, out: number[]): void {
  if (cp < 0x80) out.push(cp);
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
}
