/**
 * GGUF header parser (versions 2 and 3) over bytes in memory.
 *
 * The parser may be given only a prefix of a file (`fileSize` says how big the whole file is):
 * when it needs bytes beyond the prefix it throws `NeedMoreBytes`, and the lazy readers fetch a
 * longer prefix and parse again. Every count and length is checked against the bytes the FILE
 * has left before anything is allocated, so a lying header costs nothing.
 */
import { GgufError, type GgufErrorCode } from "./errors";
import {
  GGML_MAX_DIMS,
  GGML_MAX_NAME,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  type GgmlType,
  GgufValueType,
  type GgufValueTypeName,
  ggmlTypeInfo,
  isGgmlType,
} from "./types";
import { decodeUtf8 } from "./utf8";
import type { GgufArrayValue, GgufTypeDescriptor, GgufValue } from "./values";

export interface GgufTensorInfo {
  name: string;
  type: GgmlType;
  /** ggml's type name, e.g. "Q4_0". */
  typeName: string;
  /** ggml's `ne`: innermost (contiguous) dimension first. */
  shape: number[];
  /** Offset from the start of the data section. */
  offset: number;
  byteSize: number;
}

export interface GgufFile {
  version: number;
  metadata: Record<string, GgufValue>;
  metadataTypes: Record<string, GgufTypeDescriptor>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute file offset of the data section (header end rounded up to the alignment). */
  dataOffset: number;
  /** Bytes of the header proper (before the padding up to `dataOffset`). */
  headerSize: number;
  /** Size of the whole file the header was read from. */
  fileSize: number;
}

/** Thrown (internally) when a prefix of the file ends before the header does. */
export class NeedMoreBytes extends Error {
  constructor(readonly needed: number) {
    super(`need ${needed} bytes`);
  }
}

export interface ParseOptions {
  /** Size of the whole file when `bytes` is only its beginning. Defaults to `bytes.length`. */
  fileSize?: number;
  /** Deepest nesting of arrays accepted (protects the stack). Default 32. */
  maxArrayDepth?: number;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TYPE_NAMES = GgufValueType as unknown as Record<number, GgufValueTypeName>;
// Smallest possible encodings, to bound counts by the bytes left in the file.
const MIN_KV_BYTES = 8 + 4 + 1;
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8;
const MIN_ARRAY_BYTES = 4 + 8;
const MIN_STRING_BYTES = 8;
const TWO_POW_32 = 2 ** 32;

class Cursor {
  readonly view: DataView;
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly fileSize: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(code: GgufErrorCode, message: string, field: string, offset = this.pos): never {
    throw new GgufError(code, message, { offset, field });
  }

  /** Make sure `n` more bytes can be read at `pos`. */
  need(n: number, field: string): void {
    const end = this.pos + n;
    if (end <= this.bytes.length) return;
    if (end > this.fileSize) {
      this.fail(
        "GGUF_TRUNCATED",
        `file ends at byte ${this.fileSize} but ${field} needs ${n} bytes here`,
        field,
      );
    }
    throw new NeedMoreBytes(end);
  }

  remaining(): number {
    return this.fileSize - this.pos;
  }

