import { readFileSync } from "node:fs";
import { defineConfig } from "tsup";

// The kernels are compiled by `asc` first (see package.json "build"); the bundle carries them
// as base64 so it loads the same way in Node and in browsers.
const wasm = readFileSync(new URL("./build/kernels.wasm", import.meta.url)).toString("base64");

export default defineConfig({
  entry: ["src/index.ts", "src/node.ts"],
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  define: { __KERNELS_WASM_BASE64__: JSON.stringify(wasm) },
});
