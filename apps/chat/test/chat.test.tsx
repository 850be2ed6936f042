import { render } from "ink-testing-library";
import stringWidth from "string-width";
import { describe, expect, it } from "vitest";
import { Transcript } from "../src/Transcript";
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
});

describe("Transcript", () => {
  it("shows each message with its speaker", () => {
    const { lastFrame } = render(
      <Transcript
        messages={[
          { role: "user", text: "你好" },
          { role: "assistant", text: "你好！有什么可以帮你？" },
        ]}
      />,
    );
    const frame = lastFrame() ?? "";
    expect(frame).toContain("你: 你好");
    expect(frame).toContain("AI: 你好！有什么可以帮你？");
  });
});
