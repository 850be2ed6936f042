/**
 * The built `cllama` as a script uses it: a synthesized model through inspect, quantize,
 * tokenize, run, perplexity and bench, checking exit codes and the JSON shapes of CLI.md (the
 * contract users script against), plus the one-line errors of bad input.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli.js");
const cllama = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], {
    encoding: "utf8",
    env: { ...process.env, CLLAMA_PROGRESS: "0" },
  });

let dir: string;
let model: string;
let quantized: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cllama-pipeline-"));
  model = join(dir, "tiny.gguf");
  quantized = join(dir, "tiny-q8_0.gguf");
  const synth = cllama("synth", "-o", model, "--preset", "tiny", "--seed", "3");
  expect(synth.status, synth.stderr).toBe(0);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One line of error plus a hint line, nothing else. */
function expectOneLineError(result: ReturnType<typeof cllama>, pattern: RegExp) {
  expect(result.status).toBe(2);
  expect(result.stdout).toBe("");
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^cllama: /);
  expect(lines[0]).toMatch(pattern);
  expect(lines[1]).toMatch(/^hint: \S/);
}

describe("a synthesized model through the CLI", () => {
  it("inspect --json: version, metadata, tensors with ggml type names and innermost-first shapes", () => {
    const result = cllama("inspect", model, "--json");
    expect(result.status).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.version).toBe(3);
    expect(json.metadata["general.architecture"]).toBe("llama");
    const embedding = json.tensors.find((t: { name: string }) => t.name === "token_embd.weight");
    expect(embedding).toMatchObject({ type: "F16", shape: [64, 512] });
    expect(Object.keys(embedding).sort()).toEqual(["bytes", "name", "offset", "shape", "type"]);
  });

  it("quantize writes the file atomically and inspect sees the new types", () => {
    const result = cllama("quantize", model, quantized, "Q8_0");
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(quantized)).toBe(true);
    expect(existsSync(`${quantized}.partial`)).toBe(false);
    const json = JSON.parse(cllama("inspect", quantized, "--json").stdout);
    const types = new Set(json.tensors.map((t: { type: string }) => t.type));
    expect(types.has("Q8_0")).toBe(true);
  });

  it("tokenize and detokenize round-trip with the model's vocabulary", () => {
    const ids = JSON.parse(cllama("tokenize", "-m", model, "你好 world").stdout);
    expect(Array.isArray(ids)).toBe(true);
    expect(ids.every((id: unknown) => Number.isInteger(id))).toBe(true);
    const text = cllama("detokenize", "-m", model, ...ids.map(String));
    expect(text.status).toBe(0);
    expect(text.stdout.trim()).toBe("你好 world");
  });

  it("run --json: prompt tokens with BOS, at most -n tokens, timings", () => {
    const result = cllama("run", "-m", quantized, "-p", "hello", "-n", "4", "--temp", "0", "--json");
    expect(result.status, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.prompt_tokens[0]).toBe(1);
    expect(json.tokens.length).toBeLessThanOrEqual(4);
    expect(typeof json.text).toBe("string");
    expect(Object.keys(json.timings).sort()).toEqual([
      "gen_ms",
      "gen_tps",
      "load_ms",
      "prompt_ms",
      "prompt_tps",
    ]);
    // Greedy is repeatable.
    const again = JSON.parse(
      cllama("run", "-m", quantized, "-p", "hello", "-n", "4", "--temp", "0", "--json").stdout,
    );
    expect(again.tokens).toEqual(json.tokens);
  });

  it("perplexity --json and bench --json have the contract's keys", () => {
    const text = join(dir, "text.txt");
    writeFileSync(text, "床前明月光，疑是地上霜。举头望明月，低头思故乡。The quick brown fox. ".repeat(8));
    const ppl = cllama("perplexity", "-m", model, "-f", text, "-c", "64", "--json");
    expect(ppl.status, ppl.stderr).toBe(0);
    const pplJson = JSON.parse(ppl.stdout);
    expect(Object.keys(pplJson).sort()).toEqual(["chunks", "ppl", "tokens"]);
    expect(pplJson.ppl).toBeGreaterThan(1);
    const bench = cllama("bench", "-m", model, "-p", "8", "-n", "4", "--json");
    expect(bench.status, bench.stderr).toBe(0);
    expect(Object.keys(JSON.parse(bench.stdout)).sort()).toEqual([
      "gen_tps",
      "load_ms",
      "peak_rss_mb",
      "prompt_tps",
    ]);
  });
});

describe("bad input: exit 2, one line and a hint", () => {
  it("a file that is not GGUF", () => {
    const text = join(dir, "notes.txt");
    writeFileSync(text, "hello");
    expectOneLineError(cllama("inspect", text), /notes\.txt/);
  });

  it("an unknown quantization type, leaving no output behind", () => {
    const out = join(dir, "never.gguf");
    expectOneLineError(cllama("quantize", model, out, "q9_9"), /q9_9/);
    expect(existsSync(out)).toBe(false);
  });

  it("a missing model file and a missing flag", () => {
    expectOneLineError(cllama("run", "-m", join(dir, "nope.gguf"), "-p", "hi"), /nope\.gguf/);
    expectOneLineError(cllama("run", "-p", "hi"), /-m/);
  });
});
