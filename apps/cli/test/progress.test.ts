import { describe, expect, it } from "vitest";
import { createProgress, formatAmount, formatDuration, formatProgressLine } from "../src/progress";

/** A fake stderr that records writes, and a clock the test moves by hand. */
function fakeTerminal(isTTY = true, columns = 100) {
  const writes: string[] = [];
  let time = 0;
  return {
    stream: { isTTY, columns, write: (text: string) => writes.push(text) },
    writes,
    now: () => time,
    advance: (ms: number) => {
      time += ms;
    },
    /** What the line shows after the last redraw. */
    screen: () => (writes.at(-1) ?? "").replace(/^\r\x1b\[2K/, ""),
  };
}

describe("createProgress", () => {
  it("draws done/total, rate and time left on a TTY", () => {
    const term = fakeTerminal();
    const bar = createProgress({ label: "download", total: 10_000_000, unit: "bytes", ...term });
    bar.update(0);
    term.advance(1000);
    bar.update(2_000_000);
    const line = term.screen();
    expect(line).toContain("download");
    expect(line).toContain(" 20%");
    expect(line).toContain("2.0/10.0 MB");
    expect(line).toContain("2.0 MB/s");
    expect(line).toContain("0:04 left");
  });

  it("throttles redraws but always shows 100%", () => {
    const term = fakeTerminal();
    const bar = createProgress({ label: "quantize", total: 1000, unit: "tensors", throttleMs: 100, ...term });
    for (let i = 0; i <= 1000; i++) {
      bar.onProgress(i);
      term.advance(1); // 1000 callbacks in one second
    }
    expect(term.writes.length).toBeGreaterThan(5);
    expect(term.writes.length).toBeLessThan(20);
    expect(term.screen()).toContain("100%");
    expect(term.screen()).toContain("1000/1000 tensors");
  });

  it("clears the line at the end and ignores later updates", () => {
    const term = fakeTerminal();
    const bar = createProgress({ label: "load", total: 5, unit: "tensors", ...term });
    bar.update(3);
    bar.done();
    expect(term.writes.at(-1)).toBe("\r\x1b[2K");
    const count = term.writes.length;
    bar.update(4);
    bar.done();
    expect(term.writes.length).toBe(count);
  });

  it("writes nothing when stderr is not a TTY", () => {
    const term = fakeTerminal(false);
    const bar = createProgress({ label: "pull", total: 100, unit: "bytes", ...term });
    expect(bar.enabled).toBe(false);
    bar.update(50);
    bar.done();
    expect(term.writes).toEqual([]);
  });

  it("accepts { done, total } and a total that arrives late", () => {
    const term = fakeTerminal();
    const bar = createProgress({ label: "eval", unit: "chunks", ...term });
    bar.update(1);
    expect(term.screen()).not.toContain("%");
    term.advance(200);
    bar.update({ done: 2, total: 8 });
    expect(term.screen()).toContain(" 25%");
    expect(term.screen()).toContain("2/8 chunks");
  });

  it("never writes a line wider than the terminal", () => {
    const term = fakeTerminal(true, 40);
    const bar = createProgress({
      label: "a-very-long-file-name-of-a-model.gguf",
      total: 1e9,
      unit: "bytes",
      ...term,
    });
    bar.update(1);
    term.advance(500);
    bar.update(5e8);
    expect(term.screen().length).toBeLessThan(40);
  });
});

describe("formatting", () => {
  it("formats amounts and durations", () => {
    expect(formatAmount(999, "bytes")).toBe("999 B");
    expect(formatAmount(1_500_000, "bytes")).toBe("1.5 MB");
    expect(formatAmount(12, "tokens")).toBe("12 tokens");
    expect(formatAmount(3.25, "tokens")).toBe("3.3 tokens");
    expect(formatDuration(75)).toBe("1:15");
    expect(formatDuration(3725)).toBe("1:02:05");
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe("?");
  });

  it("draws a bar proportional to the fraction done", () => {
    const line = formatProgressLine({ label: "x", done: 50, total: 100, unit: "steps", rate: 10 }, 80);
    const filled = line.match(/█/g)?.length ?? 0;
    const empty = line.match(/░/g)?.length ?? 0;
    expect(filled).toBe(empty);
    expect(line).toContain("0:05 left");
  });
});
