export { KernelsError, type KernelsErrorCode } from "./errors";
export {
  type AttentionParams,
  createKernels,
  type KBuffer,
  Kernels,
  type KernelsOptions,
  type KWeights,
  type PoolWorker,
  type WorkerSpawner,
} from "./kernels";
export { type RopeParams, ropeAngles } from "./rope";
export {
  type ActivationKind,
  activationRowBytes,
  isSupportedWeightType,
  WeightType,
  weightRowBytes,
  weightTypeInfo,
} from "./types";
export { kernelsModule } from "./wasm-binary";
