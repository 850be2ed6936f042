/**
 * `cllama convert` and `cllama merge-lora` as functions: open everything, run every check, then
 * stream the result to disk one tensor at a time (atomic output: nothing is left behind on failure).
 */
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { GgufTensorInput } from "@cllama/gguf-format";
import { writeGgufFile } from "@cllama/gguf-format/node";
import { ftypeFromName, planTensorTypes } from "@cllama/quantize";
import { quantizeGgufFile } from "@cllama/quantize/node";
import { type Checkpoint, openCheckpoint } from "./checkpoint";
import type { LlamaParams } from "./config";
import type { DeltaKernel } from "./delta";
import { convertDType, dtypeSize } from "./dtype";
import { fail } from "./errors";
import { buildGguf, type FloatOutType, floatDType } from "./gguf";
import { type MergePlan, mergeTensor, planMerge } from "./merge";
import { nodeDirectory, writeAtomically } from "./node";
import { type LoraAdapter, openLoraAdapter } from "./peft";
import { safetensorsHeader } from "./safetensors";
import { numel } from "./tensor";
import { countSentencePieces, readTokenizerInfo, type TokenizerInfo } from "./vocab";

export interface Progress {
  tensorIndex: number;
  tensorCount: number;
  tensorName: string;
  bytesWritten: number;
  totalBytes: number;
}

export interface ConvertOptions {
  /** Checkpoint folder (HF or Meta). */
  input: string;
  /** Output .gguf file. */
  output: string;
  /** f32, f16, bf16, or a llama-quantize type (q4_0, q4_k_m, ...: written as F16, then quantized). */
  outType?: FloatOutType | string;
  /** Threads for quantized output types (default: every core). */
  threads?: number;
  /** tokenizer.model to embed (default: the checkpoint folder's, or its parent's for Meta). */
  vocab?: string;
  name?: string;
  kernel?: DeltaKernel;
  onProgress?: (p: Progress) => void;
}

export interface MergeLorasOptions {
  base: string;
  /** LoRA folders, applied in this order. */
  loras: string[];
  /** .gguf file, or a folder for `format: "safetensors"`. */
  output: string;
  format?: "gguf" | "safetensors";
  /** f32, f16, bf16, or a llama-quantize type for GGUF output. */
  outType?: FloatOutType | string;
  threads?: number;
  vocab?: string;
  name?: string;
  kernel?: DeltaKernel;
  onProgress?: (p: Progress) => void;
}

export interface PipelineResult {
  output: string;
  tensors: number;
  vocabSize: number;
  bytes: number;
}

/** `cllama convert`: a checkpoint to GGUF (the merge with no LoRA). */
export async function convertCheckpoint(options: ConvertOptions): Promise<PipelineResult> {
  return mergeLoras({ ...options, base: options.input, loras: [], format: "gguf" });
}

const FLOAT_TYPES = new Set(["f32", "f16", "bf16"]);

export async function mergeLoras(options: MergeLorasOptions): Promise<PipelineResult> {
  const requested = (options.outType ?? "f16").toLowerCase();
  if (FLOAT_TYPES.has(requested)) return mergeToFloat({ ...options, outType: requested as FloatOutType });
  if ((options.format ?? "gguf") !== "gguf") {
    fail("LORA_BAD_OUTTYPE", `--outtype ${requested} needs GGUF output; safetensors holds f32, f16 or bf16`);
  }
  const ftype = ftypeFromName(requested); // refuses unknown names before any work
  // llama-quantize's mixes look at the whole model's tensor list: write F16, then quantize it
  const f16 = `${options.output}.f16.tmp`;
  try {
    const result = await mergeToFloat({
      ...options,
      output: f16,
      outType: "f16",
      // llama-quantize's type choice for every tensor, before any tensor is merged: a row length
      // the type cannot take fails here, not after the F16 file is written
      beforeWrite: (tensors, params) =>
        planTensorTypes(
          tensors.map((t) => ({ name: t.name, type: t.type, shape: t.shape })),
          {
            arch: "llama",
            nLayer: params.numLayers,
            nHead: params.numHeads,
            nHeadKv: params.numKvHeads,
            nExpert: 0,
          },
          { ftype },
        ),
    });
    const total = result.bytes;
    await quantizeGgufFile(f16, options.output, {
      ftype,
      threads: options.threads,
      onProgress: (p) =>
        options.onProgress?.({
          tensorIndex: p.tensorsDone,
          tensorCount: p.tensorCount,
          tensorName: p.tensorName ?? "",
          bytesWritten: total + Math.round((p.elementsDone / Math.max(1, p.elementsTotal)) * total),
          totalBytes: 2 * total,
        }),
    });
    return { ...result, output: options.output, bytes: (await stat(options.output)).size };
  } finally {
    await rm(f16, { force: true });
  }
}

