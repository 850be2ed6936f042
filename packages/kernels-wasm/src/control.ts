// Layout of the shared control block through which the calling thread hands work to the pool.
// Int32 slots of a SharedArrayBuffer; the worker source (worker-source.ts) reads the same layout.

export const SEQ = 0; // bumped once per dispatch; workers wait on it
export const DONE = 1; // workers that acknowledged an OP_YIELD
export const NJOBS = 2; // jobs in the current dispatch
export const OP = 3; // OP_RUN or OP_YIELD
export const NTHREADS = 4;
export const ERROR = 5; // set by a worker whose kernel threw
export const OP_SEQ = 6; // the SEQ value OP belongs to (a late worker must not act on a newer OP)
// Work is split into chunks that threads claim one at a time, so a thread the OS has descheduled
// (these machines are shared) delays nobody: the others take its chunks.
export const NEXT = 7; // (SEQ & 0x7ff) << 20 | next unclaimed chunk
export const NCHUNKS = 8;
export const CHUNK_UNITS = 9; // units per chunk
export const CHUNKS_DONE = 10;
export const TOTAL_UNITS = 11;
export const JOBS = 16;
export const JOB_SLOTS = 32;
export const MAX_JOBS = 16;
export const MAX_ARGS = 20;
export const CONTROL_INTS = JOBS + JOB_SLOTS * MAX_JOBS;

// Offsets inside one job record.
export const J_FN = 0; // index into KERNEL_FUNCTIONS
export const J_ARENA = 1; // which memory's instance runs it
export const J_U0 = 2; // global work-unit range of the job
export const J_U1 = 3;
export const J_SCALE = 4; // the kernel's range = [u*scale, min(u*scale, limit))
export const J_LIMIT = 5;
export const J_NARGS = 6;
export const J_FLOATS = 7; // bit i: argument i is a float32
export const J_TID_ARG = 8; // -1, or the argument that gets + thread index * J_TID_STRIDE
export const J_TID_STRIDE = 9;
export const J_ARGS = 10;

export const OP_RUN = 0;
export const OP_YIELD = 1;

/** Exports of the wasm module, in the order job records name them. */
export const KERNEL_FUNCTIONS = [
  "quantizeQ8",
  "quantizeQ8K",
  "roundRows",
  "matmul",
  "rmsNorm",
  "siluMul",
  "softmax",
  "rope",
  "add",
  "mul",
  "attention",
  "attentionHeads",
  "storeF16",
  "dequantizeRows",
  "matmulTiled",
] as const;
export type KernelFunction = (typeof KERNEL_FUNCTIONS)[number];
export const FN: Record<KernelFunction, number> = Object.fromEntries(
  KERNEL_FUNCTIONS.map((name, i) => [name, i]),
) as Record<KernelFunction, number>;

/** The tag of dispatch `seq` in the NEXT slot. */
export function chunkTag(seq: number): number {
  return (seq & 0x7ff) << 20;
}
export const CHUNK_INDEX_MASK = 0xfffff;
