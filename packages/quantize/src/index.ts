/**
 * @cllama/quantize: ggml block formats byte-identical to llama.cpp's reference quantizer, and
 * llama-quantize's type mixes. Isomorphic; the GGUF file quantizer (worker threads, files) lives
 * in `@cllama/quantize/node`.
 */
export { type BlockCodec, codecFor, supportedTypes } from "./codecs";
export { QuantizeError, type QuantizeErrorCode } from "./errors";
export { defaultTypeForFtype, ftypeFromName, supportedFtypeNames } from "./ftype";
export { bf16ToFp32, fp16ToFp32, fp32ToBf16, fp32ToFp16 } from "./half";
export {
  chooseTensorType,
  createMixState,
  llamaTensorOrder,
  type MixModel,
  type MixOptions,
  type MixState,
  type MixTensor,
  planTensorTypes,
  tensorAllowsQuantization,
} from "./mix";
export {
  canQuantize,
  dequantizeInto,
  dequantizeRow,
  quantizedSize,
  quantizeInto,
  quantizeRow,
  quantizeRows,
} from "./rows";
