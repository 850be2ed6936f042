// The kernels API: memories (arenas), buffers and weight matrices by handle, and synchronous ops
// that split their work across a pool of workers through a shared control block.

import { Arena } from "./arena";
import * as C from "./control";
import { KernelsError } from "./errors";
import { type RopeParams, ropeAngles } from "./rope";
import { type ActivationKind, activationRowBytes, weightRowBytes, weightTypeInfo } from "./types";
import { warmUp } from "./warmup";
import { kernelsModule } from "./wasm-binary";
import { WORKER_SOURCE } from "./worker-source";

/** A region of one arena's memory. */
export interface KBuffer {
  readonly arena: number;
  readonly ptr: number;
  readonly bytes: number;
}

/**
 * A weight matrix of `rows` rows of `cols` elements. Layout "ggml": ggml's row layout. Layout
 * "x4" (Q4_0, Q4_1, Q8_0): the same bytes regrouped at upload so that four consecutive rows form
 * one stream of blocks (assembly/x4.ts); rows past the last multiple of four stay in ggml's layout.
 */
export interface KWeights extends KBuffer {
  readonly type: number;
  readonly rows: number;
  readonly cols: number;
  readonly rowBytes: number;
  readonly layout: "ggml" | "x4";
}

/** A thread of the pool as the kernels see it (worker_threads.Worker or a Web Worker). */
export interface PoolWorker {
  postMessage(message: unknown): void;
  onMessage(listener: (message: { type: string; [k: string]: unknown }) => void): void;
  terminate(): void;
}

/** Starts one pool thread running `source` (a classic script). */
export type WorkerSpawner = (source: string) => PoolWorker;

export interface KernelsOptions {
  /** Threads including the calling one (default 1). */
  threads?: number;
  /** How to start a pool thread; defaults to Web Workers where `Worker` exists. */
  spawnWorker?: WorkerSpawner;
  /** Initial size of arena 0 in bytes (it grows on demand). Default 16 MiB. */
  initialBytes?: number;
  /**
   * Bytes each arena keeps free for scratch (activation copies, outputs) when weights are placed.
   * Default 256 MiB.
   */
  scratchReserve?: number;
  /**
   * Also place weights in memory 0. Default false: memory 0 is kept whole (up to 4 GiB) for
   * activations and the KV cache, which may be allocated after the weights; weights go to
   * memories 1, 2, ... (a product copies its input there and its output back: a few KB per token).
   */
  weightsInHome?: boolean;
}

export interface AttentionParams {
  /** Queries: nTok rows of nHead*headDim floats (qStride floats apart, default nHead*headDim). */
  q: KBuffer;
  /** KV cache of this layer: per position nHeadKv*headDim values (kvStride elements apart). */
  k: KBuffer;
  v: KBuffer;
  /** Output: nTok rows of nHead*headDim floats (outStride floats apart, default nHead*headDim). */
  out: KBuffer;
  kvF16: boolean;
  nHead: number;
  nHeadKv: number;
  headDim: number;
  /** Cache position of the first query token; query t attends to positions 0..pos0+t. */
  pos0: number;
  nTok: number;
  /** Usually 1/sqrt(headDim). */
  scale: number;
  kvStride?: number;
  qStride?: number;
  outStride?: number;
}

interface Job {
  fn: C.KernelFunction;
  arena: number;
  units: number;
  scale: number;
  limit: number;
  args: number[];
  floats?: number;
  tidArg?: number;
  tidStride?: number;
}

const DEFAULT_SCRATCH_RESERVE = 256 * 2 ** 20;
const warmedUp = new WeakSet<WebAssembly.Module>();

function defaultSpawner(): WorkerSpawner | undefined {
  const W = (globalThis as { Worker?: new (url: string) => Worker }).Worker;
  if (!W) return undefined;
  return (source) => {
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    const w = new W(url);
    return {
      postMessage: (m) => w.postMessage(m),
      onMessage: (fn) => {
        w.onmessage = (e) => fn(e.data);
      },
      terminate: () => w.terminate(),
    };
  };
}

/** Create the kernels with a pool of `threads` threads (the calling thread is one of them). */
export async function createKernels(options: KernelsOptions = {}): Promise<Kernels> {
  const module = await kernelsModule();
  if (!warmedUp.has(module)) {
    warmedUp.add(module);
    warmUp(module);
  }
  const threads = Math.max(1, Math.floor(options.threads ?? 1));
  const kernels = new Kernels(module, threads, options);
  if (threads > 1) {
    const spawn = options.spawnWorker ?? defaultSpawner();
    if (!spawn) {
      throw new KernelsError(
        "KERNELS_NO_WORKERS",
        `${threads} threads asked for, but this environment has no Worker`,
        "in Node import createKernels from @cllama/kernels-wasm/node",
      );
    }
    await kernels.startWorkers(spawn);
  }
  return kernels;
}

