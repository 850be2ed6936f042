/**
 * The merge, tensor by tensor, exactly as the seed's low-memory script: for each base tensor
 * and each LoRA in order, a modules_to_save tensor replaces it, a lora_A/lora_B pair adds
 * `(B @ A) * alpha / r` computed in float32 and rounded once to the working dtype. All checks
 * (`planMerge`) run before any tensor is read.
 */
import type { Checkpoint } from "./checkpoint";
import { type DeltaKernel, transpose } from "./delta";
import { convertDType, type DType, dtypeSize, fromFloat32, toFloat32 } from "./dtype";
import { fail } from "./errors";
import { expectedHfNames } from "./layout";
import type { LoraAdapter } from "./peft";
import { shapeText, type TensorRef } from "./tensor";
import type { TokenizerInfo } from "./vocab";
import { wasmDeltaKernel } from "./wasm-kernel";

export type MergeStep =
  | { kind: "replace"; tensor: TensorRef; lora: string }
  | { kind: "lora"; a: TensorRef; b: TensorRef; scaling: number; fanInFanOut: boolean; lora: string };

export interface PlannedTensor {
  /** Hugging Face name */
  name: string;
  shape: readonly number[];
  /** dtype of the tensor as it enters the merge (the base's, or the first replacement's). */
  dtype: DType;
  source?: TensorRef;
  steps: MergeStep[];
}

export interface MergePlan {
  tensors: PlannedTensor[];
  vocabSize: number;
  /** Tokenizer of the last LoRA that carries one (the seed's rule), if any. */
  tokenizer?: TokenizerInfo;
  tiedEmbeddings: boolean;
}

const EMBED = "model.embed_tokens.weight";
const LM_HEAD = "lm_head.weight";
const IGNORED_BASE = /\.rotary_emb\.inv_freq$/;
const SIZE_NAMES: Record<number, string> = {
  4096: "7B",
  5120: "13B",
  6656: "33B",
  8192: "65B/70B",
  2048: "1B",
};

function sizeName(hidden: number): string {
  return SIZE_NAMES[hidden] ? `${hidden} (${SIZE_NAMES[hidden]})` : String(hidden);
}

