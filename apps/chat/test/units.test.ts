import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import stringWidth from "string-width";
import { describe, expect, it } from "vitest";
import { parseInput } from "../src/commands";
import { conversationFromJson, loadConversation, saveConversation } from "../src/conversation";
import { type EditorKey, type EditorState, editorInput, editorLines, emptyEditor } from "../src/input-editor";
import { wrapToWidth } from "../src/wrap";

describe("wrapToWidth", () => {
  it("counts Chinese characters as two cells", () => {
    const lines = wrapToWidth("床前明月光疑是地上霜", 8);
    expect(lines).toEqual(["床前明月", "光疑是地", "上霜"]);
    for (const line of lines) expect(stringWidth(line)).toBeLessThanOrEqual(8);
  });

  it("never splits a wide character across lines", () => {
    expect(wrapToWidth("ab中文", 3)).toEqual(["ab", "中", "文"]);
  });

  it("keeps explicit newlines", () => {
    expect(wrapToWidth("hi\nthere", 10)).toEqual(["hi", "there"]);
  });

  it("never starts a line with closing punctuation", () => {
    // "，" would start the second line: the character before it comes along.
    expect(wrapToWidth("你好世界，再见", 8)).toEqual(["你好世", "界，再见"]);
    expect(wrapToWidth("一二三四。", 8)).toEqual(["一二三", "四。"]);
  });

  it("keeps English words whole, breaking at spaces", () => {
    expect(wrapToWidth("我们用 Ctrl-C 停", 10)).toEqual(["我们用 ", "Ctrl-C 停"]);
    expect(wrapToWidth("hello world", 8)).toEqual(["hello ", "world"]);
    // A word longer than half a line is cut rather than leaving a mostly empty line.
    expect(wrapToWidth("ab supercalifragilistic", 10)).toEqual(["ab superca", "lifragilis", "tic"]);
  });

  it("loses no character and never overflows, on mixed text", () => {
    const text =
      "模型 Chinese-Alpaca-2 在“中文”任务上表现很好，速度 12.5 tok/s；上下文 4096 个 token。".repeat(3);
    for (const columns of [7, 10, 23, 40]) {
      const lines = wrapToWidth(text, columns);
      expect(lines.join("")).toBe(text);
      for (const line of lines) expect(stringWidth(line.trimEnd())).toBeLessThanOrEqual(columns);
    }
  });
});

describe("parseInput", () => {
  it("tells messages from commands", () => {
    expect(parseInput("  你好  ")).toEqual({ kind: "message", text: "你好" });
    expect(parseInput("//etc/hosts 是什么")).toEqual({ kind: "message", text: "/etc/hosts 是什么" });
    expect(parseInput("   ")).toEqual({ kind: "empty" });
    expect(parseInput("/reset")).toEqual({ kind: "command", command: { name: "reset" } });
    expect(parseInput("/system 你是一个乐于助人的助手。")).toEqual({
      kind: "command",
      command: { name: "system", text: "你是一个乐于助人的助手。" },
    });
    expect(parseInput("/temp 0.7")).toEqual({ kind: "command", command: { name: "temp", temperature: 0.7 } });
    expect(parseInput("/save chat.json")).toEqual({
      kind: "command",
      command: { name: "save", file: "chat.json" },
    });
    expect(parseInput("/EXIT")).toEqual({ kind: "command", command: { name: "exit" } });
  });

  it("explains a command used wrongly", () => {
    expect(parseInput("/temp hot")).toMatchObject({
      kind: "invalid",
      error: expect.stringContaining("0 to 5"),
    });
    expect(parseInput("/save")).toMatchObject({
      kind: "invalid",
      error: expect.stringContaining("file name"),
    });
    expect(parseInput("/frobnicate")).toMatchObject({
      kind: "invalid",
      error: expect.stringContaining("/help"),
    });
  });
});

