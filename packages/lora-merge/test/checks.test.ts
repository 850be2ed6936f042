import { describe, expect, it } from "vitest";
import { countSentencePieces, openCheckpoint, openLoraAdapter, planMerge } from "../src/index";
import { baseFolder, baseShapes, type Dims, fakeTokenizer, loraFolder } from "./synthetic";

const d7: Dims = { vocab: 32000, dim: 64, layers: 2, ff: 172 };

async function plan(base = baseFolder(d7), ...loras: ReturnType<typeof loraFolder>[]) {
  const ckpt = await openCheckpoint(base);
  const adapters = [];
  for (const l of loras) adapters.push(await openLoraAdapter(l));
  return planMerge(ckpt, adapters);
}

describe("checks before any work starts", () => {
  it("accepts the Chinese-Alpaca-Plus chain: LLaMA + LLaMA-Plus (49953) + Alpaca-Plus (49954)", async () => {
    const p = await plan(
      baseFolder(d7),
      loraFolder("chinese-llama-plus-lora", d7, { embedRows: 49953, tokenizer: 49953 }),
      loraFolder("chinese-alpaca-plus-lora", d7, { embedRows: 49954, tokenizer: 49954 }),
    );
    expect(p.vocabSize).toBe(49954);
    expect(p.tokenizer?.size).toBe(49954);
  });

  it("names the LLaMA/Alpaca tokenizer mix-up (49953 vs 49954)", async () => {
    const error = await plan(
      baseFolder(d7),
      loraFolder("alpaca-lora", d7, { embedRows: 49954, tokenizer: 49953 }),
    ).catch((e) => e);
    expect(error.code).toBe("LORA_VOCAB_MISMATCH");
    expect(error.message).toContain("49953");
    expect(error.hint).toMatch(/Chinese-LLaMA tokenizer.*Chinese-Alpaca/);
  });

  it("refuses LoRAs in the wrong order (the vocabulary would shrink)", async () => {
    const error = await plan(
      baseFolder(d7),
      loraFolder("chinese-alpaca-plus-lora", d7, { embedRows: 49954 }),
      loraFolder("chinese-llama-plus-lora", d7, { embedRows: 49953 }),
    ).catch((e) => e);
    expect(error.code).toBe("LORA_WRONG_ORDER");
    expect(error.hint).toContain("put chinese-llama-plus-lora before chinese-alpaca-plus-lora");
  });

  it("refuses a LoRA made for another base size", async () => {
    const d13 = { ...d7, dim: 80, ff: 216 };
    const error = await plan(baseFolder(d7), loraFolder("lora-13b", d13)).catch((e) => e);
    expect(error.code).toBe("LORA_WRONG_BASE");
    expect(error.hint).toMatch(/hidden size 80.*base has 64/);
  });

  it("refuses a LoRA for more layers than the base has", async () => {
    const error = await plan(baseFolder(d7), loraFolder("deep", { ...d7, layers: 3 })).catch((e) => e);
    expect(error.code).toBe("LORA_EXTRA_TENSOR");
    expect(error.message).toContain("model.layers.2.self_attn.q_proj.weight");
  });

  it("refuses an adapter whose tensors do not have the rank its config says", async () => {
    const error = await plan(baseFolder(d7), loraFolder("rank", d7, { r: 4, configR: 8 })).catch((e) => e);
    expect(error.code).toBe("LORA_SHAPE_MISMATCH");
    expect(error.message).toContain("r=8");
  });

  it("refuses a lora_A without its lora_B", async () => {
    await expect(plan(baseFolder(d7), loraFolder("half", d7, { dropB: true }))).rejects.toMatchObject({
      code: "LORA_MISSING_TENSOR",
    });
  });

  it("refuses a base with a missing tensor, naming it", async () => {
    const shapes = baseShapes(d7);
    delete shapes["model.layers.1.mlp.up_proj.weight"];
    const error = await plan(baseFolder(d7, shapes)).catch((e) => e);
    expect(error.code).toBe("LORA_MISSING_TENSOR");
    expect(error.message).toContain("model.layers.1.mlp.up_proj.weight");
  });

  it("refuses a base with tensors config.json does not account for", async () => {
    const shapes = baseShapes({ ...d7, layers: 3 });
    const error = await plan(baseFolder(d7, shapes)).catch((e) => e);
    expect(error.code).toBe("LORA_EXTRA_TENSOR");
  });

  it("refuses a tokenizer that does not fit the base when no LoRA brings embeddings", async () => {
    const error = await plan(baseFolder(d7), loraFolder("lora", d7, { tokenizer: 49953 })).catch((e) => e);
    expect(error.code).toBe("LORA_VOCAB_MISMATCH");
  });

  it("counts SentencePiece pieces without decoding them", () => {
    expect(countSentencePieces(fakeTokenizer(7), "t.model")).toBe(7);
    expect(() => countSentencePieces(new Uint8Array([0x0a, 200]), "bad.model")).toThrow(/truncated/);
  });
});
