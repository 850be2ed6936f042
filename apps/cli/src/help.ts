import type { Command } from "commander";

/**
 * Adds an "Examples:" section to a command's --help, so every command documents itself the same
 * way. Each example is `[command line, what it does]`.
 */
export function addExamples(command: Command, examples: [string, string][]): Command {
  const lines = examples.flatMap(([line, what]) => [`  # ${what}`, `  $ ${line}`]);
  return command.addHelpText("after", `\nExamples:\n${lines.join("\n")}\n`);
}
