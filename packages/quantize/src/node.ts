/**
 * `@cllama/quantize/node`: quantize GGUF files on disk with worker threads.
 */
export {
  mixModelOf,
  type QuantizedTensor,
  type QuantizeFileOptions,
  type QuantizeProgress,
  type QuantizeSource,
  type QuantizeSummary,
  quantizeGgufFile,
} from "./quantize-file";
