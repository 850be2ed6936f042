export { type Checkpoint, type CheckpointFormat, openCheckpoint } from "./checkpoint";
export { type LlamaParams, paramsFromHfConfig, paramsFromMetaParams } from "./config";
export { type DeltaKernel, jsDeltaKernel } from "./delta";
export type { Directory } from "./directory";
export { convertDType, type DType, dtypeSize, f32ToF16, fromFloat32, toFloat32 } from "./dtype";
export { LoraMergeError, type LoraMergeErrorCode } from "./errors";
export {
  buildGguf,
  type FloatOutType,
  type GgufBuildOptions,
  ggufTensorData,
  tokenizerMetadata,
} from "./gguf";
export { expectedHfNames, hfToGgufName, metaToHfName, permuteHeadRows } from "./layout";
export {
  type MergeOptions,
  type MergePlan,
  type MergeStep,
  mergeTensor,
  type PlannedTensor,
  planMerge,
  vocabHint,
} from "./merge";
export { type LoraAdapter, type LoraPair, openLoraAdapter } from "./peft";
export { isAllowedGlobal, type PickleValue, readPickle } from "./pickle";
export { readSafetensors, type SafetensorsFile, safetensorsHeader } from "./safetensors";
export { type ByteSource, memorySource, sliceSource } from "./source";
export { numel, type TensorRef } from "./tensor";
export { readTorchCheckpoint } from "./torch";
export { countSentencePieces, readTokenizerInfo, type TokenizerInfo } from "./vocab";
export { wasmAvailable, wasmDeltaKernel } from "./wasm-kernel";
export { readZip, type ZipArchive, type ZipEntry } from "./zip";
