/**
 * sentencepiece's BPE encoder (bpe_model.cc, `Model::SampleEncode` without dropout), rebuilt
 * for speed without changing a single decision:
 *
 * - Symbols are integer keys: a piece id, or `vocabSize + codePoint` for a character that is no
 *   piece. Every symbol is either a piece or one character (merges only produce pieces), so a
 *   table (left key, right key) -> merged piece id, built once from the vocabulary, replaces
 *   sentencepiece's string lookup of the concatenation: no string is built while encoding.
 * - The agenda is a binary heap ordered by (score desc, left index asc): the same total order as
 *   sentencepiece's `std::priority_queue` comparator, so pops happen in the same order.
 * - A popped pair is stale when either side changed since it was pushed; sentencepiece detects
 *   that with piece sizes, we compare the keys remembered at push time (equivalent: the left side
 *   only changes by absorbing the right one, the right side only by growing or being absorbed).
 * - UNUSED pieces may be merge results but are split back into the pair that made them
 *   (`rev_merge`, last push wins, as in sentencepiece).
 */

export interface BpeVocab {
  vocabSize: number;
  scores: Float32Array;
  /** 1 for pieces that take part in merging (NORMAL, USER_DEFINED, UNUSED). */
  mergeable: Uint8Array;
  unused: Uint8Array;
  /** piece id of a one-character piece, by code point (BMP); -1 when none. */
  bmpCharId: Int32Array;
  astralCharId: Map<number, number>;
  pairs: PairTable;
}

/** What `PairTable.get` answers for two symbols that merge into no piece. */
export const NO_PIECE = -2;
const EMPTY = -1;

/**
 * Open-addressing hash map (left key, right key) -> merged piece id, holding every way a
 * mergeable piece splits into two symbols: the only pairs that can ever merge. Lookups build no
 * strings; anything absent answers NO_PIECE.
 */
export class PairTable {
  private keysA: Int32Array;
  private keysB: Int32Array;
  private values: Int32Array;
  private mask: number;
  size = 0;

  constructor(expected: number) {
    let capacity = 1 << 10;
    while (capacity < expected * 2) capacity *= 2;
    this.keysA = new Int32Array(capacity).fill(EMPTY);
    this.keysB = new Int32Array(capacity);
    this.values = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  private static hash(a: number, b: number): number {
    const h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77);
    return h ^ (h >>> 15);
  }

  /** Insert or overwrite; the table was sized for all entries up front (load factor <= 1/2). */
  set(a: number, b: number, value: number): void {
    const { keysA, keysB, mask } = this;
    let i = PairTable.hash(a, b) & mask;
    while (keysA[i] !== EMPTY) {
      if (keysA[i] === a && keysB[i] === b) {
        this.values[i] = value;
        return;
      }
      i = (i + 1) & mask;
    }
    keysA[i] = a;
    keysB[i] = b;
    this.values[i] = value;
    this.size++;
  }

  get(a: number, b: number): number {
    const { keysA, keysB, mask } = this;
    let i = PairTable.hash(a, b) & mask;
    for (;;) {
      const ka = keysA[i]!;
      if (ka === EMPTY) return NO_PIECE;
      if (ka === a && keysB[i] === b) return this.values[i]!;
      i = (i + 1) & mask;
    }
  }
}

/** Reusable scratch buffers (grow-only) so encoding allocates nothing per call once warm. */
class Scratch {
  key = new Int32Array(0);
  prev = new Int32Array(0);
  next = new Int32Array(0);
  frozen = new Uint8Array(0);
  out = new Int32Array(0);
  // Agenda entries (at most n - 1 initial pairs + 2 per merge: < 3n): the pair's keys when
  // pushed and the piece it makes.
  eLk = new Int32Array(0);
  eRk = new Int32Array(0);
  eId = new Int32Array(0);
  // The heap keeps each entry's score and left index inline, in heap order, so sifting compares
  // neighbouring memory instead of chasing entry indices (it matters on megabyte inputs).
  hScore = new Float64Array(0);
  hLeft = new Int32Array(0);
  hEntry = new Int32Array(0);

  ensure(n: number): void {
    if (this.key.length < n) {
      const cap = Math.max(n, this.key.length * 2, 64);
      this.key = new Int32Array(cap);
      this.prev = new Int32Array(cap);
      this.next = new Int32Array(cap);
      this.frozen = new Uint8Array(cap);
      this.out = new Int32Array(cap);
    }
    const entries = 3 * n;
    if (this.eLk.length < entries) {
      const cap = Math.max(entries, this.eLk.length * 2, 192);
      this.eLk = new Int32Array(cap);
      this.eRk = new Int32Array(cap);
      this.eId = new Int32Array(cap);
      this.hScore = new Float64Array(cap);
      this.hLeft = new Int32Array(cap);
      this.hEntry = new Int32Array(cap);
    }
  }
}

const scratch = new Scratch();

/**
 * Merge the symbols `keys[0..n)` (with `frozen` flags) and return the final symbol keys, left to
 * right, in a scratch array (valid until the next call) with their count. UNUSED results are
 * resegmented into the pair that made them.
 */
