// One shared WebAssembly.Memory with a bump allocator. A memory holds at most 4 GiB, so a model
// larger than that spreads its weights over several arenas.

import { KernelsError } from "./errors";

export const PAGE = 65536;
export const MAX_PAGES = 65536;
/** The first page stays free: the module's own (tiny) static data lives there, and 0 means "none". */
const FIRST_ALLOCATION = PAGE;

export type KernelExports = Record<string, (...args: number[]) => number>;

export class Arena {
  readonly index: number;
  readonly memory: WebAssembly.Memory;
  readonly exports: KernelExports;
  /** Next free byte. */
  top = FIRST_ALLOCATION;
  /** Named scratch regions (reallocated larger when needed). */
  readonly scratch = new Map<string, { ptr: number; bytes: number }>();

  constructor(index: number, memory: WebAssembly.Memory, module: WebAssembly.Module) {
    this.index = index;
    this.memory = memory;
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    this.exports = instance.exports as unknown as KernelExports;
  }

  static create(index: number, module: WebAssembly.Module, initialBytes: number): Arena {
    const initial = Math.max(2, Math.ceil(initialBytes / PAGE));
    const memory = new WebAssembly.Memory({ initial, maximum: MAX_PAGES, shared: true });
    return new Arena(index, memory, module);
  }

  get capacity(): number {
    return MAX_PAGES * PAGE;
  }

  get free(): number {
    return this.capacity - this.top;
  }

  /** Reserve `bytes` (64-byte aligned), growing the memory; throws KERNELS_OUT_OF_MEMORY past 4 GiB. */
  alloc(bytes: number, what: string): number {
    const ptr = Math.ceil(this.top / 64) * 64;
    const end = ptr + Math.ceil(bytes / 64) * 64;
    if (end > this.capacity) {
      throw new KernelsError(
        "KERNELS_OUT_OF_MEMORY",
        `memory ${this.index}: ${what} needs ${bytes} bytes at offset ${ptr}, past the 4 GiB limit of one WebAssembly memory`,
        "allocate the weights with uploadWeights (which opens new memories) or use a smaller context",
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE));
      } catch (e) {
        throw new KernelsError(
          "KERNELS_OUT_OF_MEMORY",
          `memory ${this.index}: cannot grow to ${end} bytes for ${what} (${(e as Error).message})`,
        );
      }
    }
    this.top = end;
    return ptr;
  }

  /** A named scratch region of at least `bytes`. */
  scratchRegion(name: string, bytes: number): number {
    const have = this.scratch.get(name);
    if (have && have.bytes >= bytes) return have.ptr;
    const size = Math.max(bytes, (have?.bytes ?? 0) * 2);
    const ptr = this.alloc(size, `scratch ${name}`);
    this.scratch.set(name, { ptr, bytes: size });
    return ptr;
  }

  bytesView(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, length);
  }
}
