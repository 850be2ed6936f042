/**
 * `quantizeGgufFile`: llama-quantize in TypeScript. Reads the input GGUF tensor by tensor, row
 * chunk by row chunk; converts chunks on worker threads (every core by default) while the next
 * chunks are read; streams the output through gguf-format's atomic writer (`<out>.partial`, fsync,
 * rename). Memory is bounded by a few chunks, whatever the model size.
 *
 * The output matches llama.cpp's `llama_model_quantize` byte for byte: the same metadata (copied
 * in order, general.quantization_version and general.file_type set last), the tensors in
 * llama.cpp's order with llama-quantize's types, and ggml's reference quantizer's bytes.
 */
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import {
  GgmlType,
  GgufError,
  type GgufFile,
  type GgufTensorInfo,
  type GgufTypedValue,
  LlamaFileType,
  typedMetadata,
} from "@cllama/gguf-format";
import { type GgufFileHandle, openGgufFile, writeGgufFile } from "@cllama/gguf-format/node";
import { codecFor } from "./codecs";
import { QuantizeError } from "./errors";
import { ftypeFromName } from "./ftype";
import { chooseTensorType, createMixState, llamaTensorOrder, type MixModel } from "./mix";
import { WorkerPool } from "./pool";

export interface QuantizeFileOptions {
  /** Target file type: a name ("q4_k_m", case-insensitive) or llama.cpp's number. */
  ftype: LlamaFileType | string;
  /** Worker threads (default: every core). */
  threads?: number;
  /** Every quantizable tensor gets the file type's default type (no mix rules). */
  pure?: boolean;
  /** Allow converting tensors that are already quantized (dequantize, then quantize). */
  allowRequantize?: boolean;
  /** Type of output.weight (and of token_embd.weight when the embeddings are tied). */
  outputTensorType?: GgmlType | string;
  /** Type of token_embd.weight. */
  tokenEmbeddingType?: GgmlType | string;
  onProgress?: (progress: QuantizeProgress) => void;
  signal?: AbortSignal;
}

export interface QuantizeProgress {
  /** Tensors finished so far. */
  tensorsDone: number;
  tensorCount: number;
  /** The tensor being written. */
  tensorName?: string;
  /** Elements converted or copied so far, and in total (a smooth measure of progress). */
  elementsDone: number;
  elementsTotal: number;
}

export interface QuantizedTensor {
  name: string;
  shape: number[];
  from: GgmlType;
  to: GgmlType;
  bytes: number;
}

export interface QuantizeSummary {
  ftype: LlamaFileType;
  tensors: QuantizedTensor[];
  inputBytes: number;
  outputBytes: number;
  /** Tensors whose rows could not take the K-quant and fell back (as llama.cpp warns). */
  fallbacks: number;
}

/**
 * Where quantizeGgufFile reads from when it is not a file on disk: a GGUF's parsed header and its
 * rows on demand (a GgufFileHandle is one). lora-merge passes its merge here, so a merged model
 * goes to a quantized file with no F16 copy on disk. Rows of one tensor are asked for in order
 * before the next tensor's.
 */
export interface QuantizeSource {
  file: GgufFile;
  readRows(info: GgufTensorInfo, firstRow: number, rowCount: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Elements per chunk handed to a worker: large enough to amortise messaging, small for memory. */
const CHUNK_ELEMENTS = 1 << 20;

function typeOption(value: GgmlType | string | undefined, what: string): GgmlType | undefined {
  if (value === undefined) return undefined;
  const type =
    typeof value === "string" ? GgmlType[value.trim().toUpperCase() as keyof typeof GgmlType] : value;
  const codec = type === undefined ? undefined : codecFor(type);
  if (type === undefined || !codec || codec.activation) {
    throw new QuantizeError(
      "QUANTIZE_UNSUPPORTED_TYPE",
      `${what}: unsupported tensor type "${value}"`,
      "use one of f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q2_k, q3_k, q4_k, q5_k, q6_k",
    );
  }
  return type;
}

function metadataNumber(file: GgufFile, key: string): number | undefined {
  const v = file.metadata[key];
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView) && (v as ArrayLike<number>).length > 0) {
    return Number((v as ArrayLike<number | bigint>)[0]); // per-layer arrays: the first layer
  }
  return undefined;
}

