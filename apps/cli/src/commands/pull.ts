import type { Command } from "commander";
import { addExamples } from "../help";
import { downloadHubFile } from "../hub";
import { withAbort } from "../io";
import { createProgress } from "../progress";

interface PullOptions {
  outputDir?: string;
  revision: string;
}

/** `cllama pull <repo> <file> [-o dir]`: prints the downloaded file's path on stdout. */
export function registerPull(program: Command): void {
  const command = program
    .command("pull")
    .description(
      "Download a file of a Hugging Face repo into the cache and print its path.\n" +
        "Resumes an interrupted download; verifies the hub's SHA-256.\n" +
        "Cache: $CLLAMA_CACHE or ~/.cache/cllama. Host: $CLLAMA_HF_ENDPOINT.\n" +
        "Gated repos: set HF_TOKEN.",
    )
    .argument("<repo>", "Hugging Face repo, <owner>/<name>")
    .argument("<file>", "path of the file inside the repo")
    .option("-o, --output-dir <dir>", "download into this folder instead of the cache")
    .option("--revision <rev>", "branch, tag or commit", "main")
    .action(async (repo: string, file: string, options: PullOptions) => {
      const bar = createProgress({ label: file.split("/").pop() ?? file, unit: "bytes" });
      try {
        const result = await withAbort((signal) =>
          downloadHubFile({
            repo,
            file,
            revision: options.revision,
            outDir: options.outputDir,
            signal,
            onProgress: bar.onProgress,
          }),
        );
        bar.done();
        if (!result.verifiedWith)
          process.stderr.write(
            "cllama: warning: the hub sent no checksum for this file; it was not verified\n",
          );
        process.stdout.write(`${result.path}\n`);
      } finally {
        bar.done();
      }
    });
  addExamples(command, [
    [
      "cllama pull hfl/chinese-alpaca-2-1.3b-gguf ggml-model-q4_0.gguf",
      "download into ~/.cache/cllama/hub/hfl--chinese-alpaca-2-1.3b-gguf/main/",
    ],
    ["cllama pull hfl/chinese-alpaca-2-1.3b-gguf ggml-model-q4_0.gguf -o models", "download into ./models"],
    [
      'cllama chat -m "$(cllama pull hfl/chinese-alpaca-2-1.3b-gguf ggml-model-q4_0.gguf)"',
      "download, then chat",
    ],
  ]);
}
