/**
 * @cllama/gguf-format: read and write GGUF files exactly as llama.cpp does.
 * Isomorphic core (bytes, DataView, Blob); Node file access lives in `@cllama/gguf-format/node`.
 */
export { GgufError, type GgufErrorCode, type GgufErrorDetails } from "./errors";
export { fp32ToFp16 } from "./half";
export {
  blobSource,
  bytesSource,
  type GgufByteSource,
  type GgufFileHandle,
  type OpenGgufOptions,
  openGguf,
  openGgufBlob,
} from "./lazy";
export {
  getMetadata,
  type LlamaHparams,
  type LlamaHparamsInput,
  llamaMetadata,
  type RopeScaling,
  readLlamaHparams,
} from "./llama";
export {
  findTensor,
  type GgufFile,
  type GgufTensorInfo,
  hasLlamaCppLayout,
  type ParseOptions,
  parseGguf,
  parseGgufHeader,
  tensorData,
} from "./reader";
export {
  byteLevelVocabMetadata,
  type QuantizeRowsFn,
  resolveSynthDims,
  type SynthDims,
  type SynthLlamaOptions,
  type SynthLlamaResult,
  type SynthPreset,
  synthLlama,
  synthPresets,
} from "./synth";
export { isTypedValue, toTypedValue, typedMetadata } from "./typed";
export {
  elementCount,
  fileTypeForGgmlType,
  GGML_MAX_DIMS,
  GGML_MAX_NAME,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GgmlType,
  type GgmlTypeInfo,
  GgufValueType,
  type GgufValueTypeName,
  ggmlTypeFromName,
  ggmlTypeInfo,
  ggmlTypes,
  isGgmlType,
  LlamaFileType,
  llamaFileTypeName,
  rowByteSize,
  tensorByteSize,
} from "./types";
export type {
  GgufArrayValue,
  GgufScalar,
  GgufTypeDescriptor,
  GgufTypedArray,
  GgufTypedValue,
  GgufValue,
} from "./values";
export {
  alignUp,
  type GgufLayout,
  type GgufSink,
  type GgufTensorInput,
  type GgufTensorSpec,
  type GgufWriteInput,
  type GgufWriteOptions,
  type GgufWriteProgress,
  rewriteOptions,
  serializeGgufHeader,
  type TensorDataSource,
  writeGguf,
  writeGgufToBytes,
} from "./writer";
