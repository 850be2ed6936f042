import { RuntimeError } from "./errors";
import type { Model } from "./model";

export interface PerplexityResult {
  ppl: number;
  chunks: number;
  /** Tokens of the text (with BOS). */
  tokens: number;
  /** Tokens scored (the second half of every chunk). */
  scored: number;
  /** Perplexity after each chunk, as llama.cpp prints it. */
  perChunk: number[];
}

/** -log softmax(logits)[token], with the double sum llama.cpp's perplexity uses. */
export function negLogLikelihood(logits: Float32Array, token: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.fround(Math.exp(logits[i]! - max));
  return Math.log(sum) + max - logits[token]!;
}

/**
 * llama.cpp's perplexity (tools/perplexity): the tokens (BOS first) are cut into chunks of
 * `contextSize`; each chunk is evaluated from an empty cache with its first token replaced by BOS,
 * and only the predictions of its second half are scored (each then has at least n_ctx/2 tokens of
 * context). Needs at least 2 * contextSize tokens.
 */
export async function perplexityOfTokens(
  model: Model,
  tokens: readonly number[],
  options: { contextSize?: number; onChunk?: (done: number, total: number, ppl: number) => void } = {},
): Promise<PerplexityResult> {
  const nCtx = options.contextSize ?? 512;
  if (tokens.length < 2 * nCtx) {
    throw new RuntimeError(
      "RUNTIME_TEXT_TOO_SHORT",
      `perplexity needs at least ${2 * nCtx} tokens with a context of ${nCtx}, the text has ${tokens.length}`,
      "use a longer text or a smaller context (-c)",
    );
  }
  const nChunk = Math.floor(tokens.length / nCtx);
  const first = Math.floor(nCtx / 2);
  const addBos = model.tokenizer.addBosToken;
  let nll = 0;
  let count = 0;
  const perChunk: number[] = [];
  const ctx = model.createContext(nCtx);
  try {
    for (let c = 0; c < nChunk; c++) {
      const chunk = tokens.slice(c * nCtx, (c + 1) * nCtx);
      if (addBos) chunk[0] = model.tokenizer.bosId;
      ctx.truncate(0);
      const logits = await ctx.evaluate(chunk, true);
      for (let j = first; j < nCtx - 1; j++) {
        nll += negLogLikelihood(logits[j]!, tokens[c * nCtx + j + 1]!);
        count++;
      }
      perChunk.push(Math.exp(nll / count));
      options.onChunk?.(c + 1, nChunk, Math.exp(nll / count));
    }
  } finally {
    ctx.dispose();
  }
  return { ppl: Math.exp(nll / count), chunks: nChunk, tokens: tokens.length, scored: count, perChunk };
}
