/**
 * llama.cpp's `llama_token_data_array`: candidate ids with their logits and probabilities, a
 * current size, and a `sorted` flag (descending logits). Samplers shrink and reorder it.
 */
export class Candidates {
  ids: Int32Array;
  logits: Float32Array;
  probs: Float32Array;
  size: number;
  sorted = false;

  constructor(logits: Float32Array) {
    const n = logits.length;
    this.ids = new Int32Array(n);
    for (let i = 0; i < n; i++) this.ids[i] = i;
    this.logits = new Float32Array(logits);
    this.probs = new Float32Array(n);
    this.size = n;
  }

  /** Sort descending by logit and keep the first `keep` (a partial sort in llama.cpp; same result). */
  sortDescending(keep = this.size): void {
    const order = Array.from({ length: this.size }, (_, i) => i);
    const logits = this.logits;
    const ids = this.ids;
    order.sort((a, b) => logits[b]! - logits[a]! || ids[a]! - ids[b]!);
    this.reorder(order.slice(0, keep));
    this.sorted = true;
  }

  /** Keep the entries at these indices, in this order. */
  reorder(indices: number[]): void {
    const ids = new Int32Array(indices.length);
    const logits = new Float32Array(indices.length);
    const probs = new Float32Array(indices.length);
    indices.forEach((from, to) => {
      ids[to] = this.ids[from]!;
      logits[to] = this.logits[from]!;
      probs[to] = this.probs[from]!;
    });
    this.ids.set(ids);
    this.logits.set(logits);
    this.probs.set(probs);
    this.size = indices.length;
  }

  maxLogit(): number {
    if (this.sorted) return this.logits[0]!;
    let max = this.logits[0]!;
    for (let i = 1; i < this.size; i++) if (this.logits[i]! > max) max = this.logits[i]!;
    return max;
  }

  /** llama_sampler_softmax_impl: float32 arithmetic in the array's current order. */
  softmax(sort: boolean): void {
    if (sort && !this.sorted) this.sortDescending();
    const f = Math.fround;
    const max = this.maxLogit();
    let sum = 0;
    for (let i = 0; i < this.size; i++) {
      const p = f(Math.exp(f(this.logits[i]! - max)));
      this.probs[i] = p;
      sum = f(sum + p);
    }
    for (let i = 0; i < this.size; i++) this.probs[i] = f(this.probs[i]! / sum);
  }
}
