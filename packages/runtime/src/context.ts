import { RuntimeError } from "./errors";
import type { ForwardBackend } from "./model/reference";
import type { Sampler } from "./sampling/sampler";
import { StopMatcher } from "./sampling/stop";

export type StopReason = "eos" | "stop" | "length" | "abort" | "context";

export interface GenerateOptions {
  sampler: Sampler;
  /** Maximum new tokens; default unlimited (-1, as llama.cpp's -n -1). */
  maxTokens?: number;
  stopStrings?: readonly string[];
  /** End-of-generation token ids (EOS, and e.g. <|im_end|>). */
  stopTokens?: ReadonlySet<number>;
  signal?: AbortSignal;
  /** Turns token ids into text, holding incomplete UTF-8 back. */
  decoder?: { push(id: number): string; flush(): string };
  onText?: (chunk: string) => void;
  onToken?: (id: number) => void;
}

export interface GenerateResult {
  tokens: number[];
  text: string;
  stopReason: StopReason;
  promptMs: number;
  genMs: number;
}

const now = () => performance.now();

/** One turn of the event loop (setImmediate where it exists: no 1 ms timer clamp). */
export function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (cb: () => void) => void }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}

/**
 * One sequence over a backend's KV cache (llama.cpp's context + one sequence): remembers the
 * tokens the cache holds, evaluates new ones in batches, shifts when the context is full.
 */
export class InferenceContext {
  /** Tokens whose keys and values are in the cache, in position order. */
  readonly tokens: number[] = [];
  /** Tokens kept at the start when the context shifts (BOS, a system prompt). */
  keep = 1;

  constructor(
    readonly backend: ForwardBackend,
    readonly batchSize = 512,
  ) {}

  /** Gives the KV cache back (to the model's pool with the wasm backend). */
  dispose(): void {
    this.tokens.length = 0;
    this.backend.dispose();
  }

  get size(): number {
    return this.backend.contextSize;
  }

  /** Forget cached tokens after the first `n` (their cells are simply overwritten later). */
  truncate(n: number): void {
    this.tokens.length = Math.min(n, this.tokens.length);
  }

  /** Length of the longest common prefix of the cache and `tokens`. */
  commonPrefix(tokens: readonly number[]): number {
    let i = 0;
    while (i < tokens.length && i < this.tokens.length && tokens[i] === this.tokens[i]) i++;
    return i;
  }

  /**
   * Evaluates `tokens` after the cached ones; returns the logits after the last one, or after
   * every one with `all` (perplexity, teacher forcing).
   */
  async evaluate(tokens: readonly number[], all = false, signal?: AbortSignal): Promise<Float32Array[]> {
    if (tokens.length === 0) throw new RuntimeError("RUNTIME_BAD_TOKEN", "nothing to evaluate");
    const out: Float32Array[] = [];
    for (let start = 0; start < tokens.length; start += this.batchSize) {
      if (start > 0) await yieldToEventLoop();
      if (signal?.aborted) throw new RuntimeError("RUNTIME_ABORTED", "aborted");
      const batch = tokens.slice(start, start + this.batchSize);
      if (this.tokens.length + batch.length > this.size) this.shiftFor(batch.length);
      const isLast = start + this.batchSize >= tokens.length;
      const rows = all ? batch.map((_, i) => i) : isLast ? [batch.length - 1] : [];
      const logits = await this.backend.evaluate(
        batch,
        this.tokens.length,
        rows.length ? rows : [batch.length - 1],
      );
      this.tokens.push(...batch);
      if (rows.length) out.push(...logits);
    }
    return out;
  }

  /**
   * llama.cpp's context shift: keep the first `keep` tokens, drop the oldest half of the rest.
   * Throws when even that cannot make room (a batch longer than the context).
   */
  private shiftFor(incoming: number): void {
    const used = this.tokens.length;
    const keep = Math.min(this.keep, used);
    const discard = Math.floor((used - keep) / 2);
    if (discard === 0 || used - discard + incoming > this.size) {
      throw new RuntimeError(
        "RUNTIME_PROMPT_TOO_LONG",
        `${incoming} tokens do not fit in a context of ${this.size} (${used} in use, ${keep} kept)`,
        "use a larger context (-c) or a shorter prompt",
      );
    }
    this.backend.shift(keep, discard, used);
    this.tokens.splice(keep, discard);
  }

  /** Samples, evaluates and streams tokens after the cached ones until a stop condition. */
  async generate(firstLogits: Float32Array, options: GenerateOptions): Promise<GenerateResult> {
    const { sampler, signal, decoder } = options;
    const maxTokens = options.maxTokens ?? -1;
    const stop = new StopMatcher(options.stopStrings ?? []);
    const out: number[] = [];
    let text = "";
    const emit = (chunk: string) => {
      if (!chunk) return;
      text += chunk;
      options.onText?.(chunk);
    };
    let logits = firstLogits;
    let reason: StopReason = "length";
    const started = now();
    while (maxTokens < 0 || out.length < maxTokens) {
      if (signal?.aborted) {
        reason = "abort";
        break;
      }
      const id = sampler.sample(logits);
      sampler.accept(id);
      if (options.stopTokens?.has(id)) {
        reason = "eos";
        break;
      }
      out.push(id);
      options.onToken?.(id);
      if (decoder) emit(stop.push(decoder.push(id)));
      if (stop.stopped) {
        reason = "stop";
        break;
      }
      if (maxTokens >= 0 && out.length >= maxTokens) break;
      if (signal?.aborted) {
        reason = "abort";
        break;
      }
      try {
        // Let timers and input run between tokens, so an AbortSignal can fire mid-generation.
        await yieldToEventLoop();
        if (signal?.aborted) {
          reason = "abort";
          break;
        }
        logits = (await this.evaluate([id]))[0]!;
      } catch (error) {
        if (error instanceof RuntimeError && error.code === "RUNTIME_PROMPT_TOO_LONG") {
          reason = "context";
          break;
        }
        throw error;
      }
    }
    if (decoder && !stop.stopped) emit(stop.push(decoder.flush()));
    emit(stop.flush());
    return { tokens: out, text, stopReason: reason, promptMs: 0, genMs: now() - started };
  }
}
