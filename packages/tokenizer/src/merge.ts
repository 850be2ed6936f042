/**
 * The Chinese vocabulary merge of Chinese-LLaMA-Alpaca's `merge_tokenizers.py`: keep the base
 * model whole, append every piece of the extra model whose string the base lacks (score 0, type
 * left unset = NORMAL), optionally append a pad piece. Unknown fields of the base survive, so the
 * output is byte-identical to what the Python script writes.
 */
import { TokenizerError } from "./errors";
import { type ModelPiece, type ModelProto, parseModelProto, serializeModelProto } from "./model-proto";

export interface MergeVocabOptions {
  /** Appended as a NORMAL piece with score 0 (Chinese-Alpaca uses "[PAD]"), unless present. */
  padToken?: string;
  baseName?: string;
  extraName?: string;
}

export interface MergeVocabResult {
  bytes: Uint8Array;
  model: ModelProto;
  /** Pieces of the base model (all kept). */
  kept: number;
  /** Pieces appended (from the extra model, plus the pad piece if any). */
  added: number;
  /** Pieces of the extra model already present in the base. */
  skipped: number;
  total: number;
}

function parseInput(bytes: Uint8Array, name: string): ModelProto {
  try {
    return parseModelProto(bytes, name);
  } catch (error) {
    if (error instanceof TokenizerError) {
      throw new TokenizerError(
        "TOKENIZER_NOT_SENTENCEPIECE",
        `${name} is not a SentencePiece model: ${error.message}`,
        "merge-vocab takes two SentencePiece tokenizer.model files (base first, e.g. LLaMA's, then the extra one)",
      );
    }
    throw error;
  }
}

export function mergeVocab(
  base: Uint8Array,
  extra: Uint8Array,
  options: MergeVocabOptions = {},
): MergeVocabResult {
  const baseModel = parseInput(base, options.baseName ?? "base model");
  const extraModel = parseInput(extra, options.extraName ?? "extra model");
  const seen = new Set(baseModel.pieces.map((p) => p.piece));
  const kept = baseModel.pieces.length;
  const pieces: ModelPiece[] = [...baseModel.pieces];
  let skipped = 0;
  for (const p of extraModel.pieces) {
    if (seen.has(p.piece)) {
      skipped++;
      continue;
    }
    seen.add(p.piece);
    pieces.push({ piece: p.piece, score: 0 });
  }
  if (options.padToken !== undefined && !seen.has(options.padToken)) {
    pieces.push({ piece: options.padToken, score: 0 });
  }
  const model: ModelProto = { ...baseModel, pieces };
  const bytes = serializeModelProto(model);
  return { bytes, model, kept, added: pieces.length - kept, skipped, total: pieces.length };
}
