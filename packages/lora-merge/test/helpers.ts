import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pythonWith } from "@cllama/tooling/oracles";

export const toolingDir = resolve(__dirname, "..", "..", "..", "tooling", "lora");
/** Debian python with torch, or undefined (tests skip; CI requires it). */
export const python = pythonWith(["torch", "numpy"]);

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `cllama-lora-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Run a tooling/lora script with Debian python; returns stdout. */
export function runTool(script: string, args: string[]): string {
  const r = spawnSync(python!, [join(toolingDir, script), ...args], {
    cwd: toolingDir,
    encoding: "utf8",
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(`${script} ${args.join(" ")} failed:\n${r.stderr}`);
  return r.stdout;
}

/** Run several tooling/lora scripts in one python process (torch imported once); their stdouts. */
export function runTools(jobs: string[][]): string[] {
  const r = spawnSync(python!, [join(toolingDir, "batch.py")], {
    cwd: toolingDir,
    encoding: "utf8",
    input: JSON.stringify(jobs),
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(`batch.py failed:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

export function bitsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return (
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ) === 0
  );
}
