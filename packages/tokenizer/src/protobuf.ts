/**
 * The few protobuf wire-format primitives a SentencePiece `.model` needs (proto2: varints,
 * 32-bit floats, length-delimited strings and sub-messages). Unknown fields are captured as raw
 * bytes (tag included) so a read/write round trip can re-emit them unchanged.
 */
import { TokenizerError } from "./errors";

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** One field this codec does not model, kept verbatim (tag + payload). */
export interface RawField {
  field: number;
  bytes: Uint8Array;
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** Short strings (piece texts) decode faster by hand than through TextDecoder. */
function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  if (end - start > 64) return utf8Decoder.decode(buf.subarray(start, end));
  let out = "";
  for (let i = start; i < end; ) {
    const b0 = buf[i]!;
    if (b0 < 0x80) {
      out += String.fromCharCode(b0);
      i++;
      continue;
    }
    let need = 0;
    let cp = 0;
    if ((b0 & 0xe0) === 0xc0) {
      need = 1;
      cp = b0 & 0x1f;
    } else if ((b0 & 0xf0) === 0xe0) {
      need = 2;
      cp = b0 & 0x0f;
    } else if ((b0 & 0xf8) === 0xf0) {
      need = 3;
      cp = b0 & 0x07;
    } else return utf8Decoder.decode(buf.subarray(start, end));
    if (i + need >= end) return utf8Decoder.decode(buf.subarray(start, end));
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k]!;
      if ((c & 0xc0) !== 0x80) return utf8Decoder.decode(buf.subarray(start, end));
      cp = (cp << 6) | (c & 0x3f);
    }
    const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
      return utf8Decoder.decode(buf.subarray(start, end));
    out += String.fromCodePoint(cp);
    i += need + 1;
  }
  return out;
}

export class ProtoReader {
  pos: number;
  private readonly view: DataView;
  private whatText: string | (() => string);
  constructor(
    readonly buf: Uint8Array,
    what: string | (() => string),
    start = 0,
    readonly end = buf.length,
    view?: DataView,
  ) {
    this.pos = start;
    this.whatText = what;
    this.view = view ?? new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** What is being read, for messages (computed only when an error needs it). */
  get what(): string {
    if (typeof this.whatText === "function") this.whatText = this.whatText();
    return this.whatText;
  }

  /** A reader over `[pos, end)` of the same buffer (an embedded message). */
  sub(end: number, what: () => string): ProtoReader {
    return new ProtoReader(this.buf, what, this.pos, end, this.view);
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  private truncated(field: string): never {
    throw new TokenizerError(
      "TOKENIZER_TRUNCATED",
      `${this.what}: truncated at byte ${this.pos} while reading ${field} (message ends at ${this.end})`,
      "the .model file is incomplete; download it again",
    );
  }

  /** Varint as a JS number; values above 2^53 are rejected (no SentencePiece field is that big). */
  varint(field = "a varint"): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.truncated(field);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) {
          throw new TokenizerError("TOKENIZER_CORRUPT", `${this.what}: varint too large at byte ${this.pos}`);
        }
        return result;
      }
      scale *= 128;
    }
    throw new TokenizerError(
      "TOKENIZER_CORRUPT",
      `${this.what}: varint longer than 10 bytes at byte ${this.pos}`,
    );
  }

  /** int32 as protobuf writes it: negative numbers are 10-byte varints (two's complement 64). */
  int32(field: string): number {
    const start = this.pos;
    let lo = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.truncated(field);
      const b = this.buf[this.pos++]!;
      if (shift < 32) lo |= (b & 0x7f) << shift;
      shift += 7;
      if (b < 0x80) return lo | 0;
    }
    this.pos = start;
    throw new TokenizerError("TOKENIZER_CORRUPT", `${this.what}: bad varint for ${field} at byte ${start}`);
  }

  float32(field: string): number {
    if (this.pos + 4 > this.end) this.truncated(field);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  bytes(field: string): Uint8Array {
    const len = this.varint(`the length of ${field}`);
    if (len > this.end - this.pos) this.truncated(field);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(field: string): string {
    const len = this.varint(`the length of ${field}`);
    if (len > this.end - this.pos) this.truncated(field);
    const start = this.pos;
    this.pos += len;
    return decodeUtf8(this.buf, start, this.pos);
  }

  /** Skip a field's payload; returns the raw bytes of the whole field starting at `tagStart`. */
  skip(wire: number, tagStart: number, field: number): Uint8Array {
    switch (wire) {
      case WIRE_VARINT:
        this.varintRaw(field);
        break;
      case WIRE_FIXED64:
        if (this.pos + 8 > this.end) this.truncated(`field ${field}`);
        this.pos += 8;
        break;
      case WIRE_LEN:
        this.bytes(`field ${field}`);
        break;
      case WIRE_FIXED32:
        if (this.pos + 4 > this.end) this.truncated(`field ${field}`);
        this.pos += 4;
        break;
      default:
        throw new TokenizerError(
          "TOKENIZER_CORRUPT",
          `${this.what}: field ${field} has wire type ${wire} at byte ${tagStart} (expected 0, 1, 2 or 5)`,
          "this is not a SentencePiece .model file, or it is corrupt",
        );
    }
    return this.buf.slice(tagStart, this.pos);
  }

  private varintRaw(field: number): void {
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.truncated(`field ${field}`);
      if (this.buf[this.pos++]! < 0x80) return;
    }
    throw new TokenizerError(
      "TOKENIZER_CORRUPT",
      `${this.what}: varint longer than 10 bytes at byte ${this.pos}`,
    );
  }

  /** Read a tag; returns [field number, wire type]. */
  tag(): [number, number] {
    const start = this.pos;
    const t = this.varint("a field tag");
    const field = Math.floor(t / 8);
    if (field === 0) {
      throw new TokenizerError(
        "TOKENIZER_CORRUPT",
        `${this.what}: field number 0 at byte ${start}`,
        "this is not a SentencePiece .model file, or it is corrupt",
      );
    }
    return [field, t & 7];
  }

  expectWire(field: number, wire: number, expected: number, name: string): void {
    if (wire !== expected) {
      throw new TokenizerError(
        "TOKENIZER_CORRUPT",
        `${this.what}: field ${field} (${name}) has wire type ${wire}, expected ${expected} (before byte ${this.pos})`,
        "this is not a SentencePiece .model file, or it is corrupt",
      );
    }
  }
}

/** Growable byte sink for serialization. */
export class ProtoWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  varint(value: number): void {
    this.ensure(10);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.length++] = v;
  }

  /** int32 the protobuf way: negative values sign-extend to 64 bits (10 bytes). */
  int32(value: number): void {
    if (value >= 0) {
      this.varint(value);
      return;
    }
    this.ensure(10);
    let lo = value >>> 0;
    for (let i = 0; i < 4; i++) {
      this.buf[this.length++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    // bits 28..31 of the low word, then the all-ones high word.
    this.buf[this.length++] = (lo & 0x0f) | 0x70 | 0x80;
    for (let i = 0; i < 4; i++) this.buf[this.length++] = 0xff;
    this.buf[this.length++] = 0x01;
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  float32(value: number): void {
    this.ensure(4);
    this.view.setFloat32(this.length, value, true);
    this.length += 4;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  lengthDelimited(field: number, bytes: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.varint(bytes.length);
    this.raw(bytes);
  }

  string(field: number, value: string): void {
    this.lengthDelimited(field, utf8Encoder.encode(value));
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