export function planMerge(base: Checkpoint, loras: LoraAdapter[]): MergePlan {
  const p = base.params;
  // 1. the base itself: every tensor a LLaMA needs, nothing unknown
  const expected = expectedHfNames(p.numLayers, !base.tensors.has(LM_HEAD));
  const missing = expected.filter((n) => !base.tensors.has(n));
  if (missing.length) {
    fail(
      "LORA_MISSING_TENSOR",
      `${base.path}: ${missing.length} tensor(s) missing from the base, e.g. ${missing.slice(0, 3).join(", ")}`,
      "the checkpoint is incomplete (a shard or file missing?) or config.json belongs to another model",
    );
  }
  const known = new Set(expected);
  const extra = [...base.tensors.keys()].filter((n) => !known.has(n) && !IGNORED_BASE.test(n));
  if (extra.length) {
    fail(
      "LORA_EXTRA_TENSOR",
      `${base.path}: unexpected tensor(s) ${extra.slice(0, 3).join(", ")} (config.json says ${p.numLayers} layers)`,
      "config.json does not match the weights, or this is not a LLaMA checkpoint",
    );
  }
  const embedRows = base.tensors.get(EMBED)!.shape[0]!;
  if (embedRows !== p.vocabSize) {
    fail(
      "LORA_VOCAB_MISMATCH",
      `${base.path}: config.json vocab_size ${p.vocabSize} but embed_tokens has ${embedRows} rows`,
      "fix vocab_size in config.json",
    );
  }

  const planned = new Map<string, PlannedTensor>();
  for (const name of expected) {
    const t = base.tensors.get(name)!;
    planned.set(name, { name, shape: t.shape, dtype: t.dtype, source: t, steps: [] });
  }
  let tied = !base.tensors.has(LM_HEAD);
  let vocab = embedRows;
  let vocabFrom = base.path;

  for (const lora of loras) {
    // 2. pairs: the targeted tensor must exist and the update must have its shape
    for (const [name, { a, b }] of lora.pairs) {
      const target = planned.get(name);
      if (!target) {
        fail(
          "LORA_EXTRA_TENSOR",
          `${lora.path}: LoRA weights for ${name}, which the base (${p.numLayers} layers) does not have`,
          "this LoRA was made for another base model size",
        );
      }
      const [out, inn] = lora.fanInFanOut ? [a.shape[1]!, b.shape[0]!] : [b.shape[0]!, a.shape[1]!];
      if (out !== target.shape[0] || inn !== target.shape[1]) {
        const wrongBase =
          inn !== target.shape[1] && (inn === p.hiddenSize || target.shape[1] === p.hiddenSize);
        fail(
          wrongBase ? "LORA_WRONG_BASE" : "LORA_SHAPE_MISMATCH",
          `${lora.path}: update of ${name} is ${shapeText([out, inn])} but the base tensor is ${shapeText(target.shape)}`,
          wrongBase
            ? `this LoRA was made for a base with hidden size ${sizeName(Math.max(inn, out) === p.intermediateSize ? inn : Math.min(inn, out))}, the base has ${sizeName(p.hiddenSize)}: use the matching LLaMA size`
            : "the adapter does not belong to this base model",
        );
      }
      target.steps.push({
        kind: "lora",
        a,
        b,
        scaling: lora.scaling,
        fanInFanOut: lora.fanInFanOut,
        lora: lora.path,
      });
    }
    // 3. full replacements (modules_to_save): embed_tokens / lm_head may grow the vocabulary
    for (const [name, t] of lora.replacements) {
      let target = planned.get(name);
      if (!target && name === LM_HEAD && tied) {
        // the base ties lm_head to the embedding; the LoRA brings its own: untie
        target = { name, shape: t.shape, dtype: t.dtype, steps: [] };
        planned.set(name, target);
        tied = false;
      }
      if (!target) {
        fail(
          "LORA_EXTRA_TENSOR",
          `${lora.path}: full tensor ${name}, which the base does not have`,
          "this LoRA was made for another model",
        );
      }
      const vocabTensor = name === EMBED || name === LM_HEAD;
      if (
        t.shape.length !== target.shape.length ||
        t.shape[t.shape.length - 1] !== target.shape[target.shape.length - 1]
      ) {
        fail(
          "LORA_WRONG_BASE",
          `${lora.path}: ${name} is ${shapeText(t.shape)} but the base tensor is ${shapeText(target.shape)}`,
          `this LoRA was made for a base with hidden size ${sizeName(t.shape[t.shape.length - 1]!)}, the base has ${sizeName(p.hiddenSize)}: use the matching LLaMA size`,
        );
      }
      if (vocabTensor) {
        const rows = t.shape[0]!;
        if (rows < vocab) {
          fail(
            "LORA_WRONG_ORDER",
            `${lora.path}: ${name} has ${rows} rows, fewer than the ${vocab} of ${vocabFrom} applied before it: the vocabulary would shrink`,
            `LoRAs apply in order: put ${lora.path} before ${vocabFrom} (e.g. --lora chinese-llama-plus-lora --lora chinese-alpaca-plus-lora)`,
          );
        }
        vocab = rows;
        vocabFrom = lora.path;
      } else if (t.shape.some((d, i) => d !== target.shape[i])) {
        fail(
          "LORA_SHAPE_MISMATCH",
          `${lora.path}: ${name} is ${shapeText(t.shape)}, the base has ${shapeText(target.shape)}`,
        );
      }
      target.shape = t.shape;
      target.steps.push({ kind: "replace", tensor: t, lora: lora.path });
    }
  }

  // 4. after the chain, embedding and lm_head must agree, and with the tokenizer
  const embed = planned.get(EMBED)!;
  const head = planned.get(LM_HEAD);
  if (head && head.shape[0] !== embed.shape[0]) {
    fail(
      "LORA_VOCAB_MISMATCH",
      `after the merge lm_head has ${head.shape[0]} rows but embed_tokens ${embed.shape[0]}`,
      "a LoRA replaces only one of embed_tokens / lm_head: use LoRAs that save both",
    );
  }
  const tokenizer = [...loras].reverse().find((l) => l.tokenizer)?.tokenizer;
  for (const lora of loras) {
    const own = lora.replacements.get(EMBED);
    if (own && lora.tokenizer && lora.tokenizer.size !== own.shape[0]) {
      fail(
        "LORA_VOCAB_MISMATCH",
        `${lora.tokenizer.file} has ${lora.tokenizer.size} tokens but the LoRA's embed_tokens has ${own.shape[0]} rows`,
        vocabHint(lora.tokenizer.size, own.shape[0]!),
      );
    }
  }
  if (tokenizer && tokenizer.size !== vocab) {
    fail(
      "LORA_VOCAB_MISMATCH",
      `the tokenizer ${tokenizer.file} has ${tokenizer.size} tokens but the merged embedding has ${vocab} rows (from ${vocabFrom})`,
      vocabHint(tokenizer.size, vocab),
    );
  }
  return { tensors: [...planned.values()], vocabSize: vocab, tokenizer, tiedEmbeddings: tied };
}