/** Feeds keys like Ink would: (input, key) pairs. */
function type(
  state: EditorState,
  ...events: [string, EditorKey?][]
): { state: EditorState; submitted: string[] } {
  const submitted: string[] = [];
  for (const [input, key] of events) {
    const result = editorInput(state, input, key ?? {});
    state = result.state;
    if (result.submitted !== undefined) submitted.push(result.submitted);
  }
  return { state, submitted };
}

describe("input editor", () => {
  it("submits on Enter and clears", () => {
    const { state, submitted } = type(emptyEditor(), ["你"], ["好"], ["", { return: true }]);
    expect(submitted).toEqual(["你好"]);
    expect(state.text).toBe("");
  });

  it("inserts newlines with Alt-Enter, Shift-Enter, Ctrl-J and backslash-Enter", () => {
    const { state, submitted } = type(
      emptyEditor(),
      ["一"],
      ["", { return: true, meta: true }],
      ["二"],
      ["", { return: true, shift: true }],
      ["三"],
      ["\n"],
      ["四\\"],
      ["", { return: true }],
      ["五"],
    );
    expect(submitted).toEqual([]);
    expect(state.text).toBe("一\n二\n三\n四\n五");
    expect(editorLines(state)).toEqual({ lines: ["一", "二", "三", "四", "五"], row: 4, column: 1 });
  });

  it("keeps a bracketed paste's newlines, and a typed-ahead Enter submits", () => {
    const pasted = type(emptyEditor(), ["[200~"], ["第一行\r第二行"], ["", { return: true }], ["[201~"]);
    expect(pasted.submitted).toEqual([]);
    expect(pasted.state.text).toBe("第一行\n第二行\n");
    expect(type(emptyEditor(), ["你好\r"]).submitted).toEqual(["你好"]);
    expect(type(emptyEditor(), ["a\rb"]).state.text).toBe("a\nb"); // unbracketed paste
  });

  it("edits at the cursor, by characters not bytes", () => {
    const { state } = type(
      emptyEditor(),
      ["中文字"],
      ["", { leftArrow: true }],
      ["", { backspace: true }],
      ["X"],
      ["", { delete: true }],
    );
    expect(state.text).toBe("中字");
    expect(state.cursor).toBe(1);
  });

  it("recalls earlier messages with the arrows", () => {
    let { state } = type(emptyEditor(), ["一"], ["", { return: true }], ["二"], ["", { return: true }]);
    ({ state } = type(state, ["", { upArrow: true }]));
    expect(state.text).toBe("二");
    ({ state } = type(state, ["", { upArrow: true }]));
    expect(state.text).toBe("一");
    ({ state } = type(state, ["", { downArrow: true }], ["", { downArrow: true }]));
    expect(state.text).toBe("");
  });
});

describe("conversation files", () => {
  it("round-trips through /save's JSON, atomically", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cllama-chat-"));
    try {
      const path = join(dir, "chat.json");
      const conversation = {
        model: "tiny",
        template: "alpaca",
        system: "你是助手",
        sampling: { temperature: 0.2 },
        messages: [
          { role: "user" as const, text: "你好" },
          { role: "assistant" as const, text: "你好！" },
        ],
      };
      await saveConversation(path, conversation);
      expect(JSON.parse(await readFile(path, "utf8"))).toMatchObject({ format: "cllama-chat", version: 1 });
      await expect(loadConversation(path)).resolves.toMatchObject(conversation);
      await writeFile(path, '{"format": "cllama-chat", "version": 1, "messages": [{"role": "bot"}]}');
      await expect(loadConversation(path)).rejects.toThrow(/messages\[0\]/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("names what is wrong with a foreign file", () => {
    expect(() => conversationFromJson("[1]", "x.json")).toThrow(/x.json: expected a JSON object/);
    expect(() => conversationFromJson('{"format": "other"}')).toThrow(/"format" must be "cllama-chat"/);
    expect(() => conversationFromJson("{oops")).toThrow(/not JSON/);
  });
});
