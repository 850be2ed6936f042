#!/usr/bin/env node
/**
 * The demo model of `cllama chat`, from nothing but Debian's fortunes-zh, with cllama's own
 * packages: vocabulary (BPE) -> pre-training -> instruction set -> LoRA tuning -> merge -> Q8_0.
 *
 *   pnpm turbo run build --filter @cllama/train... --filter @cllama/runtime... --filter @cllama/quantize...
 *   node tooling/demo/recipe.mjs            # writes apps/cli/models/{demo.gguf,README.md,loss-curves.png}
 *
 * Options: --work DIR (intermediate files, default /tmp/cllama-demo; stages resume from it),
 * --out DIR (default apps/cli/models), --threads N, --tiny (a 2-minute smoke run, written to the
 * work folder only), --pretrain-steps N, --sft-steps N, --note TEXT (added to the model card's run
 * conditions).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { haveCorpus, instructions, isHeldOut, poems, sayings } from "./corpus.mjs";
import { lossChart } from "./png.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const pkg = (name, entry = "index.js") => import(join(root, "packages", name, "dist", entry));
const { SentencePieceTokenizer, trainBpe } = await pkg("tokenizer");
const T = await pkg("train");
const TN = await pkg("train", "node.js");
const { mergeLoras } = await pkg("lora-merge", "node.js");
const { quantizeGgufFile } = await pkg("quantize", "node.js");
const R = await pkg("runtime");

const { values: args } = parseArgs({
  options: {
    work: { type: "string", default: "/tmp/cllama-demo" },
    out: { type: "string" },
    threads: { type: "string", default: String(Math.min(availableParallelism(), 8)) },
    tiny: { type: "boolean", default: false },
    "pretrain-steps": { type: "string" },
    "sft-steps": { type: "string" },
    note: { type: "string" },
  },
});
const tiny = args.tiny;
const work = resolve(args.work);
const outDir = resolve(args.out ?? (tiny ? join(work, "out") : join(root, "apps", "cli", "models")));
const threads = Number(args.threads);
mkdirSync(work, { recursive: true });
mkdirSync(outDir, { recursive: true });

// ---- the recipe's settings (also printed in the model card) ----
const S = {
  // 0.9995 of the characters get a piece of their own (5.7K of the corpus's 6.2K): far fewer
  // characters are spelled in UTF-8 byte pieces, which a small model tends to emit half of (U+FFFD).
  vocabSize: tiny ? 1200 : 6144,
  characterCoverage: tiny ? 0.98 : 0.9995,
  model: tiny
    ? { dim: 64, ffnDim: 192, nLayers: 2, nHeads: 2, maxSeqLen: 256, normEps: 1e-5, ropeTheta: 10000 }
    : { dim: 256, ffnDim: 704, nLayers: 4, nHeads: 4, maxSeqLen: 256, normEps: 1e-5, ropeTheta: 10000 },
  pretrain: {
    steps: Number(args["pretrain-steps"] ?? (tiny ? 30 : 400)),
    batch: 4,
    accum: 2,
    seqLen: 128,
    peakLr: 2e-3,
    warmup: tiny ? 3 : 30,
    poemRepeats: 6,
  },
  sft: {
    steps: Number(args["sft-steps"] ?? (tiny ? 15 : 160)),
    batch: 4,
    // Each step: `accum - textMicro` micro-batches of instructions and `textMicro` of pre-training
    // text windows (textBatch x 128 tokens each): three quarters of the gradient keep the model
    // on free text (with half, held-out text loss ended 0.007 above the base's).
    accum: 4,
    textMicro: 3,
    textBatch: 2,
    maxLen: 256,
    peakLr: 2e-3,
    warmup: tiny ? 2 : 12,
    r: 8,
    alpha: 32,
    // embed_tokens and lm_head (modules_to_save) are trained in full: a twentieth of the adapters'
    // learning rate keeps them close to what pre-training learnt.
    modulesLrScale: 0.05,
  },
  seed: 1234,
};

const log = (...a) => console.log(new Date().toISOString().slice(11, 19), ...a);
const saveJson = (name, v) => writeFileSync(join(work, name), `${JSON.stringify(v, null, 1)}\n`);
const loadJson = (name) =>
  existsSync(join(work, name)) ? JSON.parse(readFileSync(join(work, name), "utf8")) : undefined;

// ---- 0. corpus ----
if (!haveCorpus()) {
  log("installing Debian's fortunes-zh (the corpus)");
  execFileSync("apt-get", ["install", "-y", "fortunes-zh"], { stdio: "inherit" });
}
const allPoems = poems();
const trainPoems = allPoems.filter((p) => !isHeldOut(p));
const heldPoems = allPoems.filter(isHeldOut);
const allSayings = sayings();
const poemDoc = (p) => `《${p.title}》\n作者：${p.author}\n${p.lines.join("\n")}`;
log(`corpus: ${allPoems.length} poems (${heldPoems.length} held out), ${allSayings.length} sayings`);

// ---- 1. vocabulary ----
const tokPath = join(work, "tokenizer.model");
if (!existsSync(tokPath)) {
  const lines = [...allPoems.map(poemDoc), ...allSayings].flatMap((d) => d.split("\n"));
  const t0 = performance.now();
  const r = trainBpe(lines, { vocabSize: S.vocabSize, characterCoverage: S.characterCoverage });
  writeFileSync(tokPath, r.bytes);
  log(
    `vocabulary: ${r.pieces.length} pieces (${r.characters} characters, ${r.merges} merges) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}
const tokBytes = new Uint8Array(readFileSync(tokPath));
const tok = SentencePieceTokenizer.fromModelProto(tokBytes);
S.vocabSize = tok.vocabSize;

// ---- 2. data ----
const rng = new T.Rng(S.seed);
const shuffle = (arr) => {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [arr[i], arr[j]] = [arr[j], arr[i]];
  }
  return arr;
};
const encodeDocs = (docs) => {
  const ids = [];
  for (const d of docs) ids.push(...tok.encode(d, { bos: true, eos: true }));
  return Int32Array.from(ids);
};
const heldSayings = allSayings.filter((_, i) => i % 25 === 0);
const trainSayings = allSayings.filter((_, i) => i % 25 !== 0);
const trainDocs = shuffle([
  ...Array.from({ length: S.pretrain.poemRepeats }, () => trainPoems.map(poemDoc)).flat(),
  ...trainSayings,
]);
const trainStream = encodeDocs(trainDocs);
const heldStream = encodeDocs([...heldPoems.map(poemDoc), ...heldSayings]);
const chars = trainDocs.reduce((s, d) => s + [...d].length, 0);
log(
  `pre-training stream: ${trainStream.length} tokens (${(chars / trainStream.length).toFixed(2)} characters/token), held out ${heldStream.length}`,
);

const prompt = (q) => R.alpacaTemplate.render([{ role: "user", content: q }], true);
const toExample = (ins) => {
  const p = tok.encode(prompt(ins.instruction), { bos: true, special: true });
  const full = tok.encode(prompt(ins.instruction) + ins.answer, { bos: true, special: true });
  // The prompt ends in "\n\n" (byte pieces), so the answer's pieces follow it unchanged.
  const same = p.every((id, i) => full[i] === id);
  if (!same) throw new Error(`prompt tokens are not a prefix: ${ins.instruction}`);
  return { prompt: p, answer: [...full.slice(p.length), tok.eosId] };
};
const sftTrain = instructions(trainPoems, S.seed)
  .map(toExample)
  .filter((e) => e.prompt.length + e.answer.length <= S.sft.maxLen + 1);
const sftHeld = instructions(heldPoems, S.seed + 1)
  .map(toExample)
  .filter((e) => e.prompt.length + e.answer.length <= S.sft.maxLen + 1);
log(
  `instructions: ${sftTrain.length} train, ${sftHeld.length} held out (prompt ${sftTrain[0].prompt.length} tokens)`,
);

const evalPretrain = T.StreamSampler.windows(heldStream, S.pretrain.seqLen, 4, tiny ? 2 : 8);
// Held-out instruction batches of similar lengths, each padded only to its longest example.
const sftBatches = (examples) => {
  const sorted = [...examples].sort(
    (a, b) => a.prompt.length + a.answer.length - (b.prompt.length + b.answer.length),
  );
  const out = [];
  for (let i = 0; i < sorted.length; i += 8) {
    const part = sorted.slice(i, i + 8);
    const len = Math.max(...part.map((e) => e.prompt.length + e.answer.length - 1));
    out.push(T.exampleBatch(part, Math.ceil(len / 4) * 4, tok.eosId));
  }
  return out;
};
const evalSft = sftBatches(sftHeld);
const evalBoth = (model) => ({
  text: T.evaluate(model, evalPretrain),
  instructions: T.evaluate(model, evalSft),
});

const mm = await TN.createMatmul({ threads });
const metrics = loadJson("metrics.json") ?? { stages: {} };
const config = { ...S.model, vocabSize: S.vocabSize };

// ---- 3. pre-training ----
const baseDir = join(work, "base");
if (!existsSync(join(baseDir, "model.safetensors"))) {
  const ckptDir = join(work, "pretrain-checkpoint");
  let model;
  const optimizer = new T.AdamW({ lr: S.pretrain.peakLr, weightDecay: 0.1, clipNorm: 1 });
  let startStep = 0;
  let history = [];
  let wallBefore = 0;
  if (existsSync(join(ckptDir, "trainer_state.json"))) {
    model = await TN.loadHfCheckpoint(ckptDir, mm);
    T.restoreOptimizer(optimizer, {
      state: readFileSync(join(ckptDir, "trainer_state.json")),
      moments: readFileSync(join(ckptDir, "optimizer.safetensors")),
    });
    startStep = optimizer.step;
    history = JSON.parse(readFileSync(join(ckptDir, "trainer_state.json"), "utf8")).history ?? [];
    wallBefore = history.at(-1)?.wall ?? 0;
    metrics.pretrainResumedAt = [...(metrics.pretrainResumedAt ?? []), startStep];
    log(`pre-training: resuming at step ${startStep}`);
  } else {
    model = new T.LlamaModel(config, T.initParams(config, S.seed), mm);
    metrics.stages.init = evalBoth(model);
    saveJson("metrics.json", metrics);
    log(
      `initial held-out loss: text ${metrics.stages.init.text.toFixed(3)}, instructions ${metrics.stages.init.instructions.toFixed(3)}`,
    );
  }
  log(`pre-training ${T.countParams(model.params)} parameters for ${S.pretrain.steps} steps`);
  const sampler = new T.StreamSampler(trainStream, S.pretrain.seqLen, S.seed + startStep);
  await T.train(model, {
    steps: S.pretrain.steps,
    startStep,
    optimizer,
    accumSteps: S.pretrain.accum,
    nextBatch: () => sampler.next(S.pretrain.batch),
    peakLr: S.pretrain.peakLr,
    warmupSteps: S.pretrain.warmup,
    heldOut: evalPretrain,
    evalEvery: tiny ? 10 : 50,
    checkpointEvery: tiny ? 10 : 25,
    onLog: (e) => {
      // Cumulative wall time over resumed runs, and how busy the machine was (the card says).
      history.push({ ...e, wall: wallBefore + e.seconds, load: loadavg()[0] });
      if (e.step % 5 === 0 || e.evalLoss !== undefined)
        log(
          `pretrain ${e.step}/${S.pretrain.steps} loss ${e.loss.toFixed(3)}${e.evalLoss ? ` held-out ${e.evalLoss.toFixed(3)}` : ""} lr ${e.lr.toExponential(2)} |g| ${e.gradNorm.toFixed(2)} ${(e.tokens / e.seconds).toFixed(0)} tok/s`,
        );
    },
    onCheckpoint: async (_step, opt) => {
      await TN.writeFileSet(ckptDir, {
        ...T.hfCheckpointFiles(model),
        ...T.optimizerStateFiles(opt, { history }),
      });
    },
  });
  metrics.stages.pretrain = evalBoth(model);
  metrics.pretrainHistory = history;
  saveJson("metrics.json", metrics);
  await TN.saveHfCheckpoint(baseDir, model, tokBytes);
  log(
    `pre-training done: held-out text ${metrics.stages.pretrain.text.toFixed(3)}, instructions ${metrics.stages.pretrain.instructions.toFixed(3)}`,
  );
}

// ---- 4. LoRA instruction tuning ----
const loraDir = join(work, "lora");
if (!existsSync(join(loraDir, "adapter_model.safetensors"))) {
  const model = await TN.loadHfCheckpoint(baseDir, mm);
  metrics.stages.pretrain ??= evalBoth(model);
  model.enableLora({ r: S.sft.r, alpha: S.sft.alpha, seed: S.seed });
  const sampler = new T.ExampleSampler(sftTrain, S.sft.maxLen, tok.eosId, S.seed);
  const textSampler = new T.StreamSampler(trainStream, S.pretrain.seqLen, S.seed + 99);
  let micro = 0;
  // The last `textMicro` micro-batches of every step are pre-training text, the others instructions.
  const nextBatch = () =>
    micro++ % S.sft.accum >= S.sft.accum - S.sft.textMicro
      ? textSampler.next(S.sft.textBatch)
      : sampler.next(S.sft.batch);
  const lrScale = Object.fromEntries(
    model
      .trainable()
      .filter((p) => p.name === "lm_head.weight" || p.name === "model.embed_tokens.weight")
      .map((p) => [p.name, S.sft.modulesLrScale]),
  );
  const history = [
    { step: 0, evalLoss: metrics.stages.pretrain.instructions, evalText: metrics.stages.pretrain.text },
  ];
  log(
    `LoRA tuning: r=${S.sft.r} alpha=${S.sft.alpha}, ${model.trainable().reduce((s, p) => s + p.data.length, 0)} trainable values`,
  );
  await T.train(model, {
    steps: S.sft.steps,
    accumSteps: S.sft.accum,
    nextBatch,
    peakLr: S.sft.peakLr,
    warmupSteps: S.sft.warmup,
    weightDecay: 0,
    lrScale,
    heldOut: evalSft,
    evalEvery: tiny ? 5 : 40,
    onLog: (e) => {
      const entry = { ...e, wall: e.seconds, load: loadavg()[0] };
      if (e.evalLoss !== undefined) entry.evalText = T.evaluate(model, evalPretrain);
      history.push(entry);
      if (e.step % 5 === 0 || e.evalLoss !== undefined)
        log(
          `lora ${e.step}/${S.sft.steps} loss ${e.loss.toFixed(3)}${e.evalLoss ? ` held-out instructions ${e.evalLoss.toFixed(3)} text ${entry.evalText.toFixed(3)}` : ""} ${(e.tokens / e.seconds).toFixed(0)} tok/s`,
        );
    },
  });
  metrics.stages.lora = evalBoth(model);
  metrics.sftHistory = history;
  saveJson("metrics.json", metrics);
  await TN.savePeftAdapter(loraDir, model, { baseModel: "cllama-demo-base", tokenizerModel: tokBytes });
  log(
    `LoRA done: held-out text ${metrics.stages.lora.text.toFixed(3)}, instructions ${metrics.stages.lora.instructions.toFixed(3)}`,
  );
}
await mm.dispose();

// ---- 5. merge, 6. quantize ----
const f16 = join(work, "demo-f16.gguf");
const final = join(outDir, "demo.gguf");
await mergeLoras({
  base: baseDir,
  loras: [loraDir],
  output: f16,
  outType: "f16",
  name: "cllama demo (fortunes-zh)",
});
await quantizeGgufFile(f16, final, { ftype: "q8_0", threads });
log(`wrote ${final}`);

// ---- 7. the GGUF through the runtime: perplexity and sample conversations ----
const m = await R.loadModel(final, { threads });
const ppl = await R.perplexityOfTokens(m, [...heldStream], { contextSize: 128 });
metrics.ggufPerplexity = { ppl: ppl.ppl, scored: ppl.scored, chunks: ppl.chunks };
const questions = [
  "写一首五言绝句。",
  "请以《春晓》为题，写一首五言绝句。",
  "《静夜思》的作者是谁？",
  "《登鹳雀楼》的作者是谁？",
  "「床前明月光，」的下一句是什么？",
  "请续写这首诗：\n白日依山尽，黄河入海流。",
  "下面这首诗的题目和作者是什么？\n红豆生南国，春来发几枝。",
];
metrics.samples = [];
for (const q of questions) {
  const session = new R.ChatSession(m, { sampling: { temperature: 0 }, maxTokens: 80 });
  const r = await session.send(q);
  metrics.samples.push({ q, a: r.text.trim() });
  log(`Q: ${q}\nA: ${r.text.trim()}`);
}
await m.dispose();
saveJson("metrics.json", metrics);

// ---- 8. loss curves and the model card ----
const pts = (h, key) => h.filter((e) => e[key] !== undefined).map((e) => [e.step, e[key]]);
writeFileSync(
  join(outDir, "loss-curves.png"),
  lossChart([
    {
      series: [
        { points: pts(metrics.pretrainHistory, "loss"), color: [70, 110, 220] },
        {
          points: [
            ...(metrics.stages.init ? [[0, metrics.stages.init.text]] : []),
            ...pts(metrics.pretrainHistory, "evalLoss"),
          ],
          color: [220, 60, 40],
          dots: true,
        },
      ],
    },
    {
      series: [
        { points: pts(metrics.sftHistory, "loss"), color: [70, 110, 220] },
        { points: pts(metrics.sftHistory, "evalText"), color: [220, 60, 40], dots: true },
        { points: pts(metrics.sftHistory, "evalLoss"), color: [40, 160, 60], dots: true },
      ],
    },
  ]),
);
const { modelCard } = await import("./card.mjs");
writeFileSync(
  join(outDir, "README.md"),
  modelCard({
    S,
    metrics,
    config,
    corpus: {
      poems: allPoems.length,
      held: heldPoems.length,
      sayings: allSayings.length,
      trainTokens: trainStream.length,
      heldTokens: heldStream.length,
      heldEvalTokens: evalPretrain.reduce((n, b) => n + b.tokens.length, 0),
      sftTrain: sftTrain.length,
      sftHeld: sftHeld.length,
    },
    ggufBytes: readFileSync(final).length,
    run: { threads, cpus: cpus().length, cpu: cpus()[0]?.model.trim(), node: process.version },
    note: args.note,
  }),
);
log(`model card: ${join(outDir, "README.md")}`);
