import type { GgufFileHandle } from "@cllama/gguf-format";
import type { KBuffer, Kernels, KWeights } from "@cllama/kernels-wasm";
import { fp16ToFp32, fp32ToFp16 } from "@cllama/quantize";
import { RuntimeError } from "../errors";
import type { ModelHparams } from "./hparams";
import type { LoadProgress, ValidatedModel } from "./load";
import { applyRope, ropeCache } from "./numerics";
import type { ForwardBackend } from "./reference";

interface WasmLayer {
  attnNorm: KBuffer;
  q: KWeights;
  k: KWeights;
  v: KWeights;
  o: KWeights;
  ffnNorm: KBuffer;
  gate: KWeights;
  up: KWeights;
  down: KWeights;
}

/** Activation buffers for one batch, shared by every context of a model (evaluation is synchronous). */
interface Scratch {
  x: KBuffer;
  xb: KBuffer;
  q: KBuffer;
  k: KBuffer;
  v: KBuffer;
  attn: KBuffer;
  tmp: KBuffer;
  gate: KBuffer;
  up: KBuffer;
  rows: KBuffer;
  logits: KBuffer;
}

/** Bytes of a weight matrix read from the file at a time while loading (whole rows; see load). */
const UPLOAD_PIECE_BYTES = 16 * 2 ** 20;

/** Rows of logits computed per output product (bounds the logits buffer). */
const LOGIT_ROWS = 32;

/**
 * Activation bytes a micro-batch may take. A batch (llama.cpp's n_batch, 512 by default) runs as
 * micro-batches (its n_ubatch) of as many tokens as fit, in multiples of 128 (the tokens a weight
 * tile serves in the products): a 1.1B-shape model takes all 512 tokens at once, a 7B-shape one
 * 128, whose activations then stay near 26 MiB instead of 100 MiB.
 */
const MICRO_BATCH_BYTES = 48 * 2 ** 20;
const MICRO_BATCH_STEP = 128;

/** Tokens per micro-batch for this model shape (or the whole batch if smaller). */
function microBatchSize(h: ModelHparams, batchSize: number, requested?: number): number {
  if (requested !== undefined) return Math.max(1, Math.min(batchSize, Math.floor(requested)));
  const perToken = 4 * (5 * h.nEmbd + 2 * h.nHeadKv * h.headDim + 2 * h.nFf);
  const fit = Math.floor(MICRO_BATCH_BYTES / perToken / MICRO_BATCH_STEP) * MICRO_BATCH_STEP;
  return Math.min(batchSize, Math.max(MICRO_BATCH_STEP, fit));
}

/** A model's weights uploaded into @cllama/kernels-wasm memories, plus its contexts' caches. */
export class WasmModel {
  private readonly free = new Map<number, WasmBackend[]>();

  private constructor(
    readonly kernels: Kernels,
    readonly hp: ModelHparams,
    readonly tokenEmbd: KWeights,
    readonly outputNorm: KBuffer,
    readonly output: KWeights,
    readonly layers: WasmLayer[],
    readonly scratch: Scratch,
    readonly batchSize: number,
    readonly microBatch: number,
  ) {}

