import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { render } from "ink-testing-library";
import stringWidth from "string-width";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChatApp } from "../src/App";
import { Header } from "../src/components/Header";
import { Transcript } from "../src/components/Transcript";
import { createFakeEngine } from "../src/fake-engine";

const ENTER = "\r";
const CTRL_C = "\x03";
const CTRL_D = "\x04";
const strip = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "cllama-chat-app-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The chat on a fake engine, as a user sees it; `screen()` is the last frame without colours. */
async function startChat(options: Parameters<typeof createFakeEngine>[0] = {}, system?: string) {
  const engine = createFakeEngine({ charDelayMs: 5, ...options });
  const onExit = vi.fn();
  const app = render(
    <ChatApp load={engine.load} modelLabel="tiny.gguf" cwd={dir} system={system} onExit={onExit} />,
  );
  const screen = () => strip(app.lastFrame() ?? "");
  await until(() => expect(screen()).toContain("/help for commands"));
  const session = () => engine.model.sessions[0]!;
  /** Types like a person: one key event per write. */
  const type = async (text: string) => {
    for (const char of text) {
      app.stdin.write(char);
      await tick();
    }
  };
  return { app, engine, screen, session, type, onExit };
}

/** Waits for a condition; generous, because CI machines can be slow and busy. */
const until = (check: () => void) => vi.waitFor(check, { timeout: 15_000, interval: 20 });

const tick = () => new Promise((resolve) => setTimeout(resolve, 2));

