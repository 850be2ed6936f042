/**
 * The benchmark's models, made once under /.bench/runtime (gitignored) with `cllama synth`
 * (random weights, deterministic for the seed) and `cllama quantize`:
 *
 * - `1b-*`: TinyLlama-1.1B shape (GQA 32/4 heads), LLaMA's 32,000-piece vocabulary;
 * - `7b-*`: Chinese-LLaMA-7B shape, LLaMA's vocabulary merged with the Chinese SentencePiece
 *   pieces (49,953), built as the lora-merge fixtures build it (tooling/lora/fixtures.py).
 *
 * Q4_0 and Q8_0 are written by synth directly; Q4_K_M is a type *mix* (Q6_K for some tensors), so
 * it is synthesized as F16 and quantized by `cllama quantize ... q4_k_m` (same bytes as
 * llama-quantize), and the F16 file is deleted afterwards (13.9 GB at 7B).
 *
 *   tsx bench/models.ts 1b-q4_0,7b-q4_0,...   (makes what is missing)
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "@cllama/tooling/fixtures";

export const benchDir = join(repoRoot, ".bench", "runtime");
export const cli = join(repoRoot, "apps", "cli", "dist", "cli.js");
const sharedTokenizers = join(repoRoot, "..", "shared", "fixtures", "tokenizers");

export type Shape = "1b" | "7b";
export const allModels = ["1b-q4_0", "1b-q8_0", "1b-q4_k_m", "7b-q4_0", "7b-q8_0", "7b-q4_k_m"];

export function modelPath(name: string): string {
  return join(benchDir, `${name}.gguf`);
}

function parse(name: string): { shape: Shape; type: string } {
  const dash = name.indexOf("-");
  const shape = name.slice(0, dash);
  const type = name.slice(dash + 1);
  if (shape !== "1b" && shape !== "7b") throw new Error(`unknown model ${name} (1b-TYPE or 7b-TYPE)`);
  return { shape, type };
}

/** The Chinese-LLaMA vocabulary (49,953 pieces): LLaMA's model plus chinese_sp.model's new pieces. */
export function chineseLlamaTokenizer(): string {
  const out = join(benchDir, "chinese-llama-49953.model");
  if (!existsSync(out)) {
    mkdirSync(benchDir, { recursive: true });
    execFileSync(
      "/usr/bin/python3",
      [
        "fixtures.py",
        "tokenizer",
        "--out",
        out,
        "--base",
        join(sharedTokenizers, "llama.model"),
        "--extra",
        join(sharedTokenizers, "chinese_sp.model"),
      ],
      { cwd: join(repoRoot, "tooling", "lora"), stdio: "inherit" },
    );
  }
  return out;
}

function tokenizerOf(shape: Shape): string {
  return shape === "7b" ? chineseLlamaTokenizer() : join(sharedTokenizers, "llama.model");
}

function synth(shape: Shape, type: string, out: string): void {
  const args = [cli, "synth", "-o", out, "--tokenizer", tokenizerOf(shape), "--preset", shape];
  execFileSync("node", [...args, "--type", type, "--seed", "1"], { stdio: "inherit" });
}

/** Path of the model, made first when missing. */
export function ensureModel(name: string): string {
  const path = modelPath(name);
  if (existsSync(path)) return path;
  mkdirSync(benchDir, { recursive: true });
  const { shape, type } = parse(name);
  console.error(`making ${path}`);
  if (type.includes("_k_")) {
    const f16 = modelPath(`${shape}-f16`);
    if (!existsSync(f16)) synth(shape, "f16", f16);
    const partial = `${path}.making`;
    execFileSync("node", [cli, "quantize", f16, partial, type], { stdio: "inherit" });
    renameSync(partial, path);
    rmSync(f16);
  } else {
    synth(shape, type, path);
  }
  return path;
}

if (process.argv[1]?.endsWith("models.ts")) {
  const names = (process.argv[2] ?? allModels.join(",")).split(",");
  for (const name of names) console.log(ensureModel(name));
}
