import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openGgufFile } from "@cllama/gguf-format/node";
import { quantizeGgufFile } from "@cllama/quantize/node";
import { fixtureNames, fixturePath } from "@cllama/tooling/fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeltaKernel } from "../src/index";
import { mergeLoras } from "../src/node";
import { tempDir } from "./helpers";
import { baseShapes, type Dims, hfConfig, safetensorsOf } from "./synthetic";

const llamaTokenizer = fixturePath(fixtureNames.llamaModel);
const dims: Dims = { vocab: 32000, dim: 64, layers: 2, ff: 192 };

/** A kernel that fails on its n-th call: a failure in the middle of writing. */
function failingKernel(n: number): DeltaKernel {
  let calls = 0;
  return {
    addRows() {
      if (++calls === n) throw new Error("disk on fire");
    },
  };
}

/** A Hugging Face base folder and a PEFT LoRA folder (with the LLaMA tokenizer) for `d`. */
function writeBaseAndLora(
  base: string,
  lora: string,
  d: Dims,
  adapter: { shapes: Record<string, number[]>; r: number; alpha: number; targets: string[] },
): void {
  mkdirSync(base);
  mkdirSync(lora);
  writeFileSync(join(base, "config.json"), JSON.stringify(hfConfig(d)));
  writeFileSync(join(base, "model.safetensors"), safetensorsOf(baseShapes(d)));
  writeFileSync(join(lora, "adapter_model.safetensors"), safetensorsOf(adapter.shapes));
  writeFileSync(
    join(lora, "adapter_config.json"),
    JSON.stringify({ r: adapter.r, lora_alpha: adapter.alpha, target_modules: adapter.targets }),
  );
  writeFileSync(join(lora, "tokenizer.model"), readFileSync(llamaTokenizer!));
}

describe.skipIf(!llamaTokenizer)("atomic output", () => {
  const tmp = tempDir("pipeline");
  const base = join(tmp.dir, "base");
  const lora = join(tmp.dir, "lora");
  beforeAll(() => {
    const shapes: Record<string, number[]> = {};
    for (let i = 0; i < dims.layers; i++) {
      shapes[`base_model.model.model.layers.${i}.self_attn.q_proj.lora_A.weight`] = [4, dims.dim];
      shapes[`base_model.model.model.layers.${i}.self_attn.q_proj.lora_B.weight`] = [dims.dim, 4];
    }
    writeBaseAndLora(base, lora, dims, { shapes, r: 4, alpha: 8, targets: ["q_proj"] });
  });
  afterAll(() => tmp.cleanup());

  it("writes the GGUF when all goes well", async () => {
    const out = join(tmp.dir, "ok.gguf");
    const result = await mergeLoras({ base, loras: [lora], output: out });
    expect(result.tensors).toBe(2 + 9 * dims.layers + 1);
    expect(existsSync(out)).toBe(true);
  });

  it("refuses a quantized type the row lengths cannot take before merging anything", async () => {
    const odd = join(tmp.dir, "odd");
    mkdirSync(odd);
    const config = JSON.parse(readFileSync(join(base, "config.json"), "utf8"));
    writeFileSync(join(odd, "config.json"), JSON.stringify({ ...config, intermediate_size: 172 }));
    writeFileSync(join(odd, "model.safetensors"), safetensorsOf(baseShapes({ ...dims, ff: 172 })));
    writeFileSync(join(odd, "tokenizer.model"), readFileSync(llamaTokenizer!));
    let calls = 0;
    const counting: DeltaKernel = {
      addRows() {
        calls++;
      },
    };
    const out = join(tmp.dir, "odd-q8_0.gguf");
    const error = await mergeLoras({
      base: odd,
      loras: [lora],
      output: out,
      outType: "q8_0",
      kernel: counting,
    }).catch((e) => e);
    expect(error.code).toMatch(/^QUANTIZE_/);
    expect(error.message).toContain("ffn_down");
    expect(calls).toBe(0);
    expect(readdirSync(tmp.dir).filter((f) => f.startsWith("odd-q8_0"))).toEqual([]);
  });

  for (const format of ["gguf", "safetensors"] as const) {
    it(`leaves nothing behind when the merge fails half way (${format})`, async () => {
      const out = join(tmp.dir, `failed-${format}`);
      const output = format === "gguf" ? `${out}.gguf` : out;
      const error = await mergeLoras({ base, loras: [lora], output, format, kernel: failingKernel(2) }).catch(
        (e) => e,
      );
      expect(error.message).toBe("disk on fire");
      if (format === "gguf") expect(existsSync(output)).toBe(false);
      else expect(readdirSync(output)).toEqual([]);
      expect(readdirSync(tmp.dir).filter((f) => f.includes("partial"))).toEqual([]);
    });
  }
});

describe.skipIf(!llamaTokenizer)("quantized output straight from the merge", () => {
  const tmp = tempDir("pipeline-quantized");
  // 256-wide rows so that the K-quant mix applies without fallbacks
  const wide: Dims = { vocab: 32000, dim: 256, layers: 1, ff: 512 };
  const base = join(tmp.dir, "base");
  const lora = join(tmp.dir, "lora");
  beforeAll(() => {
    const shapes = {
      "base_model.model.model.layers.0.mlp.down_proj.lora_A.weight": [8, wide.ff],
      "base_model.model.model.layers.0.mlp.down_proj.lora_B.weight": [wide.dim, 8],
    };
    writeBaseAndLora(base, lora, wide, { shapes, r: 8, alpha: 16, targets: ["down_proj"] });
  });
  afterAll(() => tmp.cleanup());

  it("q4_k_m: the same bytes as merging to F16 and quantizing that file, with no F16 file written", async () => {
    const f16 = join(tmp.dir, "merged-f16.gguf");
    const viaFile = join(tmp.dir, "via-file-q4_k_m.gguf");
    await mergeLoras({ base, loras: [lora], output: f16, outType: "f16" });
    await quantizeGgufFile(f16, viaFile, { ftype: "q4_k_m", threads: 1 });

    const direct = join(tmp.dir, "out", "direct-q4_k_m.gguf");
    mkdirSync(join(tmp.dir, "out"));
    const seen = new Set<string>();
    const timer = setInterval(() => {
      for (const f of readdirSync(join(tmp.dir, "out"))) seen.add(f);
    }, 5);
    try {
      await mergeLoras({ base, loras: [lora], output: direct, outType: "q4_k_m", threads: 2 });
    } finally {
      clearInterval(timer);
    }
    expect(createHash("sha256").update(readFileSync(direct)).digest("hex")).toBe(
      createHash("sha256").update(readFileSync(viaFile)).digest("hex"),
    );
    const gguf = await openGgufFile(direct);
    const types = new Set(gguf.file.tensors.map((t) => t.typeName));
    await gguf.close();
    expect(types).toEqual(new Set(["F32", "Q4_K", "Q6_K"]));
    // only the output's own partial file ever existed beside it
    expect([...seen].filter((f) => f !== "direct-q4_k_m.gguf" && f !== "direct-q4_k_m.gguf.partial")).toEqual(
      [],
    );
  });
});
