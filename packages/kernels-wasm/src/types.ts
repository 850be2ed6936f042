import { KernelsError } from "./errors";

/** ggml type ids of the weight types the kernels multiply (same numbers as GGUF's). */
export const WeightType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  BF16: 30,
} as const;
export type WeightType = (typeof WeightType)[keyof typeof WeightType];

/**
 * How an activation row is prepared for a weight type: "f32" as is, "f16"/"bf16" rounded to that
 * precision (llama.cpp multiplies F16/BF16 weights with F16/BF16 activations), "q8" the Q8_0/Q8_1
 * partner of the 32-element quants, "q8k" the Q8_K partner of the K-quants.
 */
export type ActivationKind = "f32" | "f16" | "bf16" | "q8" | "q8k";

interface TypeInfo {
  name: string;
  blockSize: number;
  typeSize: number;
  act: ActivationKind;
}

const INFO: Record<number, TypeInfo> = {
  0: { name: "F32", blockSize: 1, typeSize: 4, act: "f32" },
  1: { name: "F16", blockSize: 1, typeSize: 2, act: "f16" },
  2: { name: "Q4_0", blockSize: 32, typeSize: 18, act: "q8" },
  3: { name: "Q4_1", blockSize: 32, typeSize: 20, act: "q8" },
  6: { name: "Q5_0", blockSize: 32, typeSize: 22, act: "q8" },
  7: { name: "Q5_1", blockSize: 32, typeSize: 24, act: "q8" },
  8: { name: "Q8_0", blockSize: 32, typeSize: 34, act: "q8" },
  10: { name: "Q2_K", blockSize: 256, typeSize: 84, act: "q8k" },
  11: { name: "Q3_K", blockSize: 256, typeSize: 110, act: "q8k" },
  12: { name: "Q4_K", blockSize: 256, typeSize: 144, act: "q8k" },
  13: { name: "Q5_K", blockSize: 256, typeSize: 176, act: "q8k" },
  14: { name: "Q6_K", blockSize: 256, typeSize: 210, act: "q8k" },
  30: { name: "BF16", blockSize: 1, typeSize: 2, act: "bf16" },
};

/** Block size, bytes per block and activation partner of a supported weight type. */
export function weightTypeInfo(type: number): TypeInfo {
  const info = INFO[type];
  if (!info) {
    throw new KernelsError(
      "KERNELS_UNSUPPORTED_TYPE",
      `ggml type ${type} has no kernel; supported: ${Object.values(INFO)
        .map((i) => i.name)
        .join(", ")}`,
    );
  }
  return info;
}

/** True when the kernels can multiply weights of this ggml type. */
export function isSupportedWeightType(type: number): boolean {
  return INFO[type] !== undefined;
}

/** Bytes of one row of n elements of a weight type (throws when n is not a whole number of blocks). */
export function weightRowBytes(type: number, n: number): number {
  const info = weightTypeInfo(type);
  if (n % info.blockSize !== 0) {
    throw new KernelsError(
      "KERNELS_BAD_SHAPE",
      `a ${info.name} row needs a multiple of ${info.blockSize} elements, found ${n}`,
    );
  }
  return (n / info.blockSize) * info.typeSize;
}

/** Bytes of one prepared activation row of n elements (the layouts of assembly/actquant.ts), 64-aligned. */
export function activationRowBytes(kind: ActivationKind, n: number): number {
  let bytes: number;
  if (kind === "q8") bytes = 4 * n + 12 * (n / 32);
  else if (kind === "q8k") bytes = 4 * n + 4 * (n / 256) + 4 * (n / 16);
  else bytes = 4 * n;
  return Math.ceil(bytes / 64) * 64;
}
