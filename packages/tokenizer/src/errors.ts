/** Every failure this package reports: bad files, unsupported models, bad ids, bad merges. */
export type TokenizerErrorCode =
  | "TOKENIZER_TRUNCATED"
  | "TOKENIZER_CORRUPT"
  | "TOKENIZER_NOT_SENTENCEPIECE"
  | "TOKENIZER_UNSUPPORTED_MODEL"
  | "TOKENIZER_DUPLICATE_PIECE"
  | "TOKENIZER_ID_OUT_OF_RANGE"
  | "TOKENIZER_BAD_METADATA"
  | "TOKENIZER_BAD_ARGUMENT";

export class TokenizerError extends Error {
  override name = "TokenizerError";
  constructor(
    readonly code: TokenizerErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
