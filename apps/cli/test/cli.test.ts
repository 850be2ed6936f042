import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { exitCodeFor, formatError, UsageError } from "../src/errors";

const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli.js");
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });

describe("cllama binary", () => {
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

  it("prints the hint on its own line", () => {
    expect(formatError(new UsageError("missing -m", "pass -m model.gguf"))).toBe(
      "cllama: missing -m\nhint: pass -m model.gguf",
    );
  });
});
