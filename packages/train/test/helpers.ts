import { initParams, jsMatmul, type LlamaConfig, LlamaModel, type MatmulBackend, Rng } from "../src/index";

export const tiny: LlamaConfig = {
  vocabSize: 37,
  dim: 16,
  ffnDim: 40,
  nLayers: 2,
  nHeads: 2,
  maxSeqLen: 8,
  normEps: 1e-5,
  ropeTheta: 10000,
};

export function tinyModel(config = tiny, mm: MatmulBackend = jsMatmul, seed = 3): LlamaModel {
  const params = initParams(config, seed);
  // Norm weights away from 1 and larger weights, so every gradient term is exercised.
  const rng = new Rng(seed + 100);
  for (const p of params.values()) {
    for (let i = 0; i < p.data.length; i++) {
      p.data[i] = p.shape.length === 1 ? 1 + 0.3 * rng.normal() : 0.15 * rng.normal();
    }
  }
  return new LlamaModel(config, params, mm);
}

export function randomBatch(config: LlamaConfig, batch: number, seqLen: number, seed = 5) {
  const rng = new Rng(seed);
  const n = batch * seqLen;
  const tokens = Int32Array.from({ length: n }, () => Math.floor(rng.next() * config.vocabSize));
  // Some positions are not counted (prompt / padding), as in instruction tuning.
  const targets = Int32Array.from({ length: n }, (_, i) =>
    i % 5 === 1 ? -1 : Math.floor(rng.next() * config.vocabSize),
  );
  return { tokens, targets, batch, seqLen };
}
