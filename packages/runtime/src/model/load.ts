import {
  bytesSource,
  type GgufByteSource,
  type GgufFile,
  type GgufFileHandle,
  type GgufTensorInfo,
  openGguf,
} from "@cllama/gguf-format";
import { RuntimeError } from "../errors";
import { type ModelHparams, readModelHparams, validateTensors } from "./hparams";
import type { LlamaWeights } from "./reference";
import { floatVector, WeightMatrix } from "./weights";

export interface LoadProgress {
  /** Bytes of tensor data read so far, and in all. */
  loaded: number;
  total: number;
}

export interface ValidatedModel {
  file: GgufFile;
  hparams: ModelHparams;
  tensors: Map<string, GgufTensorInfo>;
  weightBytes: number;
}

/** Reads the header of any byte source and checks the model before any tensor data is read. */
export async function openAndValidate(
  source: GgufByteSource,
  name: string,
): Promise<{ handle: GgufFileHandle } & ValidatedModel> {
  let handle: GgufFileHandle;
  try {
    handle = await openGguf(source);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string") throw error;
    throw new RuntimeError(
      "RUNTIME_BAD_HPARAMS",
      `${name}: not a readable GGUF file: ${(error as Error).message}`,
    );
  }
  try {
    const hparams = readModelHparams(handle.file, name);
    const tensors = validateTensors(handle.file, hparams, name);
    const weightBytes = [...tensors.values()].reduce((sum, t) => sum + t.byteSize, 0);
    return { handle, file: handle.file, hparams, tensors, weightBytes };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Bytes of an fp16 KV cache of `contextSize` cells (what llama.cpp allocates). */
export function kvCacheBytes(h: ModelHparams, contextSize: number): number {
  return 2 * h.nLayer * contextSize * h.nHeadKv * h.headDim * 2;
}

/** Reads every weight into memory as its file encoding. */
export async function readWeights(
  handle: GgufFileHandle,
  model: ValidatedModel,
  onProgress?: (p: LoadProgress) => void,
): Promise<LlamaWeights> {
  const total = model.weightBytes;
  let loaded = 0;
  const bytes = new Map<string, Uint8Array>();
  for (const [name, info] of model.tensors) {
    bytes.set(name, await handle.readTensor(info));
    loaded += info.byteSize;
    onProgress?.({ loaded, total });
  }
  const h = model.hparams;
  const matrix = (name: string) => WeightMatrix.fromTensor(model.tensors.get(name)!, bytes.get(name)!);
  const vector = (name: string) => floatVector(bytes.get(name)!, h.nEmbd);
  const tokenEmbd = matrix("token_embd.weight");
  return {
    tokenEmbd,
    outputNorm: vector("output_norm.weight"),
    output: h.tiedEmbeddings ? tokenEmbd : matrix("output.weight"),
    layers: Array.from({ length: h.nLayer }, (_, i) => ({
      attnNorm: vector(`blk.${i}.attn_norm.weight`),
      q: matrix(`blk.${i}.attn_q.weight`),
      k: matrix(`blk.${i}.attn_k.weight`),
      v: matrix(`blk.${i}.attn_v.weight`),
      o: matrix(`blk.${i}.attn_output.weight`),
      ffnNorm: vector(`blk.${i}.ffn_norm.weight`),
      gate: matrix(`blk.${i}.ffn_gate.weight`),
      up: matrix(`blk.${i}.ffn_up.weight`),
      down: matrix(`blk.${i}.ffn_down.weight`),
    })),
  };
}

export function sourceOf(input: Uint8Array | ArrayBuffer | GgufByteSource): GgufByteSource {
  if (input instanceof Uint8Array || input instanceof ArrayBuffer) return bytesSource(input);
  return input;
}
