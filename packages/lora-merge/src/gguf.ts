/**
 * A merge plan as GGUF: llama.* keys from the config, tokenizer.* keys from the tokenizer,
 * tensors renamed, q/k rows reordered from the Hugging Face order to llama.cpp's, element type
 * converted. Tensor data is produced lazily, one tensor at a time, as the writer asks for it.
 */
import {
  fileTypeForGgmlType,
  GgmlType,
  type GgufTensorInput,
  type GgufTypedValue,
  llamaMetadata,
} from "@cllama/gguf-format";
import { SentencePieceTokenizer } from "@cllama/tokenizer";
import type { LlamaParams } from "./config";
import type { DeltaKernel } from "./delta";
import { convertDType, type DType } from "./dtype";
import { fail } from "./errors";
import { hfToGgufName, permuteHeadRows } from "./layout";
import { type MergePlan, mergeTensor, type PlannedTensor, vocabHint } from "./merge";
import type { TokenizerInfo } from "./vocab";

export type FloatOutType = "f32" | "f16" | "bf16";

const GGML_OF: Record<DType, GgmlType> = { F32: GgmlType.F32, F16: GgmlType.F16, BF16: GgmlType.BF16 };

export function floatDType(outType: FloatOutType): DType {
  return outType === "f32" ? "F32" : outType === "bf16" ? "BF16" : "F16";
}

export interface GgufBuildOptions {
  outType: FloatOutType;
  name?: string;
  tokenizer: TokenizerInfo;
  kernel?: DeltaKernel;
  /** Called as each tensor's data is produced. */
  onTensor?: (index: number, count: number, name: string) => void;
}

/** The tokenizer.* keys, with added_tokens.json entries appended as user-defined tokens. */
export function tokenizerMetadata(info: TokenizerInfo): Record<string, GgufTypedValue> {
  const meta = SentencePieceTokenizer.fromModelProto(info.bytes, info.file).toGgufMetadata() as Record<
    string,
    GgufTypedValue
  >;
  const extra = Object.entries(info.addedTokens)
    .filter(([, id]) => typeof id === "number" && id >= info.pieces)
    .sort((a, b) => a[1] - b[1]);
  if (extra.length) {
    const tokens = meta["tokenizer.ggml.tokens"]!.value as string[];
    const scores = meta["tokenizer.ggml.scores"]!.value as Float32Array;
    const types = meta["tokenizer.ggml.token_type"]!.value as Int32Array;
    extra.forEach(([piece, id], i) => {
      if (id !== info.pieces + i)
        fail(
          "LORA_NO_TOKENIZER",
          `${info.file}: added token ${piece} has id ${id}, expected ${info.pieces + i}`,
        );
    });
    meta["tokenizer.ggml.tokens"] = {
      type: "ARRAY",
      itemType: "STRING",
      value: [...tokens, ...extra.map(([p]) => p)],
    };
    meta["tokenizer.ggml.scores"] = {
      type: "ARRAY",
      itemType: "FLOAT32",
      value: Float32Array.from([...scores, ...extra.map(() => -1000)]),
    };
    meta["tokenizer.ggml.token_type"] = {
      type: "ARRAY",
      itemType: "INT32",
      value: Int32Array.from([...types, ...extra.map(() => 4)]),
    };
  }
  return meta;
}

export function buildGguf(
  plan: MergePlan,
  params: LlamaParams,
  options: GgufBuildOptions,
): { metadata: Record<string, GgufTypedValue>; tensors: GgufTensorInput[] } {
  if (options.tokenizer.size !== plan.vocabSize) {
    fail(
      "LORA_VOCAB_MISMATCH",
      `the tokenizer ${options.tokenizer.file} has ${options.tokenizer.size} tokens but the model's embedding has ${plan.vocabSize} rows`,
      vocabHint(options.tokenizer.size, plan.vocabSize),
    );
  }
  const out = floatDType(options.outType);
  const metadata: Record<string, GgufTypedValue> = {
    ...llamaMetadata({
      name: options.name,
      contextLength: params.contextLength,
      embeddingLength: params.hiddenSize,
      blockCount: params.numLayers,
      feedForwardLength: params.intermediateSize,
      headCount: params.numHeads,
      headCountKv: params.numKvHeads,
      rmsEps: params.rmsNormEps,
      ropeFreqBase: params.ropeTheta,
      ropeScaling: params.ropeScaling,
      vocabSize: plan.vocabSize,
      fileType: fileTypeForGgmlType(GGML_OF[out]),
    }),
    ...tokenizerMetadata(options.tokenizer),
  };
  const ordered = ggufOrder(plan.tensors);
  const tensors = ordered.map((t, index): GgufTensorInput => {
    const name = hfToGgufName(t.name)!;
    const type = t.shape.length === 1 ? "F32" : out;
    return {
      name,
      type: GGML_OF[type],
      shape: [...t.shape].reverse(),
      data: async () => {
        options.onTensor?.(index, ordered.length, name);
        return ggufTensorData(t, params, type, options.kernel);
      },
    };
  });
  return { metadata, tensors };
}

/** One merged tensor in GGUF row order and element type. */
export async function ggufTensorData(
  t: PlannedTensor,
  params: LlamaParams,
  type: DType,
  kernel?: DeltaKernel,
) {
  const merged = await mergeTensor(t, { workDtype: t.shape.length === 1 ? undefined : type, kernel });
  let data = merged.data;
  const qk = /\.self_attn\.(q|k)_proj\.weight$/.exec(t.name);
  if (qk)
    data = permuteHeadRows(
      data,
      t.shape[0]!,
      qk[1] === "q" ? params.numHeads : params.numKvHeads,
      "interleave",
    );
  return convertDType(merged.dtype, type, data);
}

/** llama.cpp's order: token_embd, blocks in order, output_norm, output. */
function ggufOrder(tensors: PlannedTensor[]): PlannedTensor[] {
  const rank = (name: string) => {
    if (name === "model.embed_tokens.weight") return [-1, 0];
    if (name === "model.norm.weight") return [1e9, 0];
    if (name === "lm_head.weight") return [1e9, 1];
    const m = /^model\.layers\.(\d+)\./.exec(name);
    return [Number(m?.[1] ?? 0), 0];
  };
  const original = new Map(tensors.map((t, i) => [t, i]));
  return [...tensors].sort((a, b) => {
    const [la, sa] = rank(a.name);
    const [lb, sb] = rank(b.name);
    return la! - lb! || sa! - sb! || original.get(a)! - original.get(b)!;
  });
}
