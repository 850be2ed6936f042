/**
 * How the CLI turns an error into one line on stderr and an exit code (CLI.md):
 * 2 for bad input or usage, 1 for internal failures.
 *
 * Packages throw typed errors (`GgufError`, `TokenizerError`, ...) that carry a string `code`
 * in SCREAMING_SNAKE_CASE and, optionally, a `hint`. Those, usage errors and the file-system
 * errors a user causes (missing file, no permission, full disk) are bad input; anything else is
 * a bug of ours and exits 1. Ctrl-C during a command (`InterruptedError` from io.ts) exits 130.
 */
export class UsageError extends Error {
  override name = "UsageError";
  readonly code = "USAGE";
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const userFileSystemCodes = new Set([
  "ENOENT",
  "EACCES",
  "EISDIR",
  "ENOTDIR",
  "EEXIST",
  "ENOSPC",
  "EPERM",
  "EROFS",
]);

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export function isInputError(error: unknown): boolean {
  const code = errorCode(error);
  if (!code) return false;
  return userFileSystemCodes.has(code) || /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/.test(code) || code === "USAGE";
}

/** 130 for Ctrl-C (128 + SIGINT), 2 for bad input, 1 for our bugs. */
export function exitCodeFor(error: unknown): 1 | 2 | 130 {
  if (errorCode(error) === "INTERRUPTED") return 130;
  return isInputError(error) ? 2 : 1;
}

/**
 * Node's file-system errors in plain words ("ENOENT: no such file or directory, open 'x.gguf'"
 * becomes "x.gguf: no such file or directory") with a hint, when the command gave none.
 */
const fileSystemHints: Record<string, [string, string]> = {
  ENOENT: ["no such file or directory", "check the path (relative paths start from the current folder)"],
  EACCES: ["permission denied", "check the file's permissions, or write somewhere else"],
  EPERM: ["operation not permitted", "check the file's permissions, or write somewhere else"],
  EISDIR: ["is a folder, not a file", "give the path of a file"],
  ENOTDIR: ["a part of the path is not a folder", "check the path"],
  EEXIST: ["already exists", "remove it first or choose another name"],
  ENOSPC: ["no space left on the device", "free some disk space or write to another disk"],
  EROFS: ["the file system is read-only", "write somewhere else"],
};

function describeFileSystemError(error: Error): { message: string; hint?: string } | undefined {
  const code = errorCode(error);
  const known = code ? fileSystemHints[code] : undefined;
  const path = (error as { path?: unknown }).path;
  if (!known || typeof path !== "string" || !error.message.startsWith(`${code}:`)) return undefined;
  return { message: `${path}: ${known[0]}`, hint: known[1] };
}

/** One line (plus an optional hint line) for stderr. */
export function formatError(error: unknown): string {
  if (!(error instanceof Error)) return `cllama: ${String(error)}`;
  if (errorCode(error) === "INTERRUPTED") return "cllama: interrupted";
  const plain = describeFileSystemError(error);
  const hint = (error as { hint?: unknown }).hint ?? plain?.hint;
  const message = plain?.message ?? error.message;
  const head = isInputError(error) ? `cllama: ${message}` : `cllama: internal error: ${message}`;
  const lines = [head.split("\n")[0]!];
  if (typeof hint === "string" && hint) lines.push(`hint: ${hint}`);
  else if (!isInputError(error))
    lines.push("hint: this is a bug in cllama; rerun with CLLAMA_DEBUG=1 for a stack trace");
  return lines.join("\n");
}
