/**
 * GGUF writer (isomorphic): the header is serialized in memory, tensor data is streamed to a
 * sink one tensor at a time, so memory stays bounded by the largest tensor.
 *
 * Layout is exactly llama.cpp's: tensor offsets are the running sum of the tensor sizes each
 * padded to the alignment (in info order), the data section starts at the header end rounded up
 * to the alignment, and every tensor (the last one included) is followed by zero padding.
 */
import { GgufError } from "./errors";
import type { GgufFile, GgufTensorInfo } from "./reader";
import { toTypedValue } from "./typed";
import {
  GGML_MAX_DIMS,
  GGML_MAX_NAME,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  type GgmlType,
  GgufValueType,
  ggmlTypeInfo,
  isGgmlType,
  tensorByteSize,
} from "./types";
import { encodeUtf8, hasLoneSurrogate } from "./utf8";
import type { GgufTypedValue } from "./values";

export type TensorDataSource =
  | Uint8Array
  | (() => Uint8Array | AsyncIterable<Uint8Array> | Promise<Uint8Array | AsyncIterable<Uint8Array>>);

/**
 * A tensor to write; `data` is produced when its turn comes (a function) or given up front.
 * Chunks are written asynchronously (the Node writer keeps one write in flight while the next
 * chunk is produced): never modify a chunk after handing it over. Hand over fresh buffers, or
 * rotate at least three.
 */
export interface GgufTensorInput {
  name: string;
  type: GgmlType;
  /** Innermost first (ggml's `ne`). */
  shape: readonly number[];
  data: TensorDataSource;
}

export interface GgufTensorSpec {
  name: string;
  type: GgmlType;
  shape: readonly number[];
}

export interface GgufWriteInput {
  /** Typed values, or plain values where unambiguous (see `toTypedValue`). Written in key order. */
  metadata: Record<string, GgufTypedValue | unknown>;
  tensors: GgufTensorInput[];
}

export interface GgufWriteOptions {
  /** Data alignment. Defaults to `general.alignment` when present, else 32. */
  alignment?: number;
  /** GGUF version to write (3, or 2 for old readers). */
  version?: 2 | 3;
  onProgress?: (progress: GgufWriteProgress) => void;
  /**
   * With no tensors, pad the header to the alignment anyway (llama.cpp's gguf.cpp does; gguf-py,
   * which wrote llama.cpp's vocab files, does not). Default false.
   */
  padEmptyDataSection?: boolean;
  /** Stops the write between chunks (the Node writer then removes its partial file). */
  signal?: AbortSignal;
}

export interface GgufWriteProgress {
  bytesWritten: number;
  totalBytes: number;
  tensorIndex: number;
  tensorCount: number;
  tensorName?: string;
}

export interface GgufLayout {
  /** Header bytes including the zero padding up to `dataOffset`. */
  header: Uint8Array;
  dataOffset: number;
  alignment: number;
  tensors: GgufTensorInfo[];
  /** Total file size. */
  totalSize: number;
}

/** Something bytes can be written to, in order. */
export interface GgufSink {
  write(chunk: Uint8Array): void | Promise<void>;
}

class ByteWriter {
  buf = new Uint8Array(1 << 16);
  view = new DataView(this.buf.buffer);
  pos = 0;

  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.reserve(1);
    this.buf[this.pos++] = v;
  }
  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  u64(v: number | bigint): void {
    this.reserve(8);
    this.view.setBigUint64(this.pos, BigInt(v), true);
    this.pos += 8;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  string(s: string, field: string): void {
    if (hasLoneSurrogate(s))
      throw new GgufError("GGUF_BAD_UTF8", "string has a lone surrogate, not encodable as UTF-8", { field });
    const b = encodeUtf8(s);
    this.u64(b.length);
    this.bytes(b);
  }
}

