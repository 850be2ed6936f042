import { EventEmitter } from "node:events";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { exitCodeFor, formatError } from "../src/errors";
import { InterruptedError, readStdin, withAbort } from "../src/io";

function fakeProcess() {
  const emitter = new EventEmitter();
  return {
    source: {
      on: (event: "SIGINT", fn: () => void) => emitter.on(event, fn),
      off: (event: "SIGINT", fn: () => void) => emitter.off(event, fn),
    },
    interrupt: () => emitter.emit("SIGINT"),
    listeners: () => emitter.listenerCount("SIGINT"),
  };
}

describe("withAbort", () => {
  it("turns SIGINT into an aborted signal and an InterruptedError (exit 130)", async () => {
    const proc = fakeProcess();
    let cleanedUp = false;
    const running = withAbort(
      (signal) =>
        new Promise<string>((_resolve, reject) => {
          signal.addEventListener("abort", () => {
            cleanedUp = true; // a package removes its .partial here
            reject(new DOMException("aborted", "AbortError"));
          });
        }),
      { source: proc.source },
    );
    expect(proc.listeners()).toBe(1);
    proc.interrupt();
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect(exitCodeFor(error)).toBe(130);
    expect(formatError(error)).toBe("cllama: interrupted");
    expect(cleanedUp).toBe(true);
    expect(proc.listeners()).toBe(0);
  });

  it("returns the result and removes its handler when not interrupted", async () => {
    const proc = fakeProcess();
    await expect(
      withAbort(async (signal) => (signal.aborted ? "no" : "yes"), { source: proc.source }),
    ).resolves.toBe("yes");
    expect(proc.listeners()).toBe(0);
  });

  it("passes other errors through", async () => {
    const proc = fakeProcess();
    const bad = Object.assign(new Error("bad magic"), { code: "GGUF_BAD_MAGIC" });
    await expect(
      withAbort(
        async () => {
          throw bad;
        },
        { source: proc.source },
      ),
    ).rejects.toBe(bad);
  });

  it("calls the second-interrupt handler when Ctrl-C is pressed twice", async () => {
    const proc = fakeProcess();
    let forced = 0;
    let release: () => void = () => {};
    const running = withAbort(() => new Promise<void>((resolve) => (release = resolve)), {
      source: proc.source,
      onSecondInterrupt: () => forced++,
    });
    proc.interrupt();
    proc.interrupt();
    expect(forced).toBe(1);
    release();
    await expect(running).rejects.toBeInstanceOf(InterruptedError);
  });
});

describe("readStdin", () => {
  it("never breaks a Chinese character split across chunks", async () => {
    const bytes = Buffer.from("你好，世界", "utf8");
    const chunks = [bytes.subarray(0, 1), bytes.subarray(1, 4), bytes.subarray(4)];
    await expect(readStdin(Readable.from(chunks))).resolves.toBe("你好，世界");
  });

  it("reads an empty stdin as an empty string", async () => {
    await expect(readStdin(Readable.from([]))).resolves.toBe("");
  });
});
