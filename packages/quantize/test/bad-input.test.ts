/**
 * Bad input: clear typed errors, and never a file (partial or not) under the output name.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GgmlType } from "@cllama/gguf-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QuantizeError } from "../src/index";
import { quantizeGgufFile } from "../src/node";
import { writeSynthModel } from "./synth";

const dir = mkdtempSync(join(tmpdir(), "quantize-bad-"));
const small = join(dir, "small.gguf");
const odd = join(dir, "odd.gguf");
const quantized = join(dir, "q8.gguf");
const out = join(dir, "out.gguf");

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "no error";
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return (error as QuantizeError).code;
  }
}

function leftovers(): string[] {
  return readdirSync(dir).filter((f) => f.startsWith("out.gguf"));
}

beforeAll(async () => {
  await writeSynthModel(small, {
    dim: 64,
    ff: 256,
    layers: 2,
    heads: 2,
    kvHeads: 2,
    vocab: 40,
    type: GgmlType.F16,
    seed: 5,
  });
  // rows of 48: not a multiple of 32, no ggml block type fits
  await writeSynthModel(odd, {
    dim: 48,
    ff: 64,
    layers: 1,
    heads: 2,
    kvHeads: 2,
    vocab: 32,
    type: GgmlType.F32,
    seed: 6,
  });
  await writeSynthModel(quantized, {
    dim: 64,
    ff: 256,
    layers: 2,
    heads: 2,
    kvHeads: 2,
    vocab: 40,
    type: GgmlType.Q8_0,
    seed: 7,
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bad input", () => {
  it("a type a tensor cannot take", async () => {
    // token_embd rows of 64 cannot be Q4_K (256-element blocks); llama.cpp would abort in ggml
    expect(await codeOf(quantizeGgufFile(small, out, { ftype: "q8_0", tokenEmbeddingType: "q4_k" }))).toBe(
      "QUANTIZE_BAD_ROW_LENGTH",
    );
    // rows of 48 fit no block (llama.cpp: "no tensor type fallback is defined for type q4_0")
    expect(await codeOf(quantizeGgufFile(odd, out, { ftype: "q4_0" }))).toBe("QUANTIZE_BAD_ROW_LENGTH");
    expect(await codeOf(quantizeGgufFile(small, out, { ftype: "iq2_xxs" }))).toBe("QUANTIZE_UNKNOWN_FTYPE");
    expect(await codeOf(quantizeGgufFile(small, out, { ftype: "q4_0", outputTensorType: "iq4_nl" }))).toBe(
      "QUANTIZE_UNSUPPORTED_TYPE",
    );
    expect(leftovers()).toEqual([]);
  });

  it("a quantized input without allowRequantize (and with it)", async () => {
    const error = await quantizeGgufFile(quantized, out, { ftype: "q4_0" }).catch((e) => e);
    expect(error).toBeInstanceOf(QuantizeError);
    expect(error.code).toBe("QUANTIZE_REQUANTIZE_DISABLED");
    expect(error.message).toMatch(/token_embd\.weight is already quantized \(Q8_0\)/);
    expect(error.hint).toMatch(/--allow-requantize/);
    expect(leftovers()).toEqual([]);
    // the same type as the input is a plain copy, no requantization needed
    await quantizeGgufFile(quantized, out, { ftype: "q8_0" });
    await quantizeGgufFile(quantized, out, { ftype: "q4_0", allowRequantize: true });
    rmSync(out);
  });

  it("an input that is not GGUF, and one that is cut short", async () => {
    const text = join(dir, "notes.txt");
    writeFileSync(text, "this is not a model\n".repeat(10));
    const error = await quantizeGgufFile(text, out, { ftype: "q4_0" }).catch((e) => e);
    expect(error.code).toBe("QUANTIZE_NOT_GGUF");
    expect(error.message).toContain(text);
    const truncated = join(dir, "truncated.gguf");
    writeFileSync(truncated, execFileSync("head", ["-c", "300", small]));
    expect(await codeOf(quantizeGgufFile(truncated, out, { ftype: "q4_0" }))).toMatch(
      /^(QUANTIZE_NOT_GGUF|GGUF_)/,
    );
    expect(await codeOf(quantizeGgufFile(join(dir, "missing.gguf"), out, { ftype: "q4_0" }))).toBe("ENOENT");
    expect(leftovers()).toEqual([]);
  });

  it("an interrupted run leaves nothing under the output name", async () => {
    const controller = new AbortController();
    const run = quantizeGgufFile(small, out, {
      ftype: "q4_k_m",
      signal: controller.signal,
      onProgress: (p) => {
        if (p.tensorsDone >= 2) controller.abort();
      },
    });
    await expect(run).rejects.toThrow();
    expect(leftovers()).toEqual([]);
  });

  // A real full disk: a 64 KiB tmpfs (needs mount rights, as root in CI containers).
  const tiny = join(dir, "tiny");
  mkdirSync(tiny);
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", tiny]).status === 0;
  it.skipIf(!mounted)("a full disk: ENOSPC, no partial file", async () => {
    try {
      const target = join(tiny, "out.gguf");
      expect(await codeOf(quantizeGgufFile(small, target, { ftype: "f16" }))).toBe("ENOSPC");
      expect(existsSync(target)).toBe(false);
      expect(readdirSync(tiny)).toEqual([]);
    } finally {
      spawnSync("umount", [tiny]);
    }
  });
});
