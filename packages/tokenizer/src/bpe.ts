/**
 * sentencepiece's BPE encoder (bpe_model.cc, `Model::SampleEncode` without dropout), rebuilt
 * for speed without changing a single decision:
 *
 * - Symbols are integer keys: a piece id, or `vocabSize + codePoint` for a character that is no
 *   piece. Every symbol is either a piece or one character (merges only produce pieces), so a
 *   cache (left key, right key) -> merged piece id replaces sentencepiece's string lookup of the
 *   concatenation: a string is built only the first time a pair is seen.
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
  pairs: PairCache;
}

/** Pair lookups answered so far: NO_PIECE when the concatenation is no mergeable piece. */
export const NO_PIECE = -2;
const ABSENT = -1;
/** Past this many slots the cache starts over instead of growing (bounded memory on any input). */
const MAX_SLOTS = 1 << 21;

/**
 * Open-addressing hash map (left key, right key) -> merged piece id, filled lazily: a pair is
 * resolved by one string lookup the first time it is seen, so building a tokenizer costs nothing
 * and the hot loop builds no strings once the common pairs are known.
 */
export class PairCache {
  private keysA!: Int32Array;
  private keysB!: Int32Array;
  private values!: Int32Array;
  private mask = 0;
  private size = 0;

  constructor(private readonly resolve: (a: number, b: number) => number) {
    this.reset(1 << 14);
  }

  private reset(capacity: number): void {
    this.keysA = new Int32Array(capacity).fill(ABSENT);
    this.keysB = new Int32Array(capacity);
    this.values = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.size = 0;
  }

  private static hash(a: number, b: number): number {
    const h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77);
    return h ^ (h >>> 15);
  }

  /** The merged piece id of (a, b), or NO_PIECE. */
  get(a: number, b: number): number {
    const { keysA, keysB, mask } = this;
    let i = PairCache.hash(a, b) & mask;
    for (;;) {
      const ka = keysA[i]!;
      if (ka === ABSENT) break;
      if (ka === a && keysB[i] === b) return this.values[i]!;
      i = (i + 1) & mask;
    }
    const value = this.resolve(a, b);
    if (this.size * 2 >= keysA.length) {
      this.grow();
      this.insert(a, b, value);
    } else {
      keysA[i] = a;
      keysB[i] = b;
      this.values[i] = value;
      this.size++;
    }
    return value;
  }

  private insert(a: number, b: number, value: number): void {
    let i = PairCache.hash(a, b) & this.mask;
    while (this.keysA[i] !== ABSENT) i = (i + 1) & this.mask;
    this.keysA[i] = a;
    this.keysB[i] = b;
    this.values[i] = value;
    this.size++;
  }

  private grow(): void {
    const { keysA, keysB, values } = this;
    if (keysA.length >= MAX_SLOTS) {
      this.reset(1 << 14);
      return;
    }
    this.reset(keysA.length * 2);
    for (let i = 0; i < keysA.length; i++)
      if (keysA[i] !== ABSENT) this.insert(keysA[i]!, keysB[i]!, values[i]!);
  }
}

/** Reusable scratch buffers (grow-only) so encoding allocates nothing per call once warm. */
class Scratch {
  key = new Int32Array(0);
  prev = new Int32Array(0);
  next = new Int32Array(0);
  frozen = new Uint8Array(0);
  // heap entries
  hScore = new Float64Array(0);
  hLeft = new Int32Array(0);
  hRight = new Int32Array(0);
  hLk = new Int32Array(0);
  hRk = new Int32Array(0);
  hId = new Int32Array(0);
  heap = new Int32Array(0);

  ensureSymbols(n: number): void {
    if (this.key.length >= n) return;
    const cap = Math.max(n, this.key.length * 2, 64);
    this.key = new Int32Array(cap);
    this.prev = new Int32Array(cap);
    this.next = new Int32Array(cap);
    this.frozen = new Uint8Array(cap);
  }

  ensureEntries(n: number): void {
    if (this.hScore.length >= n) return;
    const cap = Math.max(n, this.hScore.length * 2, 64);
    const grow = <T extends Float64Array | Int32Array>(old: T, make: (c: number) => T): T => {
      const next = make(cap);
      next.set(old as never);
      return next;
    };
    this.hScore = grow(this.hScore, (c) => new Float64Array(c));
    this.hLeft = grow(this.hLeft, (c) => new Int32Array(c));
    this.hRight = grow(this.hRight, (c) => new Int32Array(c));
    this.hLk = grow(this.hLk, (c) => new Int32Array(c));
    this.hRk = grow(this.hRk, (c) => new Int32Array(c));
    this.hId = grow(this.hId, (c) => new Int32Array(c));
    this.heap = grow(this.heap, (c) => new Int32Array(c));
  }
}

const scratch = new Scratch();

/**
 * Merge the symbols `keys[0..n)` (with `frozen` flags) and call `emit(key)` for each final
 * symbol, left to right. UNUSED results are resegmented before `emit`.
 */
export function bpeMerge(
  vocab: BpeVocab,
  initialKeys: Int32Array,
  initialFrozen: Uint8Array | undefined,
  n: number,
  emit: (key: number) => void,
): void {
  if (n === 0) return;
  const s = scratch;
  s.ensureSymbols(n);
  const { key, prev, next, frozen } = s;
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

  const less = (a: number, b: number): boolean => {
    // true when entry a ranks below entry b (b pops first)
    const sa = s.hScore[a]!;
    const sb = s.hScore[b]!;
    return sa < sb || (sa === sb && s.hLeft[a]! > s.hLeft[b]!);
  };

  const push = (left: number, right: number): void => {
    if (left < 0 || right < 0 || frozen[left] || frozen[right]) return;
    const lk = key[left]!;
    const rk = key[right]!;
    const id = pairs.get(lk, rk);
    if (id === NO_PIECE) return;
    if (entries >= s.hScore.length) s.ensureEntries(entries + 1);
    const e = entries++;
    s.hScore[e] = scores[id]!;
    s.hLeft[e] = left;
    s.hRight[e] = right;
    s.hLk[e] = lk;
    s.hRk[e] = rk;
    s.hId[e] = id;
    if (unused[id]) {
      revMerge ??= new Map();
      revMerge.set(id, [lk, rk]);
    }
    // sift up
    const heap = s.heap;
    let i = heapSize++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!less(p, e)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = e;
  };

  const pop = (): number => {
    const heap = s.heap;
    const top = heap[0]!;
    const last = heap[--heapSize]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heapSize) break;
      const r = l + 1;
      let c = l;
      if (r < heapSize && less(heap[l]!, heap[r]!)) c = r;
      if (!less(last, heap[c]!)) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = last;
    return top;
  };

  s.ensureEntries(n);
  for (let i = 1; i < n; i++) push(i - 1, i);

  while (heapSize > 0) {
    const e = pop();
    const left = s.hLeft[e]!;
    const right = s.hRight[e]!;
    if (key[left] !== s.hLk[e] || key[right] !== s.hRk[e]) continue;
    key[left] = s.hId[e]!;
    const after = next[right]!;
    next[left] = after;
    if (after >= 0) prev[after] = left;
    key[right] = -1;
    push(prev[left]!, left);
    push(left, next[left]!);
  }

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
    const k = key[i]!;
    if (revMerge !== undefined) resegment(k);
    else emit(k);
  }
}
