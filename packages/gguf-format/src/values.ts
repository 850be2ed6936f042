/**
 * How GGUF metadata looks in JavaScript.
 *
 * Reading: 8/16/32-bit ints and floats -> number; u64/i64 -> bigint; bool -> boolean; string ->
 * string; arrays of strings -> string[]; numeric arrays -> the matching typed array; bool arrays ->
 * boolean[]; nested arrays -> arrays of those. `metadataTypes` keeps each key's exact GGUF type so
 * that writing it back gives the same bytes.
 *
 * Writing: `GgufTypedValue` names the type explicitly; plain values are accepted where the type
 * is unambiguous (see `toTypedValue`).
 */
import type { GgufValueTypeName } from "./types";

export type GgufTypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array;

export type GgufScalar = number | bigint | boolean | string;
export type GgufArrayValue = string[] | boolean[] | GgufTypedArray | GgufArrayValue[];
export type GgufValue = GgufScalar | GgufArrayValue;

/** The exact GGUF type of a value; for arrays the element type, and for nested arrays each element's. */
export interface GgufTypeDescriptor {
  type: GgufValueTypeName;
  itemType?: GgufValueTypeName;
  /** For an array of arrays: the descriptor of each inner array, in order. */
  items?: GgufTypeDescriptor[];
}

/** A metadata value with its GGUF type, as the writer takes it. */
export interface GgufTypedValue {
  type: GgufValueTypeName;
  /** For ARRAY: a JS array or typed array; for an array of arrays, inner `GgufTypedValue`s or plain arrays. */
  value: unknown;
  itemType?: GgufValueTypeName;
}

/** Byte size of a fixed-size value type; 0 for STRING and ARRAY. */
export const FIXED_SIZE: Record<GgufValueTypeName, number> = {
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  UINT32: 4,
  INT32: 4,
  FLOAT32: 4,
  BOOL: 1,
  STRING: 0,
  ARRAY: 0,
  UINT64: 8,
  INT64: 8,
  FLOAT64: 8,
};
