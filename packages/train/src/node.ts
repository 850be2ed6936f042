/**
 * `@cllama/train/node`: the kernels on worker threads, and checkpoints on disk (atomic writes).
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createKernels } from "@cllama/kernels-wasm/node";
import { type FileSet, hfCheckpointFiles, peftAdapterFiles, readHfCheckpoint } from "./export";
import { kernelsMatmul } from "./kernels-matmul";
import type { MatmulBackend } from "./matmul";
import { LlamaModel } from "./model";

/** The matrix product on @cllama/kernels-wasm with `threads` threads (default: every core). */
export async function createMatmul(options: { threads?: number } = {}): Promise<MatmulBackend> {
  return kernelsMatmul(await createKernels({ threads: options.threads }));
}

/** Writes every file as name.partial then renames it; the folder is created. */
export async function writeFileSet(dir: string, files: FileSet): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) {
    const path = join(dir, name);
    const partial = `${path}.partial`;
    try {
      await writeFile(partial, bytes, { flush: true });
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }
}

export async function saveHfCheckpoint(dir: string, model: LlamaModel, tokenizerModel?: Uint8Array) {
  await writeFileSet(dir, hfCheckpointFiles(model, tokenizerModel));
}

export async function savePeftAdapter(
  dir: string,
  model: LlamaModel,
  options: { baseModel?: string; tokenizerModel?: Uint8Array } = {},
) {
  await writeFileSet(dir, peftAdapterFiles(model, options));
}

/** A model from a folder written by `saveHfCheckpoint` (config.json + F32 model.safetensors). */
export async function loadHfCheckpoint(dir: string, mm: MatmulBackend): Promise<LlamaModel> {
  const { config, params } = readHfCheckpoint({
    config: await readFile(join(dir, "config.json")),
    weights: await readFile(join(dir, "model.safetensors")),
  });
  return new LlamaModel(config, params, mm);
}
