import { open, readFile, rename, rm } from "node:fs/promises";
import { mergeVocab } from "@cllama/tokenizer";
import type { Command } from "commander";
import { UsageError } from "../errors";
import { addExamples } from "../help";

/** Write `name.partial`, fsync, rename: never a truncated file under the final name. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const partial = `${path}.partial`;
  try {
    const fh = await open(partial, "w");
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** `cllama merge-vocab <base.model> <extra.model> -o <out.model> [--pad-token <piece>]` */
export function registerMergeVocab(program: Command): void {
  const command = program
    .command("merge-vocab")
    .description(
      "The Chinese vocabulary merge (Chinese-LLaMA-Alpaca's merge_tokenizers.py): keep every piece of\n" +
        "the base model, append the extra model's pieces it lacks (score 0), optionally a pad piece.",
    )
    .argument("<base>", "base SentencePiece model (LLaMA's tokenizer.model)")
    .argument("<extra>", "extra SentencePiece model (e.g. chinese_sp.model)")
    .option("-o, --output <file>", "merged tokenizer.model to write")
    .option("--pad-token <piece>", 'append this piece at the end (Chinese-Alpaca: "[PAD]")')
    .action(async (base: string, extra: string, options: { output?: string; padToken?: string }) => {
      if (!options.output) throw new UsageError("missing -o <out.model>", "name the merged model to write");
      const result = mergeVocab(new Uint8Array(await readFile(base)), new Uint8Array(await readFile(extra)), {
        padToken: options.padToken,
        baseName: base,
        extraName: extra,
      });
      await writeAtomically(options.output, result.bytes);
      process.stdout.write(
        `kept ${result.kept}, added ${result.added}, total ${result.total} (${result.skipped} pieces of ${extra} were already in ${base}) -> ${options.output}\n`,
      );
    });
  addExamples(command, [
    [
      "cllama merge-vocab llama/tokenizer.model chinese_sp.model -o chinese-llama/tokenizer.model",
      "Chinese-LLaMA's 49953-piece tokenizer",
    ],
    [
      'cllama merge-vocab llama/tokenizer.model chinese_sp.model -o chinese-alpaca/tokenizer.model --pad-token "[PAD]"',
      "Chinese-Alpaca's 49954-piece tokenizer",
    ],
  ]);
}
