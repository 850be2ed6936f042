export { exitCodeFor, formatError, UsageError } from "./errors";
export { InterruptedError, readStdin, readStdinBytes, throwIfInterrupted, withAbort } from "./io";
export { buildProgram, main } from "./program";
export {
  createProgress,
  formatAmount,
  formatDuration,
  formatProgressLine,
  type Progress,
  type ProgressOptions,
  type ProgressUnit,
} from "./progress";
