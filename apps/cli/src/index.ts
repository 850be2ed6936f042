export { exitCodeFor, formatError, UsageError } from "./errors";
export { buildProgram, main } from "./program";
