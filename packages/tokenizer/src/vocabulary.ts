/** Everything a tokenizer needs, whatever it was read from (`.model` file or GGUF metadata). */
export interface Vocabulary {
  /** Where it came from, for error messages. */
  source: string;
  pieces: string[];
  scores: Float32Array;
  /** sentencepiece piece types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte. */
  types: Int32Array;
  /** Explicit unknown id; undefined = the piece of type UNKNOWN. */
  unkId: number | undefined;
  bosId: number;
  eosId: number;
  padId: number;
  byteFallback: boolean;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
  treatWhitespaceAsSuffix: boolean;
  /** What decoding prints for `<unk>` (sentencepiece's default is " ⁇ "). */
  unkSurface: string;
  addBosToken: boolean;
  addEosToken: boolean;
}
