/**
 * Lazy access to a GGUF that is not (or need not be) in memory: only the header is read when the
 * file is opened; tensors and row ranges are fetched on demand through positional reads. The
 * byte source is anything with a size and a `read(offset, length)`: a Node file handle (see
 * `./node`), a Blob / File in a browser, or bytes already in memory.
 */
import { GgufError } from "./errors";
import { findTensor, type GgufFile, type GgufTensorInfo, NeedMoreBytes, parseGgufHeader } from "./reader";
import { rowByteSize } from "./types";

export interface GgufByteSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset` (the caller stays inside `size`). */
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
  /** A name for error messages. */
  readonly name?: string;
}

export interface OpenGgufOptions {
  /** Bytes read first (default 2 MiB); most headers fit (a 50k-token vocabulary makes about 1.1 MB). */
  initialReadBytes?: number;
  /** Refuse headers larger than this (a lying header could otherwise make us read the whole file). */
  maxHeaderBytes?: number;
  maxArrayDepth?: number;
}

export interface GgufFileHandle {
  readonly file: GgufFile;
  readonly source: GgufByteSource;
  /** All bytes of one tensor. */
  readTensor(nameOrInfo: string | GgufTensorInfo): Promise<Uint8Array>;
  /** Rows [firstRow, firstRow + rowCount) of a tensor, a row being `shape[0]` elements. */
  readRows(nameOrInfo: string | GgufTensorInfo, firstRow: number, rowCount: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

const DEFAULT_INITIAL = 2 << 20;
const DEFAULT_MAX_HEADER = 512 << 20;

/** Read the header through `source`, growing the prefix until the header parses. */
export async function openGguf(
  source: GgufByteSource,
  options: OpenGgufOptions = {},
): Promise<GgufFileHandle> {
  const maxHeader = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER;
  let prefix = await source.read(0, Math.min(source.size, options.initialReadBytes ?? DEFAULT_INITIAL));
  let file: GgufFile;
  try {
    for (;;) {
      try {
        file = parseGgufHeader(prefix, { fileSize: source.size, maxArrayDepth: options.maxArrayDepth });
        break;
      } catch (error) {
        if (!(error instanceof NeedMoreBytes)) throw error;
        if (error.needed > maxHeader) {
          throw new GgufError("GGUF_HEADER_TOO_LARGE", `header needs more than ${maxHeader} bytes`, {
            offset: prefix.length,
            hint: "pass a larger maxHeaderBytes if this file really has such a header",
          });
        }
        const want = Math.min(source.size, Math.max(error.needed, prefix.length * 2));
        const more = await source.read(prefix.length, want - prefix.length);
        const grown = new Uint8Array(want);
        grown.set(prefix);
        grown.set(more, prefix.length);
        prefix = grown;
      }
    }
  } catch (error) {
    await source.close?.();
    if (error instanceof GgufError && source.name) throw error.withFile(source.name);
    throw error;
  }
  return makeHandle(file, source);
}

function makeHandle(file: GgufFile, source: GgufByteSource): GgufFileHandle {
  const resolve = (t: string | GgufTensorInfo) => (typeof t === "string" ? findTensor(file, t) : t);
  return {
    file,
    source,
    readTensor: async (nameOrInfo) => {
      const info = resolve(nameOrInfo);
      return source.read(file.dataOffset + info.offset, info.byteSize);
    },
    readRows: async (nameOrInfo, firstRow, rowCount) => {
      const info = resolve(nameOrInfo);
      const rowBytes = rowByteSize(info.type, info.shape.length ? info.shape[0] : 1);
      const rows = rowBytes === 0 ? 0 : info.byteSize / rowBytes;
      if (
        !Number.isInteger(firstRow) ||
        !Number.isInteger(rowCount) ||
        firstRow < 0 ||
        rowCount < 0 ||
        firstRow + rowCount > rows
      ) {
        throw new GgufError(
          "GGUF_BAD_ROW_RANGE",
          `rows [${firstRow}, ${firstRow + rowCount}) outside the tensor's ${rows} rows`,
          {
            field: `tensor "${info.name}"`,
          },
        );
      }
      return source.read(file.dataOffset + info.offset + firstRow * rowBytes, rowCount * rowBytes);
    },
    close: async () => {
      await source.close?.();
    },
  };
}

/** A byte source over bytes in memory. */
export function bytesSource(bytes: Uint8Array | ArrayBuffer, name?: string): GgufByteSource {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return {
    size: view.length,
    name,
    read: async (offset, length) => view.subarray(offset, offset + length),
  };
}

/** A byte source over a Blob or File (browsers, Node's Blob). */
export function blobSource(blob: Blob, name?: string): GgufByteSource {
  return {
    size: blob.size,
    name: name ?? (blob as { name?: string }).name,
    read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()),
  };
}

/** Open a Blob / File lazily (browser). */
export function openGgufBlob(blob: Blob, options?: OpenGgufOptions): Promise<GgufFileHandle> {
  return openGguf(blobSource(blob), options);
}
