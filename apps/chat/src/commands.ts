/** The chat's slash commands: parsing and the /help text. Pure, so tests need no terminal. */

export type ChatCommand =
  | { name: "help" }
  | { name: "reset" }
  | { name: "system"; text: string }
  | { name: "temp"; temperature?: number }
  | { name: "save"; file: string }
  | { name: "load"; file: string }
  | { name: "stats" }
  | { name: "exit" };

export type ParsedInput =
  | { kind: "message"; text: string }
  | { kind: "command"; command: ChatCommand }
  | { kind: "invalid"; error: string }
  | { kind: "empty" };

export const helpText = [
  "Commands:",
  "  /help            this list",
  "  /reset           start a new conversation (the system prompt stays)",
  "  /system <text>   set the system prompt (without text: show it)",
  "  /temp <t>        set the temperature, e.g. /temp 0.7 (0 = greedy; without t: show it)",
  "  /save <file>     save the conversation as JSON",
  "  /load <file>     load a conversation saved with /save",
  "  /stats           tokens, speed and context use",
  "  /exit            quit (also Ctrl-D)",
  "Keys: Enter sends · Alt-Enter, Shift-Enter, Ctrl-J or \\ at the end of a line: new line",
  "      Ctrl-C stops the answer; Ctrl-C on an empty line quits · ↑/↓ earlier messages",
].join("\n");

/** Reads what the user submitted: a message, a command, or a command used wrongly. */
export function parseInput(raw: string): ParsedInput {
  const text = raw.trim();
  if (!text) return { kind: "empty" };
  // "//text" sends a message that starts with a slash.
  if (text.startsWith("//")) return { kind: "message", text: text.slice(1) };
  if (!text.startsWith("/")) return { kind: "message", text };
  const match = /^\/(\S+)\s*([\s\S]*)$/.exec(text)!;
  const name = match[1]!.toLowerCase();
  const arg = match[2]!.trim();
  switch (name) {
    case "help":
    case "?":
      return { kind: "command", command: { name: "help" } };
    case "reset":
    case "clear":
      return { kind: "command", command: { name: "reset" } };
    case "system":
      return { kind: "command", command: { name: "system", text: arg } };
    case "temp": {
      if (!arg) return { kind: "command", command: { name: "temp" } };
      const temperature = Number(arg);
      if (!Number.isFinite(temperature) || temperature < 0 || temperature > 5)
        return { kind: "invalid", error: `/temp needs a number from 0 to 5, got '${arg}'` };
      return { kind: "command", command: { name: "temp", temperature } };
    }
    case "save":
    case "load":
      if (!arg) return { kind: "invalid", error: `/${name} needs a file name, e.g. /${name} chat.json` };
      return { kind: "command", command: { name, file: arg } };
    case "stats":
      return { kind: "command", command: { name: "stats" } };
    case "exit":
    case "quit":
    case "bye":
      return { kind: "command", command: { name: "exit" } };
    default:
      return { kind: "invalid", error: `unknown command /${name}: /help lists them (// sends a slash)` };
  }
}
