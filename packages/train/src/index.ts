export { checkConfig, configFromHf, hfConfigJson, type LlamaConfig } from "./config";
export { type Batch, type Example, ExampleSampler, exampleBatch, StreamSampler } from "./data";
export { TrainError, type TrainErrorCode } from "./errors";
export {
  type FileSet,
  hfCheckpointFiles,
  optimizerStateFiles,
  peftAdapterFiles,
  readHfCheckpoint,
  restoreOptimizer,
} from "./export";
export { kernelsMatmul } from "./kernels-matmul";
export { jsMatmul, type MatmulBackend, transpose } from "./matmul";
export {
  LlamaModel,
  LORA_TARGETS,
  type LoraOptions,
  type LoraState,
  type LoraTarget,
  type StepResult,
} from "./model";
export { AdamW, type AdamWOptions, learningRate, type ScheduleOptions } from "./optim";
export {
  countParams,
  getParam,
  initParams,
  type Param,
  type ParamStore,
  paramShapes,
  paramsFromTensors,
  Rng,
  zeroGrads,
} from "./params";
export { decodeSafetensors, encodeSafetensors, type NamedTensor } from "./safetensors";
export { evaluate, type TrainLogEntry, type TrainOptions, train } from "./trainer";
