/**
 * End to end, in a real terminal: the built `cllama` runs inside tmux and we type and read the
 * screen like a person (tooling/e2e/tmux.ts). Needs tmux; required where CI runs (CI=true or
 * CLLAMA_REQUIRE_ORACLES=1), skipped with a note elsewhere.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultFakeReply } from "@cllama/chat";
import { fixturePath } from "@cllama/tooling/fixtures";
import { afterEach, describe, expect, it } from "vitest";
import { TmuxTerminal, tmuxAvailable } from "../../../tooling/e2e/tmux";
import { randomBytes, startFakeHub } from "./helpers/fake-hub";

const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli.js");
const haveTmux = tmuxAvailable();
const tmuxRequired = process.env.CI === "true" || process.env.CLLAMA_REQUIRE_ORACLES === "1";

/** Display width: CJK and full-width forms take two cells. */
const cells = (line: string) =>
  Array.from(line).reduce(
    (n, ch) =>
      n +
      (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(
        ch,
      )
        ? 2
        : 1),
    0,
  );

/** The assistant's text on screen: the "AI:" line and its continuation lines, joined. */
function answerOnScreen(screen: string): string {
  const lines = screen.split("\n");
  const start = lines.findIndex((l) => l.startsWith("AI: "));
  if (start < 0) return "";
  const parts = [lines[start]!.slice(4)];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith("    ")) break;
    parts.push(line.slice(4));
  }
  return parts
    .join("")
    .replace(/ ?\[stopped\]$/, "")
    .trimEnd();
}

const squeeze = (text: string) => text.replace(/\s+/g, "");

let terminal: TmuxTerminal | undefined;
afterEach(() => {
  terminal?.close();
  terminal = undefined;
});

describe("the terminal test harness", () => {
  it.runIf(tmuxRequired)("has tmux where CI runs (apt-get install -y tmux)", () => {
    expect(haveTmux).toBe(true);
  });
});

describe.skipIf(!haveTmux)("cllama chat in a real terminal (tmux, fake engine)", () => {
  const startChat = () =>
    TmuxTerminal.start([process.execPath, cli, "chat", "--fake-engine"], {
      cols: 80,
      rows: 24,
      env: { CLLAMA_FAKE_ENGINE_DELAY_MS: "80" },
    });

  it("streams a Chinese answer, stops it with Ctrl-C, resets, and exits cleanly", async () => {
    terminal = startChat();
    await terminal.waitFor("/help for commands", { timeoutMs: 30_000 });

    terminal.type("你好，请用中文介绍一下你自己");
    terminal.press("Enter");
    const early = answerOnScreen(await terminal.waitFor(/AI: 你好！/));
    // It streams: later screens show more of the same answer (enough to wrap onto a second line).
    const later = answerOnScreen(
      await terminal.waitFor((s) => answerOnScreen(s).length >= Math.max(45, early.length + 8), {
        what: "more streamed text",
      }),
    );
    expect(squeeze(later).startsWith(squeeze(early))).toBe(true);

    terminal.press("C-c");
    const stopped = await terminal.waitFor("[stopped]");
    const answer = answerOnScreen(stopped);
    // Spaces at line ends are invisible on screen: compare without whitespace.
    const full = squeeze(defaultFakeReply("你好，请用中文介绍一下你自己"));
    expect(answer.length).toBeGreaterThanOrEqual(later.length);
    expect(full.startsWith(squeeze(answer))).toBe(true); // what streamed is exactly the answer so far...
    expect(squeeze(answer).length).toBeLessThan(full.length); // ...and the end never came
    expect(stopped).not.toContain("\ufffd"); // never a broken character
    // Wide characters line up: no line overflows, continuation lines start under the text.
    for (const line of stopped.split("\n")) expect(cells(line)).toBeLessThanOrEqual(80);
    expect(stopped).toMatch(/\n {4}\S/);
    // The conversation goes on after Ctrl-C: the header counts it, the prompt is back.
    expect(stopped).toMatch(/ctx [1-9]\d*\/2048/);
    expect(stopped).toContain("›");

    terminal.type("/reset");
    terminal.press("Enter");
    const reset = await terminal.waitFor("— new conversation —");
    expect(reset).toMatch(/ctx 0\/2048/);

    terminal.press("C-d");
    expect(await terminal.waitForExit()).toBe(0);
    const final = TmuxTerminal.withoutExitMark(terminal.screen());
    // The transcript stays in the terminal; the live prompt and header do not.
    expect(final).toContain("你: 你好，请用中文介绍一下你自己");
    expect(final).not.toContain("›");
    expect(final).not.toContain("tok/s");
  });

  it("quits with a second Ctrl-C after stopping an answer, and takes multi-line input", async () => {
    terminal = startChat();
    await terminal.waitFor("/help for commands", { timeoutMs: 30_000 });
    terminal.type("第一行");
    terminal.press("M-Enter");
    terminal.type("第二行");
    await terminal.waitFor(/› 第一行\n\s+第二行/);
    // A pasted text keeps its lines: its newlines do not send it.
    terminal.paste("\n粘贴一\n粘贴二");
    await terminal.waitFor(/› 第一行\n\s+第二行\n\s+粘贴一\n\s+粘贴二/);
    terminal.press("Enter");
    await terminal.waitFor(/你: 第一行\n\s+第二行\n\s+粘贴一\n\s+粘贴二/);
    await terminal.waitFor(/AI: 你好！/);
    terminal.press("C-c");
    await terminal.waitFor("[stopped]");
    terminal.press("C-c");
    expect(await terminal.waitForExit()).toBe(0);
  });
});

