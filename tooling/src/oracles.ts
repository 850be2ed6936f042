/**
 * Where the reference implementations live (installed by tooling/oracle/install.sh), so
 * differential tests and benchmarks find them the same way. Like fixtures: a missing oracle
 * skips a test, unless CLLAMA_REQUIRE_ORACLES=1 (set by .ci/run, which installs them) makes it fail.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./fixtures.ts";

export const oracleDir = join(repoRoot, "tooling", "oracle");
/** Debian's interpreter: the Debian sentencepiece/torch packages belong to it, not to any other python3. */
export const debianPython = "/usr/bin/python3";

export class MissingOracleError extends Error {
  override name = "MissingOracleError";
}

function missing(what: string, env: NodeJS.ProcessEnv): undefined {
  if (env.CLLAMA_REQUIRE_ORACLES === "1") {
    throw new MissingOracleError(
      `${what} is not installed and CLLAMA_REQUIRE_ORACLES=1: run tooling/oracle/install.sh`,
    );
  }
  return undefined;
}

/** Folder of the node-llama-cpp package, or undefined when not installed. */
export function nodeLlamaCppDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = join(oracleDir, "node_modules", "node-llama-cpp");
  return existsSync(join(dir, "package.json")) ? dir : missing("node-llama-cpp (llama.cpp)", env);
}

/** Folder holding llama.cpp's prebuilt CPU libraries (libggml-base.so, libllama.so). */
export function llamaCppLibDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = join(oracleDir, "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64");
  return existsSync(join(dir, "libggml-base.so")) ? dir : missing("llama.cpp CPU libraries", env);
}

/** An npm module installed beside the oracle (e.g. "@huggingface/gguf"), or undefined. */
export function oracleModuleDir(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = join(oracleDir, "node_modules", name);
  return existsSync(join(dir, "package.json")) ? dir : missing(`npm module ${name} (oracle)`, env);
}

/** Debian's python3 when it can import every module named, else undefined. */
export function pythonWith(modules: string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  const probe = spawnSync(debianPython, ["-c", modules.map((m) => `import ${m}`).join("; ")], {
    stdio: "ignore",
  });
  return probe.status === 0 ? debianPython : missing(`python modules ${modules.join(", ")}`, env);
}
