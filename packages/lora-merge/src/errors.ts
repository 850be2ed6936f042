/** Every failure of this package: a stable code (the CLI maps it to exit 2) and a hint naming the fix. */
export type LoraMergeErrorCode =
  | "LORA_TRUNCATED"
  | "LORA_BAD_SAFETENSORS"
  | "LORA_BAD_ZIP"
  | "LORA_ZIP_COMPRESSED"
  | "LORA_BAD_PICKLE"
  | "LORA_PICKLE_FORBIDDEN_GLOBAL"
  | "LORA_PICKLE_FORBIDDEN_OPCODE"
  | "LORA_UNSUPPORTED_DTYPE"
  | "LORA_BAD_TENSOR"
  | "LORA_NO_CHECKPOINT"
  | "LORA_BAD_INDEX"
  | "LORA_MISSING_SHARD"
  | "LORA_MISSING_TENSOR"
  | "LORA_EXTRA_TENSOR"
  | "LORA_BAD_CONFIG"
  | "LORA_BAD_ADAPTER"
  | "LORA_SHAPE_MISMATCH"
  | "LORA_WRONG_BASE"
  | "LORA_WRONG_ORDER"
  | "LORA_VOCAB_MISMATCH"
  | "LORA_NO_TOKENIZER"
  | "LORA_BAD_OUTTYPE";

export class LoraMergeError extends Error {
  override name = "LoraMergeError";
  constructor(
    readonly code: LoraMergeErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function fail(code: LoraMergeErrorCode, message: string, hint?: string): never {
  throw new LoraMergeError(code, message, hint);
}
