import { open, readFile } from "node:fs/promises";
import { openGgufFile } from "@cllama/gguf-format/node";
import { SentencePieceTokenizer } from "@cllama/tokenizer";
import type { Command } from "commander";
import { UsageError } from "../errors";
import { addExamples } from "../help";
import { readStdin } from "../io";

/** A tokenizer from a SentencePiece `.model` file or from a GGUF's `tokenizer.ggml.*` metadata. */
export async function loadTokenizer(path: string | undefined): Promise<SentencePieceTokenizer> {
  if (!path) throw new UsageError("missing -m <tokenizer.model or model.gguf>", "pass the tokenizer with -m");
  const fh = await open(path, "r");
  const magic = new Uint8Array(4);
  try {
    await fh.read(magic, 0, 4, 0);
  } finally {
    await fh.close();
  }
  if (new TextDecoder().decode(magic) === "GGUF") {
    const gguf = await openGgufFile(path);
    try {
      return SentencePieceTokenizer.fromGgufMetadata(gguf.file.metadata, path);
    } finally {
      await gguf.close();
    }
  }
  return SentencePieceTokenizer.fromModelProto(new Uint8Array(await readFile(path)), path);
}

interface TokenizeOptions {
  model?: string;
  bos?: boolean;
  eos?: boolean;
  special?: boolean;
  lines?: boolean;
  pieces?: boolean;
}

/** `cllama tokenize -m <model> [--bos] [--eos] [--special] [--lines] [--pieces] [TEXT...]` */
export function registerTokenize(program: Command): void {
  const command = program
    .command("tokenize")
    .description(
      "Print the token ids of TEXT (or of stdin, taken exactly, trailing newline included) as one JSON array.\n" +
        "Same ids as sentencepiece. No BOS unless --bos.",
    )
    .argument("[text...]", "text to tokenize (joined with spaces); stdin when absent")
    .option(
      "-m, --model <file>",
      "tokenizer.model (SentencePiece BPE) or a .gguf with tokenizer.ggml.* metadata",
    )
    .option("--bos", "prepend the BOS id")
    .option("--eos", "append the EOS id")
    .option("--special", "parse special tokens (<s>, </s>, <unk>) written in the text")
    .option("--lines", "one JSON array per line of the input (lines without their \\n)")
    .option("--pieces", "print piece strings instead of ids")
    .action(async (words: string[], options: TokenizeOptions) => {
      const tokenizer = await loadTokenizer(options.model);
      const text = words.length > 0 ? words.join(" ") : await readStdin();
      const encodeOptions = { bos: options.bos, eos: options.eos, special: options.special };
      const render = (input: string) => {
        const ids = tokenizer.encode(input, encodeOptions);
        return JSON.stringify(options.pieces ? ids.map((id) => tokenizer.idToPiece(id)) : ids);
      };
      let inputs = [text];
      if (options.lines) {
        inputs = text.split("\n");
        if (inputs.length > 1 && inputs.at(-1) === "") inputs.pop(); // the final newline ends the last line
      }
      process.stdout.write(`${inputs.map(render).join("\n")}\n`);
    });
  addExamples(command, [
    ['cllama tokenize -m tokenizer.model "你好，世界"', "ids of the text"],
    [
      'cllama tokenize -m model.gguf --bos --pieces "Hello world"',
      "pieces, with BOS, using a GGUF's vocabulary",
    ],
    ["cllama tokenize -m tokenizer.model --lines < prompts.txt", "one array per line"],
  ]);
}
