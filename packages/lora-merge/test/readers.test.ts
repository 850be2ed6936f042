import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LoraMergeError,
  memorySource,
  openCheckpoint,
  readSafetensors,
  readTorchCheckpoint,
  readZip,
} from "../src/index";
import { nodeDirectory, openFileSource } from "../src/node";
import { bitsEqual, python, runTools, tempDir } from "./helpers";

const formats = ["st", "st-sharded", "bin", "bin-sharded", "meta", "meta2"] as const;

describe.skipIf(!python)("checkpoint readers vs torch-written files", () => {
  const tmp = tempDir("readers");
  beforeAll(() => {
    const jobs = formats.map((f) => [
      "fixtures.py",
      "checkpoint",
      "--out",
      join(tmp.dir, f),
      "--format",
      f,
      "--vocab",
      "300",
      "--kv-heads",
      "2",
      "--reference",
      join(tmp.dir, `${f}.ref.safetensors`),
    ]);
    jobs.push(["fixtures.py", "malicious", "--out", join(tmp.dir, "evil")]);
    jobs.push([
      "fixtures.py",
      "checkpoint",
      "--out",
      join(tmp.dir, "broken-index"),
      "--format",
      "st-sharded",
      "--vocab",
      "300",
    ]);
    runTools(jobs);
  });
  afterAll(() => tmp.cleanup());

  for (const f of formats) {
    it(`reads ${f} as HF names and HF row order, bit for bit`, async () => {
      const ref = await readSafetensors(memorySource(readFileSync(join(tmp.dir, `${f}.ref.safetensors`))));
      const ckpt = await openCheckpoint(nodeDirectory(join(tmp.dir, f)));
      try {
        expect(ckpt.format).toBe(
          f.startsWith("st") ? "hf-safetensors" : f.startsWith("bin") ? "hf-bin" : "meta-pth",
        );
        expect([...ckpt.tensors.keys()].sort()).toEqual(ref.tensors.map((t) => t.name).sort());
        expect(ckpt.params).toMatchObject({
          vocabSize: 300,
          hiddenSize: 64,
          numLayers: 2,
          numHeads: 4,
          numKvHeads: 2,
        });
        for (const r of ref.tensors) {
          const t = ckpt.tensors.get(r.name)!;
          expect(t.dtype).toBe("F16");
          expect(t.shape).toEqual(r.shape);
          expect(bitsEqual(await t.read(), await r.read()), r.name).toBe(true);
        }
      } finally {
        await ckpt.close();
      }
    });
  }

  it("refuses a missing shard, naming it", async () => {
    const dir = join(tmp.dir, "st-sharded");
    const index = JSON.parse(readFileSync(join(dir, "model.safetensors.index.json"), "utf8"));
    index.weight_map["model.norm.weight"] = "model-00003-of-00003.safetensors";
    const broken = join(tmp.dir, "broken-index");
    writeFileSync(join(broken, "model.safetensors.index.json"), JSON.stringify(index));
    await expect(openCheckpoint(nodeDirectory(broken))).rejects.toMatchObject({
      code: "LORA_MISSING_SHARD",
      message: expect.stringContaining("model-00003-of-00003.safetensors"),
    });
  });

  for (const file of ["os-system.bin", "eval.bin", "inst.bin", "storage-call.bin", "newobj.bin"]) {
    it(`refuses the malicious pickle ${file} without executing anything`, async () => {
      const source = await openFileSource(join(tmp.dir, "evil", file));
      const error = await readTorchCheckpoint(source).catch((e) => e);
      await source.close();
      expect(error).toBeInstanceOf(LoraMergeError);
      expect(["LORA_PICKLE_FORBIDDEN_GLOBAL", "LORA_PICKLE_FORBIDDEN_OPCODE"]).toContain(error.code);
      expect(existsSync(join(tmp.dir, "evil", "PWNED"))).toBe(false);
    });
  }

  it("names the forbidden global", async () => {
    const source = await openFileSource(join(tmp.dir, "evil", "os-system.bin"));
    const error = await readTorchCheckpoint(source).catch((e) => e);
    await source.close();
    expect(error.message).toMatch(/posix\.system|os\.system/);
    const evalSource = await openFileSource(join(tmp.dir, "evil", "eval.bin"));
    const evalError = await readTorchCheckpoint(evalSource).catch((e) => e);
    await evalSource.close();
    expect(evalError.message).toContain("builtins.eval");
  });

  it("refuses a truncated .bin with a clear error", async () => {
    const bytes = readFileSync(join(tmp.dir, "bin", "pytorch_model.bin"));
    for (const cut of [bytes.byteLength - 10, Math.floor(bytes.byteLength / 2), 100]) {
      await expect(
        readTorchCheckpoint(memorySource(bytes.subarray(0, cut), "cut.bin")),
      ).rejects.toMatchObject({
        code: expect.stringMatching(/^LORA_(BAD_ZIP|TRUNCATED)$/),
      });
    }
  });
});

