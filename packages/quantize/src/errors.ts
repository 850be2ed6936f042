/** Typed errors of @cllama/quantize; the CLI maps every `code` to exit 2 and prints `hint`. */
export type QuantizeErrorCode =
  | "QUANTIZE_UNSUPPORTED_TYPE"
  | "QUANTIZE_BAD_ROW_LENGTH"
  | "QUANTIZE_BAD_ARGUMENT"
  | "QUANTIZE_UNKNOWN_FTYPE"
  | "QUANTIZE_REQUANTIZE_DISABLED"
  | "QUANTIZE_CANNOT_CONVERT"
  | "QUANTIZE_INVALID_DATA"
  | "QUANTIZE_NOT_GGUF"
  | "QUANTIZE_WRITE_FAILED"
  | "QUANTIZE_WORKER_FAILED";

export class QuantizeError extends Error {
  override name = "QuantizeError";
  constructor(
    readonly code: QuantizeErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
