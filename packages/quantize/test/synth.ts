/**
 * Small random LLaMA-shaped GGUF models for the file-level tests, written with gguf-format's
 * writer in the tensor order llama.cpp's converter uses.
 */
import { GgmlType, type GgufTensorInput, llamaMetadata } from "@cllama/gguf-format";
import { writeGgufFile } from "@cllama/gguf-format/node";
import { quantizeRows } from "../src/index";
import { gaussian, prng } from "./oracle-cases";

export interface SynthModel {
  dim: number;
  ff: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  /** F32, F16 or any quantized type for the 2-D weights (norms stay F32). */
  type: GgmlType;
  /** No output.weight: the embeddings are tied. */
  tied?: boolean;
  seed: number;
}

function weights(rand: () => number, n: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = gaussian(rand) * scale * (rand() < 0.002 ? 10 : 1);
  return out;
}

export async function writeSynthModel(path: string, m: SynthModel): Promise<void> {
  const rand = prng(m.seed);
  const kvDim = (m.dim / m.heads) * m.kvHeads;
  const tensors: GgufTensorInput[] = [];
  const matrix = (name: string, cols: number, rows: number) => {
    const src = weights(rand, cols * rows, 0.02);
    tensors.push({ name, type: m.type, shape: [cols, rows], data: quantizeRows(m.type, src, rows, cols) });
  };
  const norm = (name: string) => {
    const src = weights(rand, m.dim, 0.1).map((v) => 1 + v);
    tensors.push({ name, type: GgmlType.F32, shape: [m.dim], data: new Uint8Array(src.buffer) });
  };
  matrix("token_embd.weight", m.dim, m.vocab);
  for (let l = 0; l < m.layers; l++) {
    norm(`blk.${l}.attn_norm.weight`);
    matrix(`blk.${l}.attn_q.weight`, m.dim, m.dim);
    matrix(`blk.${l}.attn_k.weight`, m.dim, kvDim);
    matrix(`blk.${l}.attn_v.weight`, m.dim, kvDim);
    matrix(`blk.${l}.attn_output.weight`, m.dim, m.dim);
    norm(`blk.${l}.ffn_norm.weight`);
    matrix(`blk.${l}.ffn_gate.weight`, m.dim, m.ff);
    matrix(`blk.${l}.ffn_up.weight`, m.dim, m.ff);
    matrix(`blk.${l}.ffn_down.weight`, m.ff, m.dim);
  }
  norm("output_norm.weight");
  if (!m.tied) matrix("output.weight", m.dim, m.vocab);
  const metadata = {
    ...llamaMetadata({
      name: "synth",
      contextLength: 256,
      embeddingLength: m.dim,
      blockCount: m.layers,
      feedForwardLength: m.ff,
      headCount: m.heads,
      headCountKv: m.kvHeads,
      vocabSize: m.vocab,
      fileType: m.type === GgmlType.F32 ? 0 : m.type === GgmlType.F16 ? 1 : 7,
    }),
    "tokenizer.ggml.model": { type: "STRING", value: "llama" },
    "general.custom_note": { type: "STRING", value: "kept as is" },
  };
  await writeGgufFile(path, { metadata, tensors }, { fsync: false });
}