  /**
   * Opens the kernels, reserves activations and the first context's KV cache in memory 0, and
   * streams every tensor in (into memory 0 too for models under HOME_WEIGHTS_LIMIT, else into
   * memories of their own, 4 GiB at most each): no JavaScript copy of the weights stays behind.
   */
  static async load(
    handle: GgufFileHandle,
    model: ValidatedModel,
    options: {
      threads?: number;
      batchSize: number;
      microBatchSize?: number;
      contextSize: number;
      onProgress?: (p: LoadProgress) => void;
    },
  ): Promise<{ wasm: WasmModel; primary: WasmBackend }> {
    const h = model.hparams;
    const mod = await importKernels();
    // Weights share memory 0 with the activations and caches when all of it stays far from the
    // 4 GiB a memory holds (room is left for more contexts' caches): then no product copies its
    // input into another memory and its output back. Larger models put their weights in memories
    // of their own.
    const weightsInHome = model.weightBytes + cacheBytes(h, options.contextSize) < HOME_WEIGHTS_LIMIT;
    const kernels = await mod.createKernels({
      ...(options.threads ? { threads: options.threads } : {}),
      weightsInHome,
    });
    try {
      const nB = microBatchSize(h, options.batchSize, options.microBatchSize);
      const kvDim = h.nHeadKv * h.headDim;
      const f32 = (n: number) => kernels.allocF32(n);
      const scratch: Scratch = {
        x: f32(nB * h.nEmbd),
        xb: f32(nB * h.nEmbd),
        q: f32(nB * h.nEmbd),
        k: f32(nB * kvDim),
        v: f32(nB * kvDim),
        attn: f32(nB * h.nEmbd),
        tmp: f32(nB * h.nEmbd),
        gate: f32(nB * h.nFf),
        up: f32(nB * h.nFf),
        rows: f32(LOGIT_ROWS * h.nEmbd),
        logits: f32(LOGIT_ROWS * h.nVocab),
      };
      const caches = allocateCaches(kernels, h, options.contextSize);
      const total = model.weightBytes;
      let loaded = 0;
      // Matrices go from the file into WebAssembly memory 16 MiB at a time: reading a whole one
      // first (the 7B's 49,953-row output matrix is 217 MB at Q8_0) would hold a second copy of
      // it in JavaScript memory when memory use is at its peak, with every other weight loaded.
      const upload = async (name: string): Promise<KWeights> => {
        const info = model.tensors.get(name)!;
        const rows = info.shape[1] ?? 1;
        const rowBytes = info.byteSize / rows;
        const piece = Math.max(1, Math.floor(UPLOAD_PIECE_BYTES / rowBytes));
        return kernels.uploadWeights(info.type, rows, info.shape[0]!, async (into) => {
          for (let first = 0; first < rows; first += piece) {
            const bytes = await handle.readRows(info, first, Math.min(piece, rows - first));
            into.set(bytes, first * rowBytes);
            loaded += bytes.length;
            options.onProgress?.({ loaded, total });
          }
        });
      };
      const vector = async (name: string): Promise<KBuffer> => {
        const info = model.tensors.get(name)!;
        const bytes = await handle.readTensor(info);
        const buf = kernels.alloc(bytes.byteLength);
        kernels.u8(buf).set(bytes);
        loaded += info.byteSize;
        options.onProgress?.({ loaded, total });
        return buf;
      };
      const layers: WasmLayer[] = [];
      const tokenEmbd = await upload("token_embd.weight");
      for (let i = 0; i < h.nLayer; i++) {
        layers.push({
          attnNorm: await vector(`blk.${i}.attn_norm.weight`),
          q: await upload(`blk.${i}.attn_q.weight`),
          k: await upload(`blk.${i}.attn_k.weight`),
          v: await upload(`blk.${i}.attn_v.weight`),
          o: await upload(`blk.${i}.attn_output.weight`),
          ffnNorm: await vector(`blk.${i}.ffn_norm.weight`),
          gate: await upload(`blk.${i}.ffn_gate.weight`),
          up: await upload(`blk.${i}.ffn_up.weight`),
          down: await upload(`blk.${i}.ffn_down.weight`),
        });
      }
      const outputNorm = await vector("output_norm.weight");
      const output = h.tiedEmbeddings ? tokenEmbd : await upload("output.weight");
      const wasm = new WasmModel(
        kernels,
        h,
        tokenEmbd,
        outputNorm,
        output,
        layers,
        scratch,
        options.batchSize,
        nB,
      );
      return { wasm, primary: new WasmBackend(wasm, options.contextSize, caches) };
    } catch (error) {
      await kernels.dispose();
      const code = (error as { code?: unknown }).code;
      if (code === "KERNELS_OUT_OF_MEMORY") {
        throw new RuntimeError(
          "RUNTIME_OUT_OF_MEMORY",
          `the model does not fit in WebAssembly memory: ${(error as Error).message}`,
          "use a smaller context (-c) or a smaller model",
        );
      }
      throw error;
    }
  }

  /** A backend with a KV cache of `contextSize` cells: a released one when available. */
  backend(contextSize: number): WasmBackend {
    const pool = this.free.get(contextSize);
    const reused = pool?.pop();
    if (reused) return reused;
    try {
      return new WasmBackend(this, contextSize, allocateCaches(this.kernels, this.hp, contextSize));
    } catch (error) {
      throw new RuntimeError(
        "RUNTIME_OUT_OF_MEMORY",
        `no room for another KV cache of ${contextSize} cells: ${(error as Error).message}`,
        "release other sessions or use a smaller context",
      );
    }
  }

