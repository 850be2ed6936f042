/**
 * What the chat needs from a model, and nothing more. The UI is written against these
 * interfaces: `runtime-engine.ts` adapts @cllama/runtime to them, `fake-engine.ts` is a scripted
 * stand-in for tests and for the end-to-end harness.
 */

/** Sampling settings, with @cllama/runtime's names (llama.cpp's meanings). */
export interface ChatSampling {
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  repeatLastN?: number;
  seed?: number;
  /** Most new tokens per answer. */
  maxTokens?: number;
}

export interface ChatTurn {
  role: "user" | "assistant";
  text: string;
}

export type StopReason = "eos" | "length" | "aborted" | "context" | "stop" | (string & {});

export interface SendResult {
  /** The whole answer (the chunks passed to onText, concatenated). */
  text: string;
  /** Tokens generated. */
  tokens: number;
  tokensPerSecond: number;
  stopReason: StopReason;
}

export interface SendOptions {
  /** Called with whole characters as they are decoded (never half a UTF-8 sequence). */
  onText(chunk: string): void;
  /** Aborting stops generation; the text so far stays in the conversation. */
  signal?: AbortSignal;
}

export interface ChatSession {
  send(text: string, options: SendOptions): Promise<SendResult>;
  /** Forgets the conversation (the system prompt stays). */
  reset(): void;
  setSystem(text: string): void;
  setSampling(sampling: ChatSampling): void;
  /** Replaces the conversation with `turns` (for /load). */
  restore(turns: ChatTurn[]): Promise<void>;
  /** Tokens of the context in use. */
  readonly contextUsed: number;
}

export interface SessionOptions {
  /** "auto" (from the model) or a template name. */
  template?: string;
  system?: string;
  sampling?: ChatSampling;
}

export interface ChatModel {
  /** Shown in the header, e.g. "chinese-alpaca-2-7b". */
  readonly name: string;
  /** e.g. "Q4_0". */
  readonly quantization: string;
  readonly contextSize: number;
  /** The template the model's sessions use when none is asked for, e.g. "alpaca". */
  readonly template: string;
  createSession(options: SessionOptions): ChatSession;
  dispose?(): void | Promise<void>;
}

/** Progress of a model load: work done and total (tensors or bytes: the UI only uses the ratio). */
export type LoadProgress = (done: number, total: number) => void;

/** Loads the model; the chat calls it once at start-up and shows the progress. */
export type LoadModel = (onProgress: LoadProgress) => Promise<ChatModel>;
