#!/usr/bin/env node
/**
 * Golden file for @cllama/runtime's sampler: runs llama.cpp's own sampler chain (libllama from
 * node-llama-cpp's prebuilt CPU libraries, through a tiny C harness compiled with gcc) on fixed
 * logit rows and records which token it picks at each step.
 *
 *   node tooling/golden/runtime-sampling.mjs   -> packages/runtime/test/golden/sampling.json
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const libDir = join(repo, "tooling/oracle/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64");
const libllama = readdirSync(libDir).find((name) => /^libllama\.v.*\.so$/.test(name) || name === "libllama.so");
if (!libllama) throw new Error(`libllama not found in ${libDir}: run tooling/oracle/install.sh`);

const VOCAB = 600;
const ROWS = 6;
const STEPS = 24;

// Deterministic logits: a small xorshift, Box-Muller-ish spread, rounded to float32.
let state = 0x9e3779b9;
function rand() {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state / 4294967296;
}
const rows = [];
for (let r = 0; r < ROWS; r++) {
  const row = [];
  for (let i = 0; i < VOCAB; i++) {
    const u = rand() + rand() + rand() + rand() - 2;
    row.push(Math.fround(u * 4 + (i % 97 === 0 ? 3 : 0)));
  }
  rows.push(row);
}
const prompt = [5, 7, 7, 11, 97, 194, 5, 300];

// Penalty windows stay larger than prompt + steps (32 tokens): this libllama build never evicts
// tokens older than penalty_last_n from its count map (checked with a 2-token window), unlike
// llama.cpp's source and documentation; the sliding window is covered by unit tests instead.
const configs = [
  { name: "llama.cpp defaults", seed: 42, temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05 },
  { name: "chinese-alpaca", seed: 1234, temperature: 0.2, topK: 40, topP: 0.9, minP: 0.05, repeatPenalty: 1.1, repeatLastN: 64 },
  { name: "hot, no top-k", seed: 7, temperature: 1.5, topK: 0, topP: 1, minP: 0 },
  { name: "hot top-k 200", seed: 99, temperature: 1.3, topK: 200, topP: 0.98, minP: 0.01 },
  { name: "penalties", seed: 5, temperature: 1, topK: 50, topP: 0.95, minP: 0.05, repeatPenalty: 1.3, repeatLastN: 40, frequencyPenalty: 0.5, presencePenalty: 0.7 },
  { name: "typical", seed: 11, temperature: 0.9, topK: 100, topP: 1, minP: 0, typicalP: 0.6 },
  { name: "min-p only, unsorted", seed: 3, temperature: 1, topK: 0, topP: 1, minP: 0.1 },
  { name: "logit bias", seed: 17, temperature: 0.7, topK: 40, topP: 0.95, minP: 0.05, logitBias: { 0: -Infinity, 97: -Infinity, 12: 5 } },
  { name: "greedy", seed: 1, temperature: 0, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1.2, repeatLastN: 40 },
];

const harness = String.raw`
#include <dlfcn.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
typedef struct { int32_t id; float logit; float p; } token_data;
typedef struct { token_data * data; size_t size; int64_t selected; bool sorted; } token_data_array;
typedef struct { bool no_perf; } chain_params;
typedef struct { int32_t token; float bias; } logit_bias;
typedef void * S;
#define F(name, ret, ...) typedef ret (*name##_t)(__VA_ARGS__); static name##_t name;
F(llama_sampler_chain_init, S, chain_params)
F(llama_sampler_chain_add, void, S, S)
F(llama_sampler_init_logit_bias, S, int32_t, int32_t, const logit_bias *)
F(llama_sampler_init_penalties, S, int32_t, float, float, float)
F(llama_sampler_init_top_k, S, int32_t)
F(llama_sampler_init_typical, S, float, size_t)
F(llama_sampler_init_top_p, S, float, size_t)
F(llama_sampler_init_min_p, S, float, size_t)
F(llama_sampler_init_temp_ext, S, float, float, float)
F(llama_sampler_init_dist, S, uint32_t)
F(llama_sampler_apply, void, S, token_data_array *)
F(llama_sampler_accept, void, S, int32_t)
F(llama_sampler_free, void, S)
#define L(name) name = (name##_t) dlsym(lib, #name); if (!name) { fprintf(stderr, "missing %s\n", #name); return 1; }
int main(int argc, char ** argv) {
  void * lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 1; }
  L(llama_sampler_chain_init) L(llama_sampler_chain_add) L(llama_sampler_init_logit_bias)
  L(llama_sampler_init_penalties) L(llama_sampler_init_top_k) L(llama_sampler_init_typical)
  L(llama_sampler_init_top_p) L(llama_sampler_init_min_p) L(llama_sampler_init_temp_ext)
  L(llama_sampler_init_dist) L(llama_sampler_apply) L(llama_sampler_accept) L(llama_sampler_free)
  int vocab, nrows, steps, nprompt, ncfg;
  if (scanf("%d %d %d %d %d", &vocab, &nrows, &steps, &nprompt, &ncfg) != 5) return 1;
  float * rows = malloc(sizeof(float) * vocab * nrows);
  for (int i = 0; i < vocab * nrows; i++) { unsigned u; scanf("%x", &u); rows[i] = *(float *) &u; }
  int * prompt = malloc(sizeof(int) * nprompt);
  for (int i = 0; i < nprompt; i++) scanf("%d", &prompt[i]);
  token_data * data = malloc(sizeof(token_data) * vocab);
  for (int c = 0; c < ncfg; c++) {
    unsigned seed; int top_k, last_n, nbias; float temp, top_p, min_p, typical, rep, freq, pres;
    scanf("%u %f %d %f %f %f %f %d %f %f %d", &seed, &temp, &top_k, &top_p, &min_p, &typical, &rep, &last_n, &freq, &pres, &nbias);
    logit_bias bias[16];
    for (int b = 0; b < nbias; b++) { unsigned u; scanf("%d %x", &bias[b].token, &u); bias[b].bias = *(float *) &u; }
    S chain = llama_sampler_chain_init((chain_params){ true });
    // common_sampler_init's default order.
    llama_sampler_chain_add(chain, llama_sampler_init_logit_bias(vocab, nbias, bias));
    llama_sampler_chain_add(chain, llama_sampler_init_penalties(last_n, rep, freq, pres));
    llama_sampler_chain_add(chain, llama_sampler_init_top_k(top_k));
    llama_sampler_chain_add(chain, llama_sampler_init_typical(typical, 0));
    llama_sampler_chain_add(chain, llama_sampler_init_top_p(top_p, 0));
    llama_sampler_chain_add(chain, llama_sampler_init_min_p(min_p, 0));
    llama_sampler_chain_add(chain, llama_sampler_init_temp_ext(temp, 0.0f, 1.0f));
    llama_sampler_chain_add(chain, llama_sampler_init_dist(seed));
    for (int i = 0; i < nprompt; i++) llama_sampler_accept(chain, prompt[i]);
    printf("[");
    for (int s = 0; s < steps; s++) {
      const float * row = rows + (s % nrows) * vocab;
      for (int i = 0; i < vocab; i++) { data[i].id = i; data[i].logit = row[i]; data[i].p = 0; }
      token_data_array cur = { data, (size_t) vocab, -1, false };
      llama_sampler_apply(chain, &cur);
      int token = data[cur.selected].id;
      llama_sampler_accept(chain, token);
      printf("%s%d", s ? "," : "", token);
    }
    printf("]\n");
    llama_sampler_free(chain);
  }
  return 0;
}
`;

const hex = (x) => {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, x, true);
  return b.getUint32(0, true).toString(16);
};
const defaults = { topK: 40, topP: 0.95, minP: 0.05, typicalP: 1, repeatPenalty: 1, repeatLastN: 64, frequencyPenalty: 0, presencePenalty: 0 };
let input = `${VOCAB} ${ROWS} ${STEPS} ${prompt.length} ${configs.length}\n`;
input += `${rows.flat().map(hex).join(" ")}\n${prompt.join(" ")}\n`;
for (const raw of configs) {
  const c = { ...defaults, ...raw };
  const bias = Object.entries(c.logitBias ?? {});
  input += `${c.seed} ${c.temperature} ${c.topK} ${c.topP} ${c.minP} ${c.typicalP} ${c.repeatPenalty} ${c.repeatLastN} ${c.frequencyPenalty} ${c.presencePenalty} ${bias.length}`;
  for (const [token, value] of bias) input += ` ${token} ${hex(value)}`;
  input += "\n";
}

const work = mkdtempSync(join(tmpdir(), "runtime-sampling-"));
try {
  writeFileSync(join(work, "harness.c"), harness);
  execFileSync("gcc", ["-O1", "-o", join(work, "harness"), join(work, "harness.c"), "-ldl"], { stdio: "inherit" });
  const out = execFileSync(join(work, "harness"), [join(libDir, libllama)], {
    input,
    env: { ...process.env, LD_LIBRARY_PATH: libDir },
  }).toString();
  const picks = out.trim().split("\n").map((line) => JSON.parse(line));
  const golden = {
    source: `llama.cpp sampler chain from ${libllama} (node-llama-cpp 3.21.1), made by tooling/golden/runtime-sampling.mjs`,
    vocab: VOCAB,
    steps: STEPS,
    prompt,
    rows: rows.map((row) => row.map(hex)),
    cases: configs.map((config, i) => ({
      ...config,
      logitBias: config.logitBias
        ? Object.fromEntries(Object.entries(config.logitBias).map(([k, v]) => [k, Number.isFinite(v) ? v : "-inf"]))
        : undefined,
      tokens: picks[i],
    })),
  };
  const file = join(repo, "packages/runtime/test/golden/sampling.json");
  writeFileSync(file, `${JSON.stringify(golden)}\n`);
  console.log(`wrote ${file}`);
  for (const c of golden.cases) console.log(c.name.padEnd(24), c.tokens.join(" "));
} finally {
  rmSync(work, { recursive: true, force: true });
}