  release(backend: WasmBackend): void {
    const pool = this.free.get(backend.contextSize) ?? [];
    pool.push(backend);
    this.free.set(backend.contextSize, pool);
  }

  dispose(): Promise<void> {
    return this.kernels.dispose();
  }
}

async function importKernels(): Promise<typeof import("@cllama/kernels-wasm/node")> {
  const isNode = typeof process !== "undefined" && !!process.versions?.node;
  if (isNode) return import("@cllama/kernels-wasm/node");
  return (await import("@cllama/kernels-wasm")) as unknown as typeof import("@cllama/kernels-wasm/node");
}

/** Below this many bytes of weights and first KV cache, weights go in memory 0 (see load). */
const HOME_WEIGHTS_LIMIT = 2 * 2 ** 30;

/** Bytes of an fp16 KV cache of contextSize cells (K and V, every layer). */
function cacheBytes(h: ModelHparams, contextSize: number): number {
  return 2 * h.nLayer * contextSize * h.nHeadKv * h.headDim * 2;
}

function allocateCaches(
  kernels: Kernels,
  h: ModelHparams,
  contextSize: number,
): { k: KBuffer[]; v: KBuffer[] } {
  const bytes = cacheBytes(h, contextSize) / (2 * h.nLayer);
  // Written once now (as llama.cpp clears its KV buffer at creation): the first write to each
  // page of a memory is a page fault, and generation would otherwise pay them token by token
  // (about 6 ms a token on the 7B shape).
  const touched = () => {
    const buf = kernels.alloc(bytes);
    kernels.u8(buf).fill(0);
    return buf;
  };
  return {
    k: Array.from({ length: h.nLayer }, touched),
    v: Array.from({ length: h.nLayer }, touched),
  };
}

/**
 * The forward pass on @cllama/kernels-wasm: the same graph as the reference, run by SIMD kernels
 * on the worker pool, with an fp16 KV cache as llama.cpp keeps it.
 */
export class WasmBackend implements ForwardBackend {
  constructor(
    private readonly model: WasmModel,
    readonly contextSize: number,
    private readonly cache: { k: KBuffer[]; v: KBuffer[] },
  ) {}

  evaluate(tokens: readonly number[], startPos: number, logitRows: readonly number[]): Float32Array[] {
    const n = tokens.length;
    if (n > this.model.batchSize) {
      throw new RuntimeError("RUNTIME_BAD_OPTION", `batch of ${n} tokens exceeds ${this.model.batchSize}`);
    }
    const ub = this.model.microBatch;
    if (n <= ub) return this.evaluateMicroBatch(tokens, startPos, logitRows);
    const logits = new Map<number, Float32Array>();
    for (let first = 0; first < n; first += ub) {
      const rows = logitRows.filter((t) => t >= first && t < first + ub);
      const got = this.evaluateMicroBatch(
        tokens.slice(first, first + ub),
        startPos + first,
        rows.map((t) => t - first),
      );
      for (const [i, t] of rows.entries()) logits.set(t, got[i]!);
    }
    return logitRows.map((t) => logits.get(t)!);
  }

