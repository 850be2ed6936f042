import { readFileSync } from "node:fs";
import { fixtureNames, fixturePath, missingFixturesMessage } from "@cllama/tooling/fixtures";
import { describe, expect, it } from "vitest";
import { parseGguf, readLlamaHparams, rewriteOptions, typedMetadata, writeGgufToBytes } from "../src/index";
import { openGgufFile } from "../src/node";

const vocabPath = fixturePath(fixtureNames.llamaCppVocab);

describe.skipIf(!vocabPath)(
  `llama.cpp's vocab file ${vocabPath ? "" : missingFixturesMessage(fixtureNames.llamaCppVocab)}`,
  () => {
    it("reads it and writes it back byte for byte", async () => {
      const bytes = readFileSync(vocabPath as string);
      const file = parseGguf(bytes);
      expect(file.version).toBe(3);
      expect(file.tensors).toEqual([]);
      expect((file.metadata["tokenizer.ggml.tokens"] as string[]).length).toBe(32000);
      expect(readLlamaHparams(file)).toMatchObject({
        embeddingLength: 4096,
        blockCount: 32,
        vocabSize: 32000,
      });
      const again = await writeGgufToBytes(
        { metadata: typedMetadata(file), tensors: [] },
        rewriteOptions(file),
      );
      expect(Buffer.compare(again, bytes)).toBe(0);
    });

    it("opens it lazily with the same result", async () => {
      const handle = await openGgufFile(vocabPath as string, { initialReadBytes: 4096 });
      await handle.close();
      expect(handle.file).toEqual(parseGguf(readFileSync(vocabPath as string)));
    });
  },
);