  u8(field: string): number {
    this.need(1, field);
    return this.bytes[this.pos++];
  }
  u32(field: string): number {
    this.need(4, field);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  /** A u64 that must fit a safe integer (counts, lengths, dims, offsets). */
  u64Number(field: string, code: GgufErrorCode): number {
    this.need(8, field);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    if (hi >= 0x200000) {
      this.fail(code, `${field} is ${this.view.getBigUint64(this.pos, true)}, beyond any file size`, field);
    }
    this.pos += 8;
    return hi * TWO_POW_32 + lo;
  }

  /**
   * A length-prefixed UTF-8 string. `index` >= 0 names an array element; the field name is
   * only built when something is wrong (vocabularies hold tens of thousands of strings).
   */
  string(field: string, index = -1): string {
    const start = this.pos;
    const bytes = this.bytes;
    if (start + 8 <= bytes.length) {
      const lo = this.view.getUint32(start, true);
      const hi = this.view.getUint32(start + 4, true);
      const end = start + 8 + lo;
      if (hi === 0 && end <= bytes.length) {
        const text = decodeUtf8(bytes, start + 8, end);
        if (text !== undefined) {
          this.pos = end;
          return text;
        }
      }
    }
    return this.stringSlow(index >= 0 ? `${field}[${index}]` : field);
  }

  private stringSlow(field: string): string {
    const start = this.pos;
    const length = this.u64Number(`${field} length`, "GGUF_BAD_LENGTH");
    if (length > this.remaining()) {
      this.fail(
        "GGUF_BAD_LENGTH",
        `string length ${length} exceeds the ${this.remaining()} bytes left in the file`,
        `${field} length`,
        start,
      );
    }
    this.need(length, field);
    const text = decodeUtf8(this.bytes, this.pos, this.pos + length);
    if (text === undefined) this.fail("GGUF_BAD_UTF8", "string is not valid UTF-8", field);
    this.pos += length;
    return text;
  }
}

function readScalar(c: Cursor, type: GgufValueType, field: string): GgufValue {
  const view = c.view;
  switch (type) {
    case GgufValueType.UINT8:
      return c.u8(field);
    case GgufValueType.INT8:
      c.need(1, field);
      return view.getInt8(c.pos++);
    case GgufValueType.UINT16: {
      c.need(2, field);
      const v = view.getUint16(c.pos, true);
      c.pos += 2;
      return v;
    }
    case GgufValueType.INT16: {
      c.need(2, field);
      const v = view.getInt16(c.pos, true);
      c.pos += 2;
      return v;
    }
    case GgufValueType.UINT32:
      return c.u32(field);
    case GgufValueType.INT32: {
      c.need(4, field);
      const v = view.getInt32(c.pos, true);
      c.pos += 4;
      return v;
    }
    case GgufValueType.FLOAT32: {
      c.need(4, field);
      const v = view.getFloat32(c.pos, true);
      c.pos += 4;
      return v;
    }
    case GgufValueType.BOOL:
      // llama.cpp reads an int8 and takes any non-zero value as true.
      return c.u8(field) !== 0;
    case GgufValueType.STRING:
      return c.string(field);
    case GgufValueType.UINT64: {
      c.need(8, field);
      const v = view.getBigUint64(c.pos, true);
      c.pos += 8;
      return v;
    }
    case GgufValueType.INT64: {
      c.need(8, field);
      const v = view.getBigInt64(c.pos, true);
      c.pos += 8;
      return v;
    }
    case GgufValueType.FLOAT64: {
      c.need(8, field);
      const v = view.getFloat64(c.pos, true);
      c.pos += 8;
      return v;
    }
    default:
      return c.fail("GGUF_BAD_VALUE_TYPE", `unknown value type ${type}`, field);
  }
}

type TypedArrayCtor =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Uint16ArrayConstructor
  | Int16ArrayConstructor
  | Uint32ArrayConstructor
  | Int32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigUint64ArrayConstructor
  | BigInt64ArrayConstructor;

const ARRAY_CTORS: Partial<Record<GgufValueType, TypedArrayCtor>> = {
  [GgufValueType.UINT8]: Uint8Array,
  [GgufValueType.INT8]: Int8Array,
  [GgufValueType.UINT16]: Uint16Array,
  [GgufValueType.INT16]: Int16Array,
  [GgufValueType.UINT32]: Uint32Array,
  [GgufValueType.INT32]: Int32Array,
  [GgufValueType.FLOAT32]: Float32Array,
  [GgufValueType.FLOAT64]: Float64Array,
  [GgufValueType.UINT64]: BigUint64Array,
  [GgufValueType.INT64]: BigInt64Array,
};

function isValueType(type: number): type is GgufValueType {
  return type >= 0 && type <= 12;
}

interface ReadValue {
  value: GgufValue;
  descriptor: GgufTypeDescriptor;
}

function readArray(c: Cursor, field: string, depth: number, maxDepth: number): ReadValue {
  if (depth > maxDepth) c.fail("GGUF_TOO_DEEP", `arrays nested deeper than ${maxDepth}`, field);
  const typeOffset = c.pos;
  const itemType = c.u32(`${field} item type`);
  if (!isValueType(itemType)) {
    c.fail("GGUF_BAD_VALUE_TYPE", `unknown array item type ${itemType}`, `${field} item type`, typeOffset);
  }
  const countOffset = c.pos;
  const count = c.u64Number(`${field} count`, "GGUF_BAD_COUNT");
  const itemName = TYPE_NAMES[itemType];
  const ctor = ARRAY_CTORS[itemType];
  const minItem =
    itemType === GgufValueType.STRING
      ? MIN_STRING_BYTES
      : itemType === GgufValueType.ARRAY
        ? MIN_ARRAY_BYTES
        : ctor
          ? ctor.BYTES_PER_ELEMENT
          : 1;
  if (count * minItem > c.remaining()) {
    c.fail(
      "GGUF_BAD_COUNT",
      `array of ${count} ${itemName} needs at least ${count * minItem} bytes, only ${c.remaining()} left in the file`,
      `${field} count`,
      countOffset,
    );
  }
  const descriptor: GgufTypeDescriptor = { type: "ARRAY", itemType: itemName };
  if (ctor) {
    const byteLength = count * ctor.BYTES_PER_ELEMENT;
    c.need(byteLength, field);
    const start = c.bytes.byteOffset + c.pos;
    let value: GgufArrayValue;
    if (LITTLE_ENDIAN_HOST) {
      // slice() copies into a fresh, aligned buffer that does not pin the file's bytes.
      value = new ctor(c.bytes.buffer.slice(start, start + byteLength) as ArrayBuffer);
    } else {
      value = readArrayBigEndianHost(c, itemType, count, field);
    }
    c.pos += byteLength;
    return { value, descriptor };
  }
  if (itemType === GgufValueType.STRING) {
    const fast = readShortStrings(c, count);
    if (fast) return { value: fast, descriptor };
    // Grown by push, not preallocated: `count` is only bounded by the file size so far.
    const out: string[] = [];
    for (let i = 0; i < count; i++) out.push(c.string(field, i));
    return { value: out, descriptor };
  }
  if (itemType === GgufValueType.BOOL) {
    c.need(count, field);
    const out: boolean[] = [];
    for (let i = 0; i < count; i++) out.push(c.bytes[c.pos + i] !== 0);
    c.pos += count;
    return { value: out, descriptor };
  }
  // Array of arrays: each inner array carries its own item type.
  const out: GgufArrayValue[] = [];
  const items: GgufTypeDescriptor[] = [];
  for (let i = 0; i < count; i++) {
    const inner = readArray(c, `${field}[${i}]`, depth + 1, maxDepth);
    out.push(inner.value as GgufArrayValue);
    items.push(inner.descriptor);
  }
  descriptor.items = items;
  return { value: out as GgufArrayValue, descriptor };
}

const regionDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Fast path for arrays of short strings (vocabularies): when every length is below 128, the
 * length prefixes are ASCII bytes, so the whole region (prefixes and strings) is decoded by ONE
 * TextDecoder call and cut into strings by their UTF-16 lengths, counted in a walk over the
 * bytes. If the region is valid UTF-8 and every string starts on a character boundary, each
 * string is valid on its own. Returns undefined (the caller takes the exact, per-string path
 * that names the bad byte) for anything unusual: long strings, bad UTF-8, a region past the
 * bytes at hand.
 */
function readShortStrings(c: Cursor, count: number): string[] | undefined {
  const bytes = c.bytes;
  const end = bytes.length;
  const units = new Int32Array(count);
  let p = c.pos;
  for (let i = 0; i < count; i++) {
    if (p + 8 > end) return undefined;
    const length = bytes[p];
    if (
      length >= 0x80 ||
      bytes[p + 1] | bytes[p + 2] | bytes[p + 3] | bytes[p + 4] | bytes[p + 5] | bytes[p + 6] | bytes[p + 7]
    ) {
      return undefined;
    }
    p += 8;
    const stop = p + length;
    if (stop > end) return undefined;
    if (length > 0 && (bytes[p] & 0xc0) === 0x80) return undefined;
    let n = 0;
    for (; p < stop; p++) {
      const b = bytes[p];
      if ((b & 0xc0) !== 0x80) n += b >= 0xf0 ? 2 : 1;
    }
    units[i] = n;
  }
  let text: string;
  try {
    text = regionDecoder.decode(bytes.subarray(c.pos, p));
  } catch {
    return undefined;
  }
  const out: string[] = [];
  let q = 0;
  for (let i = 0; i < count; i++) {
    q += 8;
    out.push(text.slice(q, q + units[i]));
    q += units[i];
  }
  if (q !== text.length) return undefined;
  c.pos = p;
  return out;
}

function readArrayBigEndianHost(
  c: Cursor,
  itemType: GgufValueType,
  count: number,
  field: string,
): GgufArrayValue {
  const ctor = ARRAY_CTORS[itemType] as TypedArrayCtor;
  const out = new ctor(count) as unknown as { [i: number]: number | bigint };
  const save = c.pos;
  for (let i = 0; i < count; i++) out[i] = readScalar(c, itemType, field) as number | bigint;
  c.pos = save;
  return out as unknown as GgufArrayValue;
}

function readValue(c: Cursor, type: number, field: string, maxDepth: number): ReadValue {
  if (type === GgufValueType.ARRAY) return readArray(c, field, 1, maxDepth);
  if (!isValueType(type))
    c.fail("GGUF_BAD_VALUE_TYPE", `unknown value type ${type}`, `${field} type`, c.pos - 4);
  return { value: readScalar(c, type, field), descriptor: { type: TYPE_NAMES[type] } };
}

/**
 * Parse a GGUF header. `bytes` is the whole file, or (with `options.fileSize`) its beginning.
 * Tensor data is not read; everything it holds is validated against the file size.
 */
export function parseGgufHeader(bytes: Uint8Array, options: ParseOptions = {}): GgufFile {
  const fileSize = options.fileSize ?? bytes.length;
  const maxDepth = options.maxArrayDepth ?? 32;
  const c = new Cursor(bytes, fileSize);

  const magic = c.u32("magic");
  if (magic !== GGUF_MAGIC) {
    const found = Array.from(bytes.subarray(0, 4), (b) =>
      b >= 32 && b < 127 ? String.fromCharCode(b) : "?",
    );
    throw new GgufError("GGUF_BAD_MAGIC", `expected magic "GGUF", found "${found.join("")}"`, {
      offset: 0,
      field: "magic",
      hint: magicHint(bytes),
    });
  }
  const version = c.u32("version");
  if (version !== 2 && version !== 3) {
    const hint =
      version === 1
        ? "GGUF v1 is no longer supported by llama.cpp either; reconvert the model"
        : (version & 0xffff) === 0
          ? "the file looks big-endian; only little-endian GGUF is supported"
          : undefined;
    throw new GgufError("GGUF_UNSUPPORTED_VERSION", `version ${version} is not supported (2 and 3 are)`, {
      offset: 4,
      field: "version",
      hint,
    });
  }
  const tensorCountOffset = c.pos;
  const tensorCount = c.u64Number("tensor_count", "GGUF_BAD_COUNT");
  const kvCountOffset = c.pos;
  const kvCount = c.u64Number("kv_count", "GGUF_BAD_COUNT");
  if (kvCount * MIN_KV_BYTES > c.remaining()) {
    c.fail(
      "GGUF_BAD_COUNT",
      `${kvCount} key-value pairs cannot fit in the ${c.remaining()} bytes left`,
      "kv_count",
      kvCountOffset,
    );
  }
  if (tensorCount * MIN_TENSOR_INFO_BYTES > c.remaining() - kvCount * MIN_KV_BYTES) {
    c.fail(
      "GGUF_BAD_COUNT",
      `${tensorCount} tensor infos cannot fit in the ${c.remaining()} bytes left`,
      "tensor_count",
      tensorCountOffset,
    );
  }

  const metadata: Record<string, GgufValue> = Object.create(null);
  const metadataTypes: Record<string, GgufTypeDescriptor> = Object.create(null);
  for (let i = 0; i < kvCount; i++) {
    const keyOffset = c.pos;
    const key = c.string(`kv[${i}].key`);
    if (key in metadata) c.fail("GGUF_DUPLICATE_KEY", `duplicate key "${key}"`, `kv[${i}].key`, keyOffset);
    const type = c.u32(`kv[${i}] "${key}" type`);
    const { value, descriptor } = readValue(c, type, `kv[${i}] "${key}"`, maxDepth);
    metadata[key] = value;
    metadataTypes[key] = descriptor;
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  if ("general.alignment" in metadata) {
    const value = metadata["general.alignment"];
    if (metadataTypes["general.alignment"].type !== "UINT32") {
      throw new GgufError("GGUF_BAD_KEY_TYPE", "general.alignment must be a UINT32 (llama.cpp requires it)", {
        field: "general.alignment",
      });
    }
    alignment = value as number;
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
      throw new GgufError("GGUF_BAD_ALIGNMENT", `alignment ${alignment} is not a power of two`, {
        field: "general.alignment",
      });
    }
  }

  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  const infoOffsets: number[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const field = `tensor[${i}]`;
    const nameOffset = c.pos;
    const name = c.string(`${field}.name`);
    if (c.pos - nameOffset - 8 >= GGML_MAX_NAME) {
      c.fail(
        "GGUF_NAME_TOO_LONG",
        `tensor name "${name}" is longer than ${GGML_MAX_NAME - 1} bytes`,
        `${field}.name`,
        nameOffset,
      );
    }
    if (names.has(name))
      c.fail("GGUF_DUPLICATE_TENSOR", `duplicate tensor name "${name}"`, `${field}.name`, nameOffset);
    names.add(name);
    const tfield = `tensor "${name}"`;
    const dimsOffset = c.pos;
    const nDims = c.u32(`${tfield}.n_dims`);
    if (nDims > GGML_MAX_DIMS) {
      c.fail(
        "GGUF_BAD_SHAPE",
        `${nDims} dimensions, at most ${GGML_MAX_DIMS} allowed`,
        `${tfield}.n_dims`,
        dimsOffset,
      );
    }
    const shape: number[] = [];
    let elements = 1;
    for (let d = 0; d < nDims; d++) {
      shape.push(c.u64Number(`${tfield}.ne[${d}]`, "GGUF_BAD_SHAPE"));
      elements *= shape[d];
    }
    if (!Number.isSafeInteger(elements)) {
      c.fail(
        "GGUF_BAD_SHAPE",
        `shape [${shape.join(", ")}] has too many elements`,
        `${tfield}.ne`,
        dimsOffset,
      );
    }
    const typeOffset = c.pos;
    const type = c.u32(`${tfield}.type`);
    if (!isGgmlType(type)) {
      c.fail("GGUF_BAD_TENSOR_TYPE", `unknown or removed ggml type ${type}`, `${tfield}.type`, typeOffset);
    }
    const info = ggmlTypeInfo(type);
    const rowLength = nDims > 0 ? shape[0] : 1;
    if (rowLength % info.blockSize !== 0) {
      c.fail(
        "GGUF_BAD_SHAPE",
        `rows of ${rowLength} elements are not a multiple of ${info.name}'s block size ${info.blockSize}`,
        `${tfield}.ne[0]`,
        dimsOffset + 4,
      );
    }
    const byteSize = (elements / info.blockSize) * info.typeSize;
    const offsetPos = c.pos;
    const offset = c.u64Number(`${tfield}.offset`, "GGUF_TENSOR_OUT_OF_BOUNDS");
    if (offset % alignment !== 0) {
      c.fail(
        "GGUF_MISALIGNED_TENSOR",
        `offset ${offset} is not a multiple of the alignment ${alignment}`,
        `${tfield}.offset`,
        offsetPos,
      );
    }
    tensors.push({ name, type, typeName: info.name, shape, offset, byteSize });
    infoOffsets.push(offsetPos);
  }

  const headerSize = c.pos;
  const dataOffset = Math.ceil(headerSize / alignment) * alignment;
  checkTensorPlacement(tensors, infoOffsets, dataOffset, fileSize);
  return { version, metadata, metadataTypes, tensors, alignment, dataOffset, headerSize, fileSize };
}

/** What the file probably is, when it is not GGUF. */
function magicHint(bytes: Uint8Array): string {
  const head = String.fromCharCode(...bytes.subarray(0, 4));
  if (["lmgg", "fmgg", "tjgg"].includes(head)) {
    return "this is an old GGML/GGJT model: reconvert the original weights to GGUF (cllama convert)";
  }
  if (bytes.length > 8 && bytes[8] === 0x7b)
    return "this looks like a safetensors file: convert it first (cllama convert)";
  if (bytes[0] === 0x50 && bytes[1] === 0x4b)
    return "this looks like a PyTorch checkpoint (zip): convert it first (cllama convert)";
  if (bytes[0] === 0x0a) return "this looks like a SentencePiece tokenizer.model, not a GGUF model";
  return "this is not a GGUF file";
}

/** Every tensor inside the file, and no two sharing a byte. */
function checkTensorPlacement(
  tensors: GgufTensorInfo[],
  infoOffsets: number[],
  dataOffset: number,
  fileSize: number,
): void {
  const dataSize = fileSize - dataOffset;
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i];
    if (t.offset + t.byteSize > dataSize) {
      throw new GgufError(
        "GGUF_TENSOR_OUT_OF_BOUNDS",
        `tensor "${t.name}" data [${dataOffset + t.offset}, ${dataOffset + t.offset + t.byteSize}) ends past the end of the file (${fileSize} bytes): truncated file or wrong offset`,
        { offset: infoOffsets[i], field: `tensor "${t.name}".offset` },
      );
    }
  }
  const order = tensors.map((_, i) => i).filter((i) => tensors[i].byteSize > 0);
  order.sort((a, b) => tensors[a].offset - tensors[b].offset);
  for (let k = 1; k < order.length; k++) {
    const prev = tensors[order[k - 1]];
    const t = tensors[order[k]];
    if (t.offset < prev.offset + prev.byteSize) {
      throw new GgufError(
        "GGUF_TENSOR_OVERLAP",
        `tensor "${t.name}" at data offset ${t.offset} overlaps "${prev.name}" [${prev.offset}, ${prev.offset + prev.byteSize})`,
        { offset: infoOffsets[order[k]], field: `tensor "${t.name}".offset` },
      );
    }
  }
}