describe("ChatApp", () => {
  it("shows a load progress bar, then the header with model, quantization and context", async () => {
    const engine = createFakeEngine({ loadSteps: 4, loadDelayMs: 80, name: "tiny-zh", quantization: "Q4_0" });
    const app = render(<ChatApp load={engine.load} modelLabel="tiny.gguf" cwd={dir} />);
    await until(() => expect(strip(app.lastFrame() ?? "")).toMatch(/Loading tiny\.gguf .*\d+%/));
    await until(() => expect(strip(app.lastFrame() ?? "")).toContain("tiny-zh · Q4_0 · ctx 0/2048 (0%)"));
    const progress = app.frames.map(strip).filter((f) => f.includes("Loading"));
    const percents = [...new Set(progress.map((f) => Number(f.match(/(\d+)%/)?.[1])))];
    expect(percents.length).toBeGreaterThanOrEqual(2); // the bar moves...
    expect(percents).toEqual([...percents].sort((a, b) => a - b)); // ...forwards
    app.unmount();
  });

  it("streams the answer incrementally, then shows tokens/s and context use", async () => {
    const answer = "床前明月光，疑是地上霜。举头望明月，低头思故乡。";
    const { app, screen, type } = await startChat({ reply: () => answer, charDelayMs: 20 });
    await type("背一首诗");
    app.stdin.write(ENTER);
    await until(() => expect(screen()).toContain("低头思故乡。"));
    // It streamed: frames showed growing prefixes of the answer before the whole of it.
    const partials = new Set(
      app.frames
        .map((f) => /AI: (\S+)/.exec(strip(f))?.[1])
        .filter((text): text is string => !!text && text !== answer && answer.startsWith(text)),
    );
    expect(partials.size).toBeGreaterThanOrEqual(3);
    await until(() => expect(screen()).toMatch(/\d+\.\d tok\/s/));
    expect(screen()).toContain("你: 背一首诗");
    expect(screen()).toMatch(/ctx 28\/2048/); // 4 + 24 characters in the fake's context
    app.unmount();
  });

  it("Ctrl-C aborts the answer (the engine's signal), keeps the conversation, Ctrl-C again quits", async () => {
    const story = "从前有座山，山里有座庙，庙里有个老和尚在给小和尚讲故事。".repeat(5);
    const { app, screen, session, type, onExit } = await startChat({
      charDelayMs: 20,
      reply: (q) => (q === "继续" ? "好的" : story),
    });
    await type("讲个长故事");
    app.stdin.write(ENTER);
    await until(() => expect(screen()).toMatch(/AI: 从前有座山/));
    app.stdin.write(CTRL_C);
    await until(() => expect(screen()).toContain("[stopped]"));
    expect(session().signals[0]!.aborted).toBe(true);
    expect(onExit).not.toHaveBeenCalled();
    // The answer kept is a part of the story, cut where Ctrl-C arrived (no bound on how far it
    // got: a busy machine may deliver the key late).
    const stoppedAt = session().history[1]!.text;
    expect(stoppedAt.length).toBeLessThan(story.length);
    expect(story.startsWith(stoppedAt)).toBe(true);
    // The conversation goes on.
    await type("继续");
    app.stdin.write(ENTER);
    await until(() => expect(session().history).toHaveLength(4));
    await until(() => expect(screen()).toContain("Enter sends"));
    app.stdin.write(CTRL_C);
    expect(onExit).toHaveBeenCalledTimes(1);
  });

  it("Ctrl-C first clears a half-typed line; Ctrl-D quits", async () => {
    const { app, screen, type, onExit } = await startChat();
    await type("草稿");
    await until(() => expect(screen()).toContain("› 草稿"));
    app.stdin.write(CTRL_C);
    await until(() => expect(screen()).not.toContain("草稿"));
    expect(onExit).not.toHaveBeenCalled();
    app.stdin.write(CTRL_D);
    expect(onExit).toHaveBeenCalledTimes(1);
  });

  it("/reset clears the conversation and the context", async () => {
    const { app, screen, session, type } = await startChat({ reply: () => "好的。" });
    await type("你好");
    app.stdin.write(ENTER);
    await until(() => expect(session().history).toHaveLength(2));
    await until(() => expect(screen()).not.toContain("ctx 0/"));
    await type("/reset");
    app.stdin.write(ENTER);
    await until(() => expect(screen()).toContain("— new conversation —"));
    expect(session().history).toEqual([]);
    expect(screen()).toContain("ctx 0/2048");
    // /save now writes an empty conversation
    await type("/save empty.json");
    app.stdin.write(ENTER);
    await until(() => expect(screen()).toContain("saved 0 messages"));
    app.unmount();
  });

  it("/save writes the conversation as JSON and /load restores it", async () => {
    const { app, screen, session, type } = await startChat({ reply: (q) => `答：${q}` });
    await type("/system 你是诗人");
    app.stdin.write(ENTER);
    await type("/temp 0.5");
    app.stdin.write(ENTER);
    for (const q of ["第一问", "第二问"]) {
      await type(q);
      app.stdin.write(ENTER);
      await until(() => expect(screen()).toContain(`AI: 答：${q}`));
    }
    await type("/save chat.json");
    app.stdin.write(ENTER);
    await until(() => expect(screen()).toContain("saved 4 messages to chat.json"));
    const saved = JSON.parse(await readFile(join(dir, "chat.json"), "utf8"));
    expect(saved).toMatchObject({
      format: "cllama-chat",
      version: 1,
      system: "你是诗人",
      sampling: { temperature: 0.5 },
      messages: [
        { role: "user", text: "第一问" },
        { role: "assistant", text: "答：第一问" },
        { role: "user", text: "第二问" },
        { role: "assistant", text: "答：第二问" },
      ],
    });

    await type("/reset");
    app.stdin.write(ENTER);
    await type("/system 别的");
    app.stdin.write(ENTER);
    await until(() => expect(session().system).toBe("别的"));
    await type("/load chat.json");
    app.stdin.write(ENTER);
    await until(() => expect(screen()).toContain("— loaded 4 messages from chat.json —"));
    expect(session().history).toEqual(saved.messages);
    expect(session().system).toBe("你是诗人");
    expect(session().sampling.temperature).toBe(0.5);
    app.unmount();
  });

  it("/load of a missing or foreign file is an error line, and the chat goes on", async () => {
    const { app, screen, type } = await startChat();
    await type("/load nope.json");
    app.stdin.write(ENTER);
    await until(() => expect(screen()).toMatch(/error: ENOENT/));
    await type("/help");
    app.stdin.write(ENTER);
    await until(() => expect(screen()).toContain("/system <text>"));
    app.unmount();
  });

  it("/temp and /stats report the settings and the figures", async () => {
    const { app, screen, session, type } = await startChat({ reply: () => "一二三四五", name: "tiny-zh" });
    await type("/temp 0");
    app.stdin.write(ENTER);
    await until(() => expect(screen()).toContain("temperature 0 (greedy)"));
    expect(session().sampling.temperature).toBe(0);
    await type("hi");
    app.stdin.write(ENTER);
    await until(() => expect(screen()).toContain("AI: 一二三四五"));
    await type("/stats");
    app.stdin.write(ENTER);
    await until(() => expect(screen()).toContain("answers 1 · tokens generated 5"));
    expect(screen()).toMatch(/context 7\/2048/);
    expect(screen()).toContain("model tiny-zh");
    app.unmount();
  });

  it("says when the context is full and how to go on", async () => {
    const { app, screen, type } = await startChat({ contextSize: 40, reply: () => "很长的回答".repeat(20) });
    await type("你好");
    app.stdin.write(ENTER);
    await until(() => expect(screen()).toContain("the context is full (40 tokens): /reset"));
    expect(screen()).toContain("ctx 40/40 (100%)");
    app.unmount();
  });

  it("sends a multi-line message typed with Alt-Enter", async () => {
    const { app, screen, session, type } = await startChat({ reply: () => "收到" });
    await type("第一行");
    app.stdin.write("\x1b\r"); // Alt-Enter
    await type("第二行");
    await until(() => expect(screen()).toMatch(/› 第一行\n\s+第二行/));
    app.stdin.write(ENTER);
    await until(() => expect(session().history[0]).toEqual({ role: "user", text: "第一行\n第二行" }));
    app.unmount();
  });

  it("shows a load failure as the app's exit error", async () => {
    const failing = async () => {
      throw Object.assign(new Error("tiny.gguf: bad magic"), { code: "GGUF_BAD_MAGIC" });
    };
    const app = render(<ChatApp load={failing} modelLabel="tiny.gguf" />);
    await tick();
    expect(strip(app.lastFrame() ?? "")).not.toContain("cllama chat ·");
    app.unmount();
  });
});