export class Kernels {
  readonly threads: number;
  private readonly module: WebAssembly.Module;
  private readonly arenas: Arena[] = [];
  private readonly control = new SharedArrayBuffer(C.CONTROL_INTS * 4);
  private readonly ctrl = new Int32Array(this.control);
  private readonly ctrlF = new Float32Array(this.control);
  private readonly workers: PoolWorker[] = [];
  private readonly scratchReserve: number;
  private readonly weightsInHome: boolean;
  private disposed = false;
  private ropeTable = new Float32Array(0);
  /** What the cos/sin table in scratch was made for: q and k of every layer share one table. */
  private lastRope = new RopeTableKey(-1, 0, [], null);

  constructor(module: WebAssembly.Module, threads: number, options: KernelsOptions) {
    this.module = module;
    this.threads = threads;
    this.scratchReserve = options.scratchReserve ?? DEFAULT_SCRATCH_RESERVE;
    this.weightsInHome = options.weightsInHome ?? false;
    this.arenas.push(Arena.create(0, module, options.initialBytes ?? 16 * 2 ** 20));
    this.ctrl[C.NTHREADS] = threads;
  }

  /** @internal */
  async startWorkers(spawn: WorkerSpawner): Promise<void> {
    const ready: Promise<void>[] = [];
    for (let tid = 1; tid < this.threads; tid++) {
      const w = spawn(WORKER_SOURCE);
      this.workers.push(w);
      ready.push(
        new Promise((resolve) => {
          w.onMessage((msg) => {
            if (msg.type === "ready") resolve();
            else if (msg.type === "error") console.error(`kernels worker ${tid}: ${msg.message}`);
            else if (msg.type === "memory") this.memoryAcks.get(w)?.();
          });
        }),
      );
      w.postMessage({
        type: "init",
        control: this.control,
        tid,
        module: this.module,
        memories: this.arenas.map((a) => a.memory),
      });
    }
    await Promise.all(ready);
  }

  private readonly memoryAcks = new Map<PoolWorker, () => void>();

  // ---------------------------------------------------------------- memory

  /** Number of WebAssembly memories in use. */
  get arenaCount(): number {
    return this.arenas.length;
  }

  /** The WebAssembly.Memory of an arena (shared; its buffer is a SharedArrayBuffer). */
  memory(arena = 0): WebAssembly.Memory {
    return this.arenaOf(arena).memory;
  }

  /** Bytes allocated so far in each arena. */
  get allocatedBytes(): number[] {
    return this.arenas.map((a) => a.top);
  }

  /** Allocate `bytes` in an arena (default 0, where activations and the KV cache belong). */
  alloc(bytes: number, arena = 0, what = "buffer"): KBuffer {
    this.live();
    const a = this.arenaOf(arena);
    return { arena, ptr: a.alloc(bytes, what), bytes };
  }

  /** Allocate n float32s. */
  allocF32(n: number, arena = 0, what = "f32 buffer"): KBuffer {
    return this.alloc(n * 4, arena, what);
  }

  /** A sub-range of a buffer (for example one position of a KV cache). */
  view(buf: KBuffer, byteOffset: number, bytes: number): KBuffer {
    if (byteOffset < 0 || byteOffset + bytes > buf.bytes) {
      throw new KernelsError(
        "KERNELS_BAD_SHAPE",
        `view [${byteOffset}, ${byteOffset + bytes}) outside a buffer of ${buf.bytes} bytes`,
      );
    }
    return { arena: buf.arena, ptr: buf.ptr + byteOffset, bytes };
  }

  /** A Float32Array over a buffer (re-create it after allocations: memories grow). */
  f32(buf: KBuffer): Float32Array {
    return new Float32Array(this.arenaOf(buf.arena).memory.buffer, buf.ptr, buf.bytes >> 2);
  }

  /** A Uint8Array over a buffer (re-create it after allocations: memories grow). */
  u8(buf: KBuffer): Uint8Array {
    return this.arenaOf(buf.arena).bytesView(buf.ptr, buf.bytes);
  }

