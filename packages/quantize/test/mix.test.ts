/**
 * The type mixes on LLaMA-7B's tensor list, against the tensor counts llama.cpp prints for
 * LLaMA(-2)-7B files (e.g. Q4_K_M: 193 q4_K + 33 q6_K + 65 f32; Q3_K_M: 129 q3_K + 92 q4_K +
 * 4 q5_K + 1 q6_K). The byte-level comparison with llama.cpp itself is in file.test.ts.
 */
import { GgmlType, LlamaFileType } from "@cllama/gguf-format";
import { describe, expect, it } from "vitest";
import { llamaTensorOrder, type MixTensor, planTensorTypes } from "../src/index";

function llama7b(): MixTensor[] {
  const t: MixTensor[] = [];
  const w = (name: string, shape: number[]) => t.push({ name, type: GgmlType.F16, shape });
  w("token_embd.weight", [4096, 32000]);
  for (let l = 0; l < 32; l++) {
    t.push({ name: `blk.${l}.attn_norm.weight`, type: GgmlType.F32, shape: [4096] });
    for (const n of ["attn_q", "attn_k", "attn_v", "attn_output"]) w(`blk.${l}.${n}.weight`, [4096, 4096]);
    t.push({ name: `blk.${l}.ffn_norm.weight`, type: GgmlType.F32, shape: [4096] });
    w(`blk.${l}.ffn_gate.weight`, [4096, 11008]);
    w(`blk.${l}.ffn_up.weight`, [4096, 11008]);
    w(`blk.${l}.ffn_down.weight`, [11008, 4096]);
  }
  t.push({ name: "output_norm.weight", type: GgmlType.F32, shape: [4096] });
  w("output.weight", [4096, 32000]);
  return t;
}

const model = { arch: "llama", nLayer: 32, nHead: 32, nHeadKv: 32, nExpert: 0 };

function counts(ftype: LlamaFileType, options = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const type of planTensorTypes(llamaTensorOrder(llama7b()), model, { ftype, ...options })) {
    out[GgmlType[type]] = (out[GgmlType[type]] ?? 0) + 1;
  }
  return out;
}

describe("llama-quantize's mixes on LLaMA-7B", () => {
  it("Q4_K_M: 193 Q4_K, 33 Q6_K (attn_v and ffn_down in 16 'more bits' layers, output), 65 F32", () => {
    expect(counts(LlamaFileType.MOSTLY_Q4_K_M)).toEqual({ F32: 65, Q4_K: 193, Q6_K: 33 });
  });
  it("Q3_K_M: 129 Q3_K, 92 Q4_K, 4 Q5_K, 1 Q6_K", () => {
    expect(counts(LlamaFileType.MOSTLY_Q3_K_M)).toEqual({ F32: 65, Q3_K: 129, Q4_K: 92, Q5_K: 4, Q6_K: 1 });
  });
  it("Q4_0: everything Q4_0 but output.weight (Q6_K); Q8_0 keeps output Q8_0; F16 touches nothing", () => {
    expect(counts(LlamaFileType.MOSTLY_Q4_0)).toEqual({ F32: 65, Q4_0: 225, Q6_K: 1 });
    expect(counts(LlamaFileType.MOSTLY_Q8_0)).toEqual({ F32: 65, Q8_0: 226 });
    expect(counts(LlamaFileType.MOSTLY_F16)).toEqual({ F32: 65, F16: 226 });
  });
  it("--pure and the per-tensor overrides", () => {
    expect(counts(LlamaFileType.MOSTLY_Q4_K_M, { pure: true })).toEqual({ F32: 65, Q4_K: 226 });
    expect(
      counts(LlamaFileType.MOSTLY_Q4_0, {
        outputTensorType: GgmlType.Q8_0,
        tokenEmbeddingType: GgmlType.Q4_1,
      }),
    ).toEqual({ F32: 65, Q4_0: 224, Q8_0: 1, Q4_1: 1 });
  });
  it("rows that are not a multiple of 256 fall back (Q4_K -> Q5_0, Q6_K -> Q8_0)", () => {
    const tensors = llamaTensorOrder([
      { name: "blk.0.ffn_up.weight", type: GgmlType.F16, shape: [4096 + 32, 64] },
      { name: "output.weight", type: GgmlType.F16, shape: [4096 + 32, 64] },
    ]);
    const types = planTensorTypes(tensors, { ...model, nLayer: 1 }, { ftype: LlamaFileType.MOSTLY_Q4_K_S });
    expect(types.map((t) => GgmlType[t])).toEqual(["Q8_0", "Q5_0"]);
  });
});