/** The hyper-parameters llama-quantize's rules read (llama.cpp loads them from `<arch>.*`). */
export function mixModelOf(file: GgufFile): MixModel {
  const arch =
    typeof file.metadata["general.architecture"] === "string"
      ? (file.metadata["general.architecture"] as string)
      : "";
  const nHead = metadataNumber(file, `${arch}.attention.head_count`) ?? 0;
  return {
    arch,
    nLayer: metadataNumber(file, `${arch}.block_count`) ?? 0,
    nHead,
    nHeadKv: metadataNumber(file, `${arch}.attention.head_count_kv`) ?? nHead,
    nExpert: metadataNumber(file, `${arch}.expert_count`) ?? 0,
  };
}

async function openInput(path: string | QuantizeSource): Promise<GgufFileHandle | QuantizeSource> {
  if (typeof path !== "string") return path;
  try {
    return await openGgufFile(path);
  } catch (error) {
    if (error instanceof GgufError && (error.code === "GGUF_BAD_MAGIC" || error.code === "GGUF_TRUNCATED")) {
      throw new QuantizeError(
        "QUANTIZE_NOT_GGUF",
        `${path} is not a GGUF file: ${error.message}`,
        "pass a .gguf model file",
        {
          cause: error,
        },
      );
    }
    throw error;
  }
}

interface Planned {
  info: GgufTensorInfo;
  to: GgmlType;
}

/** Decide every tensor's type and refuse what cannot be done, before anything is written. */
function plan(
  file: GgufFile,
  ftype: LlamaFileType,
  options: QuantizeFileOptions,
): { planned: Planned[]; fallbacks: number } {
  const ordered = llamaTensorOrder(file.tensors);
  const state = createMixState(
    ordered.map((t) => t.name),
    mixModelOf(file),
    {
      ftype,
      pure: options.pure,
      outputTensorType: typeOption(options.outputTensorType, "--output-tensor-type"),
      tokenEmbeddingType: typeOption(options.tokenEmbeddingType, "--token-embedding-type"),
    },
  );
  const planned = ordered.map((info) => {
    const to = chooseTensorType(state, info);
    if (to !== info.type) {
      const from = codecFor(info.type);
      if (!from || from.activation) {
        throw new QuantizeError(
          "QUANTIZE_CANNOT_CONVERT",
          `tensor ${info.name}: cannot convert from type ${info.typeName} to ${GgmlType[to]}`,
        );
      }
      if (from.blockSize > 1 && !options.allowRequantize) {
        throw new QuantizeError(
          "QUANTIZE_REQUANTIZE_DISABLED",
          `tensor ${info.name} is already quantized (${info.typeName}); requantizing to ${GgmlType[to]} is disabled`,
          "requantizing loses quality: start from the F16/F32 model, or pass --allow-requantize",
        );
      }
      const codec = codecFor(to);
      if (!codec)
        throw new QuantizeError(
          "QUANTIZE_UNSUPPORTED_TYPE",
          `tensor ${info.name}: cannot produce ${GgmlType[to]}`,
        );
      if (info.shape[0] % codec.blockSize !== 0) {
        throw new QuantizeError(
          "QUANTIZE_BAD_ROW_LENGTH",
          `tensor ${info.name}: rows of ${info.shape[0]} elements cannot take ${GgmlType[to]} (block size ${codec.blockSize})`,
          "choose a type whose block size divides the row length (32-element types: q4_0, q5_0, q8_0, ...)",
        );
      }
    }
    return { info, to };
  });
  return { planned, fallbacks: state.nFallback };
}

/** The shape as gguf.cpp writes it: `ggml_n_dims` dimensions (trailing 1s dropped, at least one). */
function ggmlShape(shape: readonly number[]): number[] {
  let n = shape.length;
  while (n > 1 && shape[n - 1] === 1) n--;
  return shape.slice(0, Math.max(1, n));
}

