/**
 * ggml tensor types, their block layout, and llama.cpp's file types (`general.file_type`).
 * Ids and sizes follow ggml's `type_traits` table: a type stores `blockSize` elements in
 * `typeSize` bytes, and a row's element count must be a multiple of `blockSize`.
 */

export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
}

export interface GgmlTypeInfo {
  /** ggml's name, e.g. "Q4_0". */
  name: string;
  /** Elements per block. */
  blockSize: number;
  /** Bytes per block. */
  typeSize: number;
  /** True for the block-quantized types (everything but the plain float/int types). */
  quantized: boolean;
}

const QK_K = 256;

// [type, blockSize, typeSize]; the byte counts are the C struct sizes of ggml-common.h.
const TYPE_TABLE: [GgmlType, number, number][] = [
  [GgmlType.F32, 1, 4],
  [GgmlType.F16, 1, 2],
  [GgmlType.Q4_0, 32, 2 + 16],
  [GgmlType.Q4_1, 32, 2 + 2 + 16],
  [GgmlType.Q5_0, 32, 2 + 4 + 16],
  [GgmlType.Q5_1, 32, 2 + 2 + 4 + 16],
  [GgmlType.Q8_0, 32, 2 + 32],
  [GgmlType.Q8_1, 32, 2 + 2 + 32],
  [GgmlType.Q2_K, QK_K, QK_K / 16 + QK_K / 4 + 2 + 2],
  [GgmlType.Q3_K, QK_K, QK_K / 8 + QK_K / 4 + 12 + 2],
  [GgmlType.Q4_K, QK_K, 2 + 2 + 12 + QK_K / 2],
  [GgmlType.Q5_K, QK_K, 2 + 2 + 12 + QK_K / 8 + QK_K / 2],
  [GgmlType.Q6_K, QK_K, QK_K / 2 + QK_K / 4 + QK_K / 16 + 2],
  [GgmlType.Q8_K, QK_K, 4 + QK_K + (QK_K / 16) * 2],
  [GgmlType.IQ2_XXS, QK_K, 2 + (QK_K / 8) * 2],
  [GgmlType.IQ2_XS, QK_K, 2 + (QK_K / 8) * 2 + QK_K / 32],
  [GgmlType.IQ3_XXS, QK_K, 2 + (3 * QK_K) / 8],
  [GgmlType.IQ1_S, QK_K, 2 + QK_K / 8 + (QK_K / 32) * 2],
  [GgmlType.IQ4_NL, 32, 2 + 16],
  [GgmlType.IQ3_S, QK_K, 2 + QK_K / 4 + QK_K / 32 + QK_K / 8 + QK_K / 64],
  [GgmlType.IQ2_S, QK_K, 2 + QK_K / 4 + QK_K / 32 + QK_K / 32],
  [GgmlType.IQ4_XS, QK_K, 2 + 2 + QK_K / 64 + QK_K / 2],
  [GgmlType.I8, 1, 1],
  [GgmlType.I16, 1, 2],
  [GgmlType.I32, 1, 4],
  [GgmlType.I64, 1, 8],
  [GgmlType.F64, 1, 8],
  [GgmlType.IQ1_M, QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32],
  [GgmlType.BF16, 1, 2],
  [GgmlType.TQ1_0, QK_K, (QK_K - (4 * QK_K) / 64) / 5 + QK_K / 64 + 2],
  [GgmlType.TQ2_0, QK_K, QK_K / 4 + 2],
  [GgmlType.MXFP4, 32, 1 + 16],
];

const PLAIN_TYPES = new Set<GgmlType>([
  GgmlType.F32,
  GgmlType.F16,
  GgmlType.BF16,
  GgmlType.F64,
  GgmlType.I8,
  GgmlType.I16,
  GgmlType.I32,
  GgmlType.I64,
]);

const INFO = new Map<number, GgmlTypeInfo>(
  TYPE_TABLE.map(([type, blockSize, typeSize]) => [
    type,
    Object.freeze({ name: GgmlType[type], blockSize, typeSize, quantized: !PLAIN_TYPES.has(type) }),
  ]),
);
const BY_NAME = new Map<string, GgmlType>(TYPE_TABLE.map(([type]) => [GgmlType[type].toLowerCase(), type]));

/** Every ggml type this package knows, in id order. */
export const ggmlTypes: readonly GgmlType[] = TYPE_TABLE.map(([type]) => type);

export function isGgmlType(type: number): type is GgmlType {
  return INFO.has(type);
}

/** Block layout of a type. Throws a RangeError for ids ggml does not define (or removed). */
export function ggmlTypeInfo(type: GgmlType | number): GgmlTypeInfo {
  const info = INFO.get(type);
  if (!info) throw new RangeError(`unknown ggml type id ${type}`);
  return info;
}

/** `ggmlTypeFromName("q4_0") === GgmlType.Q4_0` (case-insensitive); undefined when unknown. */
export function ggmlTypeFromName(name: string): GgmlType | undefined {
  return BY_NAME.get(name.trim().toLowerCase());
}

