import type { Command } from "commander";
import { UsageError } from "../errors";
import { addExamples } from "../help";
import { readStdin } from "../io";
import { loadTokenizer } from "./tokenize";

function parseIds(source: string, words: string[]): number[] {
  const ids = words.map((word) => {
    const id = Number(word);
    if (word.trim() === "" || !Number.isInteger(id)) {
      throw new UsageError(
        `${source}: ${JSON.stringify(word)} is not a token id`,
        "ids are integers, e.g. 1 22172",
      );
    }
    return id;
  });
  return ids;
}

function parseStdinIds(text: string): number[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(
      "stdin is not a JSON array of ids",
      "pipe the output of `cllama tokenize`, e.g. [1,22172]",
    );
  }
  if (!Array.isArray(value)) throw new UsageError("stdin is not a JSON array of ids", "e.g. [1,22172]");
  return parseIds("stdin", value.map(String));
}

/** `cllama detokenize -m <model> [IDS...]`: the text of the ids (stdin: a JSON array). */
export function registerDetokenize(program: Command): void {
  const command = program
    .command("detokenize")
    .description(
      "Print the text of token ids (as sentencepiece decodes them). Without IDS, stdin is a JSON array.\n" +
        "The text is printed as is; a newline is added only when stdout is a terminal.",
    )
    .argument("[ids...]", "token ids (spaces or commas between them)")
    .option("-m, --model <file>", "tokenizer.model or a .gguf with tokenizer.ggml.* metadata")
    .action(async (words: string[], options: { model?: string }) => {
      const tokenizer = await loadTokenizer(options.model);
      const ids =
        words.length > 0
          ? parseIds(
              "arguments",
              words.flatMap((w) => w.replace(/^\[|\]$/g, "").split(",")).filter((w) => w.trim() !== ""),
            )
          : parseStdinIds(await readStdin());
      const text = tokenizer.decode(ids);
      process.stdout.write(process.stdout.isTTY ? `${text}\n` : text);
    });
  addExamples(command, [
    ["cllama detokenize -m tokenizer.model 1 22172 3186", "prints: hello world"],
    ['cllama tokenize -m tokenizer.model "你好" | cllama detokenize -m tokenizer.model', "round trip"],
  ]);
}
