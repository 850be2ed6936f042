/**
 * Node file access: lazy positional reads of a GGUF on disk, and the atomic streaming writer.
 * Imported as `@cllama/gguf-format/node`; the rest of the package never touches `fs`.
 */
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { GgufError } from "./errors";
import { type GgufByteSource, type GgufFileHandle, type OpenGgufOptions, openGguf } from "./lazy";
import { type GgufLayout, type GgufWriteInput, type GgufWriteOptions, writeGguf } from "./writer";

/** A byte source over an open file; reads are positional (`pread`), so they never race. */
export async function fileSource(path: string): Promise<GgufByteSource> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    return {
      size,
      name: path,
      read: (offset, length) => readExactly(fh, path, offset, length),
      close: () => fh.close(),
    };
  } catch (error) {
    await fh.close();
    throw error;
  }
}

async function readExactly(
  fh: FileHandle,
  path: string,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  // Not zero-filled: every byte is overwritten by the read (or we throw). Zeroing fresh memory
  // costs more than the read itself for header-sized buffers.
  // allocUnsafeSlow: its own ArrayBuffer at offset 0 (never the shared pool), so callers can lay
  // aligned typed arrays over tensor bytes.
  const slow = Buffer.allocUnsafeSlow(length);
  const out = new Uint8Array(slow.buffer, slow.byteOffset, length);
  let done = 0;
  while (done < length) {
    // Reads are capped at 1 GiB each: a single read(2) returns at most ~2 GiB on Linux anyway.
    const { bytesRead } = await fh.read(out, done, Math.min(length - done, 1 << 30), offset + done);
    if (bytesRead === 0) {
      throw new GgufError(
        "GGUF_TRUNCATED",
        `file ended after ${offset + done} bytes while reading ${length} bytes at ${offset}`,
        {
          file: path,
          offset: offset + done,
        },
      );
    }
    done += bytesRead;
  }
  return out;
}

/** Open a GGUF file: reads the header only; tensors are read on demand. Close it when done. */
export async function openGgufFile(path: string, options?: OpenGgufOptions): Promise<GgufFileHandle> {
  return openGguf(await fileSource(path), options);
}

/** Read just the header of a file (opens and closes it). */
export async function readGgufHeader(path: string, options?: OpenGgufOptions) {
  const handle = await openGgufFile(path, options);
  await handle.close();
  return handle.file;
}

const STAGING_BYTES = 8 << 20;

/**
 * A sink that keeps one write in flight while the producer computes the next chunk (so
 * generation or quantization overlaps the disk), and coalesces small writes (header, padding,
 * norms) into staging buffers. Chunks handed to `write` must not be modified afterwards: the
 * writer and the generators in this package always hand over fresh buffers.
 */
class FileSink {
  // Two staging buffers: one may be in flight while the other fills.
  private spare: Uint8Array | undefined;
  private staging: Uint8Array = new Uint8Array(STAGING_BYTES);
  private staged = 0;
  private inFlight: Promise<void> = Promise.resolve();
  constructor(private readonly fh: FileHandle) {}

  async write(chunk: Uint8Array): Promise<void> {
    if (chunk.length >= STAGING_BYTES / 2) {
      await this.flushStaging();
      await this.enqueue(chunk);
      return;
    }
    if (this.staged + chunk.length > STAGING_BYTES) await this.flushStaging();
    this.staging.set(chunk, this.staged);
    this.staged += chunk.length;
  }

  /** Write everything staged and wait for all writes to finish. */
  async flush(): Promise<void> {
    await this.flushStaging();
    await this.inFlight;
  }

  private async flushStaging(): Promise<void> {
    if (this.staged === 0) return;
    const full = this.staging.subarray(0, this.staged);
    const next = this.spare ?? new Uint8Array(STAGING_BYTES);
    this.spare = this.staging;
    this.staging = next;
    this.staged = 0;
    // enqueue waits for the previous write, which may have been `next`: only then is it free.
    await this.enqueue(full);
  }

  /** Wait for the previous write, then start this one without waiting for it. */
  private async enqueue(chunk: Uint8Array): Promise<void> {
    await this.inFlight;
    const pending = this.writeAll(chunk);
    // Keep a rejection observable by the next enqueue/flush, never unhandled.
    pending.catch(() => {});
    this.inFlight = pending;
  }

  private async writeAll(chunk: Uint8Array): Promise<void> {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await this.fh.write(chunk, done, Math.min(chunk.length - done, 1 << 30));
      done += bytesWritten;
    }
  }
}

export interface WriteGgufFileOptions extends GgufWriteOptions {
  /** fsync before the rename (default true): the file is whole on disk when the promise resolves. */
  fsync?: boolean;
}

/**
 * Write a GGUF atomically: into `<path>.partial`, fsync, then rename over `path`. On any error the
 * partial file is removed and `path` is left as it was.
 */
export async function writeGgufFile(
  path: string,
  input: GgufWriteInput,
  options: WriteGgufFileOptions = {},
): Promise<GgufLayout> {
  const partial = `${path}.partial`;
  const fh = await open(partial, "w");
  const sink = new FileSink(fh);
  try {
    const layout = await writeGguf(sink, input, options);
    await sink.flush();
    if (options.fsync !== false) await fh.sync();
    await fh.close();
    await rename(partial, path);
    return layout;
  } catch (error) {
    await sink.flush().catch(() => {});
    await fh.close().catch(() => {});
    await rm(partial, { force: true });
    throw error;
  }
}

export type { GgufByteSource, GgufFileHandle, OpenGgufOptions } from "./lazy";
