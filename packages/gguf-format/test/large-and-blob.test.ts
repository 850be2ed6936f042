import { describe, expect, it } from "vitest";
import { GgmlType, openGgufBlob, parseGgufHeader, serializeGgufHeader, writeGgufToBytes } from "../src/index";

describe("files over 4 GB and browser sources", () => {
  it("lays out and reads back offsets beyond 2^32 (header only, no data)", () => {
    const big = { type: GgmlType.F16, shape: [4096, 2 ** 20] }; // 8 GiB each
    const layout = serializeGgufHeader({
      metadata: { "general.architecture": "llama" },
      tensors: [
        { name: "a", ...big },
        { name: "b", ...big },
        { name: "c", type: GgmlType.Q4_0, shape: [32, 3] },
      ],
    });
    expect(layout.tensors.map((t) => t.offset)).toEqual([0, 2 ** 33, 2 ** 34]);
    expect(layout.totalSize).toBe(layout.dataOffset + 2 ** 34 + 64);
    const file = parseGgufHeader(layout.header, { fileSize: layout.totalSize });
    expect(file.tensors.map((t) => [t.name, t.offset, t.byteSize])).toEqual([
      ["a", 0, 2 ** 33],
      ["b", 2 ** 33, 2 ** 33],
      ["c", 2 ** 34, 54],
    ]);
    expect(file.dataOffset).toBe(layout.dataOffset);
  });

  it("reads tensors and rows lazily from a Blob", async () => {
    const data = new Uint8Array(4 * 6).map((_, i) => i);
    const bytes = await writeGgufToBytes({
      metadata: { k: "v" },
      tensors: [{ name: "t", type: GgmlType.F32, shape: [2, 3], data }],
    });
    const handle = await openGgufBlob(new Blob([bytes as Uint8Array<ArrayBuffer>]), { initialReadBytes: 16 });
    expect(handle.file.metadata.k).toBe("v");
    expect(await handle.readTensor("t")).toEqual(data);
    expect(await handle.readRows("t", 1, 2)).toEqual(data.subarray(8, 24));
    await handle.close();
  });

  it("stops writing when its signal is aborted", async () => {
    const controller = new AbortController();
    const promise = writeGgufToBytes(
      {
        metadata: {},
        tensors: [
          {
            name: "t",
            type: GgmlType.F32,
            shape: [4],
            data: () => {
              controller.abort(new Error("stop"));
              return new Uint8Array(16);
            },
          },
        ],
      },
      { signal: controller.signal },
    );
    await expect(promise).rejects.toThrow("stop");
  });
});
