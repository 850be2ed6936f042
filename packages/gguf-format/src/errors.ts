/**
 * The one error type of this package. `code` says what went wrong (the CLI maps every code to
 * exit 2), `offset` and `field` say where, so a user can find the bad byte in a hex dump.
 */
export type GgufErrorCode =
  | "GGUF_BAD_MAGIC"
  | "GGUF_UNSUPPORTED_VERSION"
  | "GGUF_TRUNCATED"
  | "GGUF_BAD_COUNT"
  | "GGUF_BAD_LENGTH"
  | "GGUF_BAD_VALUE_TYPE"
  | "GGUF_BAD_UTF8"
  | "GGUF_TOO_DEEP"
  | "GGUF_DUPLICATE_KEY"
  | "GGUF_DUPLICATE_TENSOR"
  | "GGUF_BAD_ALIGNMENT"
  | "GGUF_BAD_KEY_TYPE"
  | "GGUF_MISSING_KEY"
  | "GGUF_NAME_TOO_LONG"
  | "GGUF_BAD_SHAPE"
  | "GGUF_BAD_TENSOR_TYPE"
  | "GGUF_MISALIGNED_TENSOR"
  | "GGUF_TENSOR_OUT_OF_BOUNDS"
  | "GGUF_TENSOR_OVERLAP"
  | "GGUF_HEADER_TOO_LARGE"
  | "GGUF_TENSOR_NOT_FOUND"
  | "GGUF_BAD_ROW_RANGE"
  | "GGUF_BAD_VALUE"
  | "GGUF_BAD_TENSOR_DATA";

export interface GgufErrorDetails {
  /** Byte offset in the file where the problem was found. */
  offset?: number;
  /** What was being read or written there, e.g. `kv[3].value` or `tensor "output.weight".offset`. */
  field?: string;
  /** File name, when known. */
  file?: string;
  hint?: string;
}

export class GgufError extends Error {
  override name = "GgufError";
  readonly code: GgufErrorCode;
  readonly offset?: number;
  readonly field?: string;
  readonly file?: string;
  readonly hint?: string;

  constructor(code: GgufErrorCode, message: string, details: GgufErrorDetails = {}) {
    const where = [
      details.file,
      details.offset !== undefined ? `offset ${details.offset}` : undefined,
      details.field,
    ]
      .filter((part) => part !== undefined)
      .join(", ");
    super(where ? `${where}: ${message}` : message);
    this.code = code;
    this.offset = details.offset;
    this.field = details.field;
    this.file = details.file;
    this.hint = details.hint;
  }

  /** The same error, naming the file it came from. */
  withFile(file: string): GgufError {
    if (this.file) return this;
    const message = this.message;
    const copy = new GgufError(this.code, message, { file, hint: this.hint });
    Object.assign(copy, { offset: this.offset, field: this.field, message: `${file}: ${message}` });
    return copy;
  }
}
