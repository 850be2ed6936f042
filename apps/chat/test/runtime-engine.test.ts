import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GgmlType, synthLlama } from "@cllama/gguf-format";
import { writeGgufFile } from "@cllama/gguf-format/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatModel } from "../src/engine";
import { loadRuntimeModel } from "../src/runtime-engine";

let dir: string;
let model: ChatModel;
const progress: [number, number][] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cllama-chat-runtime-"));
  const path = join(dir, "tiny.gguf");
  const synth = synthLlama({ preset: "tiny", type: GgmlType.F32, seed: 11, name: "tiny-test" });
  await writeGgufFile(path, synth);
  model = await loadRuntimeModel(path, { onProgress: (done, total) => progress.push([done, total]) });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const greedy = { temperature: 0, maxTokens: 12 };

describe("the runtime engine behind the chat", () => {
  it("describes the model for the header, after a load that reported progress", () => {
    expect(model.name).toBe("tiny-test");
    expect(model.quantization).toBe("F32");
    expect(model.contextSize).toBe(512);
    expect(model.template).toBe("alpaca"); // a 512-piece vocabulary: not Chinese-LLaMA-2's
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)![0]).toBe(progress.at(-1)![1]);
  });

  it("streams the same text it returns, and counts tokens and context", async () => {
    const session = model.createSession({ sampling: greedy });
    let streamed = "";
    const result = await session.send("hello", { onText: (chunk) => (streamed += chunk) });
    expect(result.text).toBe(streamed.trim());
    expect(result.tokens).toBeGreaterThan(0);
    expect(result.tokens).toBeLessThanOrEqual(12);
    expect(result.tokensPerSecond).toBeGreaterThan(0);
    expect(session.contextUsed).toBeGreaterThan(result.tokens);
  });

  it("stops when the signal aborts, with stopReason aborted", async () => {
    const session = model.createSession({ sampling: { temperature: 0, maxTokens: 200 } });
    const controller = new AbortController();
    let chunks = 0;
    const result = await session.send("hello", {
      signal: controller.signal,
      onText: () => {
        if (++chunks === 3) controller.abort();
      },
    });
    expect(result.stopReason).toBe("aborted");
    expect(result.tokens).toBeLessThan(200);
  });

  it("is repeatable at temperature 0, and /temp changes sampling between turns", async () => {
    const a = model.createSession({ sampling: { temperature: 1, seed: 1, maxTokens: 12 } });
    const b = model.createSession({ sampling: { temperature: 1, seed: 1, maxTokens: 12 } });
    a.setSampling({ temperature: 0 });
    b.setSampling({ temperature: 0 });
    const ta = await a.send("abc", { onText: () => {} });
    const tb = await b.send("abc", { onText: () => {} });
    expect(ta.text).toBe(tb.text);
    const fresh = model.createSession({ sampling: greedy });
    expect((await fresh.send("abc", { onText: () => {} })).text).toBe(ta.text);
  });

  it("restores a saved conversation and keeps it across a new system prompt", async () => {
    const plain = model.createSession({ sampling: greedy, system: "a new system prompt" });
    await plain.send("q", { onText: () => {} });
    const alone = plain.contextUsed;

    const restored = model.createSession({ sampling: greedy });
    await restored.restore([
      { role: "user", text: "an earlier question" },
      { role: "assistant", text: "an earlier answer" },
    ]);
    restored.setSystem("a new system prompt");
    await restored.send("q", { onText: () => {} });
    // The earlier exchange and the system prompt are in the context now.
    expect(restored.contextUsed).toBeGreaterThan(alone + 10);

    restored.reset();
    expect(restored.contextUsed).toBe(0);
  });
});
