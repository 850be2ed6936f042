/**
 * The runtime's typed error. The CLI maps any `RUNTIME_*` code to exit 2 (bad input) and prints
 * `hint`; messages name the file / tensor / key and say what was expected and what was found.
 */
export type RuntimeErrorCode =
  | "RUNTIME_BAD_ARCHITECTURE"
  | "RUNTIME_MISSING_KEY"
  | "RUNTIME_BAD_HPARAMS"
  | "RUNTIME_MISSING_TENSOR"
  | "RUNTIME_BAD_TENSOR_SHAPE"
  | "RUNTIME_UNSUPPORTED_TYPE"
  | "RUNTIME_CONTEXT_TOO_LARGE"
  | "RUNTIME_OUT_OF_MEMORY"
  | "RUNTIME_BAD_TOKEN"
  | "RUNTIME_BAD_OPTION"
  | "RUNTIME_BAD_TEMPLATE"
  | "RUNTIME_PROMPT_TOO_LONG"
  | "RUNTIME_TEXT_TOO_SHORT"
  | "RUNTIME_ABORTED";

export class RuntimeError extends Error {
  override name = "RuntimeError";
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