  /** Copy bytes (any arena to any arena). */
  copy(src: KBuffer, dst: KBuffer, bytes = Math.min(src.bytes, dst.bytes)): void {
    const from = this.arenaOf(src.arena).bytesView(src.ptr, bytes);
    if (src.arena === dst.arena) this.arenaOf(dst.arena).bytesView(0, 0); // keep views fresh
    this.arenaOf(dst.arena).bytesView(dst.ptr, bytes).set(from);
  }

  /**
   * Copy a weight matrix in (ggml row layout, as stored in GGUF). It goes to the first weight
   * memory (1, 2, ...; memory 0 too with `weightsInHome`) with room, or a new one: each
   * WebAssembly memory holds at most 4 GiB, so models larger than that spread over several
   * memories. `arena` forces a memory. Async because a new memory must reach every worker.
   *
   * `data` is the bytes, or a function that writes them into the matrix's place in WebAssembly
   * memory (e.g. reading a file piece by piece), so that no copy of a large matrix need sit in
   * JavaScript memory beside it.
   */
  async uploadWeights(
    type: number,
    rows: number,
    cols: number,
    data: Uint8Array | ((into: Uint8Array) => Promise<void>),
    options: { arena?: number } = {},
  ): Promise<KWeights> {
    this.live();
    const rowBytes = weightRowBytes(type, cols);
    const info = weightTypeInfo(type);
    const bytes = rowBytes * rows;
    if (typeof data !== "function" && data.byteLength !== bytes) {
      throw new KernelsError(
        "KERNELS_BAD_SHAPE",
        `${info.name} weights of ${rows} x ${cols} take ${bytes} bytes, found ${data.byteLength}`,
      );
    }
    let arena =
      options.arena !== undefined
        ? this.arenaOf(options.arena)
        : this.arenas.find(
            (a) => (a.index > 0 || this.weightsInHome) && a.free >= bytes + 64 + this.scratchReserve,
          );
    if (!arena) arena = await this.addArena();
    const ptr = arena.alloc(bytes, `${info.name} weights ${rows} x ${cols}`);
    if (typeof data === "function") await data(arena.bytesView(ptr, bytes));
    else arena.bytesView(ptr, bytes).set(data);
    const layout = X4_TYPES.has(type) && rows >= 4 ? "x4" : "ggml";
    if (layout === "x4") {
      const tmp = arena.scratchRegion("x4", arena.exports.x4TmpBytes(type, cols, rowBytes));
      arena.exports.interleaveX4(type, ptr, rowBytes, rows, tmp);
    }
    return { arena: arena.index, ptr, bytes, type, rows, cols, rowBytes, layout };
  }

  /** Open a new memory (instantiated on every thread); returns its arena. */
  async addArena(): Promise<Arena> {
    const arena = Arena.create(this.arenas.length, this.module, PAGE_BYTES);
    this.arenas.push(arena);
    if (this.workers.length > 0) {
      // Workers sit in Atomics.wait: make them return to their event loop, then send the memory.
      this.dispatch([], C.OP_YIELD);
      await Promise.all(
        this.workers.map(
          (w) =>
            new Promise<void>((resolve) => {
              this.memoryAcks.set(w, resolve);
              w.postMessage({ type: "memory", memory: arena.memory });
            }),
        ),
      );
      this.memoryAcks.clear();
    }
    return arena;
  }

  // ---------------------------------------------------------------- matrix products

  /** y = W x for one activation vector x (cols floats); y gets rows floats. */
  matvec(w: KWeights, x: KBuffer, y: KBuffer): void {
    this.matmulMany([{ w, y }], x, 1);
  }

  /** Y[t] = W X[t] for nTok activation rows (X: nTok x cols floats, Y: nTok x rows floats). */
  matmul(w: KWeights, x: KBuffer, y: KBuffer, nTok: number): void {
    this.matmulMany([{ w, y }], x, nTok);
  }

