export type KernelsErrorCode =
  | "KERNELS_UNSUPPORTED_TYPE"
  | "KERNELS_BAD_SHAPE"
  | "KERNELS_OUT_OF_MEMORY"
  | "KERNELS_ARENA_MISMATCH"
  | "KERNELS_NO_WORKERS"
  | "KERNELS_DISPOSED";

/** Every error thrown by @cllama/kernels-wasm. */
export class KernelsError extends Error {
  readonly code: KernelsErrorCode;
  readonly hint?: string;
  constructor(code: KernelsErrorCode, message: string, hint?: string) {
    super(message);
    this.name = "KernelsError";
    this.code = code;
    if (hint !== undefined) this.hint = hint;
  }
}
