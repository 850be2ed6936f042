/**
 * Positional byte access, the only I/O the parsers use: a file on disk (see `./node`), or bytes
 * in memory (tests, browsers). Parsers never read more than a header up front; tensors are read
 * one at a time when asked for.
 */
import { fail } from "./errors";

export interface ByteSource {
  /** File name for messages. */
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes at `offset`; throws LORA_TRUNCATED past the end. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

export function checkRange(
  source: { name: string; size: number },
  offset: number,
  length: number,
  what: string,
) {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    fail(
      "LORA_TRUNCATED",
      `${source.name}: ${what} has an invalid range (offset ${offset}, length ${length})`,
    );
  }
  if (offset + length > source.size) {
    fail(
      "LORA_TRUNCATED",
      `${source.name}: ${what} needs bytes ${offset}..${offset + length} but the file has ${source.size} bytes`,
      "the file is truncated or corrupt: download it again",
    );
  }
}

export function memorySource(bytes: Uint8Array, name = "<memory>"): ByteSource {
  return {
    name,
    size: bytes.byteLength,
    async read(offset, length) {
      checkRange(this, offset, length, "read");
      return bytes.subarray(offset, offset + length);
    },
  };
}

/** A window [start, start+size) of another source, e.g. a stored zip entry. */
export function sliceSource(parent: ByteSource, start: number, size: number, name: string): ByteSource {
  checkRange(parent, start, size, name);
  return {
    name,
    size,
    read(offset, length) {
      checkRange(this, offset, length, "read");
      return parent.read(start + offset, length);
    },
  };
}