export function bpeMerge(
  vocab: BpeVocab,
  initialKeys: Int32Array,
  initialFrozen: Uint8Array | undefined,
  n: number,
): [Int32Array, number] {
  const s = scratch;
  if (n === 0) return [s.out, 0];
  s.ensure(n);
  const { key, prev, next, frozen, eLk, eRk, eId, hScore, hLeft, hEntry } = s;
  key.set(initialKeys.subarray(0, n));
  if (initialFrozen) frozen.set(initialFrozen.subarray(0, n));
  else frozen.fill(0, 0, n);
  for (let i = 0; i < n; i++) {
    prev[i] = i - 1;
    next[i] = i + 1;
  }
  next[n - 1] = -1;

  const { scores, pairs, unused, vocabSize } = vocab;
  let revMerge: Map<number, [number, number]> | undefined;
  let heapSize = 0;
  let entries = 0;

  /** Record the pair (left, next[left]) if it merges into a piece; returns the entry or -1. */
  const makeEntry = (left: number, right: number): number => {
    if (frozen[left] || frozen[right]) return -1;
    const lk = key[left]!;
    const rk = key[right]!;
    const id = pairs.get(lk, rk);
    if (id === NO_PIECE) return -1;
    const e = entries++;
    eLk[e] = lk;
    eRk[e] = rk;
    eId[e] = id;
    if (unused[id]) {
      // sentencepiece's rev_merge: the last pair pushed for a piece wins
      revMerge ??= new Map();
      revMerge.set(id, [lk, rk]);
    }
    return e;
  };

  // Heap order: higher score first, then smaller left index (sentencepiece's comparator).
  const siftDown = (start: number, sc: number, lf: number, e: number): void => {
    let i = start;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= heapSize) break;
      let cs = hScore[c]!;
      if (c + 1 < heapSize) {
        const rs = hScore[c + 1]!;
        if (rs > cs || (rs === cs && hLeft[c + 1]! < hLeft[c]!)) {
          c++;
          cs = rs;
        }
      }
      if (cs < sc || (cs === sc && hLeft[c]! > lf)) break;
      hScore[i] = cs;
      hLeft[i] = hLeft[c]!;
      hEntry[i] = hEntry[c]!;
      i = c;
    }
    hScore[i] = sc;
    hLeft[i] = lf;
    hEntry[i] = e;
  };

  const push = (left: number, right: number): void => {
    if (left < 0 || right < 0) return;
    const e = makeEntry(left, right);
    if (e < 0) return;
    const sc = scores[eId[e]!]!;
    let i = heapSize++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const ps = hScore[parent]!;
      if (ps > sc || (ps === sc && hLeft[parent]! < left)) break;
      hScore[i] = ps;
      hLeft[i] = hLeft[parent]!;
      hEntry[i] = hEntry[parent]!;
      i = parent;
    }
    hScore[i] = sc;
    hLeft[i] = left;
    hEntry[i] = e;
  };

  // All initial bigrams at once, then heapify: O(n) instead of n sift-ups, same pop order
  // (the order is total, so any valid heap pops identically).
  for (let i = 1; i < n; i++) {
    const e = makeEntry(i - 1, i);
    if (e < 0) continue;
    hScore[heapSize] = scores[eId[e]!]!;
    hLeft[heapSize] = i - 1;
    hEntry[heapSize++] = e;
  }
  for (let i = (heapSize >> 1) - 1; i >= 0; i--) siftDown(i, hScore[i]!, hLeft[i]!, hEntry[i]!);

  while (heapSize > 0) {
    const left = hLeft[0]!;
    const e = hEntry[0]!;
    heapSize--;
    if (heapSize > 0) siftDown(0, hScore[heapSize]!, hLeft[heapSize]!, hEntry[heapSize]!);
    // Stale when either side changed since the push. While the left key is unchanged, the left
    // symbol has absorbed nothing, so its right neighbour is still the pair's right side.
    if (key[left] !== eLk[e]) continue;
    const right = next[left]!;
    if (key[right] !== eRk[e]) continue;
    key[left] = eId[e]!;
    const after = next[right]!;
    next[left] = after;
    if (after >= 0) prev[after] = left;
    key[right] = -1;
    push(prev[left]!, left);
    push(left, after);
  }

  let out = s.out;
  let count = 0;
  const emit = (k: number): void => {
    if (count >= out.length) {
      const bigger = new Int32Array(out.length * 2);
      bigger.set(out);
      out = s.out = bigger;
    }
    out[count++] = k;
  };
  const resegment = (k: number): void => {
    if (k < vocabSize && unused[k]) {
      const pair = revMerge?.get(k);
      if (pair) {
        resegment(pair[0]);
        resegment(pair[1]);
        return;
      }
    }
    emit(k);
  };
  for (let i = 0; i !== -1; i = next[i]!) {
    if (revMerge !== undefined) resegment(key[i]!);
    else out[count++] = key[i]!;
  }
  return [out, count];
}