  /**
   * Several products sharing one input (Q, K and V; gate and up) in one parallel dispatch: the
   * activations are prepared once per arena and kind.
   */
  matmulMany(items: { w: KWeights; y: KBuffer }[], x: KBuffer, nTok: number): void {
    this.live();
    if (items.length === 0) return;
    const cols = items[0].w.cols;
    for (const { w, y } of items) {
      if (w.cols !== cols) {
        throw new KernelsError(
          "KERNELS_BAD_SHAPE",
          `matmulMany: weights with ${w.cols} and ${cols} columns share one input`,
        );
      }
      if (y.bytes < w.rows * nTok * 4) {
        throw new KernelsError(
          "KERNELS_BAD_SHAPE",
          `output of ${y.bytes} bytes, ${w.rows * nTok * 4} needed`,
        );
      }
    }
    if (x.bytes < cols * nTok * 4) {
      throw new KernelsError("KERNELS_BAD_SHAPE", `input of ${x.bytes} bytes, ${cols * nTok * 4} needed`);
    }
    // 1. The input in every arena that holds one of the weights, prepared for each kind.
    const prepared = new Map<string, { ptr: number; stride: number }>();
    const prepJobs: Job[] = [];
    const inputs = new Map<number, number>();
    for (const { w } of items) {
      const kind = weightTypeInfo(w.type).act;
      const key = `${w.arena}:${kind}`;
      if (prepared.has(key)) continue;
      let xin = inputs.get(w.arena);
      if (xin === undefined) {
        xin = x.ptr;
        if (x.arena !== w.arena) {
          xin = this.arenas[w.arena].scratchRegion("x", cols * nTok * 4);
          this.copy(x, { arena: w.arena, ptr: xin, bytes: cols * nTok * 4 });
        }
        inputs.set(w.arena, xin);
      }
      if (kind === "f32") {
        prepared.set(key, { ptr: xin, stride: cols * 4 });
        continue;
      }
      const stride = activationRowBytes(kind, cols);
      const act = this.arenas[w.arena].scratchRegion(`act:${kind}`, stride * nTok);
      prepared.set(key, { ptr: act, stride });
      prepJobs.push(prepareJob(kind, w.arena, xin, cols, act, stride, nTok));
    }
    this.run(prepJobs, nTok < 4);
    // 2. The products; outputs in another arena go through scratch and are copied back.
    const jobs: Job[] = [];
    const copies: { from: KBuffer; to: KBuffer }[] = [];
    items.forEach(({ w, y }, i) => {
      const act = prepared.get(`${w.arena}:${weightTypeInfo(w.type).act}`);
      if (!act) throw new Error("unreachable: activation not prepared");
      let yPtr = y.ptr;
      if (y.arena !== w.arena) {
        const bytes = w.rows * nTok * 4;
        yPtr = this.arenas[w.arena].scratchRegion(`y${i}`, bytes);
        copies.push({ from: { arena: w.arena, ptr: yPtr, bytes }, to: y });
      }
      const type = w.type | (w.layout === "x4" ? X4_FLAG : 0);
      const args = [type, w.ptr, w.rowBytes, w.rows, cols, act.ptr, act.stride, nTok, yPtr, w.rows];
      const units = Math.ceil(w.rows / 4);
      if (nTok >= TILED_MIN_TOKENS && weightTypeInfo(w.type).blockSize > 1) {
        // Unpack each 4-row group once per 64 tokens into a per-thread tile.
        // (plus room to gather two 4-row groups of a matrix cut in slabs: assembly/x4.ts)
        const gather = this.slabbed(w) ? 8 * w.rowBytes : 0;
        const perThread = Math.ceil((tileBytes(w.type, cols) + gather) / 64) * 64;
        args.push(this.arenas[w.arena].scratchRegion("tile", perThread * this.threads));
        jobs.push(makeJob("matmulTiled", w.arena, units, 4, w.rows, args, 10, perThread));
      } else {
        // 1536 bytes of per-thread scratch, with a cache line between threads (no false sharing).
        args.push(this.arenas[w.arena].scratchRegion("matvec", 1600 * this.threads));
        jobs.push(makeJob("matmul", w.arena, units, 4, w.rows, args, 10, 1600));
      }
    });
    // Small products are not worth waking the pool for.
    const macs = items.reduce((sum, { w }) => sum + w.rows * cols, 0) * nTok;
    this.run(jobs, macs < SERIAL_MACS);
    for (const { from, to } of copies) this.copy(from, to);
  }

  /** Whether a matrix in the x4 layout is also cut in slabs of columns (assembly/x4.ts). */
  private slabbed(w: KWeights): boolean {
    if (w.layout !== "x4") return false;
    const blocks = this.arenas[w.arena].exports.x4SlabBlocks(w.type, w.cols);
    return blocks * weightTypeInfo(w.type).blockSize < w.cols;
  }