async function mergeToFloat(
  options: MergeLorasOptions & {
    outType: FloatOutType;
    beforeWrite?: (tensors: GgufTensorInput[], params: LlamaParams) => void;
  },
): Promise<PipelineResult> {
  const format = options.format ?? "gguf";
  const outType = options.outType;
  const base = await openCheckpoint(nodeDirectory(options.base));
  const adapters: LoraAdapter[] = [];
  try {
    for (const l of options.loras) adapters.push(await openLoraAdapter(nodeDirectory(l)));
    const plan = planMerge(base, adapters);
    const tokenizer = await chooseTokenizer(base, plan, options.vocab);
    if (format === "safetensors") return await writeHfFolder(options, base, plan, tokenizer, outType);
    if (!tokenizer) {
      fail(
        "LORA_NO_TOKENIZER",
        `no tokenizer.model in ${options.loras.at(-1) ?? options.base}${base.format === "meta-pth" ? " or its parent folder" : ""}`,
        "pass --vocab path/to/tokenizer.model",
      );
    }
    const { metadata, tensors } = buildGguf(plan, base.params, {
      outType,
      tokenizer,
      name: options.name ?? basename(resolve(options.loras.at(-1) ?? options.base)),
      kernel: options.kernel,
    });
    options.beforeWrite?.(tensors, base.params);
    await writeGgufFile(
      options.output,
      { metadata, tensors },
      {
        onProgress: (p) => {
          options.onProgress?.({
            tensorIndex: p.tensorIndex,
            tensorCount: p.tensorCount,
            tensorName: p.tensorName ?? "",
            bytesWritten: p.bytesWritten,
            totalBytes: p.totalBytes,
          });
        },
      },
    );
    const bytes = (await stat(options.output)).size;
    return { output: options.output, tensors: tensors.length, vocabSize: plan.vocabSize, bytes };
  } finally {
    await base.close();
    await Promise.all(adapters.map((a) => a.close()));
  }
}

async function chooseTokenizer(
  base: Checkpoint,
  plan: MergePlan,
  vocab?: string,
): Promise<TokenizerInfo | undefined> {
  if (vocab) {
    const bytes = new Uint8Array(await readFile(vocab));
    const pieces = countSentencePieces(bytes, vocab);
    return { file: vocab, bytes, pieces, size: pieces, addedTokens: {} };
  }
  if (plan.tokenizer) return plan.tokenizer;
  const own = await readTokenizerInfo(nodeDirectory(base.path));
  if (own || base.format !== "meta-pth") return own;
  // Meta's layout keeps tokenizer.model one level up, beside the 7B/13B folders
  return readTokenizerInfo(nodeDirectory(dirname(base.path))).catch(() => undefined);
}

/** Hugging Face folder: model.safetensors + config.json (+ tokenizer files), for other tools. */
async function writeHfFolder(
  options: MergeLorasOptions,
  base: Checkpoint,
  plan: MergePlan,
  tokenizer: TokenizerInfo | undefined,
  outType: FloatOutType,
): Promise<PipelineResult> {
  const dtype = floatDType(outType);
  const out = options.output;
  await mkdir(out, { recursive: true });
  const exists = await stat(join(out, "model.safetensors")).catch(() => undefined);
  if (exists) await rm(join(out, "model.safetensors"));
  const specs = plan.tensors.map((t) => ({
    name: t.name,
    dtype: t.shape.length === 1 ? t.dtype : dtype,
    shape: t.shape,
  }));
  const { header, dataSize } = safetensorsHeader(specs, { format: "pt" });
  const total = header.byteLength + dataSize;
  let written = 0;
  await writeAtomically(join(out, "model.safetensors"), async (handle) => {
    const put = async (bytes: Uint8Array) => {
      let done = 0;
      while (done < bytes.byteLength) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, written + done);
        done += bytesWritten;
      }
      written += bytes.byteLength;
    };
    await put(header);
    for (let i = 0; i < plan.tensors.length; i++) {
      const t = plan.tensors[i]!;
      const spec = specs[i]!;
      const merged = await mergeTensor(t, { workDtype: spec.dtype, kernel: options.kernel });
      const data = convertDType(merged.dtype, spec.dtype, merged.data);
      if (data.byteLength !== numel(t.shape) * dtypeSize(spec.dtype))
        fail("LORA_BAD_TENSOR", `${t.name}: merged size is wrong`);
      await put(data);
      options.onProgress?.({
        tensorIndex: i,
        tensorCount: plan.tensors.length,
        tensorName: t.name,
        bytesWritten: written,
        totalBytes: total,
      });
    }
  });
  const config = base.format === "meta-pth" ? hfConfigFromParams(base) : { ...base.config };
  config.vocab_size = plan.vocabSize;
  config.tie_word_embeddings = plan.tiedEmbeddings;
  config.torch_dtype = { F32: "float32", F16: "float16", BF16: "bfloat16" }[dtype];
  await writeText(join(out, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  if (tokenizer) {
    await writeFile(join(out, "tokenizer.model.partial"), tokenizer.bytes);
    await rename(join(out, "tokenizer.model.partial"), join(out, "tokenizer.model"));
    const dir = dirname(tokenizer.file);
    for (const extra of ["added_tokens.json", "special_tokens_map.json", "tokenizer_config.json"]) {
      await copyFile(join(dir, extra), join(out, extra)).catch(() => {});
    }
  }
  return { output: out, tensors: plan.tensors.length, vocabSize: plan.vocabSize, bytes: total };
}

function hfConfigFromParams(base: Checkpoint): Record<string, unknown> {
  const p = base.params;
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    hidden_size: p.hiddenSize,
    intermediate_size: p.intermediateSize,
    num_hidden_layers: p.numLayers,
    num_attention_heads: p.numHeads,
    num_key_value_heads: p.numKvHeads,
    rms_norm_eps: p.rmsNormEps,
    rope_theta: p.ropeTheta,
    max_position_embeddings: p.contextLength,
    bos_token_id: 1,
    eos_token_id: 2,
  };
}

async function writeText(path: string, text: string) {
  await writeFile(`${path}.partial`, text);
  await rename(`${path}.partial`, path);
}
