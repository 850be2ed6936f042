import {
  type GgufFile,
  type GgufTypeDescriptor,
  type GgufValue,
  llamaFileTypeName,
} from "@cllama/gguf-format";
import { openGgufFile } from "@cllama/gguf-format/node";
import type { Command } from "commander";
import { addExamples } from "../help";

interface InspectOptions {
  json?: boolean;
  tensors?: boolean;
}

/** The shortest decimal that reads back as the same float32 (1e-6, not 9.999999974752427e-7). */
export function shortestFloat32(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(x.toPrecision(digits));
    if (Math.fround(candidate) === x) return candidate;
  }
  return x;
}

/**
 * JSON has no bigint, typed arrays or NaN: u64 beyond 2^53 become strings, NaN/Infinity null,
 * float32 values their shortest decimal.
 */
export function jsonValue(value: GgufValue, float32 = false): unknown {
  if (typeof value === "bigint")
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === "number")
    return Number.isFinite(value) ? (float32 ? shortestFloat32(value) : value) : null;
  if (value instanceof Float32Array) return Array.from(value, (v) => jsonValue(v, true));
  if (ArrayBuffer.isView(value)) return Array.from(value as ArrayLike<number | bigint>, (v) => jsonValue(v));
  if (Array.isArray(value)) return value.map((v) => jsonValue(v as GgufValue));
  return value;
}

let epipeIgnored = false;
/** Write to stdout; a closed pipe (`| head`) ends the output quietly instead of crashing. */
export function writeStdout(text: string): Promise<void> {
  if (!epipeIgnored) {
    epipeIgnored = true;
    process.stdout.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
    });
  }
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (error) => {
      if (!error || (error as NodeJS.ErrnoException).code === "EPIPE") resolve();
      else reject(error);
    });
  });
}

/** The `--json` shape of CLI.md. */
export function inspectJson(file: GgufFile): unknown {
  const metadata: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(file.metadata)) {
    metadata[key] = jsonValue(value, file.metadataTypes[key]?.type === "FLOAT32");
  }
  return {
    version: file.version,
    metadata,
    tensors: file.tensors.map((t) => ({
      name: t.name,
      type: t.typeName,
      shape: t.shape,
      offset: t.offset,
      bytes: t.byteSize,
    })),
  };
}

const PREVIEW = 6;

function scalarText(value: unknown, float32 = false): string {
  if (typeof value === "number" && float32) return String(shortestFloat32(value));
  if (typeof value === "string")
    return JSON.stringify(value.length > 120 ? `${value.slice(0, 117)}...` : value);
  if (typeof value === "bigint") return value.toString();
  return String(value);
}

function typeText(d: GgufTypeDescriptor, length?: number): string {
  if (d.type !== "ARRAY") return d.type.toLowerCase();
  return `${(d.itemType ?? "?").toLowerCase()}[${length ?? "?"}]`;
}

/** One line per value; arrays show their length and first items only. */
export function valueText(value: GgufValue, float32 = false): string {
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const items = value as ArrayLike<unknown>;
    const shown = Array.from({ length: Math.min(PREVIEW, items.length) }, (_, i) =>
      Array.isArray(items[i]) || ArrayBuffer.isView(items[i])
        ? `[${(items[i] as ArrayLike<unknown>).length} items]`
        : scalarText(items[i], value instanceof Float32Array),
    );
    return `[${shown.join(", ")}${items.length > PREVIEW ? `, ... (${items.length} total)` : ""}]`;
  }
  return scalarText(value, float32);
}

function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  return String(n);
}

function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(2)} ${units[u]}`;
}

/** The human report: header facts, metadata table, tensor summary or table. */
export function inspectText(path: string, file: GgufFile, showTensors: boolean): string {
  const lines: string[] = [];
  lines.push(
    `${path}: GGUF v${file.version}, ${formatBytes(file.fileSize)}, alignment ${file.alignment}, data at offset ${file.dataOffset}`,
  );
  const keys = Object.keys(file.metadata);
  lines.push("", `metadata (${keys.length} keys):`);
  const width = Math.max(0, ...keys.map((k) => k.length));
  for (const key of keys) {
    const value = file.metadata[key];
    const length =
      Array.isArray(value) || ArrayBuffer.isView(value) ? (value as ArrayLike<unknown>).length : undefined;
    let text = valueText(value, file.metadataTypes[key]?.type === "FLOAT32");
    if (key === "general.file_type" && typeof value === "number") {
      const name = llamaFileTypeName(value);
      if (name) text += ` (${name})`;
    }
    lines.push(`  ${key.padEnd(width)}  ${typeText(file.metadataTypes[key], length).padEnd(10)}  ${text}`);
  }
  const params = file.tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
  const bytes = file.tensors.reduce((s, t) => s + t.byteSize, 0);
  const byType = new Map<string, number>();
  for (const t of file.tensors) byType.set(t.typeName, (byType.get(t.typeName) ?? 0) + 1);
  const mix = [...byType].map(([type, n]) => `${n} ${type}`).join(", ");
  lines.push(
    "",
    `tensors: ${file.tensors.length}${mix ? ` (${mix})` : ""}, ${formatParams(params)} parameters, ${formatBytes(bytes)}`,
  );
  if (showTensors && file.tensors.length > 0) {
    const nameWidth = Math.max(4, ...file.tensors.map((t) => t.name.length));
    lines.push(
      `  ${"name".padEnd(nameWidth)}  ${"type".padEnd(7)}  ${"shape".padEnd(20)}  ${"offset".padStart(14)}  bytes`,
    );
    for (const t of file.tensors) {
      lines.push(
        `  ${t.name.padEnd(nameWidth)}  ${t.typeName.padEnd(7)}  ${`[${t.shape.join(", ")}]`.padEnd(20)}  ${String(t.offset).padStart(14)}  ${t.byteSize}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

/** `cllama inspect <file.gguf> [--json] [--tensors]`: reads the header only, any file size. */
export function registerInspect(program: Command): void {
  const command = program
    .command("inspect")
    .description(
      "Print a GGUF file's metadata (arrays summarised) and tensors. Reads the header only.\n" +
        "--json prints {version, metadata, tensors: [{name, type, shape, offset, bytes}]} with every value in full\n" +
        "(shape innermost first, offset from the start of the data section).",
    )
    .argument("<file>", "the .gguf file")
    .option("--json", "machine-readable output on stdout")
    .option("--tensors", "list every tensor (name, type, shape, offset, bytes)")
    .action(async (path: string, options: InspectOptions) => {
      const handle = await openGgufFile(path);
      await handle.close();
      const text = options.json
        ? `${JSON.stringify(inspectJson(handle.file))}\n`
        : inspectText(path, handle.file, !!options.tensors);
      await writeStdout(text);
    });
  addExamples(command, [
    ["cllama inspect model.gguf", "keys, values and a tensor summary"],
    ["cllama inspect model.gguf --tensors", "and the full tensor table"],
    ["cllama inspect model.gguf --json | jq '.metadata[\"llama.block_count\"]'", "one value, for scripts"],
  ]);
}
