/**
 * A scripted model for tests, demos without weights, and the end-to-end harness's fallback: it
 * "loads" in a few progress steps and streams a canned Chinese answer one character at a time,
 * at a steady pace, honouring the abort signal exactly like the real runtime.
 */
import type {
  ChatModel,
  ChatSampling,
  ChatSession,
  ChatTurn,
  LoadModel,
  SendResult,
  SessionOptions,
} from "./engine";

export interface FakeEngineOptions {
  name?: string;
  quantization?: string;
  contextSize?: number;
  template?: string;
  /** The answer to a message; default: a Chinese reply that quotes the question. */
  reply?: (text: string, history: readonly ChatTurn[]) => string;
  /** Milliseconds between streamed characters (default 20). */
  charDelayMs?: number;
  /** Progress steps of the fake load, and the pause between them. */
  loadSteps?: number;
  loadDelayMs?: number;
}

export const defaultFakeReply = (text: string) =>
  `你好！你问的是：「${text.trim()}」。这是离线演示引擎的回答，它一个字一个字地流式输出，` +
  "用来检验终端里的中文显示、宽字符对齐和 Ctrl-C 中断。真正的模型请用 -m 指定 GGUF 文件。";

/** A fake session; its state is public so tests can look inside. */
export class FakeSession implements ChatSession {
  history: ChatTurn[] = [];
  system: string;
  sampling: ChatSampling;
  /** Every signal a send received, to check that Ctrl-C aborted it. */
  readonly signals: AbortSignal[] = [];

  constructor(
    private readonly options: Required<Pick<FakeEngineOptions, "charDelayMs" | "reply" | "contextSize">>,
    sessionOptions: SessionOptions,
  ) {
    this.system = sessionOptions.system ?? "";
    this.sampling = { ...sessionOptions.sampling };
  }

  get contextUsed(): number {
    return Math.min(this.options.contextSize, this.rawContextUsed());
  }

  /** One "token" per character: good enough to make the header move and the context fill up. */
  private rawContextUsed(): number {
    const chars = (s: string) => Array.from(s).length;
    return chars(this.system) + this.history.reduce((n, t) => n + chars(t.text), 0);
  }

  async send(
    text: string,
    { onText, signal }: { onText(chunk: string): void; signal?: AbortSignal },
  ): Promise<SendResult> {
    if (signal) this.signals.push(signal);
    this.history.push({ role: "user", text });
    const answer = Array.from(this.options.reply(text, this.history));
    const started = performance.now();
    let produced = "";
    let tokens = 0;
    let stopReason: SendResult["stopReason"] = "eos";
    for (const char of answer) {
      if (signal?.aborted) {
        stopReason = "aborted";
        break;
      }
      await sleep(this.options.charDelayMs, signal);
      if (signal?.aborted) {
        stopReason = "aborted";
        break;
      }
      if (this.rawContextUsed() + Array.from(produced).length >= this.options.contextSize) {
        stopReason = "context";
        break;
      }
      produced += char;
      tokens++;
      onText(char);
    }
    this.history.push({ role: "assistant", text: produced });
    const seconds = Math.max(1e-3, (performance.now() - started) / 1000);
    return { text: produced, tokens, tokensPerSecond: tokens / seconds, stopReason };
  }

  reset(): void {
    this.history = [];
  }

  setSystem(text: string): void {
    this.system = text;
  }

  setSampling(sampling: ChatSampling): void {
    this.sampling = { ...this.sampling, ...sampling };
  }

  async restore(turns: ChatTurn[]): Promise<void> {
    this.history = turns.map((t) => ({ ...t }));
  }
}

export class FakeModel implements ChatModel {
  readonly sessions: FakeSession[] = [];
  constructor(
    readonly name: string,
    readonly quantization: string,
    readonly contextSize: number,
    readonly template: string,
    private readonly sessionSettings: ConstructorParameters<typeof FakeSession>[0],
  ) {}

  createSession(options: SessionOptions): FakeSession {
    const session = new FakeSession(this.sessionSettings, options);
    this.sessions.push(session);
    return session;
  }
}

/** A `LoadModel` for the fake engine; `model` is the instance it resolves to. */
export function createFakeEngine(options: FakeEngineOptions = {}): { load: LoadModel; model: FakeModel } {
  const contextSize = options.contextSize ?? 2048;
  const model = new FakeModel(
    options.name ?? "demo (fake engine)",
    options.quantization ?? "F16",
    contextSize,
    options.template ?? "alpaca",
    { charDelayMs: options.charDelayMs ?? 20, reply: options.reply ?? defaultFakeReply, contextSize },
  );
  const steps = options.loadSteps ?? 4;
  const load: LoadModel = async (onProgress) => {
    for (let i = 0; i <= steps; i++) {
      onProgress(i, steps);
      if (i < steps) await sleep(options.loadDelayMs ?? 0);
    }
    return model;
  };
  return { load, model };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
