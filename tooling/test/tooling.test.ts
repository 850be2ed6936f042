import { describe, expect, it } from "vitest";
import { markdownTable, replaceSection } from "../src/bench.ts";
import { findFixturesDir, fixturePath, MissingFixtureError } from "../src/fixtures.ts";

describe("fixtures helper", () => {
  it("skips (undefined) when fixtures are absent and not required", () => {
    const env = { CLLAMA_FIXTURES: "/nonexistent/x" } as NodeJS.ProcessEnv;
    // The default location may exist on this machine; only the override is forced to a missing dir.
    if (findFixturesDir(env) === undefined)
      expect(fixturePath("tokenizers/llama.model", env)).toBeUndefined();
  });

  it("fails when fixtures are required but absent", () => {
    const env = { CLLAMA_FIXTURES: "/nonexistent/x", CLLAMA_REQUIRE_FIXTURES: "1" } as NodeJS.ProcessEnv;
    if (findFixturesDir(env) === undefined) expect(() => fixturePath("a", env)).toThrow(MissingFixtureError);
  });

  it("throws for a file missing from an existing fixtures folder", () => {
    const env = { CLLAMA_FIXTURES: process.cwd() } as NodeJS.ProcessEnv;
    expect(findFixturesDir(env)).toBe(process.cwd());
    expect(() => fixturePath("no-such-file.bin", env)).toThrow(/missing/);
    expect(fixturePath("package.json", env)).toMatch(/package\.json$/);
  });
});

describe("benchmark sections", () => {
  it("replaces only its own section", () => {
    const doc =
      "# B\n\n<!-- bench:a -->\nold a\n<!-- /bench:a -->\n\n<!-- bench:b -->\nb\n<!-- /bench:b -->\n";
    const out = replaceSection(doc, "a", "new a");
    expect(out).toContain("new a");
    expect(out).not.toContain("old a");
    expect(out).toContain("<!-- bench:b -->\nb\n");
  });

  it("appends a missing section", () => {
    expect(replaceSection("# B", "c", "x")).toBe("# B\n\n<!-- bench:c -->\nx\n<!-- /bench:c -->\n");
  });

  it("renders a table", () => {
    expect(markdownTable(["a", "b"], [[1, 2]])).toBe("| a | b |\n| --- | --- |\n| 1 | 2 |");
  });
});
