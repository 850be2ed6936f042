import type { InferenceContext, StopReason } from "../context";
import { RuntimeError } from "../errors";
import type { Model } from "../model";
import { chineseAlpacaSamplingDefaults, type SamplingOptions } from "../sampling/options";
import { Sampler } from "../sampling/sampler";
import { type BuiltinTemplateName, type ChatMessage, type ChatTemplate, resolveTemplate } from "./templates";

export interface ChatSessionOptions {
  /** "auto" (default): the GGUF's tokenizer.chat_template, else a guess from the vocabulary. */
  template?: BuiltinTemplateName | "auto" | ChatTemplate;
  /** System prompt; default the template's own. */
  system?: string;
  /** Sampling; default the Chinese-Alpaca scripts' settings (temperature 0.2, top-k 40, top-p 0.9, repeat 1.1). */
  sampling?: SamplingOptions;
  /** New tokens per reply; default 400 (the seed's), -1 unlimited. */
  maxTokens?: number;
  contextSize?: number;
}

export interface SendOptions {
  onText?: (chunk: string) => void;
  signal?: AbortSignal;
  maxTokens?: number;
}

export interface SendResult {
  text: string;
  tokens: number[];
  /** Tokens evaluated for this turn's prompt (only what the cache did not hold). */
  promptTokensEvaluated: number;
  tokensPerSecond: number;
  stopReason: StopReason;
}

/**
 * A multi-turn chat over one KV cache. Each turn renders the whole conversation with the
 * template, tokenizes it, and evaluates only what the cache does not already hold (the history is
 * never processed twice while its tokens stay the same).
 */
export class ChatSession {
  readonly template: ChatTemplate;
  private readonly ctx: InferenceContext;
  private system: string | undefined;
  private messages: ChatMessage[] = [];
  private readonly options: ChatSessionOptions;
  private sampling: SamplingOptions | undefined;
  private busy = false;

  constructor(
    private readonly model: Model,
    options: ChatSessionOptions = {},
  ) {
    this.options = options;
    this.sampling = options.sampling;
    this.template = resolveTemplate(options.template, {
      chatTemplate: model.chatTemplate,
      vocabSize: model.hparams.nVocab,
      bosToken: model.tokenizer.idToPiece(model.tokenizer.bosId),
      eosToken: model.tokenizer.idToPiece(model.tokenizer.eosId),
    });
    this.system = options.system ?? this.template.defaultSystem;
    this.ctx = model.createContext(options.contextSize);
  }

  /** The conversation so far (system message first when there is one). */
  get history(): readonly ChatMessage[] {
    return this.system !== undefined
      ? [{ role: "system", content: this.system }, ...this.messages]
      : this.messages;
  }

  /** Tokens held in the KV cache, and its size. */
  get contextUsed(): number {
    return this.ctx.tokens.length;
  }

  get contextSize(): number {
    return this.ctx.size;
  }

  /** Forget the conversation (keeps the system prompt). */
  reset(): void {
    this.messages = [];
    this.ctx.truncate(0);
  }

  /**
   * A new system prompt. By default the conversation is forgotten, as llama.cpp's chat does;
   * with `keepConversation` the turns stay and the next send re-evaluates them under the new
   * prompt (the cache keeps whatever prefix still matches).
   */
  setSystem(
    text: string | undefined,
    { keepConversation = false }: { keepConversation?: boolean } = {},
  ): void {
    this.refuseWhileBusy("setSystem");
    this.system = text;
    if (!keepConversation) {
      this.messages = [];
      this.ctx.truncate(0);
    }
  }

  /** Sampling for the next replies, merged over the current settings; the KV cache stays. */
  setSampling(sampling: SamplingOptions): void {
    this.sampling = { ...this.sampling, ...sampling };
  }

  /**
   * Replace the conversation with saved turns (a leading system message sets the system prompt).
   * Nothing is evaluated now: the next send evaluates only what the cache does not already hold.
   */
  restore(messages: readonly ChatMessage[]): void {
    this.refuseWhileBusy("restore");
    const [first, ...rest] = messages;
    const turns = first?.role === "system" ? rest : [...messages];
    const misplaced = turns.findIndex((m) => m.role !== "user" && m.role !== "assistant");
    if (misplaced >= 0) {
      const at = first?.role === "system" ? misplaced + 1 : misplaced;
      throw new RuntimeError(
        "RUNTIME_BAD_OPTION",
        `restore(): message ${at} has role "${turns[misplaced]!.role}", expected "user" or "assistant" (only the first message may be "system")`,
      );
    }
    if (first?.role === "system") this.system = first.content;
    this.messages = turns.map((m) => ({ role: m.role, content: m.content }));
  }

  private promptTokens(messages: ChatMessage[]): number[] {
    const text = this.template.render(messages, true);
    const tok = this.model.tokenizer;
    return tok.encode(text, { bos: !this.template.rendersBos && tok.addBosToken, special: true });
  }

  /** The conversation and the cache belong to the reply being generated until it ends. */
  private refuseWhileBusy(method: string): void {
    if (this.busy)
      throw new RuntimeError("RUNTIME_BAD_OPTION", `${method}() called while a reply is being generated`);
  }

  async send(text: string, options: SendOptions = {}): Promise<SendResult> {
    this.refuseWhileBusy("send");
    this.busy = true;
    try {
      const conversation: ChatMessage[] = [...this.history, { role: "user", content: text }];
      const tokens = this.promptTokens(conversation);
      if (tokens.length >= this.ctx.size) {
        throw new RuntimeError(
          "RUNTIME_PROMPT_TOO_LONG",
          `the conversation has ${tokens.length} tokens, the context ${this.ctx.size}`,
          "reset the conversation or use a larger context",
        );
      }
      let reused = this.ctx.commonPrefix(tokens);
      if (reused === tokens.length) reused--; // the last token must be evaluated for its logits
      this.ctx.truncate(reused);
      const fresh = tokens.slice(reused);
      // A context shift keeps the system prompt (everything before the first user message).
      this.ctx.keep = Math.min(
        this.promptTokens(this.history.filter((m) => m.role === "system")).length,
        256,
      );
      const sampler = new Sampler({ ...chineseAlpacaSamplingDefaults, ...this.sampling }, this.ctx.size);
      for (const t of tokens) sampler.accept(t);
      const logits = (await this.ctx.evaluate(fresh, false, options.signal))[0]!;
      const tok = this.model.tokenizer;
      const stopTokens = new Set([tok.eosId]);
      const result = await this.ctx.generate(logits, {
        sampler,
        maxTokens: options.maxTokens ?? this.options.maxTokens ?? 400,
        stopStrings: this.template.stopStrings,
        stopTokens,
        signal: options.signal,
        decoder: tok.createStreamDecoder(),
        onText: options.onText,
      });
      const reply = result.text.replace(/^\s+/, "").replace(/\s+$/, "");
      this.messages.push({ role: "user", content: text }, { role: "assistant", content: reply });
      return {
        text: reply,
        tokens: result.tokens,
        promptTokensEvaluated: fresh.length,
        tokensPerSecond: (result.tokens.length * 1000) / Math.max(result.genMs, 1e-6),
        stopReason: result.stopReason,
      };
    } finally {
      this.busy = false;
    }
  }
}