describe("layout with wide characters", () => {
  it("wraps Chinese answers so continuation lines start under the first", () => {
    const text = "这是一个很长的中文回答，".repeat(12);
    const { lastFrame } = render(<Transcript messages={[{ role: "assistant", text }]} columns={40} />);
    const lines = strip(lastFrame() ?? "").split("\n");
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(stringWidth(line)).toBeLessThanOrEqual(40);
    expect(lines[0]!.startsWith("AI: 这")).toBe(true);
    for (const line of lines.slice(1)) expect(line.startsWith("    ")).toBe(true); // under the text
    // No character lost or broken by the wrapping.
    expect(lines.map((l, i) => (i === 0 ? l.slice(4) : l.slice(4)).trimEnd()).join("")).toBe(text);
  });

  it("lines up the user's wide label with the assistant's", () => {
    const { lastFrame } = render(
      <Transcript
        messages={[
          { role: "user", text: "你好" },
          { role: "assistant", text: "你好！有什么可以帮你？" },
        ]}
      />,
    );
    const lines = strip(lastFrame() ?? "").split("\n");
    expect(lines[0]).toBe("你: 你好");
    expect(lines[1]).toBe("AI: 你好！有什么可以帮你？");
    expect(stringWidth(lines[0]!.split(" ")[0]!)).toBe(stringWidth(lines[1]!.split(" ")[0]!));
  });

  it("colours context use by how full it is", () => {
    const { lastFrame } = render(
      <Header model="m" quantization="Q8_0" contextUsed={1900} contextSize={2048} tokensPerSecond={12.34} />,
    );
    expect(strip(lastFrame() ?? "")).toBe("m · Q8_0 · ctx 1900/2048 (93%) · 12.3 tok/s");
  });
});
