/**
 * PyTorch zip checkpoints (`.bin`, `.pth`, torch >= 1.6): `<prefix>/data.pkl` (read by the safe
 * pickle reader) names storages whose bytes are the entries `<prefix>/data/<key>`.
 */
import { type DType, dtypeSize } from "./dtype";
import { fail } from "./errors";
import { type PickleTensor, type PickleValue, readPickle } from "./pickle";
import type { ByteSource } from "./source";
import { numel, shapeText, type TensorRef } from "./tensor";
import { readZip } from "./zip";

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: "F32",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
};

export async function readTorchCheckpoint(source: ByteSource): Promise<TensorRef[]> {
  const zip = await readZip(source);
  const pklName = [...zip.entries.keys()].find((n) => n === "data.pkl" || n.endsWith("/data.pkl"));
  if (!pklName) {
    fail(
      "LORA_BAD_ZIP",
      `${source.name}: no data.pkl inside; not a torch.save checkpoint`,
      "legacy (pre-1.6, non-zip) checkpoints are not supported: re-save with a recent torch.save",
    );
  }
  const prefix = pklName.slice(0, pklName.length - "data.pkl".length);
  const pkl = zip.open(pklName);
  const root = readPickle(await pkl.read(0, pkl.size), `${source.name}:${pklName}`);
  const dict = findStateDict(root);
  if (!dict) fail("LORA_BAD_PICKLE", `${source.name}: the pickle holds no dictionary of tensors`);
  const tensors: TensorRef[] = [];
  for (const [key, value] of dict) {
    if (typeof key !== "string" || !isTensor(value)) continue;
    tensors.push(tensorRef(key, value, source, (k) => `${prefix}data/${k}`, zip));
  }
  return tensors;
}

function isTensor(v: PickleValue): v is PickleTensor {
  return !!v && typeof v === "object" && "kind" in v && v.kind === "tensor";
}

function findStateDict(v: PickleValue): Map<PickleValue, PickleValue> | undefined {
  if (!(v instanceof Map)) return undefined;
  if ([...v.values()].some(isTensor)) return v;
  // wrappers some trainers use: {"model": {...}}, {"state_dict": {...}}, {"module": {...}}
  for (const key of ["state_dict", "model", "module"]) {
    const inner = v.get(key);
    if (inner instanceof Map) return findStateDict(inner);
  }
  return undefined;
}

function tensorRef(
  name: string,
  t: PickleTensor,
  source: ByteSource,
  entryName: (key: string) => string,
  zip: Awaited<ReturnType<typeof readZip>>,
): TensorRef {
  const dtype = STORAGE_DTYPES[t.storage.storageType];
  if (!dtype) {
    fail(
      "LORA_UNSUPPORTED_DTYPE",
      `${source.name}: tensor ${name} is a torch.${t.storage.storageType} (expected Float, Half or BFloat16)`,
      "only F32, F16 and BF16 weights can be merged or converted",
    );
  }
  const size = dtypeSize(dtype);
  const storage = zip.open(entryName(t.storage.key));
  if (storage.size < t.storage.numel * size) {
    fail(
      "LORA_TRUNCATED",
      `${source.name}: storage ${t.storage.key} of ${name} has ${storage.size} bytes, ${t.storage.numel} x ${dtype} needs ${t.storage.numel * size}`,
    );
  }
  const shape = t.size;
  const count = numel(shape);
  let last = t.offset;
  for (let d = 0; d < shape.length; d++) last += (shape[d]! - 1) * t.stride[d]!;
  if (count > 0 && (t.offset < 0 || last >= t.storage.numel)) {
    fail(
      "LORA_BAD_TENSOR",
      `${source.name}: tensor ${name} ${shapeText(shape)} (offset ${t.offset}, strides ${shapeText(t.stride)}) reaches element ${last} of a storage of ${t.storage.numel}`,
    );
  }
  const contiguous = isContiguous(shape, t.stride);
  return {
    name,
    dtype,
    shape,
    byteLength: count * size,
    file: source.name,
    async read() {
      if (count === 0) return new Uint8Array(0);
      if (contiguous) return storage.read(t.offset * size, count * size);
      const span = await storage.read(t.offset * size, (last - t.offset + 1) * size);
      return gather(span, shape, t.stride, size);
    },
  };
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}

/** Copy a strided view (e.g. a saved transpose) into row-major order. */
function gather(
  span: Uint8Array,
  shape: readonly number[],
  stride: readonly number[],
  size: number,
): Uint8Array {
  const count = numel(shape);
  const out = new Uint8Array(count * size);
  const index = new Array<number>(shape.length).fill(0);
  let src = 0;
  for (let i = 0; i < count; i++) {
    out.set(span.subarray(src * size, src * size + size), i * size);
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]!++;
      src += stride[d]!;
      if (index[d]! < shape[d]!) break;
      src -= stride[d]! * shape[d]!;
      index[d] = 0;
    }
  }
  return out;
}
