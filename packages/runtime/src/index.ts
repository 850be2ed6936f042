export { RuntimeError, type RuntimeErrorCode } from "./errors";
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
