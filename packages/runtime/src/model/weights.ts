import { GgmlType, type GgufTensorInfo, rowByteSize } from "@cllama/gguf-format";
import { dequantizeRow, fp16ToFp32 } from "@cllama/quantize";

/** Matrices smaller than this keep their dequantized rows (the reference path on tiny models). */
const DEQUANT_CACHE_LIMIT = 64 << 20;

/**
 * A 2-D weight in its file encoding: `rows` output rows of `cols` input elements, each row a
 * whole number of blocks (ggml row-major).
 */
export class WeightMatrix {
  readonly rowBytes: number;
  private dequantized: Float32Array | undefined;

  constructor(
    readonly name: string,
    readonly type: GgmlType,
    readonly cols: number,
    readonly rows: number,
    readonly data: Uint8Array,
  ) {
    this.rowBytes = rowByteSize(type, cols);
    if (cols * rows * 4 <= DEQUANT_CACHE_LIMIT) {
      this.dequantized = dequantizeRow(type, data, cols * rows);
    }
  }

  static fromTensor(info: GgufTensorInfo, data: Uint8Array): WeightMatrix {
    return new WeightMatrix(info.name, info.type, info.shape[0]!, info.shape[1] ?? 1, data);
  }

  /** Row r as float32 (a view when cached, else freshly dequantized). */
  row(r: number): Float32Array {
    if (this.dequantized) return this.dequantized.subarray(r * this.cols, (r + 1) * this.cols);
    const start = r * this.rowBytes;
    return dequantizeRow(this.type, this.data.subarray(start, start + this.rowBytes), this.cols);
  }

  /** Q4_1 / Q5_1: the fp16 block minimum `m` of each block of row r (for Q8_1's sum correction). */
  blockMins(r: number): Float32Array {
    const blocks = this.cols / 32;
    const typeSize = this.type === GgmlType.Q4_1 ? 20 : 24;
    const out = new Float32Array(blocks);
    const base = r * this.rowBytes;
    for (let b = 0; b < blocks; b++) {
      const o = base + b * typeSize + 2;
      out[b] = fp16ToFp32(this.data[o]! | (this.data[o + 1]! << 8));
    }
    return out;
  }
}

/** A 1-D float32 tensor (norm weights). */
export function floatVector(data: Uint8Array, n: number): Float32Array {
  const copy = new Uint8Array(n * 4);
  copy.set(data.subarray(0, n * 4));
  return new Float32Array(copy.buffer);
}
