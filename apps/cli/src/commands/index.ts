import type { Command } from "commander";
import { registerBench } from "./bench";
import { registerChat } from "./chat";
import { registerConvert } from "./convert";
import { registerDetokenize } from "./detokenize";
import { registerInspect } from "./inspect";
import { registerMergeLora } from "./merge-lora";
import { registerMergeVocab } from "./merge-vocab";
import { registerPerplexity } from "./perplexity";
import { registerPull } from "./pull";
import { registerQuantize } from "./quantize";
import { registerRun } from "./run";
import { registerSynth } from "./synth";
import { registerTokenize } from "./tokenize";

/**
 * Every command of the contract in CLI.md registers here, one module per command, each thin
 * over its package: `import { registerX } from "./x";` above and `registerX(program);` below.
 * Keep this list in the order of CLI.md. Shared helpers: ../progress (createProgress),
 * ../io (withAbort, readStdin), ../help (addExamples), ../errors (UsageError).
 */
export function registerCommands(program: Command): void {
  registerTokenize(program);
  registerDetokenize(program);
  registerMergeVocab(program);
  registerInspect(program);
  registerConvert(program);
  registerMergeLora(program);
  registerQuantize(program);
  registerSynth(program);
  registerRun(program);
  registerChat(program);
  registerPerplexity(program);
  registerBench(program);
  registerPull(program);
}
