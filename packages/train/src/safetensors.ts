/** safetensors files of float32 tensors: write, and read back (for checkpoints). */
import { TrainError } from "./errors";

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export function encodeSafetensors(tensors: NamedTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: "pt", ...metadata } };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.data.length * 4;
    header[t.name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const raw = new TextEncoder().encode(JSON.stringify(header));
  // The data starts 8-aligned (the header is padded with spaces, as the Rust writer does).
  const head = new Uint8Array(raw.length + ((8 - (raw.length % 8)) % 8)).fill(0x20);
  head.set(raw);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let pos = 8 + head.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.length * 4), pos);
    pos += t.data.length * 4;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array, file = "safetensors"): Map<string, NamedTensor> {
  if (bytes.length < 8)
    throw new TrainError("TRAIN_BAD_CHECKPOINT", `${file}: ${bytes.length} bytes, no header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = Number(dv.getBigUint64(0, true));
  if (len > bytes.length - 8) {
    throw new TrainError(
      "TRAIN_BAD_CHECKPOINT",
      `${file}: header of ${len} bytes, ${bytes.length - 8} present`,
    );
  }
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + len;
  const out = new Map<string, NamedTensor>();
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    if (info.dtype !== "F32") {
      throw new TrainError(
        "TRAIN_BAD_CHECKPOINT",
        `${file}: ${name} is ${info.dtype}; training reads F32 tensors`,
      );
    }
    const [a, b] = info.data_offsets;
    const n = info.shape.reduce((x, y) => x * y, 1);
    if (b - a !== n * 4 || base + b > bytes.length) {
      throw new TrainError("TRAIN_BAD_CHECKPOINT", `${file}: ${name}: offsets [${a}, ${b}] do not fit`);
    }
    const data = new Float32Array(n);
    new Uint8Array(data.buffer).set(bytes.subarray(base + a, base + b));
    out.set(name, { name, shape: info.shape, data });
  }
  return out;
}
