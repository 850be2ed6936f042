/**
 * The one place that finds the shared fixtures (`../shared/fixtures` beside the checkout).
 *
 * They are real third-party files (LLaMA's tokenizer.model, llama.cpp's vocab test) that must
 * never be copied into the repo. Where the folder is missing a test that needs it is skipped with
 * a message; with CLLAMA_REQUIRE_FIXTURES=1 (set by .ci/run) a missing folder fails instead, so
 * CI can never go green by silently skipping.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** Root of the monorepo (tooling/src -> repo). */
export const repoRoot = resolve(here, "..", "..");

/** Folder of the shared fixtures, or undefined when this machine has none. */
export function findFixturesDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [env.CLLAMA_FIXTURES, join(repoRoot, "..", "shared", "fixtures")];
  return candidates.find((dir): dir is string => !!dir && existsSync(dir));
}

export function fixturesRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CLLAMA_REQUIRE_FIXTURES === "1";
}

export class MissingFixtureError extends Error {
  override name = "MissingFixtureError";
}

/**
 * Path of a shared fixture file, or undefined (test should skip) when fixtures are absent.
 * Throws when fixtures are required, or when the folder exists but the file does not (a typo or
 * a changed fixture set must not turn into a silent skip).
 */
export function fixturePath(relative: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = findFixturesDir(env);
  if (!dir) {
    if (fixturesRequired(env)) {
      throw new MissingFixtureError(
        `shared fixtures not found (looked in $CLLAMA_FIXTURES and ${join(repoRoot, "..", "shared", "fixtures")}) and CLLAMA_REQUIRE_FIXTURES=1`,
      );
    }
    return undefined;
  }
  const file = join(dir, relative);
  if (!existsSync(file)) throw new MissingFixtureError(`fixture ${relative} is missing from ${dir}`);
  return file;
}

/** Message to pass to `it.skipIf` / `describe.skipIf` users when a fixture is absent. */
export function missingFixturesMessage(relative: string): string {
  return `skipped: shared fixture ${relative} not found (set CLLAMA_FIXTURES or place ../shared/fixtures beside the checkout)`;
}

/** Convenience for tests: the paths of the shared fixtures used across packages. */
export const fixtureNames = {
  llamaModel: "tokenizers/llama.model",
  chineseSpModel: "tokenizers/chinese_sp.model",
  chineseLlama2Model: "tokenizers/chinese-llama-2.model",
  llamaCppVocab: "llama.cpp-vocab/ggml-vocab-llama-spm.gguf",
  llamaCppVocabInputs: "llama.cpp-vocab/ggml-vocab-llama-spm.gguf.inp",
  llamaCppVocabOutputs: "llama.cpp-vocab/ggml-vocab-llama-spm.gguf.out",
} as const;
