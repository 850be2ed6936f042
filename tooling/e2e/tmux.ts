/**
 * Drives a program in a real terminal: tmux gives it a pseudo-terminal of a fixed size, we type
 * into it (`send-keys`) and read the screen as a person sees it (`capture-pane`). This is how
 * the end-to-end chat test checks what unit tests cannot: raw-mode keys, wide characters on a
 * real screen, Ctrl-C delivered as a key, the terminal left clean at exit.
 *
 * Each terminal runs on its own tmux server (`-L <socket>`, no user config), so tests never touch
 * the user's tmux sessions and can run side by side. Needs the `tmux` binary (Debian: `apt-get
 * install -y tmux`).
 */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";

const EXIT_MARK = "__cllama_e2e_exit=";

/** Whether a usable tmux is installed. */
export function tmuxAvailable(): boolean {
  return spawnSync("tmux", ["-V"], { stdio: "ignore" }).status === 0;
}

export interface TerminalOptions {
  cols?: number;
  rows?: number;
  cwd?: string;
  /** Extra environment for the program (on top of a cleaned copy of process.env). */
  env?: Record<string, string | undefined>;
}

/**
 * The environment a person's terminal has: no CI markers (Ink renders nothing interactive when it
 * thinks it runs in CI, and CI sets CI=true), a colour-capable TERM, UTF-8.
 */
function interactiveEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === "CI" || key === "CONTINUOUS_INTEGRATION" || key.startsWith("CI_") || key === "TMUX") continue;
    env[key] = value;
  }
  env.LANG = env.LANG && /utf-?8/i.test(env.LANG) ? env.LANG : "C.UTF-8";
  if (env.LC_ALL && !/utf-?8/i.test(env.LC_ALL)) env.LC_ALL = "C.UTF-8";
  if (env.LC_CTYPE && !/utf-?8/i.test(env.LC_CTYPE)) env.LC_CTYPE = "C.UTF-8";
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

export class TmuxTerminal {
  private closed = false;

  private constructor(
    private readonly socket: string,
    readonly cols: number,
    readonly rows: number,
  ) {}

  /** Starts `argv` in a fresh terminal of `cols` x `rows` cells. */
  static start(argv: string[], options: TerminalOptions = {}): TmuxTerminal {
    const cols = options.cols ?? 80;
    const rows = options.rows ?? 24;
    const socket = `cllama-e2e-${process.pid}-${randomUUID().slice(0, 8)}`;
    const terminal = new TmuxTerminal(socket, cols, rows);
    // The shell prints the exit status where we can read it, then keeps the pane open so the
    // final screen can still be captured.
    const script = `${argv.map(quote).join(" ")}; echo "${EXIT_MARK}$?"; sleep 600`;
    const result = spawnSync(
      "tmux",
      [
        "-u", // UTF-8 whatever the locale says (CI machines often run with LANG=C)
        "-L",
        socket,
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-x",
        String(cols),
        "-y",
        String(rows),
        script,
      ],
      // SHELL: tmux runs the command with `$SHELL -c`; the script is POSIX sh.
      { env: interactiveEnv({ ...options.env, SHELL: "/bin/sh" }), cwd: options.cwd, encoding: "utf8" },
    );
    if (result.status !== 0) throw new Error(`tmux new-session failed: ${result.stderr}`);
    return terminal;
  }

  private tmux(args: string[]): string {
    const result = spawnSync("tmux", ["-u", "-L", this.socket, ...args], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`tmux ${args[0]} failed: ${result.stderr.trim()}`);
    return result.stdout;
  }

  /** The visible screen, one string, lines without trailing blanks. */
  screen(): string {
    return this.tmux(["capture-pane", "-p", "-t", "e2e"])
      .split("\n")
      .map((line) => line.trimEnd())
      .join("\n")
      .replace(/\n+$/, "");
  }

  /** Types text literally (UTF-8, so Chinese goes in as a person's IME would commit it). */
  type(text: string): void {
    this.tmux(["send-keys", "-t", "e2e", "-l", text]);
  }

  /** Pastes text as a terminal does (bracketed when the program asked for it). */
  paste(text: string): void {
    this.tmux(["set-buffer", "-b", "e2e", "--", text]);
    this.tmux(["paste-buffer", "-p", "-d", "-b", "e2e", "-t", "e2e"]);
  }

  /** Presses keys by tmux name: "Enter", "C-c", "C-d", "M-Enter", "Up", "BSpace"... */
  press(...keys: string[]): void {
    this.tmux(["send-keys", "-t", "e2e", ...keys]);
  }

  /** Waits until the screen matches; returns that screen, or throws with the last one seen. */
  async waitFor(
    expected: string | RegExp | ((screen: string) => boolean),
    { timeoutMs = 15_000, what }: { timeoutMs?: number; what?: string } = {},
  ): Promise<string> {
    const test =
      typeof expected === "function"
        ? expected
        : typeof expected === "string"
          ? (s: string) => s.includes(expected)
          : (s: string) => expected.test(s);
    const deadline = Date.now() + timeoutMs;
    let last = "";
    for (;;) {
      last = this.screen();
      if (test(last)) return last;
      if (Date.now() > deadline)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what ?? String(expected)}; screen:\n${last}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits for the program to end and returns its exit status. */
  async waitForExit(timeoutMs = 15_000): Promise<number> {
    const screen = await this.waitFor(new RegExp(`${EXIT_MARK}\\d+`), {
      timeoutMs,
      what: "the program to exit",
    });
    return Number(new RegExp(`${EXIT_MARK}(\\d+)`).exec(screen)![1]);
  }

  /** The screen without the exit marker line. */
  static withoutExitMark(screen: string): string {
    return screen
      .split("\n")
      .filter((line) => !line.startsWith(EXIT_MARK))
      .join("\n");
  }

  /** Kills the terminal's tmux server (and the program with it). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    spawnSync("tmux", ["-L", this.socket, "kill-server"], { stdio: "ignore" });
    // A killed server leaves its socket file behind.
    const uid = process.getuid?.() ?? 0;
    rmSync(join(process.env.TMUX_TMPDIR || "/tmp", `tmux-${uid}`, this.socket), { force: true });
  }
}