const SCALAR_WRITERS: Record<string, (w: ByteWriter, v: unknown) => void> = {
  UINT8: (w, v) => w.u8(checkInt(v, 0, 255)),
  INT8: (w, v) => {
    w.reserve(1);
    w.view.setInt8(w.pos++, checkInt(v, -128, 127));
  },
  UINT16: (w, v) => {
    w.reserve(2);
    w.view.setUint16(w.pos, checkInt(v, 0, 0xffff), true);
    w.pos += 2;
  },
  INT16: (w, v) => {
    w.reserve(2);
    w.view.setInt16(w.pos, checkInt(v, -0x8000, 0x7fff), true);
    w.pos += 2;
  },
  UINT32: (w, v) => w.u32(checkInt(v, 0, 0xffffffff)),
  INT32: (w, v) => {
    w.reserve(4);
    w.view.setInt32(w.pos, checkInt(v, -0x80000000, 0x7fffffff), true);
    w.pos += 4;
  },
  FLOAT32: (w, v) => {
    w.reserve(4);
    w.view.setFloat32(w.pos, checkNumber(v), true);
    w.pos += 4;
  },
  FLOAT64: (w, v) => {
    w.reserve(8);
    w.view.setFloat64(w.pos, checkNumber(v), true);
    w.pos += 8;
  },
  BOOL: (w, v) => {
    if (typeof v !== "boolean" && v !== 0 && v !== 1)
      throw new TypeError(`expected a boolean, got ${String(v)}`);
    w.u8(v ? 1 : 0);
  },
  UINT64: (w, v) => {
    const b = checkBig(v, 0n, 2n ** 64n - 1n);
    w.reserve(8);
    w.view.setBigUint64(w.pos, b, true);
    w.pos += 8;
  },
  INT64: (w, v) => {
    const b = checkBig(v, -(2n ** 63n), 2n ** 63n - 1n);
    w.reserve(8);
    w.view.setBigInt64(w.pos, b, true);
    w.pos += 8;
  },
};

