/**
 * A LLaMA-7B-shape F16 GGUF with random weights, written tensor by tensor (13.5 GB). The values
 * come from a pool of random normal halves read at varying offsets: quantization cost does not
 * depend on the values, and generating 6.7G random numbers would dominate the benchmark.
 */
import { GgmlType, type GgufTensorInput, llamaMetadata } from "@cllama/gguf-format";
import { writeGgufFile } from "@cllama/gguf-format/node";
import { fp32ToFp16 } from "../src/index";
import { gaussian, prng } from "../test/oracle-cases";

export const LLAMA_7B = { dim: 4096, ff: 11008, layers: 32, heads: 32, vocab: 32000 };

export async function writeSynth7B(path: string, shape = LLAMA_7B): Promise<void> {
  const rand = prng(42);
  const POOL = 1 << 24; // 16M halves
  const pool = new Uint16Array(POOL + (1 << 20));
  for (let i = 0; i < pool.length; i++) pool[i] = fp32ToFp16(gaussian(rand) * 0.02);
  const poolBytes = new Uint8Array(pool.buffer);
  let cursor = 0;
  const f16 = (name: string, cols: number, rows: number): GgufTensorInput => ({
    name,
    type: GgmlType.F16,
    shape: [cols, rows],
    data: async function* () {
      const total = cols * rows * 2;
      for (let done = 0; done < total; ) {
        const n = Math.min(total - done, 1 << 21);
        cursor = (cursor + 7919 * 2) % (POOL * 2 - (1 << 21));
        yield poolBytes.subarray(cursor & ~1, (cursor & ~1) + n);
        done += n;
      }
    },
  });
  const norm = (name: string): GgufTensorInput => ({
    name,
    type: GgmlType.F32,
    shape: [shape.dim],
    data: new Uint8Array(new Float32Array(shape.dim).fill(1).buffer),
  });
  const tensors: GgufTensorInput[] = [f16("token_embd.weight", shape.dim, shape.vocab)];
  for (let l = 0; l < shape.layers; l++) {
    tensors.push(
      norm(`blk.${l}.attn_norm.weight`),
      f16(`blk.${l}.attn_q.weight`, shape.dim, shape.dim),
      f16(`blk.${l}.attn_k.weight`, shape.dim, shape.dim),
      f16(`blk.${l}.attn_v.weight`, shape.dim, shape.dim),
      f16(`blk.${l}.attn_output.weight`, shape.dim, shape.dim),
      norm(`blk.${l}.ffn_norm.weight`),
      f16(`blk.${l}.ffn_gate.weight`, shape.dim, shape.ff),
      f16(`blk.${l}.ffn_up.weight`, shape.dim, shape.ff),
      f16(`blk.${l}.ffn_down.weight`, shape.ff, shape.dim),
    );
  }
  tensors.push(norm("output_norm.weight"), f16("output.weight", shape.dim, shape.vocab));
  const metadata = llamaMetadata({
    name: "synth-7b",
    contextLength: 2048,
    embeddingLength: shape.dim,
    blockCount: shape.layers,
    feedForwardLength: shape.ff,
    headCount: shape.heads,
    vocabSize: shape.vocab,
    fileType: 1,
  });
  await writeGgufFile(path, { metadata, tensors }, { fsync: false });
}