/** Parse a whole GGUF file held in memory (header and tensor infos; tensor bytes stay in `bytes`). */
export function parseGguf(
  bytes: Uint8Array | ArrayBuffer,
  options: Omit<ParseOptions, "fileSize"> = {},
): GgufFile {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return parseGgufHeader(view, { ...options, fileSize: view.length });
}

/** Find a tensor by name; throws GGUF_TENSOR_NOT_FOUND. */
export function findTensor(file: GgufFile, name: string): GgufTensorInfo {
  const info = file.tensors.find((t) => t.name === name);
  if (!info) throw new GgufError("GGUF_TENSOR_NOT_FOUND", `no tensor named "${name}"`, { field: name });
  return info;
}

/** A tensor's bytes inside a file held in memory (a view, not a copy). */
export function tensorData(
  bytes: Uint8Array,
  file: GgufFile,
  nameOrInfo: string | GgufTensorInfo,
): Uint8Array {
  const info = typeof nameOrInfo === "string" ? findTensor(file, nameOrInfo) : nameOrInfo;
  const start = file.dataOffset + info.offset;
  return bytes.subarray(start, start + info.byteSize);
}

/**
 * Whether the tensors sit where llama.cpp requires: each offset equal to the sum of the sizes of
 * the tensors before it (in info order), each padded to the alignment. This reader accepts any
 * aligned, non-overlapping placement; llama.cpp's loader (gguf.cpp) rejects anything else.
 */
export function hasLlamaCppLayout(file: Pick<GgufFile, "tensors" | "alignment">): boolean {
  let expected = 0;
  for (const t of file.tensors) {
    if (t.offset !== expected) return false;
    expected += Math.ceil(t.byteSize / file.alignment) * file.alignment;
  }
  return true;
}