  /** Dequantize rows [first, first+count) of a weight matrix into y (count x cols floats). */
  dequantizeRows(w: KWeights, first: number, count: number, y: KBuffer): void {
    this.live();
    if (first < 0 || first + count > w.rows) {
      throw new KernelsError(
        "KERNELS_BAD_SHAPE",
        `rows [${first}, ${first + count}) outside a matrix of ${w.rows} rows`,
      );
    }
    const bytes = count * w.cols * 4;
    const a = this.arenas[w.arena];
    const out = y.arena === w.arena ? y.ptr : a.scratchRegion("dequant", bytes);
    if (w.layout === "x4") {
      // One row at a time, back in ggml's layout first (this serves embedding lookups: few rows).
      const row = a.scratchRegion("plain row", w.rowBytes);
      for (let i = 0; i < count; i++) {
        a.exports.plainRow(w.type, w.ptr, w.rowBytes, w.rows, first + i, row);
        a.exports.dequantizeRows(w.type, row, w.rowBytes, w.cols, out + i * w.cols * 4, w.cols, 0, 1);
      }
    } else {
      a.exports.dequantizeRows(w.type, w.ptr + first * w.rowBytes, w.rowBytes, w.cols, out, w.cols, 0, count);
    }
    if (y.arena !== w.arena) this.copy({ arena: w.arena, ptr: out, bytes }, y, bytes);
  }

  // ---------------------------------------------------------------- element-wise ops

  /** y[t] = x[t] / sqrt(mean(x[t]^2) + eps) * weight for nTok rows of n floats (weight may be null). */
  rmsNorm(x: KBuffer, weight: KBuffer | null, y: KBuffer, n: number, eps: number, nTok = 1): void {
    const arena = this.sameArena("rmsNorm", x, y, weight);
    this.run(
      [
        {
          fn: "rmsNorm",
          arena,
          units: nTok,
          scale: 1,
          limit: nTok,
          args: [x.ptr, weight?.ptr ?? 0, y.ptr, n, n, eps],
          floats: 1 << 5,
        },
      ],
      nTok < 8,
    );
  }

  /** y = silu(gate) * up over n floats. */
  siluMul(gate: KBuffer, up: KBuffer, y: KBuffer, n: number): void {
    const arena = this.sameArena("siluMul", gate, up, y);
    this.arenas[arena].exports.siluMul(gate.ptr, up.ptr, y.ptr, n);
  }

  /** In-place softmax of nRows rows of n floats, each multiplied by `scale` first. */
  softmax(x: KBuffer, n: number, nRows = 1, scale = 1): void {
    const arena = this.sameArena("softmax", x);
    this.arenas[arena].exports.softmax(x.ptr, n, n, Math.fround(scale), 0, nRows);
  }

  /** y = a + b over n floats. */
  add(a: KBuffer, b: KBuffer, y: KBuffer, n: number): void {
    const arena = this.sameArena("add", a, b, y);
    this.arenas[arena].exports.add(a.ptr, b.ptr, y.ptr, n);
  }

  /** y = a * b over n floats. */
  mul(a: KBuffer, b: KBuffer, y: KBuffer, n: number): void {
    const arena = this.sameArena("mul", a, b, y);
    this.arenas[arena].exports.mul(a.ptr, b.ptr, y.ptr, n);
  }

  /** Store n floats of x as halves into y (writing an f16 KV cache). */
  storeF16(x: KBuffer, y: KBuffer, n: number): void {
    const arena = this.sameArena("storeF16", x, y);
    this.arenas[arena].exports.storeF16(x.ptr, y.ptr, n);
  }

  /**
   * RoPE (llama.cpp's normal mode: adjacent pairs) in place on nTok rows of nHead heads of headDim
   * floats, row t at position positions[t]; rows are `stride` floats apart (default nHead*headDim).
   */
  rope(
    x: KBuffer,
    nTok: number,
    nHead: number,
    headDim: number,
    positions: ArrayLike<number>,
    params: RopeParams,
    stride = nHead * headDim,
  ): void {
    const arena = this.sameArena("rope", x);
    const nRot = params.nRot;
    if (nRot > headDim || nRot % 2 !== 0) {
      throw new KernelsError(
        "KERNELS_BAD_SHAPE",
        `rope: nRot ${nRot} must be even and at most headDim ${headDim}`,
      );
    }
    const a = this.arenas[arena];
    const cs = a.scratchRegion("rope", nTok * nRot * 4);
    if (!this.lastRope.matches(arena, cs, positions, nTok, params)) {
      if (this.ropeTable.length < nTok * nRot) this.ropeTable = new Float32Array(nTok * nRot);
      for (let t = 0; t < nTok; t++) ropeAngles(positions[t], params, this.ropeTable, t * nRot);
      new Float32Array(a.memory.buffer, cs, nTok * nRot).set(this.ropeTable.subarray(0, nTok * nRot));
      this.lastRope = new RopeTableKey(
        arena,
        cs,
        Array.from({ length: nTok }, (_, t) => positions[t]),
        params,
      );
    }
    this.run(
      [
        {
          fn: "rope",
          arena,
          units: nTok,
          scale: 1,
          limit: nTok,
          args: [x.ptr, stride, nHead, headDim, nRot, cs],
        },
      ],
      nTok < 8,
    );
  }