function checkInt(v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new TypeError(`expected an integer in [${min}, ${max}], got ${String(v)}`);
  }
  return v;
}
function checkNumber(v: unknown): number {
  if (typeof v !== "number") throw new TypeError(`expected a number, got ${typeof v}`);
  return v;
}
function checkBig(v: unknown, min: bigint, max: bigint): bigint {
  const b = typeof v === "bigint" ? v : typeof v === "number" && Number.isInteger(v) ? BigInt(v) : undefined;
  if (b === undefined || b < min || b > max)
    throw new TypeError(`expected an integer in [${min}, ${max}], got ${String(v)}`);
  return b;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const ITEM_BYTES: Record<string, number> = {
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  UINT32: 4,
  INT32: 4,
  FLOAT32: 4,
  FLOAT64: 8,
  UINT64: 8,
  INT64: 8,
};
const TYPED_ARRAY_ITEM: [new (...args: never[]) => ArrayBufferView, string][] = [
  [Uint8Array, "UINT8"],
  [Int8Array, "INT8"],
  [Uint16Array, "UINT16"],
  [Int16Array, "INT16"],
  [Uint32Array, "UINT32"],
  [Int32Array, "INT32"],
  [Float32Array, "FLOAT32"],
  [Float64Array, "FLOAT64"],
  [BigUint64Array, "UINT64"],
  [BigInt64Array, "INT64"],
];

function writeValue(w: ByteWriter, tv: GgufTypedValue, field: string, depth: number): void {
  const type = GgufValueType[tv.type];
  if (type === undefined)
    throw new GgufError("GGUF_BAD_VALUE", `unknown value type ${String(tv.type)}`, { field });
  w.u32(type);
  writeValueBody(w, tv, field, depth);
}

function writeValueBody(w: ByteWriter, tv: GgufTypedValue, field: string, depth: number): void {
  try {
    if (tv.type === "STRING") {
      if (typeof tv.value !== "string") throw new TypeError(`expected a string, got ${typeof tv.value}`);
      w.string(tv.value, field);
    } else if (tv.type === "ARRAY") {
      writeArrayBody(w, tv, field, depth);
    } else {
      SCALAR_WRITERS[tv.type](w, tv.value);
    }
  } catch (error) {
    if (error instanceof GgufError) throw error;
    throw new GgufError("GGUF_BAD_VALUE", `${(error as Error).message} for a ${tv.type}`, { field });
  }
}

function writeArrayBody(w: ByteWriter, tv: GgufTypedValue, field: string, depth: number): void {
  if (depth > 32) throw new GgufError("GGUF_TOO_DEEP", "arrays nested deeper than 32", { field });
  const itemType = tv.itemType;
  if (!itemType || GgufValueType[itemType] === undefined) {
    throw new GgufError("GGUF_BAD_VALUE", "an ARRAY needs an itemType", { field });
  }
  const value = tv.value;
  if (!Array.isArray(value) && !ArrayBuffer.isView(value)) {
    throw new GgufError(
      "GGUF_BAD_VALUE",
      `ARRAY value must be an array or typed array, got ${typeof value}`,
      { field },
    );
  }
  const items = value as ArrayLike<unknown>;
  w.u32(GgufValueType[itemType]);
  w.u64(items.length);
  const itemBytes = ITEM_BYTES[itemType];
  if (itemBytes && ArrayBuffer.isView(value) && LITTLE_ENDIAN_HOST) {
    const match = TYPED_ARRAY_ITEM.find(([ctor]) => value instanceof ctor);
    if (match && match[1] === itemType) {
      // Same element type: copy the bytes (NaN payloads survive, and it is fast).
      w.bytes(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      return;
    }
  }
  if (itemType === "ARRAY") {
    for (let i = 0; i < items.length; i++) {
      const inner = toTypedValue(items[i], `${field}[${i}]`);
      if (inner.type !== "ARRAY")
        throw new GgufError("GGUF_BAD_VALUE", "array of arrays holds a non-array", {
          field: `${field}[${i}]`,
        });
      // Inner arrays carry no ARRAY tag of their own: just item type, count, items.
      writeArrayBody(w, inner, `${field}[${i}]`, depth + 1);
    }
    return;
  }
  if (itemType === "STRING") {
    for (let i = 0; i < items.length; i++) {
      const s = items[i];
      if (typeof s !== "string")
        throw new GgufError("GGUF_BAD_VALUE", `expected a string, got ${typeof s}`, {
          field: `${field}[${i}]`,
        });
      w.string(s, `${field}[${i}]`);
    }
    return;
  }
  const write = SCALAR_WRITERS[itemType];
  for (let i = 0; i < items.length; i++) {
    try {
      write(w, items[i]);
    } catch (error) {
      throw new GgufError("GGUF_BAD_VALUE", `${(error as Error).message} for a ${itemType}`, {
        field: `${field}[${i}]`,
      });
    }
  }
}

function resolveAlignment(
  metadata: Record<string, unknown>,
  requested: number | undefined,
): { alignment: number; addKey: boolean } {
  const present = metadata["general.alignment"];
  let fromKey: number | undefined;
  if (present !== undefined) {
    const tv = toTypedValue(present, "general.alignment");
    if (tv.type !== "UINT32")
      throw new GgufError("GGUF_BAD_KEY_TYPE", "general.alignment must be a UINT32", {
        field: "general.alignment",
      });
    fromKey = tv.value as number;
  }
  const alignment = requested ?? fromKey ?? GGUF_DEFAULT_ALIGNMENT;
  if (
    !Number.isInteger(alignment) ||
    alignment <= 0 ||
    (alignment & (alignment - 1)) !== 0 ||
    alignment > 2 ** 30
  ) {
    throw new GgufError("GGUF_BAD_ALIGNMENT", `alignment ${alignment} is not a power of two`, {
      field: "general.alignment",
    });
  }
  if (fromKey !== undefined && fromKey !== alignment) {
    throw new GgufError(
      "GGUF_BAD_ALIGNMENT",
      `options.alignment ${alignment} contradicts general.alignment ${fromKey}`,
      {
        field: "general.alignment",
      },
    );
  }
  return { alignment, addKey: fromKey === undefined && alignment !== GGUF_DEFAULT_ALIGNMENT };
}

function checkTensorSpec(t: GgufTensorSpec, index: number, names: Set<string>): number {
  const field = `tensors[${index}] "${t.name}"`;
  if (typeof t.name !== "string" || hasLoneSurrogate(t.name))
    throw new GgufError("GGUF_BAD_VALUE", "tensor name must be a string", { field });
  if (encodeUtf8(t.name).length >= GGML_MAX_NAME) {
    throw new GgufError("GGUF_NAME_TOO_LONG", `tensor name is longer than ${GGML_MAX_NAME - 1} bytes`, {
      field,
    });
  }
  if (names.has(t.name))
    throw new GgufError("GGUF_DUPLICATE_TENSOR", `duplicate tensor name "${t.name}"`, { field });
  names.add(t.name);
  if (!isGgmlType(t.type))
    throw new GgufError("GGUF_BAD_TENSOR_TYPE", `unknown ggml type ${t.type}`, { field });
  if (t.shape.length > GGML_MAX_DIMS || t.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new GgufError("GGUF_BAD_SHAPE", `bad shape [${t.shape.join(", ")}]`, { field });
  }
  try {
    return tensorByteSize(t.type, t.shape);
  } catch (error) {
    throw new GgufError("GGUF_BAD_SHAPE", (error as Error).message, { field });
  }
}

/**
 * Serialize the header (magic, counts, metadata, tensor infos, padding) and compute the layout.
 * Tensors are placed contiguously in the given order.
 */
export function serializeGgufHeader(
  input: { metadata: Record<string, unknown>; tensors: readonly GgufTensorSpec[] },
  options: Pick<GgufWriteOptions, "alignment" | "version" | "padEmptyDataSection"> = {},
): GgufLayout {
  const { alignment, addKey } = resolveAlignment(input.metadata, options.alignment);
  const keys = Object.keys(input.metadata).filter((k) => input.metadata[k] !== undefined);
  const w = new ByteWriter();
  w.u32(GGUF_MAGIC);
  w.u32(options.version ?? 3);
  w.u64(input.tensors.length);
  w.u64(keys.length + (addKey ? 1 : 0));
  for (const key of keys) {
    w.string(key, `metadata key "${key}"`);
    writeValue(w, toTypedValue(input.metadata[key], key), `metadata "${key}"`, 1);
  }
  if (addKey) {
    w.string("general.alignment", "metadata key");
    writeValue(w, { type: "UINT32", value: alignment }, "general.alignment", 1);
  }
  const names = new Set<string>();
  const tensors: GgufTensorInfo[] = [];
  let offset = 0;
  input.tensors.forEach((t, i) => {
    const byteSize = checkTensorSpec(t, i, names);
    w.string(t.name, `tensors[${i}].name`);
    w.u32(t.shape.length);
    for (const d of t.shape) w.u64(d);
    w.u32(t.type);
    w.u64(offset);
    tensors.push({
      name: t.name,
      type: t.type,
      typeName: ggmlTypeInfo(t.type).name,
      shape: [...t.shape],
      offset,
      byteSize,
    });
    offset += alignUp(byteSize, alignment);
  });
  const dataOffset = tensors.length > 0 || options.padEmptyDataSection ? alignUp(w.pos, alignment) : w.pos;
  w.reserve(dataOffset - w.pos);
  w.buf.fill(0, w.pos, dataOffset);
  const header = w.buf.slice(0, dataOffset);
  return { header, dataOffset, alignment, tensors, totalSize: dataOffset + offset };
}

/** The options that write a parsed file back byte for byte (version, alignment, padding). */
export function rewriteOptions(
  file: Pick<GgufFile, "version" | "alignment" | "fileSize" | "headerSize" | "tensors">,
): GgufWriteOptions {
  return {
    version: file.version === 2 ? 2 : 3,
    alignment: file.alignment,
    padEmptyDataSection: file.tensors.length === 0 && file.fileSize > file.headerSize,
  };
}

export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

function isAsyncIterable(x: unknown): x is AsyncIterable<Uint8Array> {
  return typeof x === "object" && x !== null && Symbol.asyncIterator in x;
}

/**
 * Write a whole GGUF to `sink`: header first, then each tensor's data as its source produces it
 * (only one tensor's source is asked at a time), each followed by zero padding.
 */
export async function writeGguf(
  sink: GgufSink,
  input: GgufWriteInput,
  options: GgufWriteOptions = {},
): Promise<GgufLayout> {
  const layout = serializeGgufHeader(input, options);
  const { alignment, totalSize } = layout;
  const zeros = new Uint8Array(alignment);
  let written = 0;
  const report = (tensorIndex: number, tensorName?: string) =>
    options.onProgress?.({
      bytesWritten: written,
      totalBytes: totalSize,
      tensorIndex,
      tensorCount: input.tensors.length,
      tensorName,
    });
  await sink.write(layout.header);
  written += layout.header.length;
  report(0);
  for (let i = 0; i < input.tensors.length; i++) {
    options.signal?.throwIfAborted();
    const t = input.tensors[i];
    const expected = layout.tensors[i].byteSize;
    const source = typeof t.data === "function" ? await t.data() : t.data;
    let got = 0;
    const put = async (chunk: Uint8Array) => {
      options.signal?.throwIfAborted();
      got += chunk.length;
      if (got > expected) {
        throw new GgufError(
          "GGUF_BAD_TENSOR_DATA",
          `data is longer than the ${expected} bytes its type and shape need`,
          { field: `tensor "${t.name}"` },
        );
      }
      await sink.write(chunk);
      written += chunk.length;
    };
    if (source instanceof Uint8Array) await put(source);
    else if (isAsyncIterable(source)) for await (const chunk of source) await put(chunk);
    else
      throw new GgufError("GGUF_BAD_TENSOR_DATA", "data must be a Uint8Array or an async iterable of them", {
        field: `tensor "${t.name}"`,
      });
    if (got !== expected) {
      throw new GgufError("GGUF_BAD_TENSOR_DATA", `got ${got} bytes, its type and shape need ${expected}`, {
        field: `tensor "${t.name}"`,
      });
    }
    const pad = alignUp(expected, alignment) - expected;
    if (pad > 0) {
      await sink.write(zeros.subarray(0, pad));
      written += pad;
    }
    report(i + 1, t.name);
  }
  return layout;
}

/** The whole file in memory (tests, browsers, small files). */
export async function writeGgufToBytes(
  input: GgufWriteInput,
  options: GgufWriteOptions = {},
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const layout = await writeGguf({ write: (c) => void chunks.push(c.slice()) }, input, options);
  const out = new Uint8Array(layout.totalSize);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}