export function vocabHint(tokenizerSize: number, rows: number): string {
  const pair = new Set([tokenizerSize, rows]);
  if (pair.has(49953) && pair.has(49954)) {
    return "49953 is the Chinese-LLaMA tokenizer, 49954 the Chinese-Alpaca one: use the tokenizer.model shipped with the last LoRA you apply (for Alpaca: the Alpaca LoRA's)";
  }
  return `use the tokenizer.model that belongs to the model with ${rows} embedding rows`;
}

export interface MergeOptions {
  /** Dtype the merged tensor is rounded to after each LoRA (default: the tensor's own). */
  workDtype?: DType;
  kernel?: DeltaKernel;
  /** Rows per block (bounds the float32 working set). */
  blockRows?: number;
}

/** The merged tensor's bytes in `workDtype` (HF row order). */
export async function mergeTensor(
  t: PlannedTensor,
  options: MergeOptions = {},
): Promise<{ dtype: DType; data: Uint8Array }> {
  const kernel = options.kernel ?? wasmDeltaKernel;
  let dtype = t.dtype;
  let data = t.source ? await t.source.read() : new Uint8Array(0);
  const work = options.workDtype ?? t.dtype;
  for (const step of t.steps) {
    if (step.kind === "replace") {
      // the seed copies `.half()` of the saved tensor: rounding to the working dtype
      data = convertDType(step.tensor.dtype, work, await step.tensor.read());
      dtype = work;
      continue;
    }
    if (dtype !== work) {
      data = convertDType(dtype, work, data);
      dtype = work;
    }
    let a = toFloat32(step.a.dtype, await step.a.read());
    let b = toFloat32(step.b.dtype, await step.b.read());
    let r = step.a.shape[0]!;
    if (step.fanInFanOut) {
      // (B @ A)^T = A^T @ B^T: the same products summed in the same order
      const nA = step.a.shape[1]!;
      const nB = step.b.shape[0]!;
      [a, b] = [transpose(b, nB, r), transpose(a, r, nA)];
      r = step.a.shape[0]!;
    }
    const [rows, n] = [t.shape[0]!, t.shape[1]!];
    const block = Math.max(1, Math.min(rows, options.blockRows ?? Math.ceil((4 << 20) / n)));
    const size = dtypeSize(dtype);
    const out = new Uint8Array(data.byteLength);
    for (let row0 = 0; row0 < rows; row0 += block) {
      const count = Math.min(block, rows - row0);
      const w = toFloat32(dtype, data.subarray(row0 * n * size, (row0 + count) * n * size));
      kernel.addRows(w, row0, count, a, b, r, n, step.scaling);
      out.set(fromFloat32(dtype, w), row0 * n * size);
    }
    data = out;
  }
  if (dtype !== work) data = convertDType(dtype, work, data);
  return { dtype: work, data };
}