  /**
   * Causal attention of nTok query rows against the KV cache. A work unit is one KV head with
   * its GQA group of query heads over a block of tokens, so each converted cache row serves at
   * least 8 queries (assembly/attention.ts).
   */
  attention(p: AttentionParams): void {
    const arena = this.sameArena("attention", p.q, p.k, p.v, p.out);
    if (p.headDim % 8 !== 0 || p.nHead % p.nHeadKv !== 0) {
      throw new KernelsError(
        "KERNELS_BAD_SHAPE",
        `attention: headDim ${p.headDim} must be a multiple of 8 and nHead ${p.nHead} a multiple of nHeadKv ${p.nHeadKv}`,
      );
    }
    if (p.kvF16 && p.nTok === 1 && p.nHead === p.nHeadKv) {
      this.attentionHeads(p, arena);
      return;
    }
    const width = p.nHead * p.headDim;
    const group = p.nHead / p.nHeadKv;
    const tokensPerUnit = Math.max(1, Math.min(p.nTok, Math.ceil(8 / group)));
    const nq = tokensPerUnit * group;
    const floats = nq * p.headDim + ATTENTION_CHUNK * p.headDim + nq * ((p.pos0 + p.nTok + 3) & ~3);
    const perThread = Math.ceil((floats * 4) / 64) * 64;
    const scratch = this.arenas[arena].scratchRegion("attention", perThread * this.threads);
    const units = Math.ceil(p.nTok / tokensPerUnit) * p.nHeadKv;
    this.run(
      [
        {
          fn: "attention",
          arena,
          units,
          scale: 1,
          limit: units,
          args: [
            p.q.ptr,
            p.qStride ?? width,
            p.k.ptr,
            p.v.ptr,
            p.kvF16 ? 1 : 0,
            p.kvStride ?? p.nHeadKv * p.headDim,
            p.out.ptr,
            p.outStride ?? width,
            scratch,
            p.nHead,
            p.nHeadKv,
            p.headDim,
            p.pos0,
            p.scale,
            p.nTok,
            tokensPerUnit,
          ],
          floats: 1 << 13,
          tidArg: 8,
          tidStride: perThread,
        },
      ],
      units < 2,
    );
  }

  /**
   * One token without GQA over an f16 cache (generation of a 7B LLaMA): the heads split in one
   * range per thread, each range walking the cache rows in order for all its heads
   * (assembly/attention.ts, attentionHeads).
   */
  private attentionHeads(p: AttentionParams, arena: number): void {
    const perUnit = Math.ceil(p.nHead / this.threads);
    const units = Math.ceil(p.nHead / perUnit);
    const len = p.pos0 + 1;
    const floats = perUnit * (p.headDim + ((len + 3) & ~3));
    const perThread = Math.ceil((floats * 4) / 64) * 64;
    const scratch = this.arenas[arena].scratchRegion("attention", perThread * this.threads);
    const kvStride = p.kvStride ?? p.nHeadKv * p.headDim;
    const args = [p.q.ptr, p.k.ptr, p.v.ptr, kvStride, p.out.ptr, scratch, p.headDim, len, p.scale];
    const job = makeJob("attentionHeads", arena, units, perUnit, p.nHead, args, 5, perThread);
    job.floats = 1 << 8;
    this.run([job], units < 2);
  }

  // ---------------------------------------------------------------- lifetime

