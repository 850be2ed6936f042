/**
 * Convert a run of rows from one tensor type to another (dequantize to float32 if needed, then
 * quantize), and check the result as llama.cpp's `ggml_validate_row_data` does. Isomorphic: the
 * worker threads of `./node` call it, and so can anything else.
 */
import { GgmlType } from "@cllama/gguf-format";
import { codecFor } from "./codecs";
import { QuantizeError } from "./errors";
import { fp16Table } from "./half";
import { wasmConvertHalfRows } from "./wasm";

let scratch = new Float32Array(0);

/** Float32 view of `n` source elements: the bytes themselves for F32, else dequantized. */
function toFloat(srcType: GgmlType, src: Uint8Array, n: number): Float32Array {
  if (srcType === GgmlType.F32 && src.byteOffset % 4 === 0) {
    return new Float32Array(src.buffer, src.byteOffset, n);
  }
  const codec = codecFor(srcType);
  if (!codec) {
    throw new QuantizeError(
      "QUANTIZE_CANNOT_CONVERT",
      `cannot convert from tensor type ${GgmlType[srcType] ?? srcType}`,
    );
  }
  if (scratch.length < n) scratch = new Float32Array(n);
  codec.dequantize(src, 0, scratch, 0, n / codec.blockSize);
  return scratch;
}

/** Byte offsets of the fp16 scales ggml validates in each block, per type. */
const SCALE_OFFSETS: Partial<Record<GgmlType, number[]>> = {
  [GgmlType.Q4_0]: [0],
  [GgmlType.Q4_1]: [0, 2],
  [GgmlType.Q5_0]: [0],
  [GgmlType.Q5_1]: [0, 2],
  [GgmlType.Q8_0]: [0],
  [GgmlType.Q2_K]: [80, 82],
  [GgmlType.Q3_K]: [108],
  [GgmlType.Q4_K]: [0, 2],
  [GgmlType.Q5_K]: [0, 2],
  [GgmlType.Q6_K]: [208],
};

/** False when the data holds a NaN or infinity where ggml_validate_row_data looks. */
export function validRowData(type: GgmlType, bytes: Uint8Array): boolean {
  if (type === GgmlType.F32) {
    const f = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    for (let i = 0; i < f.length; i++) if (!Number.isFinite(f[i])) return false;
    return true;
  }
  if (type === GgmlType.F16) {
    for (let i = 0; i < bytes.length; i += 2) if ((bytes[i + 1] & 0x7c) === 0x7c) return false;
    return true;
  }
  if (type === GgmlType.BF16) {
    for (let i = 0; i < bytes.length; i += 2)
      if ((bytes[i + 1] & 0x7f) === 0x7f && bytes[i] & 0x80) return false;
    return true;
  }
  const offsets = SCALE_OFFSETS[type];
  const codec = codecFor(type);
  if (!offsets || !codec) return true;
  for (let b = 0; b < bytes.length; b += codec.typeSize) {
    for (const o of offsets) {
      if (!Number.isFinite(fp16Table[bytes[b + o] | (bytes[b + o + 1] << 8)])) return false;
    }
  }
  return true;
}

/**
 * Convert `n` elements of `srcType` in `src` to `dstType` (n a multiple of both block sizes).
 * Throws QUANTIZE_INVALID_DATA where llama.cpp reports "quantized data validation failed".
 */
export function convertRows(srcType: GgmlType, src: Uint8Array, n: number, dstType: GgmlType): Uint8Array {
  const dst = codecFor(dstType);
  if (!dst)
    throw new QuantizeError(
      "QUANTIZE_UNSUPPORTED_TYPE",
      `cannot quantize to ${GgmlType[dstType] ?? dstType}`,
    );
  let out = wasmConvertHalfRows(srcType, src, n, dstType, dst.blockSize, dst.typeSize);
  if (!out) {
    const floats = toFloat(srcType, src, n);
    out = new Uint8Array((n / dst.blockSize) * dst.typeSize);
    dst.quantize(floats, 0, out, 0, n / dst.blockSize);
  }
  if (!validRowData(dstType, out)) {
    throw new QuantizeError(
      "QUANTIZE_INVALID_DATA",
      `quantized data validation failed: NaN or infinity in the ${GgmlType[dstType]} data`,
      "the input tensor holds NaN/inf values or values too large for the target type",
    );
  }
  return out;
}
