// Entry point of the kernels module. Every export works on addresses in the imported (shared)
// memory; the JS side owns allocation. Functions taking a range [from, to) can be split across
// workers that share the memory.

export { quantizeQ8, quantizeQ8K, roundRows } from "./actquant";
export { attention, attentionHeads, storeF16 } from "./attention";
export { dequantizeRows } from "./dequant";
export { add, mul, rmsNorm, rope, siluMul, softmax } from "./elementwise";
export { matmul } from "./matmul";
export { matmulTiled, tileBytes } from "./tiles";
export { interleaveX4, plainRow, x4SlabBlocks, x4TmpBytes } from "./x4";