  /** Stop the workers and drop the memories. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    if (this.workers.length > 0) this.dispatch([], C.OP_YIELD);
    for (const w of this.workers) {
      w.postMessage({ type: "exit" });
      w.terminate();
    }
    this.workers.length = 0;
    this.disposed = true;
  }

  // ---------------------------------------------------------------- dispatch

  private live(): void {
    if (this.disposed) throw new KernelsError("KERNELS_DISPOSED", "the kernels were disposed");
  }

  private arenaOf(index: number): Arena {
    const a = this.arenas[index];
    if (!a)
      throw new KernelsError("KERNELS_ARENA_MISMATCH", `no memory ${index} (have ${this.arenas.length})`);
    return a;
  }

  private sameArena(op: string, ...bufs: (KBuffer | null)[]): number {
    this.live();
    let arena = -1;
    for (const b of bufs) {
      if (!b) continue;
      if (arena >= 0 && b.arena !== arena) {
        throw new KernelsError(
          "KERNELS_ARENA_MISMATCH",
          `${op}: operands in memories ${arena} and ${b.arena}`,
          "copy() them into one memory first",
        );
      }
      arena = b.arena;
    }
    return arena;
  }

  /** Run jobs over all threads (or on this thread alone when `serial`, or with no workers). */
  private run(jobs: Job[], serial = false): void {
    if (jobs.length === 0) return;
    if (serial || this.workers.length === 0) {
      for (const job of jobs) this.callJob(job, 0, job.units, 0);
      return;
    }
    for (let i = 0; i < jobs.length; i += C.MAX_JOBS) this.dispatch(jobs.slice(i, i + C.MAX_JOBS), C.OP_RUN);
  }

  private callJob(job: Job, a: number, z: number, tid: number): void {
    const args = job.args.slice();
    if (job.tidArg !== undefined) args[job.tidArg] += tid * (job.tidStride ?? 0);
    args.push(a * job.scale, Math.min(z * job.scale, job.limit));
    this.arenas[job.arena].exports[job.fn](...args);
  }

  private dispatch(jobs: Job[], op: number): void {
    const ctrl = this.ctrl;
    const seq = (ctrl[C.SEQ] + 1) | 0;
    let total = 0;
    jobs.forEach((job, j) => {
      if (job.args.length > C.MAX_ARGS) throw new Error(`job ${job.fn}: too many arguments`);
      const b = C.JOBS + j * C.JOB_SLOTS;
      ctrl[b + C.J_FN] = C.FN[job.fn];
      ctrl[b + C.J_ARENA] = job.arena;
      ctrl[b + C.J_U0] = total;
      total += job.units;
      ctrl[b + C.J_U1] = total;
      ctrl[b + C.J_SCALE] = job.scale;
      ctrl[b + C.J_LIMIT] = job.limit;
      ctrl[b + C.J_NARGS] = job.args.length;
      ctrl[b + C.J_FLOATS] = job.floats ?? 0;
      ctrl[b + C.J_TID_ARG] = job.tidArg ?? -1;
      ctrl[b + C.J_TID_STRIDE] = job.tidStride ?? 0;
      job.args.forEach((v, i) => {
        if (((job.floats ?? 0) >>> i) & 1) this.ctrlF[b + C.J_ARGS + i] = v;
        else ctrl[b + C.J_ARGS + i] = v;
      });
    });
    // About four chunks per thread: small enough to rebalance, large enough to amortize claims.
    const per = Math.max(1, Math.ceil(total / (this.threads * 4)));
    const nChunks = Math.ceil(total / per);
    ctrl[C.NJOBS] = jobs.length;
    ctrl[C.TOTAL_UNITS] = total;
    ctrl[C.CHUNK_UNITS] = per;
    ctrl[C.NCHUNKS] = nChunks;
    Atomics.store(ctrl, C.CHUNKS_DONE, 0);
    Atomics.store(ctrl, C.DONE, 0);
    Atomics.store(ctrl, C.ERROR, 0);
    Atomics.store(ctrl, C.OP, op);
    Atomics.store(ctrl, C.OP_SEQ, seq);
    Atomics.store(ctrl, C.NEXT, C.chunkTag(seq));
    Atomics.store(ctrl, C.SEQ, seq);
    Atomics.notify(ctrl, C.SEQ);
    if (op === C.OP_YIELD) {
      this.waitFor(C.DONE, this.workers.length);
      return;
    }
    const tag = C.chunkTag(seq);
    for (;;) {
      const cur = Atomics.load(ctrl, C.NEXT);
      const idx = cur & C.CHUNK_INDEX_MASK;
      if ((cur & ~C.CHUNK_INDEX_MASK) !== tag || idx >= nChunks) break;
      if (Atomics.compareExchange(ctrl, C.NEXT, cur, cur + 1) !== cur) continue;
      this.runChunk(jobs, idx * per, Math.min(idx * per + per, total));
      Atomics.add(ctrl, C.CHUNKS_DONE, 1);
    }
    this.waitFor(C.CHUNKS_DONE, nChunks);
    if (Atomics.load(ctrl, C.ERROR)) {
      throw new Error("a kernels worker failed (its message was logged)");
    }
  }