/** The output's metadata: the input's, in order, with the quantization keys set last. */
function outputMetadata(file: GgufFile, ftype: LlamaFileType): Record<string, GgufTypedValue> {
  const metadata = typedMetadata(file);
  for (const key of [
    "general.quantization_version",
    "general.file_type",
    "split.no",
    "split.count",
    "split.tensors.count",
  ]) {
    delete metadata[key];
  }
  metadata["general.quantization_version"] = { type: "UINT32", value: 2 };
  metadata["general.file_type"] = { type: "UINT32", value: ftype };
  return metadata;
}

/**
 * Quantize a GGUF model like llama.cpp's llama-quantize. The input is a file path or a
 * QuantizeSource (closed when done either way). Throws QuantizeError / GgufError with a code; on
 * any failure no file is left under `outPath`.
 */
export async function quantizeGgufFile(
  inPath: string | QuantizeSource,
  outPath: string,
  options: QuantizeFileOptions,
): Promise<QuantizeSummary> {
  const ftype = typeof options.ftype === "string" ? ftypeFromName(options.ftype) : options.ftype;
  if (LlamaFileType[ftype] === undefined) ftypeFromName(String(ftype));
  if (typeof inPath === "string" && resolve(inPath) === resolve(outPath)) {
    throw new QuantizeError("QUANTIZE_BAD_ARGUMENT", `input and output are the same file: ${inPath}`);
  }
  const input = await openInput(inPath);
  let pool: WorkerPool | undefined;
  try {
    const { planned, fallbacks } = plan(input.file, ftype, options);
    const threads = Math.max(1, Math.floor(options.threads ?? 0) || availableParallelism());
    const elementsTotal = planned.reduce((sum, p) => sum + p.info.shape.reduce((a, b) => a * b, 1), 0);
    let elementsDone = 0;
    let tensorsDone = 0;
    const report = (tensorName?: string) =>
      options.onProgress?.({
        tensorsDone,
        tensorCount: planned.length,
        tensorName,
        elementsDone,
        elementsTotal,
      });
    if (planned.some((p) => p.to !== p.info.type)) pool = new WorkerPool(threads);
    const activePool = pool;

    async function* tensorData(p: Planned): AsyncGenerator<Uint8Array> {
      const { info, to } = p;
      const nPerRow = info.shape[0] ?? 1;
      const nRows = info.shape.slice(1).reduce((a, b) => a * b, 1);
      const rowsPerChunk = Math.max(1, Math.floor(CHUNK_ELEMENTS / nPerRow));
      const convert = to !== info.type;
      const depth = convert ? activePool!.size * 2 : 2;
      const pending: Promise<Uint8Array>[] = [];
      let next = 0;
      const submit = () => {
        const first = next;
        const count = Math.min(rowsPerChunk, nRows - first);
        next += count;
        const read = input.readRows(info, first, count);
        const converted = convert
          ? read.then((bytes) => activePool!.run(info.type, to, count * nPerRow, bytes))
          : read;
        const job = converted.then((out) => {
          elementsDone += count * nPerRow;
          return out;
        });
        job.catch(() => {}); // observed when its turn comes; never an unhandled rejection
        pending.push(job);
      };
      while (pending.length < depth && next < nRows) submit();
      while (pending.length > 0) {
        const out = await pending.shift()!;
        if (next < nRows) submit();
        report(info.name);
        yield out;
      }
      tensorsDone++;
    }

    report();
    const layout = await writeGgufFile(
      outPath,
      {
        metadata: outputMetadata(input.file, ftype),
        tensors: planned.map((p) => ({
          name: p.info.name,
          type: p.to,
          shape: ggmlShape(p.info.shape),
          data: () => tensorData(p),
        })),
      },
      { signal: options.signal },
    );
    report();
    return {
      ftype,
      tensors: planned.map((p, i) => ({
        name: p.info.name,
        shape: p.info.shape,
        from: p.info.type,
        to: p.to,
        bytes: layout.tensors[i].byteSize,
      })),
      inputBytes: input.file.fileSize,
      outputBytes: layout.totalSize,
      fallbacks,
    };
  } finally {
    await pool?.close();
    await input.close();
  }
}
