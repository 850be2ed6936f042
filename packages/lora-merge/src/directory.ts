import { fail } from "./errors";
import type { ByteSource } from "./source";

/** A folder of checkpoint files, as the parsers see it (Node: `nodeDirectory` in `./node`). */
export interface Directory {
  /** Folder name for messages. */
  readonly path: string;
  list(): Promise<string[]>;
  open(name: string): Promise<ByteSource>;
  readText(name: string): Promise<string>;
}

export async function readJson(dir: Directory, name: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await dir.readText(name);
  } catch (error) {
    return fail("LORA_BAD_CONFIG", `${dir.path}/${name}: cannot read (${(error as Error).message})`);
  }
  try {
    const v = JSON.parse(text);
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch {}
  return fail("LORA_BAD_CONFIG", `${dir.path}/${name} is not a JSON object`);
}
