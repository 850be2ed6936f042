/**
 * The WebAssembly build of the quantizers (assembly/index.ts): same algorithms as
 * src/blocks/*.ts with native float32 arithmetic, about 4x faster. Instantiated synchronously on
 * first use, one instance per thread; where synchronous compilation is refused (a browser's main
 * thread limits it to small modules) the TypeScript quantizers run instead.
 */
import { GgmlType } from "@cllama/gguf-format";
import { wasmBase64 } from "./wasm-bytes";

interface Exports {
  memory: WebAssembly.Memory;
  DATA_END: WebAssembly.Global;
  f16ToF32Row(x: number, y: number, n: number): void;
  bf16ToF32Row(x: number, y: number, n: number): void;
  [name: string]: unknown;
}

type BlockFn = (x: number, y: number, nb: number) => void;

let instance: Exports | null | undefined;
let enabled = true;

/** Turn the WebAssembly quantizers off (tests compare both implementations with ggml). */
export function setWasmEnabled(on: boolean): void {
  enabled = on;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  if (typeof Buffer !== "undefined") return new Uint8Array(Buffer.from(text, "base64"));
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function wasm(): Exports | null {
  if (!enabled) return null;
  if (instance === undefined) {
    try {
      const module = new WebAssembly.Module(decodeBase64(wasmBase64) as Uint8Array<ArrayBuffer>);
      instance = new WebAssembly.Instance(module, {
        env: {
          abort: () => {
            throw new Error("quantize wasm abort");
          },
        },
      }).exports as unknown as Exports;
    } catch {
      instance = null;
    }
  }
  return instance;
}

const FUNCTIONS: Partial<Record<GgmlType, string>> = {
  [GgmlType.Q4_0]: "quantizeQ4_0",
  [GgmlType.Q4_1]: "quantizeQ4_1",
  [GgmlType.Q5_0]: "quantizeQ5_0",
  [GgmlType.Q5_1]: "quantizeQ5_1",
  [GgmlType.Q8_0]: "quantizeQ8_0",
  [GgmlType.Q8_1]: "quantizeQ8_1",
  [GgmlType.Q2_K]: "quantizeQ2_K",
  [GgmlType.Q3_K]: "quantizeQ3_K",
  [GgmlType.Q4_K]: "quantizeQ4_K",
  [GgmlType.Q5_K]: "quantizeQ5_K",
  [GgmlType.Q6_K]: "quantizeQ6_K",
  [GgmlType.Q8_K]: "quantizeQ8_K",
};

function ensureMemory(w: Exports, bytes: number): Uint8Array {
  const need = (w.DATA_END.value as number) + bytes;
  const have = w.memory.buffer.byteLength;
  if (need > have) w.memory.grow(Math.ceil((need - have) / 65536));
  return new Uint8Array(w.memory.buffer);
}

/** True when the WebAssembly build has a quantizer for `type` (and is available here). */
export function wasmQuantizes(type: GgmlType): boolean {
  return FUNCTIONS[type] !== undefined && wasm() !== null;
}

/**
 * Quantize `nb` blocks (of `blockSize` elements, `typeSize` bytes) from x[xo..] into y[yo..] in
 * WebAssembly. Returns false when the WebAssembly build is not available.
 */
export function wasmQuantizeBlocks(
  type: GgmlType,
  blockSize: number,
  typeSize: number,
  x: Float32Array,
  xo: number,
  y: Uint8Array,
  yo: number,
  nb: number,
): boolean {
  const w = wasm();
  const name = FUNCTIONS[type];
  if (!w || !name) return false;
  const n = nb * blockSize;
  const outBytes = nb * typeSize;
  const mem = ensureMemory(w, n * 4 + outBytes);
  const base = w.DATA_END.value as number;
  new Float32Array(mem.buffer, base, n).set(x.subarray(xo, xo + n));
  (w[name] as BlockFn)(base, base + n * 4, nb);
  y.set(mem.subarray(base + n * 4, base + n * 4 + outBytes), yo);
  return true;
}

/**
 * Rows of F16 or BF16 bytes (or F32) straight to `dstType` inside WebAssembly: the half to float
 * conversion happens there too. Undefined when not available for these types.
 */
export function wasmConvertHalfRows(
  srcType: GgmlType,
  src: Uint8Array,
  n: number,
  dstType: GgmlType,
  blockSize: number,
  typeSize: number,
): Uint8Array | undefined {
  const w = wasm();
  const name = FUNCTIONS[dstType];
  if (!w || !name) return undefined;
  if (srcType !== GgmlType.F16 && srcType !== GgmlType.BF16 && srcType !== GgmlType.F32) return undefined;
  const nb = n / blockSize;
  const outBytes = nb * typeSize;
  const mem = ensureMemory(w, src.length + n * 4 + outBytes);
  const base = w.DATA_END.value as number;
  const floats = base + src.length + ((4 - (src.length % 4)) % 4);
  if (srcType === GgmlType.F32) {
    mem.set(src, floats);
  } else {
    mem.set(src, base);
    (srcType === GgmlType.F16 ? w.f16ToF32Row : w.bf16ToF32Row)(base, floats, n);
  }
  const out = floats + n * 4;
  ensureMemory(w, out - base + outBytes);
  (w[name] as BlockFn)(floats, out, nb);
  return new Uint8Array(w.memory.buffer).slice(out, out + outBytes);
}
