/** Node-only pieces: files as positional byte sources, folders, atomic output. */
import { type FileHandle, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Directory } from "./directory";
import { fail } from "./errors";
import type { ByteSource } from "./source";
import { checkRange } from "./source";

export async function openFileSource(path: string): Promise<ByteSource & { close(): Promise<void> }> {
  const handle: FileHandle = await open(path, "r");
  const { size } = await handle.stat();
  const source: ByteSource & { close(): Promise<void> } = {
    name: path,
    size,
    async read(offset, length) {
      checkRange(source, offset, length, "read");
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done);
        if (bytesRead === 0)
          fail("LORA_TRUNCATED", `${path}: file ended while reading ${length} bytes at ${offset}`);
        done += bytesRead;
      }
      return out;
    },
    close: () => handle.close(),
  };
  return source;
}

export function nodeDirectory(path: string): Directory {
  return {
    path,
    list: () => readdir(path),
    open: (name) => openFileSource(join(path, name)),
    readText: (name) => readFile(join(path, name), "utf8"),
  };
}

/** Write through `<path>.partial`, fsync, rename; the partial is removed on failure. */
export async function writeAtomically(
  path: string,
  write: (handle: FileHandle) => Promise<void>,
): Promise<void> {
  const partial = `${path}.partial`;
  const handle = await open(partial, "w");
  try {
    await write(handle);
    await handle.sync();
    await handle.close();
    await rename(partial, path);
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(partial, { force: true });
    throw error;
  }
}

export {
  type ConvertOptions,
  convertCheckpoint,
  type MergeLorasOptions,
  mergeLoras,
  type PipelineResult,
  type Progress,
} from "./pipeline";
export { basename };