const chineseTokenizer = fixturePath("tokenizers/chinese-llama-2.model");

describe.skipIf(!haveTmux || !chineseTokenizer)(
  "cllama chat on a synthesized model (tmux, real runtime)",
  () => {
    it("streams, stops on Ctrl-C, resets and exits, with the header's figures", async () => {
      const dir = await mkdtemp(join(tmpdir(), "cllama-e2e-chat-"));
      try {
        const model = join(dir, "tiny-zh.gguf");
        const synth = spawnSync(
          process.execPath,
          [
            cli,
            "synth",
            "-o",
            model,
            "--tokenizer",
            chineseTokenizer!,
            "--preset",
            "tiny",
            "--type",
            "q8_0",
            "--name",
            "tiny-zh",
          ],
          { encoding: "utf8" },
        );
        expect(synth.stderr).toBe("");
        expect(synth.status).toBe(0);

        // Random weights: the answer is noise, but it streams through the real runtime, the
        // streaming decoder, the llama2 template (picked from the 55,296-piece vocabulary) and the UI.
        terminal = TmuxTerminal.start([
          process.execPath,
          cli,
          "chat",
          "-m",
          model,
          "--temp",
          "0",
          "-n",
          "400",
        ]);
        await terminal.waitFor(/tiny-zh · Q8_0 · ctx 0\/512 \(0%\)/, { timeoutMs: 60_000 });
        expect(terminal.screen()).toContain("template llama2");

        terminal.type("你好，请用中文介绍一下你自己");
        terminal.press("Enter");
        await terminal.waitFor("你: 你好，请用中文介绍一下你自己");
        const first = squeeze(await terminal.waitFor(/AI: \S/, { timeoutMs: 30_000 })).length;
        await terminal.waitFor((s) => squeeze(s).length >= first + 10, {
          timeoutMs: 30_000,
          what: "more streamed text",
        });

        terminal.press("C-c");
        const stopped = await terminal.waitFor("[stopped]");
        expect(stopped).toMatch(/ctx [1-9]\d*\/512 \(\d+%\) · \d+\.\d tok\/s/);
        expect(stopped).toContain("›"); // the chat goes on

        terminal.type("/reset");
        terminal.press("Enter");
        await terminal.waitFor((s) => s.includes("— new conversation —") && s.includes("ctx 0/512"));

        terminal.press("C-d");
        expect(await terminal.waitForExit()).toBe(0);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  },
);

describe.skipIf(!haveTmux)("cllama chat on the bundled demo model (tmux, no -m)", () => {
  it("opens the demo model and answers a Chinese question in Chinese", async () => {
    terminal = TmuxTerminal.start([process.execPath, cli, "chat", "--temp", "0", "-n", "48"]);
    await terminal.waitFor(/cllama demo \(fortunes-zh\) · Q8_0 · ctx 0\/256/, { timeoutMs: 60_000 });
    expect(terminal.screen()).toContain("template alpaca");

    terminal.type("《静夜思》的作者是谁？");
    terminal.press("Enter");
    await terminal.waitFor("你: 《静夜思》的作者是谁？");
    // Greedy: the answer ends by itself (EOS or the 48-token limit) and the figures update.
    const done = await terminal.waitFor(/ctx [1-9]\d*\/256 \(\d+%\) · \d+\.\d tok\/s/, { timeoutMs: 60_000 });
    const answer = answerOnScreen(done);
    expect(answer).toMatch(/\p{Script=Han}/u);
    expect(answer).not.toContain("\uFFFD");

    terminal.press("C-d");
    expect(await terminal.waitForExit()).toBe(0);
  });
});

describe.skipIf(!haveTmux)("cllama pull in a real terminal (tmux)", () => {
  it("draws a progress bar with rate and time left on the TTY, then clears it", async () => {
    const model = randomBytes(600_000, 3);
    const hub = await startFakeHub({ "hfl/tiny-zh/model.gguf": { content: model } });
    const dir = await mkdtemp(join(tmpdir(), "cllama-e2e-pull-"));
    try {
      Object.assign(hub.misbehave, { chunkSize: 20_000, delayMs: 100 }); // ~3 s
      terminal = TmuxTerminal.start([process.execPath, cli, "pull", "hfl/tiny-zh", "model.gguf", "-o", dir], {
        env: { CLLAMA_HF_ENDPOINT: hub.endpoint, CLLAMA_PROGRESS: undefined },
      });
      const bar = await terminal.waitFor(
        /model\.gguf \[[█░]+\]\s+\d+%\s+[\d.]+\/600\.0 kB\s+[\d.]+ kB\/s\s+\d+:\d\d left/,
        {
          timeoutMs: 30_000,
        },
      );
      expect(bar).toContain("░");
      expect(await terminal.waitForExit(30_000)).toBe(0);
      const final = TmuxTerminal.withoutExitMark(terminal.screen());
      expect(final.trim()).toBe(join(dir, "model.gguf")); // the bar is gone, the path remains
    } finally {
      await hub.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
