/**
 * Turning metadata into explicitly typed values for the writer, and back from a parsed file.
 */
import { GgufError } from "./errors";
import type { GgufFile } from "./reader";
import type { GgufValueTypeName } from "./types";
import type { GgufTypeDescriptor, GgufTypedValue, GgufValue } from "./values";

const TYPE_NAMES = new Set<GgufValueTypeName>([
  "UINT8",
  "INT8",
  "UINT16",
  "INT16",
  "UINT32",
  "INT32",
  "FLOAT32",
  "BOOL",
  "STRING",
  "ARRAY",
  "UINT64",
  "INT64",
  "FLOAT64",
]);

export function isTypedValue(value: unknown): value is GgufTypedValue {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value) &&
    "type" in value &&
    "value" in value &&
    TYPE_NAMES.has((value as GgufTypedValue).type)
  );
}

function typedArrayItemType(value: ArrayBufferView): GgufValueTypeName | undefined {
  if (value instanceof Uint8Array) return "UINT8";
  if (value instanceof Int8Array) return "INT8";
  if (value instanceof Uint16Array) return "UINT16";
  if (value instanceof Int16Array) return "INT16";
  if (value instanceof Uint32Array) return "UINT32";
  if (value instanceof Int32Array) return "INT32";
  if (value instanceof Float32Array) return "FLOAT32";
  if (value instanceof Float64Array) return "FLOAT64";
  if (value instanceof BigUint64Array) return "UINT64";
  if (value instanceof BigInt64Array) return "INT64";
  return undefined;
}

function numberType(values: readonly number[]): GgufValueTypeName {
  let allInt = true;
  let allUnsigned = true;
  let fitsI32 = true;
  for (const v of values) {
    if (!Number.isInteger(v)) {
      allInt = false;
      break;
    }
    if (v < 0) allUnsigned = false;
    if (v < -(2 ** 31) || v >= 2 ** 31) fitsI32 = false;
  }
  if (!allInt) return "FLOAT32";
  if (allUnsigned && values.every((v) => v < 2 ** 32)) return "UINT32";
  if (fitsI32) return "INT32";
  return "FLOAT64";
}

/**
 * A typed value for a plain JS value, where the GGUF type is unambiguous enough:
 * string -> STRING, boolean -> BOOL, bigint -> UINT64 (INT64 when negative), typed arrays -> arrays
 * of their element type, string[] / boolean[] -> arrays of STRING / BOOL; numbers: non-negative
 * integers below 2^32 -> UINT32, other 32-bit integers -> INT32, anything else -> FLOAT32 (FLOAT64
 * for integers too big for 32 bits). Give a `GgufTypedValue` whenever the exact type matters.
 */
export function toTypedValue(value: unknown, key = "value"): GgufTypedValue {
  if (isTypedValue(value)) return value;
  switch (typeof value) {
    case "string":
      return { type: "STRING", value };
    case "boolean":
      return { type: "BOOL", value };
    case "bigint":
      return { type: value < 0n ? "INT64" : "UINT64", value };
    case "number":
      return { type: numberType([value]), value };
  }
  if (ArrayBuffer.isView(value)) {
    const itemType = typedArrayItemType(value);
    if (itemType) return { type: "ARRAY", itemType, value };
  }
  if (Array.isArray(value)) {
    if (value.length === 0) {
      throw new GgufError(
        "GGUF_BAD_VALUE",
        'an empty plain array has no item type: pass { type: "ARRAY", itemType, value: [] }',
        { field: key },
      );
    }
    const first = value[0];
    if (value.every((v) => typeof v === "string")) return { type: "ARRAY", itemType: "STRING", value };
    if (value.every((v) => typeof v === "boolean")) return { type: "ARRAY", itemType: "BOOL", value };
    if (value.every((v) => typeof v === "number"))
      return { type: "ARRAY", itemType: numberType(value), value };
    if (value.every((v) => typeof v === "bigint")) {
      return { type: "ARRAY", itemType: value.some((v) => v < 0n) ? "INT64" : "UINT64", value };
    }
    if (value.every((v) => Array.isArray(v) || ArrayBuffer.isView(v) || isTypedValue(v))) {
      return {
        type: "ARRAY",
        itemType: "ARRAY",
        value: value.map((v, i) => toTypedValue(v, `${key}[${i}]`)),
      };
    }
    throw new GgufError("GGUF_BAD_VALUE", `array mixes element kinds (first is ${typeof first})`, {
      field: key,
    });
  }
  throw new GgufError("GGUF_BAD_VALUE", `cannot store a ${value === null ? "null" : typeof value} in GGUF`, {
    field: key,
  });
}

function withDescriptor(value: GgufValue, descriptor: GgufTypeDescriptor): GgufTypedValue {
  if (descriptor.type !== "ARRAY") return { type: descriptor.type, value };
  if (descriptor.itemType !== "ARRAY") return { type: "ARRAY", itemType: descriptor.itemType, value };
  const inner = value as GgufValue[];
  const items = descriptor.items ?? [];
  return {
    type: "ARRAY",
    itemType: "ARRAY",
    value: inner.map((v, i) => withDescriptor(v, items[i] ?? { type: "ARRAY", itemType: "UINT8" })),
  };
}

/** A parsed file's metadata as typed values, ready to write back byte for byte. */
export function typedMetadata(
  file: Pick<GgufFile, "metadata" | "metadataTypes">,
): Record<string, GgufTypedValue> {
  const out: Record<string, GgufTypedValue> = {};
  for (const key of Object.keys(file.metadata)) {
    out[key] = withDescriptor(file.metadata[key], file.metadataTypes[key]);
  }
  return out;
}
