import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChatSampling, LoadModel } from "@cllama/chat";
import { type Command, InvalidArgumentError, Option } from "commander";
import { UsageError } from "../errors";
import { addExamples } from "../help";

export interface ChatOptions {
  model?: string;
  template: string;
  system?: string;
  nPredict?: number;
  temp?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  repeatLastN?: number;
  seed?: number;
  threads?: number;
  ctxSize?: number;
  fakeEngine?: boolean;
}

export const chatTemplates = ["auto", "alpaca", "llama2", "chatml"] as const;

/** Where the bundled demo model will live once it ships with the CLI (`cllama chat` without -m). */
export function demoModelPath(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/cli.js and src/commands/chat.ts both sit below the package root.
  for (const root of [join(here, ".."), join(here, "..", "..")]) {
    const candidate = join(root, "models", "demo.gguf");
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function registerChat(program: Command): void {
  const command = program
    .command("chat")
    .description(
      "The terminal chat: streamed answers, multi-turn, /help for commands.\n" +
        "Enter sends, Alt-Enter adds a line, Ctrl-C stops an answer, Ctrl-D quits.",
    )
    .option("-m, --model <file.gguf>", "the model (default: the bundled demo model)")
    .addOption(
      new Option("--template <name>", "chat template; auto takes it from the model")
        .choices(chatTemplates)
        .default("auto"),
    )
    .option("--system <text>", "system prompt")
    .option("-n, --n-predict <n>", "most tokens per answer", integer("n-predict", 1))
    .option("--temp <t>", "temperature; 0 is greedy", number("temp", 0))
    .option("--top-k <k>", "top-k sampling; 0 disables", integer("top-k", 0))
    .option("--top-p <p>", "top-p sampling; 1 disables", number("top-p", 0, 1))
    .option("--min-p <p>", "min-p sampling; 0 disables", number("min-p", 0, 1))
    .option("--repeat-penalty <r>", "repetition penalty; 1 disables", number("repeat-penalty", 0))
    .option(
      "--repeat-last-n <n>",
      "tokens the repetition penalty looks back over",
      integer("repeat-last-n", -1),
    )
    .option("--seed <s>", "random seed, for repeatable answers", integer("seed", 0))
    .option("-t, --threads <n>", "worker threads (default: all cores)", integer("threads", 1))
    .option("-c, --ctx-size <n>", "context size in tokens (default: the model's)", integer("ctx-size", 16))
    // A scripted engine with no model, for the end-to-end terminal tests and demos.
    .addOption(new Option("--fake-engine").hideHelp())
    .action(async (options: ChatOptions) => {
      const { load, label } = await chooseEngine(options);
      // Ink and React load only for the chat: every other command starts faster without them.
      const { runChat } = await import("@cllama/chat");
      await runChat({
        load,
        modelLabel: label,
        template: options.template,
        system: options.system,
        sampling: samplingFrom(options),
      });
      // Quitting while a big model is still loading leaves file reads in flight: do not make the
      // user wait for them. (Unref'd: fires only if something still holds the process open.)
      setTimeout(() => process.exit(), 300).unref();
    });
  addExamples(command, [
    ["cllama chat -m chinese-alpaca-2-7b-q4_0.gguf", "chat with a model (template from the GGUF)"],
    [
      'cllama chat -m model.gguf --template alpaca --system "你是一个乐于助人的助手。" --temp 0.2',
      "choose the template, a system prompt and the temperature",
    ],
    ["cllama chat -m model.gguf --temp 0 --seed 42", "repeatable answers"],
  ]);
}

export function samplingFrom(options: ChatOptions): ChatSampling {
  const sampling: ChatSampling = {
    temperature: options.temp,
    topK: options.topK,
    topP: options.topP,
    minP: options.minP,
    repeatPenalty: options.repeatPenalty,
    repeatLastN: options.repeatLastN,
    seed: options.seed,
    maxTokens: options.nPredict,
  };
  return Object.fromEntries(Object.entries(sampling).filter(([, v]) => v !== undefined)) as ChatSampling;
}

async function chooseEngine(options: ChatOptions): Promise<{ load: LoadModel; label: string }> {
  const { createFakeEngine, loadRuntimeModel } = await import("@cllama/chat");
  if (options.fakeEngine) {
    const delay = Number(process.env.CLLAMA_FAKE_ENGINE_DELAY_MS ?? 40);
    return {
      load: createFakeEngine({ charDelayMs: delay, loadDelayMs: 100 }).load,
      label: "demo (fake engine)",
    };
  }
  const path = options.model ?? demoModelPath();
  if (!path)
    throw new UsageError(
      "no model given, and the bundled demo model is not installed yet",
      "pass a GGUF model with -m, e.g. `cllama chat -m model.gguf` (`cllama pull` downloads one, `cllama synth` makes a tiny one)",
    );
  if (!existsSync(path))
    throw Object.assign(new Error(`model file ${path} not found`), {
      code: "ENOENT",
      hint: "check the path given to -m",
    });
  return {
    load: (onProgress) =>
      loadRuntimeModel(path, { threads: options.threads, contextSize: options.ctxSize, onProgress }),
    label: basename(path),
  };
}

function number(name: string, min: number, max = Number.POSITIVE_INFINITY) {
  return (raw: string): number => {
    const value = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(value) || value < min || value > max)
      throw new InvalidArgumentError(
        `--${name} must be a number${max === Number.POSITIVE_INFINITY ? ` >= ${min}` : ` from ${min} to ${max}`}`,
      );
    return value;
  };
}

function integer(name: string, min: number) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min)
      throw new InvalidArgumentError(`--${name} must be a whole number >= ${min}`);
    return value;
  };
}
