/**
 * The conversation as a JSON file (/save, /load):
 *
 *   { "format": "cllama-chat", "version": 1, "model": "chinese-alpaca-2-7b", "template": "alpaca",
 *     "system": "...", "sampling": { "temperature": 0.2 },
 *     "messages": [{ "role": "user", "text": "你好" }, { "role": "assistant", "text": "你好！" }] }
 *
 * Written atomically (file.partial, then rename), read with every field checked, so a hand-edited
 * or foreign file gives one clear error instead of a broken chat.
 */
import { open, readFile, rename, rm } from "node:fs/promises";
import type { ChatSampling, ChatTurn } from "./engine";

export interface SavedConversation {
  format: "cllama-chat";
  version: 1;
  model?: string;
  template?: string;
  system?: string;
  sampling?: ChatSampling;
  messages: ChatTurn[];
}

export class ConversationFileError extends Error {
  override name = "ConversationFileError";
  readonly code = "CHAT_BAD_CONVERSATION_FILE";
}

export function conversationToJson(conversation: Omit<SavedConversation, "format" | "version">): string {
  const saved: SavedConversation = { format: "cllama-chat", version: 1, ...conversation };
  return `${JSON.stringify(saved, null, 2)}\n`;
}

export function conversationFromJson(text: string, where = "conversation"): SavedConversation {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ConversationFileError(`${where}: not JSON (${(error as Error).message})`);
  }
  const fail = (what: string): never => {
    throw new ConversationFileError(`${where}: ${what}`);
  };
  if (typeof data !== "object" || data === null || Array.isArray(data)) return fail("expected a JSON object");
  const object = data as Record<string, unknown>;
  if (object.format !== "cllama-chat")
    fail(`"format" must be "cllama-chat", found ${JSON.stringify(object.format)}`);
  if (object.version !== 1)
    fail(`unsupported "version" ${JSON.stringify(object.version)} (this chat reads 1)`);
  if (!Array.isArray(object.messages)) fail(`"messages" must be an array`);
  const messages = (object.messages as unknown[]).map((m, i): ChatTurn => {
    const message = m as Record<string, unknown> | null;
    if (
      !message ||
      (message.role !== "user" && message.role !== "assistant") ||
      typeof message.text !== "string"
    )
      return fail(`messages[${i}] must be {"role": "user" | "assistant", "text": string}`);
    return { role: message.role, text: message.text };
  });
  for (const key of ["model", "template", "system"] as const)
    if (object[key] !== undefined && typeof object[key] !== "string") fail(`"${key}" must be a string`);
  let sampling: ChatSampling | undefined;
  if (object.sampling !== undefined) {
    if (typeof object.sampling !== "object" || object.sampling === null) fail(`"sampling" must be an object`);
    sampling = {};
    for (const [key, value] of Object.entries(object.sampling as Record<string, unknown>)) {
      if (typeof value !== "number" || !Number.isFinite(value)) fail(`"sampling.${key}" must be a number`);
      (sampling as Record<string, number>)[key] = value as number;
    }
  }
  return {
    format: "cllama-chat",
    version: 1,
    model: object.model as string | undefined,
    template: object.template as string | undefined,
    system: object.system as string | undefined,
    sampling,
    messages,
  };
}

export async function saveConversation(
  path: string,
  conversation: Omit<SavedConversation, "format" | "version">,
): Promise<void> {
  const partial = `${path}.partial`;
  try {
    const handle = await open(partial, "w");
    try {
      await handle.writeFile(conversationToJson(conversation), "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

export async function loadConversation(path: string): Promise<SavedConversation> {
  return conversationFromJson(await readFile(path, "utf8"), path);
}
