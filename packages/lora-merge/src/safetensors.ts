/**
 * safetensors: `u64 header length`, a JSON header `{name: {dtype, shape, data_offsets}}`, the data.
 * Everything in the header is validated against the file size before any tensor is read.
 */
import { type DType, dtypeSize, parseDType } from "./dtype";
import { fail } from "./errors";
import type { ByteSource } from "./source";
import { numel, type TensorRef } from "./tensor";

/** Headers beyond this are refused rather than allocated (real ones are well under 1 MB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsFile {
  tensors: TensorRef[];
  metadata: Record<string, string>;
}

export async function readSafetensors(source: ByteSource): Promise<SafetensorsFile> {
  const bad = (what: string): never =>
    fail("LORA_BAD_SAFETENSORS", `${source.name}: ${what}`, "the file is not a valid safetensors file");
  if (source.size < 8)
    fail("LORA_TRUNCATED", `${source.name}: ${source.size} bytes, too short for safetensors`);
  const lenBytes = await source.read(0, 8);
  const headerLength = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, source.size - 8))) {
    bad(
      `header length ${headerLength} exceeds the file (${source.size} bytes) or the ${MAX_HEADER_BYTES}-byte limit`,
    );
  }
  const headerSize = Number(headerLength);
  const dataStart = 8 + headerSize;
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(await source.read(8, headerSize)));
  } catch (error) {
    return bad(`header is not UTF-8 JSON (${(error as Error).message})`);
  }
  if (!header || typeof header !== "object" || Array.isArray(header))
    return bad("header is not a JSON object");
  const tensors: TensorRef[] = [];
  let metadata: Record<string, string> = {};
  const dataSize = source.size - dataStart;
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!e || typeof e.dtype !== "string" || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
      bad(`tensor ${name}: entry needs dtype, shape and data_offsets`);
    }
    const dtype: DType = parseDType(e.dtype as string, `${source.name}: tensor ${name}`);
    const shape = (e.shape as unknown[]).map((d) => {
      if (!Number.isSafeInteger(d) || (d as number) < 0) bad(`tensor ${name}: bad dimension ${String(d)}`);
      return d as number;
    });
    const [begin, end] = e.data_offsets as unknown[];
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end)) bad(`tensor ${name}: bad data_offsets`);
    const b = begin as number;
    const en = end as number;
    const byteLength = numel(shape) * dtypeSize(dtype);
    if (b < 0 || en < b || en - b !== byteLength) {
      bad(
        `tensor ${name}: data_offsets [${b}, ${en}] hold ${en - b} bytes, ${dtype} ${JSON.stringify(shape)} needs ${byteLength}`,
      );
    }
    if (en > dataSize) {
      fail(
        "LORA_TRUNCATED",
        `${source.name}: tensor ${name} ends at data byte ${en} but the data section has ${dataSize} bytes`,
        "the file is truncated: download it again",
      );
    }
    tensors.push({
      name,
      dtype,
      shape,
      byteLength,
      file: source.name,
      read: () => source.read(dataStart + b, byteLength),
    });
  }
  return { tensors, metadata };
}

/** The header of a safetensors file holding `tensors` (offsets in the given order). */
export function safetensorsHeader(
  tensors: { name: string; dtype: DType; shape: readonly number[] }[],
  metadata?: Record<string, string>,
): { header: Uint8Array; offsets: number[]; dataSize: number } {
  const json: Record<string, unknown> = {};
  if (metadata) json.__metadata__ = metadata;
  const offsets: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    const size = numel(t.shape) * dtypeSize(t.dtype);
    json[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offsets.push(offset);
    offset += size;
  }
  let text = JSON.stringify(json);
  // pad with spaces so the data starts 8-byte aligned, as the reference writer does
  text += " ".repeat((8 - ((8 + new TextEncoder().encode(text).byteLength) % 8)) % 8);
  const body = new TextEncoder().encode(text);
  const header = new Uint8Array(8 + body.byteLength);
  new DataView(header.buffer).setBigUint64(0, BigInt(body.byteLength), true);
  header.set(body, 8);
  return { header, offsets, dataSize: offset };
}
