/**
 * Batches: fixed-length windows cut from one token stream (pre-training) and single examples
 * whose loss counts only the answer (instruction tuning).
 */
import { Rng } from "./params";

export interface Batch {
  tokens: Int32Array;
  /** Next-token targets; -1 is not counted. */
  targets: Int32Array;
  batch: number;
  seqLen: number;
}

/** Draws `batch` random windows of `seqLen + 1` tokens from a stream. */
export class StreamSampler {
  private readonly rng: Rng;
  constructor(
    readonly stream: Int32Array,
    readonly seqLen: number,
    seed = 1,
  ) {
    this.rng = new Rng(seed);
  }
  next(batch: number): Batch {
    const T = this.seqLen;
    const tokens = new Int32Array(batch * T);
    const targets = new Int32Array(batch * T);
    const span = this.stream.length - T - 1;
    for (let b = 0; b < batch; b++) {
      const start = Math.floor(this.rng.next() * Math.max(1, span));
      tokens.set(this.stream.subarray(start, start + T), b * T);
      targets.set(this.stream.subarray(start + 1, start + T + 1), b * T);
    }
    return { tokens, targets, batch, seqLen: T };
  }
  /** Consecutive non-overlapping windows (a fixed held-out set). */
  static windows(stream: Int32Array, seqLen: number, batch: number, maxBatches: number): Batch[] {
    const out: Batch[] = [];
    let pos = 0;
    while (out.length < maxBatches && pos + batch * seqLen + 1 <= stream.length) {
      const tokens = new Int32Array(batch * seqLen);
      const targets = new Int32Array(batch * seqLen);
      for (let b = 0; b < batch; b++) {
        tokens.set(stream.subarray(pos, pos + seqLen), b * seqLen);
        targets.set(stream.subarray(pos + 1, pos + seqLen + 1), b * seqLen);
        pos += seqLen;
      }
      out.push({ tokens, targets, batch, seqLen });
    }
    return out;
  }
}

export interface Example {
  /** Counted for context only. */
  prompt: number[];
  /** The tokens the loss is on (end with EOS to teach stopping). */
  answer: number[];
}

/**
 * Pads examples to `seqLen` (with `padId`, targets -1) and truncates longer ones from the
 * right; only answer tokens are targets.
 */
export function exampleBatch(examples: Example[], seqLen: number, padId: number): Batch {
  const tokens = new Int32Array(examples.length * seqLen).fill(padId);
  const targets = new Int32Array(examples.length * seqLen).fill(-1);
  examples.forEach((ex, b) => {
    const all = [...ex.prompt, ...ex.answer].slice(0, seqLen + 1);
    for (let t = 0; t + 1 < all.length; t++) {
      tokens[b * seqLen + t] = all[t]!;
      if (t + 1 >= ex.prompt.length) targets[b * seqLen + t] = all[t + 1]!;
    }
  });
  return { tokens, targets, batch: examples.length, seqLen };
}

/** Shuffled epochs of examples, `batch` at a time. */
export class ExampleSampler {
  private order: number[] = [];
  private readonly rng: Rng;
  constructor(
    readonly examples: Example[],
    readonly seqLen: number,
    readonly padId: number,
    seed = 1,
  ) {
    this.rng = new Rng(seed);
  }
  next(batch: number): Batch {
    const picked: Example[] = [];
    while (picked.length < batch) {
      if (this.order.length === 0) {
        this.order = this.examples.map((_, i) => i);
        for (let i = this.order.length - 1; i > 0; i--) {
          const j = Math.floor(this.rng.next() * (i + 1));
          [this.order[i], this.order[j]] = [this.order[j]!, this.order[i]!];
        }
      }
      picked.push(this.examples[this.order.pop()!]!);
    }
    // Shortest window that holds the longest example: less padding to compute.
    const longest = Math.max(...picked.map((e) => e.prompt.length + e.answer.length - 1));
    return exampleBatch(picked, Math.min(this.seqLen, Math.ceil(longest / 4) * 4), this.padId);
  }
}
