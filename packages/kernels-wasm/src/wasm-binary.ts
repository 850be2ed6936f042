// The compiled kernels. The package build (tsup) inlines build/kernels.wasm as base64 through a
// define, so the published bundle needs no file lookup; running from sources (tests) reads it.

declare const __KERNELS_WASM_BASE64__: string | undefined;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  if (typeof Buffer !== "undefined") return new Uint8Array(Buffer.from(text, "base64"));
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

let compiled: Promise<WebAssembly.Module> | undefined;

/** The kernels' WebAssembly.Module, compiled once per thread. */
export function kernelsModule(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    let bytes: Uint8Array<ArrayBuffer>;
    if (typeof __KERNELS_WASM_BASE64__ === "string") {
      bytes = decodeBase64(__KERNELS_WASM_BASE64__);
    } else {
      const fs = await import("node:fs/promises");
      bytes = new Uint8Array(await fs.readFile(new URL("../build/kernels.wasm", import.meta.url)));
    }
    return WebAssembly.compile(bytes);
  })();
  return compiled;
}