  /** One micro-batch (at most microBatch tokens) through every layer. */
  private evaluateMicroBatch(
    tokens: readonly number[],
    startPos: number,
    logitRows: readonly number[],
  ): Float32Array[] {
    const { kernels: k, hp: h, scratch: s, layers } = this.model;
    const n = tokens.length;
    const kvDim = h.nHeadKv * h.headDim;
    const row = (buf: KBuffer, t: number, width: number) => k.view(buf, t * width * 4, width * 4);
    for (let t = 0; t < n; t++) k.dequantizeRows(this.model.tokenEmbd, tokens[t]!, 1, row(s.x, t, h.nEmbd));
    const positions = Array.from({ length: n }, (_, t) => startPos + t);
    const rope = {
      nRot: h.nRot,
      freqBase: h.rope.freqBase,
      freqScale: h.rope.freqScale,
      extFactor: h.rope.extFactor,
      attnFactor: h.rope.attnFactor,
      betaFast: h.rope.betaFast,
      betaSlow: h.rope.betaSlow,
      nCtxOrig: h.rope.nCtxOrig,
    };
    const scale = Math.fround(1 / Math.fround(Math.sqrt(h.headDim)));
    for (let l = 0; l < h.nLayer; l++) {
      const L = layers[l]!;
      k.rmsNorm(s.x, L.attnNorm, s.xb, h.nEmbd, h.rmsEps, n);
      k.matmulMany(
        [
          { w: L.q, y: s.q },
          { w: L.k, y: s.k },
          { w: L.v, y: s.v },
        ],
        s.xb,
        n,
      );
      k.rope(s.q, n, h.nHead, h.headDim, positions, rope);
      k.rope(s.k, n, h.nHeadKv, h.headDim, positions, rope);
      const cellBytes = kvDim * 2;
      k.storeF16(s.k, k.view(this.cache.k[l]!, startPos * cellBytes, n * cellBytes), n * kvDim);
      k.storeF16(s.v, k.view(this.cache.v[l]!, startPos * cellBytes, n * cellBytes), n * kvDim);
      k.attention({
        q: s.q,
        k: this.cache.k[l]!,
        v: this.cache.v[l]!,
        out: s.attn,
        kvF16: true,
        nHead: h.nHead,
        nHeadKv: h.nHeadKv,
        headDim: h.headDim,
        pos0: startPos,
        nTok: n,
        scale,
      });
      k.matmul(L.o, s.attn, s.tmp, n);
      k.add(s.x, s.tmp, s.x, n * h.nEmbd);
      k.rmsNorm(s.x, L.ffnNorm, s.xb, h.nEmbd, h.rmsEps, n);
      k.matmulMany(
        [
          { w: L.gate, y: s.gate },
          { w: L.up, y: s.up },
        ],
        s.xb,
        n,
      );
      k.siluMul(s.gate, s.up, s.gate, n * h.nFf);
      k.matmul(L.down, s.gate, s.tmp, n);
      k.add(s.x, s.tmp, s.x, n * h.nEmbd);
    }
    const out: Float32Array[] = [];
    for (let first = 0; first < logitRows.length; first += LOGIT_ROWS) {
      const chunk = logitRows.slice(first, first + LOGIT_ROWS);
      chunk.forEach((t, i) => {
        k.rmsNorm(row(s.x, t, h.nEmbd), this.model.outputNorm, row(s.rows, i, h.nEmbd), h.nEmbd, h.rmsEps, 1);
      });
      k.matmul(this.model.output, s.rows, s.logits, chunk.length);
      const all = k.f32(s.logits);
      for (let i = 0; i < chunk.length; i++) out.push(all.slice(i * h.nVocab, (i + 1) * h.nVocab));
    }
    return out;
  }

  shift(keep: number, discard: number, used: number): void {
    const { kernels: k, hp: h } = this.model;
    const kvDim = h.nHeadKv * h.headDim;
    const cell = kvDim * 2;
    const moved = used - keep - discard;
    const delta = ropeCache(-discard, h.nRot, h.rope);
    const tmp = new Float32Array(kvDim);
    for (let l = 0; l < h.nLayer; l++) {
      for (const buf of [this.cache.k[l]!, this.cache.v[l]!]) {
        k.copy(k.view(buf, (keep + discard) * cell, moved * cell), k.view(buf, keep * cell, moved * cell));
      }
      // Keys were rotated for their old positions: rotate by -discard (llama.cpp's K-shift).
      const keys = new Uint16Array(k.u8(k.view(this.cache.k[l]!, keep * cell, moved * cell)).slice().buffer);
      for (let p = 0; p < moved; p++) {
        for (let i = 0; i < kvDim; i++) tmp[i] = fp16ToFp32(keys[p * kvDim + i]!);
        applyRope(tmp, 0, h.nHeadKv, h.headDim, h.nRot, delta);
        for (let i = 0; i < kvDim; i++) keys[p * kvDim + i] = fp32ToFp16(tmp[i]!);
      }
      k.u8(k.view(this.cache.k[l]!, keep * cell, moved * cell)).set(new Uint8Array(keys.buffer));
    }
  }

  dispose(): void {
    this.model.release(this);
  }
}
