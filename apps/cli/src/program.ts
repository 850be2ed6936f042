import { Command, CommanderError } from "commander";
import { registerCommands } from "./commands/index";
import { exitCodeFor, formatError, UsageError } from "./errors";
import { version } from "./version";

export function buildProgram(): Command {
  const program = new Command("cllama")
    .description(
      "Chinese LLaMA / Alpaca and any LLaMA-family GGUF model from TypeScript:\n" +
        "merge LoRAs, convert, quantize, inspect, tokenize, run and chat.",
    )
    .version(version, "-v, --version")
    // Usage errors look like every other error: `cllama: <what>` then `hint: <what to do>`.
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, "cllama: ")) })
    .showHelpAfterError("hint: run `cllama --help` for the commands")
    .exitOverride();
  registerCommands(program);
  for (const command of program.commands)
    command.showHelpAfterError(`hint: run \`cllama ${command.name()} --help\` for its options and examples`);
  // Without a command, show help; an unknown one is a usage error (exit 2), not a silent no-op.
  program.argument("[command]").action((command?: string) => {
    if (command === undefined) program.help();
    throw new UsageError(`unknown command '${command}'`, "run `cllama --help` for the list of commands");
  });
  return program;
}

/** Runs the CLI and returns the process exit code (never calls process.exit itself). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed help/version/usage problems.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (process.env.CLLAMA_DEBUG === "1") console.error(error);
    console.error(formatError(error));
    return exitCodeFor(error);
  }
}
