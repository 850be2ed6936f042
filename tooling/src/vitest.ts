/**
 * Shared vitest settings. Every package's vitest.config.ts is `export default cllamaVitest()`.
 * The JSON report lets .ci/run prove that every package really ran tests.
 */
import { defineConfig, type ViteUserConfig } from "vitest/config";

export function cllamaVitest(overrides: ViteUserConfig["test"] = {}): ViteUserConfig {
  return defineConfig({
    test: {
      include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
      passWithNoTests: false,
      // Generous: differential tests drive llama.cpp / PyTorch on 2 shared cores. The timeout
      // only guards against hangs; it is not a speed assertion (timings never go in tests).
      testTimeout: 300_000,
      hookTimeout: 300_000,
      reporters: ["default", ["json", { outputFile: "test-results.json" }]],
      ...overrides,
    },
  });
}
