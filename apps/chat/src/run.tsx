import { render } from "ink";
import { ChatApp, type ChatAppProps } from "./App";

export interface RunChatOptions extends ChatAppProps {
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
}

export class ChatTerminalError extends Error {
  override name = "ChatTerminalError";
  readonly code = "CHAT_NO_TERMINAL";
  readonly hint =
    "cllama chat is interactive; for one answer in a script use `cllama run -m model.gguf -p ...`";
}

/**
 * Runs the chat in the terminal until the user quits. Resolves on a normal exit and rejects
 * with the model's load error (so the CLI prints it as one line with a hint).
 */
export async function runChat(options: RunChatOptions): Promise<void> {
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  if (!stdin.isTTY) throw new ChatTerminalError("the chat needs a terminal, but stdin is not one");
  // Bracketed paste: a pasted text arrives between markers, so its newlines stay newlines
  // instead of sending half a paste.
  stdout.write("\x1b[?2004h");
  const instance = render(<ChatApp {...options} />, {
    stdin,
    stdout,
    exitOnCtrlC: false,
    patchConsole: true,
    // Terminals that speak the kitty keyboard protocol report Shift-Enter distinctly.
    kittyKeyboard: { mode: "auto" },
  });
  try {
    await instance.waitUntilExit();
  } finally {
    stdout.write("\x1b[?2004l");
  }
}