describe("safetensors header validation", () => {
  const header = (json: unknown, dataBytes: number, lengthOverride?: bigint) => {
    const text = new TextEncoder().encode(JSON.stringify(json));
    const out = new Uint8Array(8 + text.byteLength + dataBytes);
    new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(text.byteLength), true);
    out.set(text, 8);
    return out;
  };
  const good = { w: { dtype: "F16", shape: [2, 3], data_offsets: [0, 12] } };

  it("reads a valid file", async () => {
    const file = await readSafetensors(memorySource(header(good, 12)));
    expect(file.tensors[0]).toMatchObject({ name: "w", dtype: "F16", shape: [2, 3], byteLength: 12 });
  });
  it("refuses a lying header length without allocating it", async () => {
    await expect(readSafetensors(memorySource(header(good, 12, 2n ** 62n)))).rejects.toMatchObject({
      code: "LORA_BAD_SAFETENSORS",
    });
  });
  it("refuses offsets that do not match dtype and shape", async () => {
    const bad = { w: { dtype: "F16", shape: [2, 3], data_offsets: [0, 10] } };
    await expect(readSafetensors(memorySource(header(bad, 12)))).rejects.toMatchObject({
      code: "LORA_BAD_SAFETENSORS",
    });
  });
  it("refuses a truncated data section", async () => {
    await expect(readSafetensors(memorySource(header(good, 6)))).rejects.toMatchObject({
      code: "LORA_TRUNCATED",
    });
  });
  it("refuses other dtypes", async () => {
    const i64 = { w: { dtype: "I64", shape: [1], data_offsets: [0, 8] } };
    await expect(readSafetensors(memorySource(header(i64, 8)))).rejects.toMatchObject({
      code: "LORA_UNSUPPORTED_DTYPE",
    });
  });
  it("refuses a header that is not JSON", async () => {
    const bytes = header(good, 12);
    bytes[9] = 0xff;
    await expect(readSafetensors(memorySource(bytes))).rejects.toMatchObject({
      code: "LORA_BAD_SAFETENSORS",
    });
  });
});

describe("zip reader", () => {
  /** A stored zip whose central directory uses ZIP64 records, as torch writes files > 4 GB. */
  function zip64(name: string, data: Uint8Array): Uint8Array {
    const enc = new TextEncoder().encode(name);
    const local = new Uint8Array(30 + enc.byteLength);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint32(18, data.byteLength, true);
    lv.setUint32(22, data.byteLength, true);
    lv.setUint16(26, enc.byteLength, true);
    local.set(enc, 30);
    const cdOffset = local.byteLength + data.byteLength;
    const central = new Uint8Array(46 + enc.byteLength + 28);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint32(20, 0xffffffff, true);
    cv.setUint32(24, 0xffffffff, true);
    cv.setUint16(28, enc.byteLength, true);
    cv.setUint16(30, 28, true);
    cv.setUint32(42, 0xffffffff, true);
    central.set(enc, 46);
    const x = 46 + enc.byteLength;
    cv.setUint16(x, 1, true);
    cv.setUint16(x + 2, 24, true);
    cv.setBigUint64(x + 4, BigInt(data.byteLength), true);
    cv.setBigUint64(x + 12, BigInt(data.byteLength), true);
    cv.setBigUint64(x + 20, 0n, true);
    const eocd64At = cdOffset + central.byteLength;
    const tail = new Uint8Array(56 + 20 + 22);
    const tv = new DataView(tail.buffer);
    tv.setUint32(0, 0x06064b50, true);
    tv.setBigUint64(24, 1n, true);
    tv.setBigUint64(32, 1n, true);
    tv.setBigUint64(40, BigInt(central.byteLength), true);
    tv.setBigUint64(48, BigInt(cdOffset), true);
    tv.setUint32(56, 0x07064b50, true);
    tv.setBigUint64(64, BigInt(eocd64At), true);
    tv.setUint32(76, 0x06054b50, true);
    tv.setUint16(86, 0xffff, true);
    tv.setUint16(84, 0xffff, true);
    tv.setUint32(88, 0xffffffff, true);
    tv.setUint32(92, 0xffffffff, true);
    const out = new Uint8Array(cdOffset + central.byteLength + tail.byteLength);
    out.set(local, 0);
    out.set(data, local.byteLength);
    out.set(central, cdOffset);
    out.set(tail, eocd64At);
    return out;
  }

  it("follows ZIP64 records to the entry", async () => {
    const data = new TextEncoder().encode("hello zip64");
    const archive = await readZip(memorySource(zip64("archive/data/0", data)));
    const entry = archive.open("archive/data/0");
    expect(new TextDecoder().decode(await entry.read(0, entry.size))).toBe("hello zip64");
  });

  it("refuses a file with no end record", async () => {
    await expect(readZip(memorySource(new Uint8Array(100)))).rejects.toMatchObject({ code: "LORA_BAD_ZIP" });
  });
});