/** Bytes of one row of `n` elements. Throws when `n` is not a multiple of the block size. */
export function rowByteSize(type: GgmlType | number, n: number): number {
  const { blockSize, typeSize, name } = ggmlTypeInfo(type);
  if (!Number.isSafeInteger(n) || n < 0 || n % blockSize !== 0) {
    throw new RangeError(`row of ${n} elements is not a multiple of ${name}'s block size ${blockSize}`);
  }
  return (n / blockSize) * typeSize;
}

/** Bytes of a tensor; `shape` is innermost first (ggml's `ne`). */
export function tensorByteSize(type: GgmlType | number, shape: readonly number[]): number {
  if (shape.length === 0) return rowByteSize(type, 1);
  let rows = 1;
  for (let i = 1; i < shape.length; i++) rows *= shape[i];
  const size = rowByteSize(type, shape[0]) * rows;
  if (!Number.isSafeInteger(size)) throw new RangeError(`tensor of shape [${shape.join(", ")}] is too large`);
  return size;
}

/** Number of elements of a shape. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** llama.cpp's `llama_ftype`, stored as `general.file_type` (u32). */
export enum LlamaFileType {
  ALL_F32 = 0,
  MOSTLY_F16 = 1,
  MOSTLY_Q4_0 = 2,
  MOSTLY_Q4_1 = 3,
  MOSTLY_Q8_0 = 7,
  MOSTLY_Q5_0 = 8,
  MOSTLY_Q5_1 = 9,
  MOSTLY_Q2_K = 10,
  MOSTLY_Q3_K_S = 11,
  MOSTLY_Q3_K_M = 12,
  MOSTLY_Q3_K_L = 13,
  MOSTLY_Q4_K_S = 14,
  MOSTLY_Q4_K_M = 15,
  MOSTLY_Q5_K_S = 16,
  MOSTLY_Q5_K_M = 17,
  MOSTLY_Q6_K = 18,
  MOSTLY_IQ2_XXS = 19,
  MOSTLY_IQ2_XS = 20,
  MOSTLY_Q2_K_S = 21,
  MOSTLY_IQ3_XS = 22,
  MOSTLY_IQ3_XXS = 23,
  MOSTLY_IQ1_S = 24,
  MOSTLY_IQ4_NL = 25,
  MOSTLY_IQ3_S = 26,
  MOSTLY_IQ3_M = 27,
  MOSTLY_IQ2_S = 28,
  MOSTLY_IQ2_M = 29,
  MOSTLY_IQ4_XS = 30,
  MOSTLY_IQ1_M = 31,
  MOSTLY_BF16 = 32,
  MOSTLY_TQ1_0 = 36,
  MOSTLY_TQ2_0 = 37,
  MOSTLY_MXFP4_MOE = 38,
}

/** Display name of a file type the way llama.cpp prints it ("Q4_K - Medium" style is not needed: "Q4_K_M"). */
export function llamaFileTypeName(ftype: number): string | undefined {
  const name = LlamaFileType[ftype];
  if (name === undefined) return undefined;
  return name.replace(/^MOSTLY_/, "").replace(/^ALL_/, "");
}

/** The file type matching a tensor type for single-type files (F32, F16, BF16, Q4_0, ...). */
export function fileTypeForGgmlType(type: GgmlType): LlamaFileType | undefined {
  switch (type) {
    case GgmlType.F32:
      return LlamaFileType.ALL_F32;
    case GgmlType.F16:
      return LlamaFileType.MOSTLY_F16;
    case GgmlType.BF16:
      return LlamaFileType.MOSTLY_BF16;
    case GgmlType.Q4_0:
      return LlamaFileType.MOSTLY_Q4_0;
    case GgmlType.Q4_1:
      return LlamaFileType.MOSTLY_Q4_1;
    case GgmlType.Q5_0:
      return LlamaFileType.MOSTLY_Q5_0;
    case GgmlType.Q5_1:
      return LlamaFileType.MOSTLY_Q5_1;
    case GgmlType.Q8_0:
      return LlamaFileType.MOSTLY_Q8_0;
    case GgmlType.Q2_K:
      return LlamaFileType.MOSTLY_Q2_K;
    case GgmlType.Q3_K:
      return LlamaFileType.MOSTLY_Q3_K_M;
    case GgmlType.Q4_K:
      return LlamaFileType.MOSTLY_Q4_K_M;
    case GgmlType.Q5_K:
      return LlamaFileType.MOSTLY_Q5_K_M;
    case GgmlType.Q6_K:
      return LlamaFileType.MOSTLY_Q6_K;
    default:
      return undefined;
  }
}

/** GGUF metadata value types (the `u32 type` before each value). */
export enum GgufValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

export type GgufValueTypeName = keyof typeof GgufValueType;

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_MAX_NAME: names are at most 63 bytes (plus the C string's NUL). */
export const GGML_MAX_NAME = 64;
export const GGML_MAX_DIMS = 4;
