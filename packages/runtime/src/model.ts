import type { GgufByteSource, GgufFile } from "@cllama/gguf-format";
import { SentencePieceTokenizer } from "@cllama/tokenizer";
import { ChatSession, type ChatSessionOptions } from "./chat/session";
import { InferenceContext, type StopReason } from "./context";
import { RuntimeError } from "./errors";
import type { ModelHparams } from "./model/hparams";
import { kvCacheBytes, type LoadProgress, openAndValidate, readWeights, sourceOf } from "./model/load";
import { type ForwardBackend, type LlamaWeights, ReferenceBackend } from "./model/reference";
import { WasmModel } from "./model/wasm";
import { type PerplexityResult, perplexityOfTokens } from "./perplexity";
import type { SamplingOptions } from "./sampling/options";
import { Sampler } from "./sampling/sampler";

export interface LoadModelOptions {
  /** Worker threads for the kernels (the TypeScript reference path uses one). */
  threads?: number;
  /** Context size of sessions and completions; default min(2048, the trained context). 0 = trained. */
  contextSize?: number;
  /** Tokens per forward batch during prompt processing (llama.cpp's n_batch), default 512. */
  batchSize?: number;
  /**
   * Tokens per micro-batch of the wasm kernels (llama.cpp's n_ubatch): a batch runs through every
   * layer this many tokens at a time. Default: as many as 48 MiB of activations hold, a multiple
   * of 128 (the whole batch of 512 for models up to about 3B).
   */
  microBatchSize?: number;
  onProgress?: (progress: LoadProgress) => void;
  /** Refuse to load when weights + KV cache exceed this many bytes (default: the machine's RAM in Node). */
  memoryLimitBytes?: number;
  /** A name for messages (the path). */
  name?: string;
  /**
   * "wasm" (default): @cllama/kernels-wasm's SIMD kernels on a worker pool. "reference": the
   * float32 TypeScript forward pass (slow; the yardstick the kernels are tested against).
   */
  backend?: "wasm" | "reference";
}

/** How a model computes: the reference keeps weights in JavaScript, wasm in kernel memories. */
export type ModelEngine = { kind: "reference"; weights: LlamaWeights } | { kind: "wasm"; wasm: WasmModel };

export interface CompletionOptions extends SamplingOptions {
  /** New tokens; -1 (default) until EOS or the context is full. */
  maxTokens?: number;
  /** Add BOS before the prompt (default: the vocabulary's add_bos_token, true for LLaMA). */
  bos?: boolean;
  stopStrings?: string[];
  signal?: AbortSignal;
  onText?: (chunk: string) => void;
}

export interface CompletionResult {
  promptTokens: number[];
  tokens: number[];
  text: string;
  stopReason: StopReason;
  timings: { promptMs: number; promptTps: number; genMs: number; genTps: number };
}

/** A loaded LLaMA model: weights, tokenizer, hyper-parameters. Contexts and sessions come from it. */
export class Model {
  readonly contextSize: number;

  constructor(
    readonly file: GgufFile,
    readonly hparams: ModelHparams,
    readonly engine: ModelEngine,
    readonly tokenizer: SentencePieceTokenizer,
    readonly loadMs: number,
    readonly options: LoadModelOptions,
  ) {
    const wanted = options.contextSize ?? Math.min(2048, hparams.nCtxTrain);
    this.contextSize = wanted === 0 ? hparams.nCtxTrain : wanted;
  }

  /** The GGUF's own Jinja chat template, if any. */
  get chatTemplate(): string | undefined {
    const t = this.file.metadata["tokenizer.chat_template"];
    return typeof t === "string" ? t : undefined;
  }

  /** A fresh sequence with its own KV cache. */
  createContext(contextSize = this.contextSize): InferenceContext {
    if (!Number.isInteger(contextSize) || contextSize < 2) {
      throw new RuntimeError(
        "RUNTIME_BAD_OPTION",
        `context size must be an integer >= 2, found ${contextSize}`,
      );
    }
    const backend: ForwardBackend =
      this.engine.kind === "wasm"
        ? this.engine.wasm.backend(contextSize)
        : new ReferenceBackend(this.hparams, this.engine.weights, contextSize);
    return new InferenceContext(backend, this.options.batchSize ?? 512);
  }

  createSession(options: ChatSessionOptions = {}): ChatSession {
    return new ChatSession(this, options);
  }

  /** One completion of a raw prompt (`cllama run`). */
  async complete(prompt: string, options: CompletionOptions = {}): Promise<CompletionResult> {
    const ctx = this.createContext();
    try {
      return await this.completeIn(ctx, prompt, options);
    } finally {
      ctx.dispose();
    }
  }

