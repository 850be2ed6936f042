import { Command, CommanderError } from "commander";
import { registerCommands } from "./commands/index";
import { exitCodeFor, formatError, UsageError } from "./errors";
import { addExamples } from "./help";
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
  for (const command of program.commands) {
    command.showHelpAfterError(`hint: run \`cllama ${command.name()} --help\` for its options and examples`);
    // The command list shows one line per command: the first sentence of its description.
    if (!command.summary()) command.summary(firstSentence(command.description()));
  }
  program.usage("<command> [options]");
  addExamples(program, [
    ["cllama synth -o tiny.gguf --preset tiny", "a tiny random model to try things on"],
    ["cllama inspect tiny.gguf", "its metadata and tensors"],
    ["cllama chat -m tiny.gguf", "chat with it (random weights: the answers are noise)"],
    ["cllama pull <owner>/<repo> <file.gguf>", "download a real model from the Hugging Face hub"],
    ["cllama <command> --help", "every command's options and examples"],
  ]);
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

/** "Do X (details): more. Next sentence" -> "Do X", short enough for one line of the command list. */
export function firstSentence(description: string, max = 80): string {
  const flat = description.replace(/\s*\n\s*/g, " ").trim();
  let sentence = /^(.+?)[.:。](\s|$)/.exec(flat)?.[1] ?? flat;
  if (sentence.length > max) sentence = sentence.replace(/\s*\(.*$/, "");
  if (sentence.length > max) sentence = `${sentence.slice(0, max - 1).replace(/\s+\S*$/, "")}…`;
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}
