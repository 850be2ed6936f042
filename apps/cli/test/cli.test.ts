import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { demoModelPath } from "../src/commands/chat";
import { exitCodeFor, formatError, UsageError } from "../src/errors";
import { firstSentence } from "../src/program";

const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli.js");
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });

describe("cllama binary", () => {
  it("ends when the command is done, even if a library keeps idle workers", () => {
    // A worker thread that never ends, started by an "command" through the CLI's own entry.
    const script = `
      import { Worker } from "node:worker_threads";
      new Worker("setInterval(() => {}, 1000)", { eval: true });
      process.argv = [process.argv[0], "cli.js", "--version"];
      await import(${JSON.stringify(cli)});`;
    const started = Date.now();
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("prints help and exits 0", () => {
    const result = run("--help");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Usage: cllama/);
  });

  it("exits 2 with one line on stderr for an unknown command", () => {
    const result = run("no-such-command");
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/unknown command/);
  });

  it("prints its version", () => {
    const result = run("--version");
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe("usage errors", () => {
  it("are one line plus a hint naming the command's --help, exit 2", () => {
    const result = run("pull", "only-a-repo");
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      "cllama: missing required argument 'file'\nhint: run `cllama pull --help` for its options and examples\n",
    );
    const bad = run("chat", "--temp", "hot");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(
      /^cllama: option '--temp <t>' argument 'hot' is invalid.*\nhint: run `cllama chat --help`/,
    );
  });

  it("every command's --help has examples", () => {
    for (const command of ["pull", "chat"]) {
      const result = run(command, "--help");
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`Examples:\n  # .+\n  \\$ cllama ${command} `));
    }
  });
});

describe("the command list", () => {
  it("shows one line per command, the first sentence of its description", () => {
    expect(firstSentence("Do a thing (in detail).\nMore text.")).toBe("Do a thing (in detail)");
    expect(firstSentence("the terminal chat: streamed answers")).toBe("The terminal chat");
    expect(firstSentence(`Convert ${"x ".repeat(50)}(really)`, 40).length).toBeLessThanOrEqual(40);
    const help = run("--help").stdout;
    const list = help.slice(help.indexOf("Commands:"), help.indexOf("Examples:")).trim().split("\n").slice(1);
    expect(list.length).toBeGreaterThanOrEqual(2);
    for (const line of list) expect(line).toMatch(/^ {2}[a-z-]+ .*\s{2,}[A-Z]/);
  });
});

describe("cllama chat", () => {
  it("without -m finds the bundled demo model (then needs a terminal)", () => {
    expect(demoModelPath()).toMatch(/models\/demo\.gguf$/);
    const result = run("chat");
    // Past model resolution: the only complaint left is that stdout is not a terminal.
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/needs a terminal/);
    expect(result.stderr).not.toMatch(/no model given/);
  });

  it("names a missing model file", () => {
    const result = run("chat", "-m", "/nonexistent/model.gguf");
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/model file \/nonexistent\/model.gguf not found/);
  });

  it("refuses to start without a terminal, pointing to cllama run", () => {
    const result = run("chat", "--fake-engine");
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/needs a terminal.*\nhint: .*cllama run/);
  });
});

describe("error mapping", () => {
  it("treats typed package errors and user file errors as bad input (2)", () => {
    const typed = Object.assign(new Error("bad magic at offset 0"), { code: "GGUF_BAD_MAGIC" });
    expect(exitCodeFor(typed)).toBe(2);
    expect(exitCodeFor(Object.assign(new Error("no such file"), { code: "ENOENT" }))).toBe(2);
    expect(exitCodeFor(new UsageError("missing -m"))).toBe(2);
  });

  it("treats anything else as an internal failure (1) and says so", () => {
    const bug = new TypeError("x is undefined");
    expect(exitCodeFor(bug)).toBe(1);
    expect(formatError(bug)).toMatch(/internal error/);
  });

  it("words Node's file errors plainly, with a hint", () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open 'x.gguf'"), {
      code: "ENOENT",
      path: "x.gguf",
    });
    expect(formatError(enoent)).toBe(
      "cllama: x.gguf: no such file or directory\nhint: check the path (relative paths start from the current folder)",
    );
    const full = Object.assign(new Error("ENOSPC: no space left on device, write"), {
      code: "ENOSPC",
      path: "/o",
    });
    expect(formatError(full)).toMatch(
      /^cllama: \/o: no space left on the device\nhint: free some disk space/,
    );
    // A command's own hint wins.
    expect(formatError(Object.assign(enoent, { hint: "pass -m" }))).toMatch(/hint: pass -m$/);
  });

  it("prints the hint on its own line", () => {
    expect(formatError(new UsageError("missing -m", "pass -m model.gguf"))).toBe(
      "cllama: missing -m\nhint: pass -m model.gguf",
    );
  });
});
