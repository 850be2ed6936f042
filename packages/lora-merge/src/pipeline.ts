/**
 * `cllama convert` and `cllama merge-lora` as functions: open everything, run every check, then
 * stream the result to disk one tensor at a time (atomic output: nothing is left behind on failure).
 */
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import {
  type GgufTensorInput,
  type GgufTypedValue,
  type LlamaFileType,
  parseGgufHeader,
  serializeGgufHeader,
} from "@cllama/gguf-format";
import { writeGgufFile } from "@cllama/gguf-format/node";
import { ftypeFromName } from "@cllama/quantize";
import { type QuantizeSource, quantizeGgufFile } from "@cllama/quantize/node";
import { type Checkpoint, openCheckpoint } from "./checkpoint";
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
  /** f32, f16, bf16, or a llama-quantize type (q4_0, q4_k_m, ...: the F16 merge, quantized as it streams). */
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
  const format = options.format ?? "gguf";
  const quantized = !FLOAT_TYPES.has(requested);
  if (quantized && format !== "gguf") {
    fail("LORA_BAD_OUTTYPE", `--outtype ${requested} needs GGUF output; safetensors holds f32, f16 or bf16`);
  }
  // refuses unknown names before any work
  const ftype = quantized ? ftypeFromName(requested) : undefined;
  // A quantized output starts from the F16 merge, as llama-quantize starts from an F16 file
  const outType = (quantized ? "f16" : requested) as FloatOutType;
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
    if (ftype === undefined) await writeFloatGguf(options, metadata, tensors);
    else await writeQuantizedGguf(options, ftype, metadata, tensors);
    const bytes = (await stat(options.output)).size;
    return { output: options.output, tensors: tensors.length, vocabSize: plan.vocabSize, bytes };
  } finally {
    await base.close();
    await Promise.all(adapters.map((a) => a.close()));
  }
}

async function writeFloatGguf(
  options: MergeLorasOptions,
  metadata: Record<string, GgufTypedValue>,
  tensors: GgufTensorInput[],
): Promise<void> {
  await writeGgufFile(
    options.output,
    { metadata, tensors },
    {
      onProgress: (p) =>
        options.onProgress?.({
          tensorIndex: p.tensorIndex,
          tensorCount: p.tensorCount,
          tensorName: p.tensorName ?? "",
          bytesWritten: p.bytesWritten,
          totalBytes: p.totalBytes,
        }),
    },
  );
}

/**
 * The F16 merge handed straight to llama-quantize's logic (@cllama/quantize): every tensor is
 * merged when the quantizer reaches it, and no F16 copy of the model touches the disk. The bytes
 * are those of merging to F16 and then quantizing that file, because the quantizer sees exactly
 * that file's header and rows.
 */
async function writeQuantizedGguf(
  options: MergeLorasOptions,
  ftype: LlamaFileType,
  metadata: Record<string, GgufTypedValue>,
  tensors: GgufTensorInput[],
): Promise<void> {
  await quantizeGgufFile(mergedF16Source(metadata, tensors), options.output, {
    ftype,
    threads: options.threads,
    onProgress: (p) =>
      options.onProgress?.({
        tensorIndex: p.tensorsDone,
        tensorCount: p.tensorCount,
        tensorName: p.tensorName ?? "",
        // in bytes of the F16 merge handed to the quantizer: the output's own size is not known
        // ahead for a mix of types, and the merge is where the time goes
        bytesWritten: p.elementsDone * 2,
        totalBytes: p.elementsTotal * 2,
      }),
  });
}

/** The F16 GGUF the merge would write, as a QuantizeSource: its header parsed, rows merged on demand. */
function mergedF16Source(
  metadata: Record<string, GgufTypedValue>,
  tensors: GgufTensorInput[],
): QuantizeSource {
  const layout = serializeGgufHeader({ metadata, tensors });
  const file = parseGgufHeader(layout.header, { fileSize: layout.totalSize });
  const byName = new Map(tensors.map((t) => [t.name, t]));
  // The quantizer asks for one tensor's rows in order before the next tensor's: keep one merged.
  let current: { name: string; bytes: Promise<Uint8Array> } | undefined;
  return {
    file,
    readRows: async (info, firstRow, rowCount) => {
      if (current?.name !== info.name) {
        const tensor = byName.get(info.name);
        if (!tensor)
          fail("LORA_BAD_TENSOR", `the quantizer asked for ${info.name}, which the merge does not make`);
        current = { name: info.name, bytes: tensorBytes(tensor) };
      }
      const bytes = await current.bytes;
      const rowBytes = bytes.byteLength / (info.shape.slice(1).reduce((a, b) => a * b, 1) || 1);
      // a copy: the quantizer hands its buffer over to a worker thread
      return bytes.slice(firstRow * rowBytes, (firstRow + rowCount) * rowBytes);
    },
    close: async () => {
      current = undefined;
    },
  };
}

async function tensorBytes(tensor: GgufTensorInput): Promise<Uint8Array> {
  const data = typeof tensor.data === "function" ? await tensor.data() : tensor.data;
  if (data instanceof Uint8Array) return data;
  const chunks: Uint8Array[] = [];
  for await (const chunk of data) chunks.push(chunk);
  return Buffer.concat(chunks);
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
