/**
 * `pnpm bench`: quantize a LLaMA-7B-shape F16 GGUF to Q4_0 and Q4_K_M with our quantizeGgufFile
 * and with llama.cpp's llama_model_quantize (node-llama-cpp's libllama, same thread count, same
 * input, same run), check the outputs are identical, and write the `quantize` section of
 * BENCHMARKS.md. Needs ~22 GB free under $QUANTIZE_BENCH_DIR (default /work/tmp/quantize-bench).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { markdownTable, writeBenchSection } from "@cllama/tooling/bench";
import { llamaCppLibDir } from "@cllama/tooling/oracles";
import { ftypeFromName } from "../src/index";
import { LLAMA_7B, writeSynth7B } from "./synth-7b";

const dir = process.env.QUANTIZE_BENCH_DIR ?? "/work/tmp/quantize-bench";
const threads = Number(process.env.QUANTIZE_BENCH_THREADS ?? 2);
const types = (process.env.QUANTIZE_BENCH_TYPES ?? "q4_0,q4_k_m").split(",");
const here = new URL(".", import.meta.url).pathname;
const libDir = llamaCppLibDir();
if (!libDir) throw new Error("llama.cpp oracle not installed: run tooling/oracle/install.sh");

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

mkdirSync(dir, { recursive: true });
const input = join(dir, "synth-7b-f16.gguf");
try {
  if (!existsSync(input)) {
    const t = performance.now();
    await writeSynth7B(input);
    console.log(
      `wrote ${input} (${(statSync(input).size / 1e9).toFixed(2)} GB) in ${((performance.now() - t) / 1000).toFixed(0)} s`,
    );
  }
  const rows: (string | number)[][] = [];
  for (const type of types) {
    const ftype = ftypeFromName(type);
    const theirs = join(dir, `llama-${type}.gguf`);
    const ours = join(dir, `ours-${type}.gguf`);
    const llama = JSON.parse(
      execFileSync(
        "/usr/bin/python3",
        [
          join(here, "../../../tooling/golden/quantize-llama.py"),
          libDir,
          input,
          theirs,
          String(ftype),
          String(threads),
        ],
        { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
      ),
    ) as { seconds: number };
    const us = JSON.parse(
      execFileSync(process.execPath, [join(here, "quantize-child.mjs"), input, ours, type, String(threads)], {
        encoding: "utf8",
      }),
    ) as { seconds: number; maxRssMiB: number };
    const same = (await sha256(ours)) === (await sha256(theirs));
    console.log(type, { llama: llama.seconds, ours: us.seconds, rss: us.maxRssMiB, same });
    rows.push([
      type.toUpperCase(),
      `${llama.seconds.toFixed(1)} s`,
      `${us.seconds.toFixed(1)} s`,
      `${(us.seconds / llama.seconds).toFixed(2)}x`,
      `${us.maxRssMiB.toFixed(0)} MiB`,
      `${(statSync(ours).size / 1e9).toFixed(2)} GB`,
      same ? "yes" : "NO",
    ]);
    rmSync(ours, { force: true });
    rmSync(theirs, { force: true });
  }
  writeBenchSection(
    "quantize",
    [
      "## quantize",
      "",
      `\`pnpm bench\` in packages/quantize: a LLaMA-7B-shape F16 GGUF (dim ${LLAMA_7B.dim}, ff ${LLAMA_7B.ff}, ${LLAMA_7B.layers} layers, vocab ${LLAMA_7B.vocab}; 13.5 GB, random weights) quantized by llama.cpp's \`llama_model_quantize\` (node-llama-cpp 3.21.1's libllama, native) and by our \`quantizeGgufFile\`, ${threads} threads each, one after the other in the same run. "Same file" compares SHA-256 of the two outputs. Other jobs shared the 2 cores during the run: compare the ratio, not the absolute times.`,
      "",
      markdownTable(
        ["type", "llama.cpp", "cllama", "time ratio", "cllama peak RSS", "output", "same file"],
        rows,
      ),
    ].join("\n"),
  );
} finally {
  if (process.env.QUANTIZE_BENCH_KEEP !== "1") rmSync(dir, { recursive: true, force: true });
}
