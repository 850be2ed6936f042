import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GgmlType, GgufError, parseGguf } from "../src/index";
import { openGgufFile, writeGgufFile } from "../src/node";

const dir = mkdtempSync(join(tmpdir(), "gguf-node-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rows(nRows: number, rowBytes: number): Uint8Array {
  return new Uint8Array(nRows * rowBytes).map((_, i) => Math.floor(i / rowBytes) * 7 + (i % rowBytes));
}

describe("node file access", () => {
  it("writes atomically and reads tensors and row ranges lazily", async () => {
    const path = join(dir, "model.gguf");
    const q = rows(1, 34); // one Q8_0 block
    const f16 = rows(6, 16 * 2);
    const tokens = Array.from({ length: 5000 }, (_, i) => `token-${i}`);
    const progress: number[] = [];
    await writeGgufFile(
      path,
      {
        metadata: { "general.architecture": "llama", "tokenizer.ggml.tokens": tokens },
        tensors: [
          { name: "w", type: GgmlType.F16, shape: [16, 6], data: async () => f16 },
          { name: "q", type: GgmlType.Q8_0, shape: [32, 1], data: q },
        ],
      },
      { onProgress: (p) => progress.push(p.bytesWritten) },
    );
    expect(readdirSync(dir).filter((f) => f.endsWith(".partial"))).toEqual([]);
    expect(progress.at(-1)).toBe(readFileSync(path).length);

    // A tiny first read forces the header to be fetched in several steps.
    const handle = await openGgufFile(path, { initialReadBytes: 64 });
    try {
      expect(handle.file.metadata["tokenizer.ggml.tokens"]).toEqual(tokens);
      expect(handle.file).toEqual(parseGguf(readFileSync(path)));
      expect(await handle.readTensor("w")).toEqual(f16);
      expect(await handle.readTensor(handle.file.tensors[1])).toEqual(q);
      expect(await handle.readRows("w", 2, 3)).toEqual(f16.subarray(2 * 32, 5 * 32));
      await expect(handle.readRows("w", 5, 2)).rejects.toMatchObject({ code: "GGUF_BAD_ROW_RANGE" });
      await expect(handle.readTensor("nope")).rejects.toMatchObject({ code: "GGUF_TENSOR_NOT_FOUND" });
    } finally {
      await handle.close();
    }
  });

  it("leaves no partial file and keeps the old file when a tensor source fails", async () => {
    const path = join(dir, "keep.gguf");
    writeFileSync(path, "old");
    await expect(
      writeGgufFile(path, {
        metadata: {},
        tensors: [
          {
            name: "x",
            type: GgmlType.F32,
            shape: [4],
            data: async () => {
              throw new Error("source failed");
            },
          },
        ],
      }),
    ).rejects.toThrow("source failed");
    expect(readFileSync(path, "utf8")).toBe("old");
    expect(existsSync(`${path}.partial`)).toBe(false);
  });

  it("names the file in header errors", async () => {
    const path = join(dir, "bad.gguf");
    writeFileSync(path, "GGUF\x03\x00\x00\x00");
    const error = await openGgufFile(path).catch((e) => e);
    expect(error).toBeInstanceOf(GgufError);
    expect(error.code).toBe("GGUF_TRUNCATED");
    expect(error.message).toContain(path);
    expect(error.offset).toBe(8);
  });
});
