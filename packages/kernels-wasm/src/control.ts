// Layout of the shared control block through which the calling thread hands work to the pool.
// Int32 slots of a SharedArrayBuffer; the worker source (worker-source.ts) reads the same layout.

export const SEQ = 0; // bumped once per dispatch; workers wait on it
export const DONE = 1; // workers that finished the current dispatch
export const NJOBS = 2; // jobs in the current dispatch (0 with OP_YIELD)
export const OP = 3; // 0 run jobs, 1 yield to the event loop (to receive a message)
export const NTHREADS = 4;
export const ERROR = 5; // set by a worker whose kernel threw
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
  "storeF16",
  "dequantizeRows",
  "matmulTiled",
] as const;
export type KernelFunction = (typeof KERNEL_FUNCTIONS)[number];
export const FN: Record<KernelFunction, number> = Object.fromEntries(
  KERNEL_FUNCTIONS.map((name, i) => [name, i]),
) as Record<KernelFunction, number>;

/** Unit range [a, b) of `total` units that thread `tid` of `threads` takes. */
export function threadSlice(total: number, tid: number, threads: number): [number, number] {
  return [Math.floor((total * tid) / threads), Math.floor((total * (tid + 1)) / threads)];
}
