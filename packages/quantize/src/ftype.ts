/**
 * llama.cpp's file types (`general.file_type`, llama-quantize's type argument) and the default
 * tensor type each one stands for.
 */
import { GgmlType, LlamaFileType } from "@cllama/gguf-format";
import { QuantizeError } from "./errors";

/** Names `cllama quantize` accepts (lower-case; llama-quantize's spelling, case-insensitive). */
const FTYPE_NAMES: Record<string, LlamaFileType> = {
  f32: LlamaFileType.ALL_F32,
  f16: LlamaFileType.MOSTLY_F16,
  bf16: LlamaFileType.MOSTLY_BF16,
  q8_0: LlamaFileType.MOSTLY_Q8_0,
  q4_0: LlamaFileType.MOSTLY_Q4_0,
  q4_1: LlamaFileType.MOSTLY_Q4_1,
  q5_0: LlamaFileType.MOSTLY_Q5_0,
  q5_1: LlamaFileType.MOSTLY_Q5_1,
  q2_k: LlamaFileType.MOSTLY_Q2_K,
  q3_k_s: LlamaFileType.MOSTLY_Q3_K_S,
  q3_k_m: LlamaFileType.MOSTLY_Q3_K_M,
  q3_k_l: LlamaFileType.MOSTLY_Q3_K_L,
  q4_k_s: LlamaFileType.MOSTLY_Q4_K_S,
  q4_k_m: LlamaFileType.MOSTLY_Q4_K_M,
  q5_k_s: LlamaFileType.MOSTLY_Q5_K_S,
  q5_k_m: LlamaFileType.MOSTLY_Q5_K_M,
  q6_k: LlamaFileType.MOSTLY_Q6_K,
  // llama-quantize's aliases
  q3_k: LlamaFileType.MOSTLY_Q3_K_M,
  q4_k: LlamaFileType.MOSTLY_Q4_K_M,
  q5_k: LlamaFileType.MOSTLY_Q5_K_M,
};

/** The file types this package produces, in CLI.md's order. */
export const supportedFtypeNames: readonly string[] = Object.keys(FTYPE_NAMES).filter(
  (name) => !["q3_k", "q4_k", "q5_k"].includes(name),
);

/** `ftypeFromName("Q4_K_M") === LlamaFileType.MOSTLY_Q4_K_M`; throws QUANTIZE_UNKNOWN_FTYPE. */
export function ftypeFromName(name: string): LlamaFileType {
  const ftype = FTYPE_NAMES[name.trim().toLowerCase()];
  if (ftype === undefined) {
    throw new QuantizeError(
      "QUANTIZE_UNKNOWN_FTYPE",
      `unknown quantization type "${name}"`,
      `use one of ${supportedFtypeNames.join(", ")}`,
    );
  }
  return ftype;
}

/** llama.cpp's `llama_ftype_get_default_type` for the file types we produce. */
export function defaultTypeForFtype(ftype: LlamaFileType): GgmlType {
  switch (ftype) {
    case LlamaFileType.ALL_F32:
      return GgmlType.F32;
    case LlamaFileType.MOSTLY_F16:
      return GgmlType.F16;
    case LlamaFileType.MOSTLY_BF16:
      return GgmlType.BF16;
    case LlamaFileType.MOSTLY_Q4_0:
      return GgmlType.Q4_0;
    case LlamaFileType.MOSTLY_Q4_1:
      return GgmlType.Q4_1;
    case LlamaFileType.MOSTLY_Q5_0:
      return GgmlType.Q5_0;
    case LlamaFileType.MOSTLY_Q5_1:
      return GgmlType.Q5_1;
    case LlamaFileType.MOSTLY_Q8_0:
      return GgmlType.Q8_0;
    case LlamaFileType.MOSTLY_Q2_K:
      return GgmlType.Q2_K;
    case LlamaFileType.MOSTLY_Q3_K_S:
    case LlamaFileType.MOSTLY_Q3_K_M:
    case LlamaFileType.MOSTLY_Q3_K_L:
      return GgmlType.Q3_K;
    case LlamaFileType.MOSTLY_Q4_K_S:
    case LlamaFileType.MOSTLY_Q4_K_M:
      return GgmlType.Q4_K;
    case LlamaFileType.MOSTLY_Q5_K_S:
    case LlamaFileType.MOSTLY_Q5_K_M:
      return GgmlType.Q5_K;
    case LlamaFileType.MOSTLY_Q6_K:
      return GgmlType.Q6_K;
    default:
      throw new QuantizeError(
        "QUANTIZE_UNKNOWN_FTYPE",
        `file type ${LlamaFileType[ftype] ?? ftype} is not supported`,
        `use one of ${supportedFtypeNames.join(", ")}`,
      );
  }
}
