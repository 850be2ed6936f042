/** cllama tokenize / detokenize / merge-vocab, run through the built binary on the fixture models. */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fixtureNames, fixturePath } from "@cllama/tooling/fixtures";
import { afterAll, describe, expect, it } from "vitest";

const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli.js");
const run = (args: string[], input?: string) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", input: input ?? "" });

const llama = fixturePath(fixtureNames.llamaModel);
const chineseSp = fixturePath(fixtureNames.chineseSpModel);
const gguf = fixturePath(fixtureNames.llamaCppVocab);
const have = !!(llama && chineseSp && gguf);
const tmp = mkdtempSync(join(tmpdir(), "cllama-tokenize-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!have)("cllama tokenize", () => {
  it("prints the ids of TEXT as one JSON array (sentencepiece's ids, no BOS)", () => {
    const r = run(["tokenize", "-m", llama!, "hello", "world"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("[22172,3186]\n");
  });

  it("--bos --eos --pieces", () => {
    const r = run(["tokenize", "-m", llama!, "--bos", "--eos", "--pieces", "你好 world"]);
    expect(JSON.parse(r.stdout)).toEqual(["<s>", "▁", "你", "好", "▁world", "</s>"]);
  });

  it("reads stdin exactly, or line by line with --lines", () => {
    expect(run(["tokenize", "-m", llama!], "hello\n").stdout).toBe("[22172,13]\n");
    const r = run(["tokenize", "-m", llama!, "--lines"], "a b\n你好\n\n");
    expect(r.stdout).toBe("[263,289]\n[29871,30919,31076]\n[]\n");
  });

  it("--special parses control tokens; a .gguf works as -m", () => {
    expect(run(["tokenize", "-m", gguf!, "<s>hi</s>"]).stdout).not.toMatch(/^\[1,/);
    expect(run(["tokenize", "-m", gguf!, "--special", "<s>hi</s>"]).stdout).toBe("[1,7251,2]\n");
  });

  it("refuses a unigram model with exit 2 and a hint", () => {
    const r = run(["tokenize", "-m", chineseSp!, "hi"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unigram SentencePiece model/);
    expect(r.stderr).toMatch(/^hint: /m);
  });

  it("exits 2 for a missing -m or a missing file", () => {
    expect(run(["tokenize", "hi"]).status).toBe(2);
    expect(run(["tokenize", "-m", join(tmp, "nope.model"), "hi"]).status).toBe(2);
  });

  it("exits 2 on a truncated .model", () => {
    const cut = join(tmp, "cut.model");
    writeFileSync(cut, readFileSync(llama!).subarray(0, 1000));
    const r = run(["tokenize", "-m", cut, "hi"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/truncated/);
  });
});

describe.skipIf(!have)("cllama detokenize", () => {
  it("prints the text of IDS or of a JSON array on stdin", () => {
    expect(run(["detokenize", "-m", llama!, "1", "22172", "3186"]).stdout).toBe("hello world");
    expect(run(["detokenize", "-m", llama!], "[29871,30919,31076]").stdout).toBe("你好");
    expect(run(["detokenize", "-m", gguf!, "22172,3186"]).stdout).toBe("hello world");
  });

  it("exits 2 for ids out of range or not ids", () => {
    const r = run(["detokenize", "-m", llama!, "32000"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/out of range/);
    expect(run(["detokenize", "-m", llama!, "abc"]).status).toBe(2);
    expect(run(["detokenize", "-m", llama!], "not json").status).toBe(2);
  });
});

describe.skipIf(!have)("cllama merge-vocab", () => {
  const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

  it("LLaMA + chinese_sp.model gives the published Chinese-LLaMA and Chinese-Alpaca models", () => {
    const out = join(tmp, "chinese-llama.model");
    const r = run(["merge-vocab", llama!, chineseSp!, "-o", out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^kept 32000, added 17953, total 49953/);
    expect(sha(out)).toBe("e2676d4ca29ca1750f6ff203328d73b189321dc5776ceede037cbd36541d70c0");
    const alpaca = join(tmp, "chinese-alpaca.model");
    expect(run(["merge-vocab", llama!, chineseSp!, "-o", alpaca, "--pad-token", "[PAD]"]).status).toBe(0);
    expect(sha(alpaca)).toBe("2d967e855b1213a439df6c8ce2791f869c84b4f3b6cfacf22b86440b8192a2f8");
    expect(run(["tokenize", "-m", out, "10 123"]).stdout).toBe("[34363,36055,29941]\n");
  });

  it("exits 2 when an input is not a SentencePiece model, leaving no output", () => {
    const notModel = join(tmp, "notes.txt");
    writeFileSync(notModel, "just some text\n");
    const out = join(tmp, "bad.model");
    const r = run(["merge-vocab", llama!, notModel, "-o", out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/notes\.txt is not a SentencePiece model/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });
});
