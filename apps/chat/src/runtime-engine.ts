/**
 * The real engine: @cllama/runtime adapted to the chat's interface (engine.ts).
 * Until the runtime can load a model, this says so with a typed error the CLI prints with a hint.
 */
import type { ChatModel, LoadProgress } from "./engine";

export interface RuntimeLoadOptions {
  threads?: number;
  contextSize?: number;
  onProgress?: LoadProgress;
}

export class ChatEngineError extends Error {
  override name = "ChatEngineError";
  constructor(
    readonly code: "CHAT_RUNTIME_UNAVAILABLE",
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export async function loadRuntimeModel(path: string, _options: RuntimeLoadOptions = {}): Promise<ChatModel> {
  throw new ChatEngineError(
    "CHAT_RUNTIME_UNAVAILABLE",
    `cannot load ${path}: this build's runtime does not generate text yet`,
    "update cllama; `cllama chat --fake-engine` shows the chat with a scripted engine",
  );
}
