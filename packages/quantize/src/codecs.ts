/**
 * One codec per ggml type this package converts: block layout plus the allocation-free block
 * functions. F32/F16/BF16 are "blocks" of one element so every type goes through one path.
 */
import { GgmlType } from "@cllama/gguf-format";
import * as K from "./blocks/kquants";
import * as Q from "./blocks/legacy";
import { bf16ToFp32, fp16Table, fp32ToBf16, fp32ToFp16 } from "./half";
import { wasmQuantizeBlocks } from "./wasm";

/** Quantize `nb` blocks from x[xo..] into y[yo..]. */
export type QuantizeBlocks = (x: Float32Array, xo: number, y: Uint8Array, yo: number, nb: number) => void;
/** Dequantize `nb` blocks from y[yo..] into x[xo..]. */
export type DequantizeBlocks = (y: Uint8Array, yo: number, x: Float32Array, xo: number, nb: number) => void;

export interface BlockCodec {
  readonly type: GgmlType;
  readonly blockSize: number;
  readonly typeSize: number;
  /** Activation formats (Q8_1, Q8_K) are never a tensor type of a model file. */
  readonly activation: boolean;
  readonly quantize: QuantizeBlocks;
  readonly dequantize: DequantizeBlocks;
}

const f32Bytes = (x: Float32Array, xo: number, y: Uint8Array, yo: number, nb: number): void => {
  // copy the float32 bits (little-endian hosts: every JS engine we run on)
  y.set(new Uint8Array(x.buffer, x.byteOffset + xo * 4, nb * 4), yo);
};
const f32Floats = (y: Uint8Array, yo: number, x: Float32Array, xo: number, nb: number): void => {
  new Uint8Array(x.buffer, x.byteOffset + xo * 4, nb * 4).set(y.subarray(yo, yo + nb * 4));
};
const f16Bytes = (x: Float32Array, xo: number, y: Uint8Array, yo: number, nb: number): void => {
  for (let i = 0; i < nb; i++, yo += 2) {
    const h = fp32ToFp16(x[xo + i]);
    y[yo] = h;
    y[yo + 1] = h >>> 8;
  }
};
const f16Floats = (y: Uint8Array, yo: number, x: Float32Array, xo: number, nb: number): void => {
  for (let i = 0; i < nb; i++, yo += 2) x[xo + i] = fp16Table[y[yo] | (y[yo + 1] << 8)];
};
const bf16Bytes = (x: Float32Array, xo: number, y: Uint8Array, yo: number, nb: number): void => {
  for (let i = 0; i < nb; i++, yo += 2) {
    const h = fp32ToBf16(x[xo + i]);
    y[yo] = h;
    y[yo + 1] = h >>> 8;
  }
};
const bf16Floats = (y: Uint8Array, yo: number, x: Float32Array, xo: number, nb: number): void => {
  for (let i = 0; i < nb; i++, yo += 2) x[xo + i] = bf16ToFp32(y[yo] | (y[yo + 1] << 8));
};

const table: [GgmlType, number, number, QuantizeBlocks, DequantizeBlocks, boolean?][] = [
  [GgmlType.F32, 1, 4, f32Bytes, f32Floats],
  [GgmlType.F16, 1, 2, f16Bytes, f16Floats],
  [GgmlType.BF16, 1, 2, bf16Bytes, bf16Floats],
  [GgmlType.Q4_0, 32, 18, Q.quantizeQ4_0, Q.dequantizeQ4_0],
  [GgmlType.Q4_1, 32, 20, Q.quantizeQ4_1, Q.dequantizeQ4_1],
  [GgmlType.Q5_0, 32, 22, Q.quantizeQ5_0, Q.dequantizeQ5_0],
  [GgmlType.Q5_1, 32, 24, Q.quantizeQ5_1, Q.dequantizeQ5_1],
  [GgmlType.Q8_0, 32, 34, Q.quantizeQ8_0, Q.dequantizeQ8_0],
  [GgmlType.Q8_1, 32, 36, Q.quantizeQ8_1, Q.dequantizeQ8_1, true],
  [GgmlType.Q2_K, 256, 84, K.quantizeQ2_K, K.dequantizeQ2_K],
  [GgmlType.Q3_K, 256, 110, K.quantizeQ3_K, K.dequantizeQ3_K],
  [GgmlType.Q4_K, 256, 144, K.quantizeQ4_K, K.dequantizeQ4_K],
  [GgmlType.Q5_K, 256, 176, K.quantizeQ5_K, K.dequantizeQ5_K],
  [GgmlType.Q6_K, 256, 210, K.quantizeQ6_K, K.dequantizeQ6_K],
  [GgmlType.Q8_K, 256, 292, K.quantizeQ8_K, K.dequantizeQ8_K, true],
];

/** The WebAssembly build when available (same bytes, ~4x faster), else the TypeScript port. */
function fastest(type: GgmlType, blockSize: number, typeSize: number, js: QuantizeBlocks): QuantizeBlocks {
  if (blockSize === 1) return js;
  return (x, xo, y, yo, nb) => {
    if (!wasmQuantizeBlocks(type, blockSize, typeSize, x, xo, y, yo, nb)) js(x, xo, y, yo, nb);
  };
}

const codecs = new Map<number, BlockCodec>(
  table.map(([type, blockSize, typeSize, quantize, dequantize, activation]) => [
    type,
    Object.freeze({
      type,
      blockSize,
      typeSize,
      quantize: fastest(type, blockSize, typeSize, quantize),
      dequantize,
      activation: activation ?? false,
    }),
  ]),
);

/** The codec of a type, or undefined when this package cannot produce it. */
export function codecFor(type: GgmlType | number): BlockCodec | undefined {
  return codecs.get(type);
}

/** Every type this package quantizes to and dequantizes from. */
export const supportedTypes: readonly GgmlType[] = table.map(([type]) => type);
