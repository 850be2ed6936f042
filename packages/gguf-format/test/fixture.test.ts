import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fixtureNames, fixturePath, missingFixturesMessage } from "@cllama/tooling/fixtures";
import { oracleModuleDir } from "@cllama/tooling/oracles";
import { describe, expect, it } from "vitest";
import {
  type GgufFile,
  type GgufValue,
  parseGguf,
  readLlamaHparams,
  rewriteOptions,
  typedMetadata,
  writeGgufToBytes,
} from "../src/index";
import { openGgufFile } from "../src/node";
import golden from "./golden/llama-spm-vocab.json";

const vocabPath = fixturePath(fixtureNames.llamaCppVocab);
const hfGguf = oracleModuleDir("@huggingface/gguf");

interface GoldenEntry {
  type: string;
  value?: unknown;
  itemType?: string;
  count?: number;
  head?: unknown[];
  sha256?: string;
}

/** The same canonical form as tooling/golden/gguf-vocab.py hashes (floats by bit pattern). */
function canonicalItems(value: GgufValue): unknown[] {
  if (value instanceof Float32Array) return Array.from(new Uint32Array(value.slice().buffer));
  if (value instanceof Float64Array) {
    return Array.from(new BigUint64Array(value.slice().buffer), (b) => b.toString(16).padStart(16, "0"));
  }
  return Array.from(value as ArrayLike<unknown>, (v) => (typeof v === "bigint" ? Number(v) : v));
}

describe.skipIf(!vocabPath)(
  `llama.cpp's vocab file ${vocabPath ? "" : missingFixturesMessage(fixtureNames.llamaCppVocab)}`,
  () => {
    const bytes = vocabPath ? readFileSync(vocabPath) : new Uint8Array();
    const file: GgufFile | undefined = vocabPath ? parseGguf(bytes) : undefined;

    it("holds every key and value an independent byte parser found (golden from tooling/golden/gguf-vocab.py)", () => {
      const f = file as GgufFile;
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(golden.file_sha256);
      expect(f.version).toBe(golden.version);
      expect(f.headerSize).toBe(golden.header_size);
      expect(f.tensors).toEqual(golden.tensors);
      const entries = golden.metadata as Record<string, GoldenEntry>;
      expect(Object.keys(f.metadata)).toEqual(Object.keys(entries));
      for (const [key, want] of Object.entries(entries)) {
        const descriptor = f.metadataTypes[key];
        const value = f.metadata[key];
        expect(descriptor.type, key).toBe(want.type);
        if (want.type !== "ARRAY") {
          expect(value, key).toBe(want.value);
          continue;
        }
        expect(descriptor.itemType, key).toBe(want.itemType);
        const items = Array.from(value as ArrayLike<unknown>);
        expect(items.length, key).toBe(want.count);
        expect(items.slice(0, 8), key).toEqual(want.head);
        const digest = createHash("sha256")
          .update(JSON.stringify(canonicalItems(value)))
          .digest("hex");
        expect(digest, key).toBe(want.sha256);
      }
      expect(readLlamaHparams(f)).toMatchObject({ embeddingLength: 4096, blockCount: 32, vocabSize: 32000 });
    });

    it.skipIf(!hfGguf)("agrees with @huggingface/gguf on every key", async () => {
      const { gguf } = await import(join(hfGguf as string, "dist", "index.mjs"));
      const theirs = await gguf(vocabPath as string, { allowLocalFile: true, typedMetadata: true });
      const f = file as GgufFile;
      const skip = new Set(["version", "tensor_count", "kv_count"]);
      const keys = Object.keys(theirs.typedMetadata).filter((k) => !skip.has(k));
      expect(keys).toEqual(Object.keys(f.metadata));
      for (const key of keys) {
        const { value } = theirs.typedMetadata[key];
        let ours = f.metadata[key];
        if (key === "tokenizer.ggml.tokens") {
          // Token 30143 is U+FEFF (a byte-order mark). @huggingface/gguf decodes with a TextDecoder
          // that strips a leading BOM and returns ""; the file holds EF BB BF, and we keep it.
          expect((ours as string[])[30143]).toBe("\ufeff");
          expect(value[30143]).toBe("");
          ours = (ours as string[]).map((t, i) => (i === 30143 ? "" : t));
        }
        expect(ArrayBuffer.isView(ours) ? Array.from(ours as ArrayLike<unknown>) : ours, key).toEqual(value);
      }
      expect(theirs.tensorDataOffset).toBe(BigInt(f.dataOffset));
    });

    it("writes it back byte for byte", async () => {
      const f = file as GgufFile;
      const again = await writeGgufToBytes({ metadata: typedMetadata(f), tensors: [] }, rewriteOptions(f));
      expect(Buffer.compare(again, bytes)).toBe(0);
    });

    it("opens it lazily with the same result", async () => {
      const handle = await openGgufFile(vocabPath as string, { initialReadBytes: 64 << 10 });
      await handle.close();
      expect(handle.file).toEqual(file);
    });
  },
);
