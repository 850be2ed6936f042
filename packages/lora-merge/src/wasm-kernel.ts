/**
 * The LoRA delta kernel in WebAssembly SIMD128, assembled here byte by byte (no toolchain).
 * f32x4.mul / f32x4.add round each lane exactly like float32 scalar arithmetic and there is no
 * fused multiply-add, so the result is bit-identical to `jsDeltaKernel` (and PyTorch), ~20x faster.
 * Two rows x 16 columns per step (eight v128 accumulators); row length must be a multiple of
 * 16, otherwise the JS kernel is used.
 */
import { type DeltaKernel, jsDeltaKernel } from "./delta";

// --- a few encoders ---
const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const str = (s: string) => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const i32c = (v: number) => [0x41, ...sleb(v)];
const add = [0x6a];
const mul = [0x6c];
const geU = [0x4f];
const simd = (op: number, ...rest: number[]) => [0xfd, ...uleb(op), ...rest];
const v128Load = (offset: number) => simd(0x00, 4, ...uleb(offset));
const v128Store = (offset: number) => simd(0x0b, 4, ...uleb(offset));
const f32x4Splat = simd(0x13);
const f32x4Add = simd(0xe4);
const f32x4Mul = simd(0xe6);
const v128Zero = simd(0x0c, ...new Array(16).fill(0));

// params: 0 w, 1 a, 2 b, 3 rows (even), 4 r, 5 n, 6 scale(f32)
// i32 locals: 7 i, 8 j, 9 k, 10 aK, 11 bRow, 12 wRow, 13 p, 14 bRow1
// v128 locals: 15-22 acc (row0 q0-3, row1 q0-3), 23 bk0, 24 bk1, 25 s, 26 av
const [W, A, B, ROWS, R, N, SCALE, I, J, K, AK, BROW, WROW, P, BROW1] = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
];
const [BK0, BK1, S, AV] = [23, 24, 25, 26];
const acc = (row: number, q: number) => 15 + row * 4 + q;
const shl2 = [...i32c(2), 0x74];

/** Two output rows x 16 columns per step: each loaded A vector feeds two rows. */
function body(): number[] {
  const code: number[] = [];
  const emit = (...parts: number[][]) => {
    for (const p of parts) code.push(...p);
  };
  emit(get(SCALE), f32x4Splat, set(S));
  emit(i32c(0), set(I));
  emit([0x02, 0x40], [0x03, 0x40]); // block $i / loop $i
  emit(get(I), get(ROWS), geU, [0x0d, 1]);
  emit(get(W), get(I), get(N), mul, shl2, add, set(WROW));
  emit(get(B), get(I), get(R), mul, shl2, add, set(BROW));
  emit(get(BROW), get(R), shl2, add, set(BROW1));
  emit(i32c(0), set(J));
  emit([0x02, 0x40], [0x03, 0x40]); // block $j / loop $j
  emit(get(J), get(N), geU, [0x0d, 1]);
  for (let row = 0; row < 2; row++) for (let q = 0; q < 4; q++) emit(v128Zero, set(acc(row, q)));
  emit(get(A), get(J), shl2, add, set(AK));
  emit(i32c(0), set(K));
  emit([0x02, 0x40], [0x03, 0x40]); // block $k / loop $k
  emit(get(K), get(R), geU, [0x0d, 1]);
  emit(get(BROW), get(K), shl2, add, [0x2a, 2, 0], f32x4Splat, set(BK0));
  emit(get(BROW1), get(K), shl2, add, [0x2a, 2, 0], f32x4Splat, set(BK1));
  for (let q = 0; q < 4; q++) {
    emit(get(AK), v128Load(16 * q), set(AV));
    emit(get(acc(0, q)), get(BK0), get(AV), f32x4Mul, f32x4Add, set(acc(0, q)));
    emit(get(acc(1, q)), get(BK1), get(AV), f32x4Mul, f32x4Add, set(acc(1, q)));
  }
  emit(get(AK), get(N), shl2, add, set(AK));
  emit(get(K), i32c(1), add, set(K));
  emit([0x0c, 0], [0x0b, 0x0b]); // br $k; end loop; end block
  for (let row = 0; row < 2; row++) {
    emit(get(WROW), get(J), shl2, add, set(P));
    if (row === 1) emit(get(P), get(N), shl2, add, set(P));
    for (let q = 0; q < 4; q++) {
      emit(get(P), get(P), v128Load(16 * q), get(acc(row, q)), get(S), f32x4Mul, f32x4Add, v128Store(16 * q));
    }
  }
  emit(get(J), i32c(16), add, set(J));
  emit([0x0c, 0], [0x0b, 0x0b]);
  emit(get(I), i32c(2), add, set(I));
  emit([0x0c, 0], [0x0b, 0x0b]);
  code.push(0x0b);
  const locals = vec([
    [8, I32],
    [12, V128],
  ]);
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [F32]]), 0]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(
      7,
      vec([
        [...str("lora"), 0x00, 0],
        [...str("memory"), 0x02, 0],
      ]),
    ),
    ...section(10, vec([body()])),
  ];
  return new Uint8Array(bytes);
}

interface Instance {
  memory: WebAssembly.Memory;
  lora: (w: number, a: number, b: number, rows: number, r: number, n: number, scale: number) => void;
}

let instance: Instance | undefined | null;

function wasm(): Instance | undefined {
  if (instance === undefined) {
    try {
      const module = new WebAssembly.Module(moduleBytes());
      const exports = new WebAssembly.Instance(module).exports as unknown as Instance;
      instance = exports;
    } catch {
      instance = null; // no SIMD128 in this engine: the JS kernel does the same arithmetic
    }
  }
  return instance ?? undefined;
}

export function wasmAvailable(): boolean {
  return wasm() !== undefined;
}

export const wasmDeltaKernel: DeltaKernel = {
  addRows(w, row0, rows, a, b, r, n, scaling) {
    const m = wasm();
    if (!m || n % 16 !== 0) return jsDeltaKernel.addRows(w, row0, rows, a, b, r, n, scaling);
    const even = rows - (rows % 2);
    if (even < rows) {
      // the odd last row: the same arithmetic in JS
      jsDeltaKernel.addRows(w.subarray(even * n), row0 + even, 1, a, b, r, n, scaling);
      if (even === 0) return;
    }
    // layout: A [r*n] | B rows [rows*r] | W [rows*n], each 16-byte aligned
    const aBytes = r * n * 4;
    const bBytes = even * r * 4;
    const wBytes = even * n * 4;
    const need = 16 + aBytes + bBytes + wBytes + 64;
    const have = m.memory.buffer.byteLength;
    if (need > have) m.memory.grow(Math.ceil((need - have) / 65536));
    const base = 16;
    const aPtr = base;
    const bPtr = aPtr + aBytes;
    const wPtr = bPtr + bBytes;
    const heap = new Float32Array(m.memory.buffer);
    heap.set(a, aPtr / 4);
    heap.set(b.subarray(row0 * r, (row0 + even) * r), bPtr / 4);
    heap.set(w.subarray(0, even * n), wPtr / 4);
    m.lora(wPtr, aPtr, bPtr, even, r, n, scaling);
    w.set(new Float32Array(m.memory.buffer, wPtr, even * n));
  },
};
