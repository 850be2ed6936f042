#!/usr/bin/env node
/**
 * llama.cpp (through node-llama-cpp in tooling/oracle) as the reference runtime: loads a GGUF,
 * evaluates the given tokens, prints the next-token probabilities after the last one as JSON.
 *
 *   node tooling/lora/llama-probs.mjs <node-llama-cpp dir> <model.gguf> 1,2,3
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [dir, modelPath, tokenList] = process.argv.slice(2);
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(join(dir, "dist", "index.js")).href);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath });
const context = await model.createContext({ contextSize: 128, threads: 1 });
const sequence = context.getSequence();
const tokens = tokenList.split(",").map(Number);
const input = tokens.map((t, i) =>
  i === tokens.length - 1 ? [t, { generateNext: { probabilities: true } }] : t,
);
const results = await sequence.controlledEvaluate(input);
const map = results[tokens.length - 1].next.probabilities;
const probs = new Array(model.tokens.length ?? map.size).fill(0);
for (const [token, p] of map) probs[token] = p;
process.stdout.write(JSON.stringify({ probs }));
await context.dispose();
await model.dispose();
await llama.dispose();
