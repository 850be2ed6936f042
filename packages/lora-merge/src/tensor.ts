import type { DType } from "./dtype";

/** A tensor in a checkpoint, known by its header; its bytes are read only when asked for. */
export interface TensorRef {
  readonly name: string;
  readonly dtype: DType;
  /** PyTorch order, outermost first ([out, in] for a Linear weight). */
  readonly shape: readonly number[];
  /** Bytes of the contiguous (row-major) data. */
  readonly byteLength: number;
  /** File the tensor lives in, for messages. */
  readonly file: string;
  /** The contiguous little-endian element data. */
  read(): Promise<Uint8Array>;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}