  private async completeIn(
    ctx: InferenceContext,
    prompt: string,
    options: CompletionOptions,
  ): Promise<CompletionResult> {
    const bos = options.bos ?? this.tokenizer.addBosToken;
    const promptTokens = this.tokenizer.encode(prompt, { bos });
    if (promptTokens.length === 0)
      throw new RuntimeError("RUNTIME_BAD_TOKEN", "the prompt is empty", "pass -p TEXT");
    if (promptTokens.length >= ctx.size) {
      throw new RuntimeError(
        "RUNTIME_PROMPT_TOO_LONG",
        `the prompt has ${promptTokens.length} tokens, the context ${ctx.size}`,
        "use a larger context (-c) or a shorter prompt",
      );
    }
    const sampler = new Sampler(options, ctx.size);
    for (const t of promptTokens) sampler.accept(t);
    const started = performance.now();
    const logits = (await ctx.evaluate(promptTokens, false, options.signal))[0]!;
    const promptMs = performance.now() - started;
    const result = await ctx.generate(logits, {
      sampler,
      maxTokens: options.maxTokens ?? -1,
      stopStrings: options.stopStrings,
      stopTokens: new Set([this.tokenizer.eosId]),
      signal: options.signal,
      decoder: this.tokenizer.createStreamDecoder(),
      onText: options.onText,
    });
    const genMs = result.genMs;
    return {
      promptTokens,
      tokens: result.tokens,
      text: result.text,
      stopReason: result.stopReason,
      timings: {
        promptMs,
        promptTps: (promptTokens.length * 1000) / Math.max(promptMs, 1e-6),
        genMs,
        genTps: (result.tokens.length * 1000) / Math.max(genMs, 1e-6),
      },
    };
  }

  /** llama.cpp's perplexity over a text (see perplexity.ts). */
  perplexity(
    text: string,
    options: { contextSize?: number; onChunk?: (done: number, total: number, ppl: number) => void } = {},
  ): Promise<PerplexityResult> {
    const tokens = this.tokenizer.encode(text, { bos: this.tokenizer.addBosToken });
    return perplexityOfTokens(this, tokens, options);
  }

  /** Stops the kernel workers (wasm backend). */
  async dispose(): Promise<void> {
    if (this.engine.kind === "wasm") await this.engine.wasm.dispose();
  }
}

/**
 * Loads a LLaMA GGUF: a path (Node), bytes, or any GgufByteSource. Validates the architecture,
 * tensors, shapes and memory before reading any weight.
 */
export async function loadModel(
  input: string | Uint8Array | ArrayBuffer | GgufByteSource,
  options: LoadModelOptions = {},
): Promise<Model> {
  const started = performance.now();
  let source: GgufByteSource;
  let name = options.name ?? "model";
  let memoryLimit = options.memoryLimitBytes;
  if (typeof input === "string") {
    const node = await import("@cllama/gguf-format/node");
    const os = await import("node:os");
    source = await node.fileSource(input);
    name = options.name ?? input;
    memoryLimit ??= os.totalmem();
  } else {
    source = sourceOf(input);
  }
  const validated = await openAndValidate(source, name);
  const { handle, hparams } = validated;
  try {
    const contextSize = options.contextSize || Math.min(2048, hparams.nCtxTrain);
    // The reference path keeps the cache as float32: twice llama.cpp's fp16 cache.
    const kvFactor = options.backend === "reference" ? 2 : 1;
    const needed = validated.weightBytes + kvFactor * kvCacheBytes(hparams, contextSize);
    if (memoryLimit !== undefined && needed > memoryLimit) {
      throw new RuntimeError(
        "RUNTIME_CONTEXT_TOO_LARGE",
        `${name}: weights (${mb(validated.weightBytes)}) and a ${contextSize}-token KV cache need ${mb(needed)}, more than the ${mb(memoryLimit)} available`,
        "use a smaller context (-c) or a smaller quantization",
      );
    }
    // The kernels keep activations and every KV cache in their first memory (at most 4 GiB).
    if (options.backend !== "reference" && kvCacheBytes(hparams, contextSize) > 3.5 * 2 ** 30) {
      throw new RuntimeError(
        "RUNTIME_CONTEXT_TOO_LARGE",
        `${name}: a ${contextSize}-token KV cache takes ${mb(kvCacheBytes(hparams, contextSize))}, more than one WebAssembly memory holds`,
        "use a smaller context (-c)",
      );
    }
    let tokenizer: SentencePieceTokenizer;
    try {
      tokenizer = SentencePieceTokenizer.fromGgufMetadata(handle.file.metadata, name);
    } catch (error) {
      throw new RuntimeError(
        "RUNTIME_MISSING_KEY",
        `${name}: no usable vocabulary: ${(error as Error).message}`,
      );
    }
    if (tokenizer.vocabSize !== hparams.nVocab) {
      throw new RuntimeError(
        "RUNTIME_BAD_TENSOR_SHAPE",
        `${name}: the vocabulary has ${tokenizer.vocabSize} tokens but the embedding ${hparams.nVocab} rows`,
      );
    }
    const batchSize = options.batchSize ?? 512;
    let engine: ModelEngine;
    if (options.backend === "reference") {
      engine = { kind: "reference", weights: await readWeights(handle, validated, options.onProgress) };
    } else {
      const { wasm, primary } = await WasmModel.load(handle, validated, {
        threads: options.threads,
        batchSize,
        microBatchSize: options.microBatchSize,
        contextSize,
        onProgress: options.onProgress,
      });
      wasm.release(primary);
      engine = { kind: "wasm", wasm };
    }
    return new Model(handle.file, hparams, engine, tokenizer, performance.now() - started, {
      ...options,
      contextSize,
      name,
    });
  } finally {
    await handle.close();
  }
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}
