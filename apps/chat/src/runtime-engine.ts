/**
 * The real engine: @cllama/runtime adapted to the chat's interface (engine.ts).
 *
 * The runtime's ChatSession keeps one KV cache per conversation and evaluates only the tokens a
 * turn adds; this adapter adds what the chat needs around it: changing the temperature between
 * turns, keeping the conversation when the system prompt changes, and restoring a saved one.
 */
import { basename } from "node:path";
import { llamaFileTypeName } from "@cllama/gguf-format";
import {
  type ChatSessionOptions,
  loadModel,
  type Model,
  type ChatSession as RuntimeSession,
  resolveTemplate,
  type SamplingOptions,
} from "@cllama/runtime";
import type {
  ChatModel,
  ChatSampling,
  ChatSession,
  ChatTurn,
  LoadProgress,
  SendOptions,
  SendResult,
  SessionOptions,
} from "./engine";

export interface RuntimeLoadOptions {
  threads?: number;
  contextSize?: number;
  onProgress?: LoadProgress;
}

/** Loads a GGUF with @cllama/runtime; progress is in bytes of tensor data. */
export async function loadRuntimeModel(path: string, options: RuntimeLoadOptions = {}): Promise<ChatModel> {
  const model = await loadModel(path, {
    threads: options.threads,
    contextSize: options.contextSize,
    name: path,
    onProgress: (p) => options.onProgress?.(p.loaded, p.total),
  });
  return new RuntimeChatModel(model, path);
}

/** "Q4_0" from general.file_type, else the type most of the weight bytes have. */
export function quantizationOf(model: Pick<Model, "file">): string {
  const fileType = model.file.metadata["general.file_type"];
  const named = typeof fileType === "number" ? llamaFileTypeName(fileType) : undefined;
  if (named) return named;
  const bytesByType = new Map<string, number>();
  for (const t of model.file.tensors)
    bytesByType.set(t.typeName, (bytesByType.get(t.typeName) ?? 0) + t.byteSize);
  return [...bytesByType.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "?";
}

export class RuntimeChatModel implements ChatModel {
  readonly name: string;
  readonly quantization: string;
  readonly template: string;

  constructor(
    readonly model: Model,
    path: string,
  ) {
    const general = model.file.metadata["general.name"];
    this.name =
      typeof general === "string" && general.trim() ? general.trim() : basename(path).replace(/\.gguf$/i, "");
    this.quantization = quantizationOf(model);
    // The template "auto" resolves to, named for the header and /stats (the same resolution
    // the runtime's session makes).
    this.template = resolveTemplate("auto", {
      chatTemplate: model.chatTemplate,
      vocabSize: model.hparams.nVocab,
      bosToken: model.tokenizer.idToPiece(model.tokenizer.bosId),
      eosToken: model.tokenizer.idToPiece(model.tokenizer.eosId),
    }).name;
  }

  get contextSize(): number {
    return this.model.contextSize;
  }

  createSession(options: SessionOptions): ChatSession {
    return new RuntimeChatSession(this.model, options);
  }

  dispose(): void {
    this.model.dispose();
  }
}

class RuntimeChatSession implements ChatSession {
  private readonly inner: RuntimeSession;
  private maxTokens: number | undefined;

  constructor(model: Model, options: SessionOptions) {
    const { maxTokens, ...sampling } = options.sampling ?? {};
    this.maxTokens = maxTokens;
    this.inner = model.createSession({
      template: templateOption(options.template),
      system: options.system || undefined,
      sampling: { ...(sampling as SamplingOptions) },
    });
  }

  get contextUsed(): number {
    return this.inner.contextUsed;
  }

  async send(text: string, { onText, signal }: SendOptions): Promise<SendResult> {
    const result = await this.inner.send(text, { onText, signal, maxTokens: this.maxTokens });
    return {
      text: result.text,
      tokens: result.tokens.length,
      tokensPerSecond: result.tokensPerSecond,
      stopReason: result.stopReason === "abort" ? "aborted" : result.stopReason,
    };
  }

  reset(): void {
    this.inner.reset();
  }

  setSystem(text: string): void {
    // The chat keeps the conversation under a new system prompt (the next turn re-evaluates it).
    this.inner.setSystem(text || undefined, { keepConversation: true });
  }

  setSampling(sampling: ChatSampling): void {
    const { maxTokens, ...rest } = sampling;
    if (maxTokens !== undefined) this.maxTokens = maxTokens;
    this.inner.setSampling(rest);
  }

  async restore(turns: ChatTurn[]): Promise<void> {
    this.inner.reset();
    this.inner.restore(turns.map((t) => ({ role: t.role, content: t.text })));
  }
}

function templateOption(template: string | undefined): ChatSessionOptions["template"] {
  if (!template || template === "auto") return "auto";
  if (template === "alpaca" || template === "llama2" || template === "chatml") return template;
  return "auto";
}
