/**
 * Row-level API: quantize float32 rows to a ggml type and back, byte-identical to ggml's
 * reference quantizer (`ggml_quantize_chunk` without an importance matrix).
 */
import { GgmlType } from "@cllama/gguf-format";
import { type BlockCodec, codecFor } from "./codecs";
import { QuantizeError } from "./errors";

function codecOrThrow(type: GgmlType | number): BlockCodec {
  const codec = codecFor(type);
  if (!codec) {
    throw new QuantizeError(
      "QUANTIZE_UNSUPPORTED_TYPE",
      `ggml type ${GgmlType[type] ?? type} is not supported (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K)`,
    );
  }
  return codec;
}

function blocksOf(codec: BlockCodec, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0 || n % codec.blockSize !== 0) {
    throw new QuantizeError(
      "QUANTIZE_BAD_ROW_LENGTH",
      `${GgmlType[codec.type]} needs rows whose length is a multiple of ${codec.blockSize}, found ${n}`,
      codec.blockSize === 256 ? "K-quants need rows of 256k elements; use Q4_0/Q5_0/Q8_0 instead" : undefined,
    );
  }
  return n / codec.blockSize;
}

/** True when rows of `nPerRow` elements can be quantized to `type`. */
export function canQuantize(type: GgmlType | number, nPerRow: number): boolean {
  const codec = codecFor(type);
  return (
    codec !== undefined && Number.isSafeInteger(nPerRow) && nPerRow > 0 && nPerRow % codec.blockSize === 0
  );
}

/** Bytes that `n` elements take in `type` (n a multiple of the block size). */
export function quantizedSize(type: GgmlType | number, n: number): number {
  const codec = codecOrThrow(type);
  return blocksOf(codec, n) * codec.typeSize;
}

/**
 * Low level, allocation-free: quantize `n` elements of `src` starting at `srcOffset` into `dst`
 * at byte `dstOffset`. `n` must be a multiple of the type's block size. Returns bytes written.
 */
export function quantizeInto(
  type: GgmlType | number,
  src: Float32Array,
  srcOffset: number,
  n: number,
  dst: Uint8Array,
  dstOffset: number,
): number {
  const codec = codecOrThrow(type);
  const nb = blocksOf(codec, n);
  const bytes = nb * codec.typeSize;
  if (srcOffset < 0 || srcOffset + n > src.length || dstOffset < 0 || dstOffset + bytes > dst.length) {
    throw new QuantizeError("QUANTIZE_BAD_ARGUMENT", `quantizeInto: range outside the given arrays`);
  }
  codec.quantize(src, srcOffset, dst, dstOffset, nb);
  return bytes;
}

/** Low level, allocation-free: dequantize `n` elements from `src` at `srcOffset` into `dst`. */
export function dequantizeInto(
  type: GgmlType | number,
  src: Uint8Array,
  srcOffset: number,
  n: number,
  dst: Float32Array,
  dstOffset: number,
): void {
  const codec = codecOrThrow(type);
  const nb = blocksOf(codec, n);
  if (
    srcOffset < 0 ||
    srcOffset + nb * codec.typeSize > src.length ||
    dstOffset < 0 ||
    dstOffset + n > dst.length
  ) {
    throw new QuantizeError("QUANTIZE_BAD_ARGUMENT", `dequantizeInto: range outside the given arrays`);
  }
  codec.dequantize(src, srcOffset, dst, dstOffset, nb);
}

/** Quantize one row (its length a multiple of the type's block size). */
export function quantizeRow(type: GgmlType | number, src: Float32Array): Uint8Array {
  const out = new Uint8Array(quantizedSize(type, src.length));
  quantizeInto(type, src, 0, src.length, out, 0);
  return out;
}

/** Quantize `nRows` rows of `nPerRow` elements each (row-major, as ggml stores a 2-D tensor). */
export function quantizeRows(
  type: GgmlType | number,
  src: Float32Array,
  nRows: number,
  nPerRow: number,
): Uint8Array {
  if (!Number.isSafeInteger(nRows) || nRows < 0 || nRows * nPerRow > src.length) {
    throw new QuantizeError(
      "QUANTIZE_BAD_ARGUMENT",
      `quantizeRows: ${nRows} rows of ${nPerRow} need ${nRows * nPerRow} floats, found ${src.length}`,
    );
  }
  const rowBytes = quantizedSize(type, nPerRow);
  const out = new Uint8Array(rowBytes * nRows);
  quantizeInto(type, src, 0, nRows * nPerRow, out, 0);
  return out;
}

/** Dequantize `n` elements of `type` from `bytes` (from its start). */
export function dequantizeRow(type: GgmlType | number, bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  dequantizeInto(type, bytes, 0, n, out, 0);
  return out;
}
