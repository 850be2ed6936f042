import { defineConfig } from "tsup";

export default defineConfig({
  // worker.ts is the worker thread's script: dist/worker.js beside dist/node.js
  entry: ["src/index.ts", "src/node.ts", "src/worker.ts"],
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
});