  /** Units [c0, c1) of the concatenated jobs, on this thread. */
  private runChunk(jobs: Job[], c0: number, c1: number): void {
    let u = 0;
    for (const job of jobs) {
      const a = Math.max(c0, u);
      const z = Math.min(c1, u + job.units);
      if (a < z) this.callJob(job, a - u, z - u, 0);
      u += job.units;
    }
  }

  private waitFor(slot: number, value: number): void {
    const ctrl = this.ctrl;
    for (let spin = 0; ; spin++) {
      const now = Atomics.load(ctrl, slot);
      if (now >= value) return;
      if (spin > 20000) Atomics.wait(ctrl, slot, now, 50);
    }
  }
}

/**
 * The positions and RoPE parameters of the cos/sin table last written to an arena's scratch, so
 * that the 2 x nLayer rope calls of a forward pass compute and copy it once.
 */
class RopeTableKey {
  private readonly params: RopeParams | null;

  constructor(
    readonly arena: number,
    readonly ptr: number,
    readonly positions: number[],
    params: RopeParams | null,
  ) {
    // a copy: the caller may reuse and change its object
    this.params = params && { ...params };
  }

  matches(
    arena: number,
    ptr: number,
    positions: ArrayLike<number>,
    nTok: number,
    params: RopeParams,
  ): boolean {
    if (arena !== this.arena || ptr !== this.ptr || nTok !== this.positions.length || !this.params)
      return false;
    const p = this.params;
    if (
      p.nRot !== params.nRot ||
      p.freqBase !== params.freqBase ||
      p.freqScale !== params.freqScale ||
      p.extFactor !== params.extFactor ||
      p.attnFactor !== params.attnFactor ||
      p.betaFast !== params.betaFast ||
      p.betaSlow !== params.betaSlow ||
      p.nCtxOrig !== params.nCtxOrig
    )
      return false;
    for (let t = 0; t < nTok; t++) if (positions[t] !== this.positions[t]) return false;
    return true;
  }
}

const PAGE_BYTES = 65536;
/** Cache positions the attention kernel converts at a time (CHUNK in assembly/attention.ts). */
const ATTENTION_CHUNK = 128;
/** Types uploaded in the x4 layout, and the flag that tells the products so (assembly/x4.ts). */
const X4_TYPES = new Set([2, 3, 8, 12, 14]);
const X4_FLAG = 256;
/** Below this many multiply-adds a product runs on the calling thread alone (~20 us of work). */
const SERIAL_MACS = 1 << 18;
/** From this many tokens on, quantized products unpack weight tiles once and reuse them. */
const TILED_MIN_TOKENS = 4;

/** Bytes of one thread's tile scratch (assembly/tiles.ts, matmulTiled) for n columns. */
function tileBytes(type: number, n: number): number {
  const block32 = weightTypeInfo(type).blockSize === 32;
  // one unpacked 4-row tile: i16 quants, then per block (or super-block) its scales
  const four = 8 * n + (block32 ? n : (n / 256) * 288);
  // a token quad's interleaved activations: n/32 blocks of 288 bytes or n/256 super-blocks of 2192
  const quad = block32 ? (n / 32) * 288 : (n / 256) * 2192;
  // two 4-row tiles, one 8-row tile (twice as big), 128 bytes of results, 32 token quads (128 tokens)
  return 4 * four + 128 + 32 * quad;
}

function prepareJob(
  kind: ActivationKind,
  arena: number,
  x: number,
  n: number,
  out: number,
  stride: number,
  nTok: number,
): Job {
  if (kind === "q8") return makeJob("quantizeQ8", arena, nTok, 1, nTok, [x, n * 4, n, out, stride]);
  if (kind === "q8k") return makeJob("quantizeQ8K", arena, nTok, 1, nTok, [x, n * 4, n, out, stride]);
  return makeJob("roundRows", arena, nTok, 1, nTok, [x, n * 4, n, out, stride, kind === "bf16" ? 1 : 0]);
}

/**
 * A job as one object literal of a fixed shape. The products run ~90 times per generated token:
 * built with object spread ({ ...base, fn }), a job cost V8 11 (Node 20) about 10 us and most of
 * the garbage, more than a small product itself.
 */
function makeJob(
  fn: C.KernelFunction,
  arena: number,
  units: number,
  scale: number,
  limit: number,
  args: number[],
  tidArg?: number,
  tidStride?: number,
): Job {
  return { fn, arena, units, scale, limit, args, floats: 0, tidArg, tidStride };
}
