export { ChatSession, type ChatSessionOptions, type SendOptions, type SendResult } from "./chat/session";
export {
  ALPACA_SYSTEM,
  ALPACA2_SYSTEM,
  alpacaTemplate,
  type BuiltinTemplateName,
  builtinTemplates,
  type ChatMessage,
  type ChatTemplate,
  chatmlTemplate,
  jinjaTemplate,
  llama2Template,
  resolveTemplate,
} from "./chat/templates";
export { type GenerateOptions, type GenerateResult, InferenceContext, type StopReason } from "./context";
export { RuntimeError, type RuntimeErrorCode } from "./errors";
export {
  type CompletionOptions,
  type CompletionResult,
  type LoadModelOptions,
  loadModel,
  Model,
} from "./model";
export { type ModelHparams, type RopeParams, readModelHparams, validateTensors } from "./model/hparams";
export type { LoadProgress } from "./model/load";
export { type ForwardBackend, matmul, ReferenceBackend } from "./model/reference";
export { negLogLikelihood, type PerplexityResult, perplexityOfTokens } from "./perplexity";
export { Candidates } from "./sampling/candidates";
export { Mt19937 } from "./sampling/mt19937";
export {
  chineseAlpacaSamplingDefaults,
  llamaCppSamplingDefaults,
  type ResolvedSamplingOptions,
  resolveSamplingOptions,
  type SamplingOptions,
} from "./sampling/options";
export { Sampler } from "./sampling/sampler";
export { StopMatcher } from "./sampling/stop";
