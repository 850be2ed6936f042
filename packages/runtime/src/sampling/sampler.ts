import { Candidates } from "./candidates";
import { Mt19937 } from "./mt19937";
import { type ResolvedSamplingOptions, resolveSamplingOptions, type SamplingOptions } from "./options";

const f = Math.fround;

/**
 * llama.cpp's default sampler chain (common_sampler_init): logit bias, penalties, top-k,
 * typical-p, top-p, min-p, temperature, dist(seed). Every step follows src/llama-sampling.cpp,
 * float32 arithmetic included, so a seed and the same logits pick the same token.
 */
export class Sampler {
  readonly options: ResolvedSamplingOptions;
  private readonly rng: Mt19937;
  /** Ring of the last `repeatLastN` accepted tokens and their counts (the penalties sampler). */
  private readonly recent: number[] = [];
  private readonly counts = new Map<number, number>();

  constructor(options: SamplingOptions = {}, contextSize = 0) {
    this.options = resolveSamplingOptions(options, contextSize);
    this.rng = new Mt19937(this.options.seed);
  }

  /** Record a token (prompt or generated) for the repetition penalties. */
  accept(token: number): void {
    const lastN = this.options.repeatLastN;
    if (lastN === 0) return;
    this.counts.set(token, (this.counts.get(token) ?? 0) + 1);
    if (this.recent.length >= lastN) {
      const old = this.recent.shift()!;
      const count = this.counts.get(old)! - 1;
      if (count === 0) this.counts.delete(old);
      else this.counts.set(old, count);
    }
    this.recent.push(token);
  }

  /** Forget the history and reseed (llama_sampler_reset). */
  reset(): void {
    this.recent.length = 0;
    this.counts.clear();
    this.rng.seed(this.options.seed);
  }

  /** Pick the next token from a row of logits (does not accept it). */
  sample(logits: Float32Array): number {
    const cur = new Candidates(logits);
    const o = this.options;
    applyLogitBias(cur, o.logitBias);
    this.applyPenalties(cur);
    if (o.temperature <= 0) {
      // llama.cpp keeps running the chain and its temperature step leaves only the maximum: the
      // draw then always lands on it. The rng still advances, as llama.cpp's does.
      this.rng.nextCanonical();
      return argmax(cur);
    }
    topK(cur, o.topK);
    typical(cur, o.typicalP, o.minKeep);
    topP(cur, o.topP, o.minKeep);
    minP(cur, o.minP, o.minKeep);
    for (let i = 0; i < cur.size; i++) cur.logits[i] = f(cur.logits[i]! / o.temperature);
    return cur.ids[draw(cur, this.rng)]!;
  }

  private applyPenalties(cur: Candidates): void {
    const o = this.options;
    if (
      o.repeatLastN === 0 ||
      (o.repeatPenalty === 1 && o.frequencyPenalty === 0 && o.presencePenalty === 0) ||
      this.counts.size === 0
    ) {
      return;
    }
    for (let i = 0; i < cur.size; i++) {
      const count = this.counts.get(cur.ids[i]!);
      if (count === undefined) continue;
      let logit = cur.logits[i]!;
      logit = logit <= 0 ? f(logit * o.repeatPenalty) : f(logit / o.repeatPenalty);
      logit = f(logit - f(f(count * o.frequencyPenalty) + f(o.presencePenalty)));
      cur.logits[i] = logit;
    }
    cur.sorted = false;
  }
}

export function applyLogitBias(cur: Candidates, bias: Map<number, number>): void {
  if (bias.size === 0) return;
  for (let i = 0; i < cur.size; i++) {
    const b = bias.get(cur.ids[i]!);
    if (b !== undefined) cur.logits[i] = f(cur.logits[i]! + b);
  }
}

/** First index of the largest logit (llama_sampler_greedy). */
export function argmax(cur: Candidates): number {
  let best = 0;
  for (let i = 1; i < cur.size; i++) if (cur.logits[i]! > cur.logits[best]!) best = i;
  return cur.ids[best]!;
}

export function topK(cur: Candidates, k: number): void {
  if (k <= 0) return;
  const keep = Math.min(k, cur.size);
  if (!cur.sorted) cur.sortDescending(keep);
  cur.size = keep;
}

export function topP(cur: Candidates, p: number, minKeep: number): void {
  if (p >= 1) return;
  cur.softmax(false);
  if (!cur.sorted) cur.sortDescending();
  let sum = 0;
  let last = cur.size;
  for (let i = 0; i < cur.size; i++) {
    sum = f(sum + cur.probs[i]!);
    if (sum >= f(p) && i + 1 >= minKeep) {
      last = i + 1;
      break;
    }
  }
  cur.size = last;
}

export function minP(cur: Candidates, p: number, minKeep: number): void {
  if (p <= 0 || cur.size === 0) return;
  const logP = f(Math.log(f(p)));
  if (!cur.sorted) {
    const minLogit = f(cur.maxLogit() + logP);
    const kept: number[] = [];
    for (let i = 0; i < cur.size; i++) if (cur.logits[i]! >= minLogit) kept.push(i);
    if (kept.length > 0 && kept.length >= minKeep) {
      cur.reorder(kept);
      return;
    }
    cur.sortDescending();
  }
  const minLogit = f(cur.logits[0]! + logP);
  let i = 1;
  for (; i < cur.size; i++) if (cur.logits[i]! < minLogit && i >= minKeep) break;
  cur.size = i;
}

export function typical(cur: Candidates, p: number, minKeep: number): void {
  if (p >= 1) return;
  cur.softmax(true);
  let entropy = 0;
  for (let i = 0; i < cur.size; i++) entropy = f(entropy + f(-cur.probs[i]! * f(Math.log(cur.probs[i]!))));
  const shifted = Array.from({ length: cur.size }, (_, i) =>
    Math.abs(f(-f(Math.log(cur.probs[i]!)) - entropy)),
  );
  const order = Array.from({ length: cur.size }, (_, i) => i).sort((a, b) => shifted[a]! - shifted[b]!);
  let sum = 0;
  let last = order.length;
  for (let i = 0; i < order.length; i++) {
    sum = f(sum + cur.probs[order[i]!]!);
    if (sum > f(p) && (minKeep === 0 || i >= minKeep - 1)) {
      last = i + 1;
      break;
    }
  }
  cur.reorder(order.slice(0, last));
  cur.sorted = false;
}

/**
 * llama_sampler_dist: softmax in float32, sum in double, then walk the candidates in their
 * current order until the running sum reaches `sum * u` with u from the mt19937.
 */
export function draw(cur: Candidates, rng: Mt19937): number {
  if (cur.size <= 1) return 0;
  const max = cur.maxLogit();
  let total = 0;
  for (let i = 0; i < cur.size; i++) {
    const p = f(Math.exp(f(cur.logits[i]! - max)));
    cur.probs[i] = p;
    total += p;
  }
  const target = total * rng.nextCanonical();
  let running = 0;
  for (let i = 0; i < cur.size; i++) {
    running += cur.probs[i]!;
    if (running >= target) return i;
  }
  return cur.size - 1;
}
