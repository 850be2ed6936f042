/** The demo model's card (apps/cli/models/README.md), from the recipe's settings and measurements. */
const f = (x, d = 3) => (typeof x === "number" ? x.toFixed(d) : "-");
const ppl = (loss) => (typeof loss === "number" ? Math.exp(loss).toFixed(1) : "-");

const minutes = (sec) => `${Math.round(sec / 60)} min`;
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);

/** Which held-out figures each stage lowered, said plainly (rises included). */
function verdict(st) {
  const stages = [
    ["pre-training", st.init, st.pretrain],
    ["LoRA tuning", st.pretrain, st.lora],
  ];
  const rises = [];
  for (const [name, before, after] of stages) {
    if (!before || !after) continue;
    for (const k of ["text", "instructions"]) {
      if (!(after[k] < before[k]))
        rises.push(`${name} raised the held-out ${k} loss (${f(before[k])} -> ${f(after[k])})`);
    }
  }
  if (rises.length === 0) {
    return `Each stage lowered both held-out losses versus the stage before it: pre-training the text and
the instruction loss, LoRA tuning the instruction loss and, because three of its four micro-batches
are pre-training text, the text loss too.`;
  }
  return `Not every stage lowered every held-out loss: ${rises.join("; ")}.`;
}

/** How the run went: wall time per stage, resumptions, and how loaded the machine was. */
function conditions(metrics, run, note) {
  const pre = metrics.pretrainHistory ?? [];
  const sft = metrics.sftHistory ?? [];
  const loads = [...pre, ...sft].map((e) => e.load).filter((x) => typeof x === "number");
  const load = mean(loads);
  const toks = (h) => {
    const e = h.at(-1);
    return e?.tokens && e?.seconds ? Math.round(e.tokens / e.seconds) : undefined;
  };
  const parts = [
    `Made with \`--threads ${run.threads}\` on ${run.cpus} x ${run.cpu ?? "CPU"}, Node ${run.node}.`,
    `Pre-training took ${minutes(pre.at(-1)?.wall ?? 0)} (${toks(pre) ?? "-"} tokens/s in its last run), LoRA tuning ${minutes(sft.at(-1)?.wall ?? 0)} (${toks(sft) ?? "-"} tokens/s).`,
  ];
  if (metrics.pretrainResumedAt?.length)
    parts.push(
      `Pre-training was interrupted and resumed from its checkpoint (weights and AdamW moments) at step ${metrics.pretrainResumedAt.join(", ")}.`,
    );
  if (load !== undefined)
    parts.push(
      `The mean 1-minute load average during training was ${load.toFixed(1)} on ${run.cpus} cores${
        load > run.threads + 0.5
          ? ": the machine was shared with other jobs, so the speeds above are lower than on an idle machine"
          : ""
      }.`,
    );
  if (note) parts.push(note);
  return parts.join("\n");
}

export function modelCard({ S, metrics, config, corpus, ggufBytes, run, note }) {
  const st = metrics.stages;
  const row = (name, s) =>
    `| ${name} | ${f(s?.text)} | ${ppl(s?.text)} | ${f(s?.instructions)} | ${ppl(s?.instructions)} |`;
  const last = (h) => h?.at(-1);
  const params =
    config.vocabSize * config.dim * 2 +
    config.nLayers * (4 * config.dim * config.dim + 3 * config.dim * config.ffnDim + 2 * config.dim) +
    config.dim;
  const samples = (metrics.samples ?? [])
    .map(
      (s) =>
        `**### Instruction:** ${s.q.replaceAll("\n", " / ")}\n\n**### Response:** ${s.a.replaceAll("\n", " / ")}\n`,
    )
    .join("\n");
  return `# cllama demo model (fortunes-zh)

The small model \`cllama chat\` opens when no \`-m\` is given. It was made from nothing but
Debian's \`fortunes-zh\` package, by cllama's own JavaScript packages: a SentencePiece BPE
vocabulary (\`@cllama/tokenizer\`), pre-training and LoRA instruction tuning (\`@cllama/train\`),
merge (\`@cllama/lora-merge\`) and Q8_0 quantization (\`@cllama/quantize\`). It is a toy: it
knows a little about the ${corpus.poems} poems of its corpus and answers in the Alpaca template, in
Chinese. Do not expect facts from it.

## Licence

**GPL-3.0-or-later.** The model was trained on the texts of Debian's \`fortunes-zh\` (唐诗三百首,
宋诗一百首 and the \`chinese\` fortunes), distributed under the GPL version 3 or later; a model trained
on them is treated as carrying that licence. (The cllama code is MIT.)

## Recipe

\`\`\`sh
apt-get install -y fortunes-zh      # the recipe does this itself when it can
pnpm install && pnpm turbo run build
node tooling/demo/recipe.mjs --threads 2
\`\`\`

1. **Vocabulary**: BPE with byte fallback, ${config.vocabSize} pieces, character coverage ${S.characterCoverage}
   (sentencepiece loads the \`.model\`; newline and rare characters are byte pieces).
2. **Pre-training** from random weights: ${S.pretrain.steps} steps x ${S.pretrain.batch * S.pretrain.accum} windows of
   ${S.pretrain.seqLen} tokens (batch ${S.pretrain.batch}, gradient accumulation ${S.pretrain.accum}), AdamW
   (beta 0.9/0.95, weight decay 0.1, clip 1.0), peak learning rate ${S.pretrain.peakLr}, ${S.pretrain.warmup} warm-up steps then
   cosine to 10%. Data: the poems (x${S.pretrain.poemRepeats}) and the sayings, ${corpus.trainTokens} tokens
   (${((S.pretrain.steps * S.pretrain.batch * S.pretrain.accum * S.pretrain.seqLen) / corpus.trainTokens).toFixed(2)} epochs).
3. **Instruction set** built from the poems: write a poem in a form (五言绝句, 七言律诗...), name the
   author, name the title and author of a first line, give the next verse, continue a poem:
   ${corpus.sftTrain} examples for training, ${corpus.sftHeld} from the held-out poems. Prompts are the
   Alpaca template (\`Below is an instruction...### Instruction:...### Response:\`), loss on the answer + EOS only.
4. **LoRA** r=${S.sft.r}, alpha=${S.sft.alpha} on q,k,v,o,gate,up,down, with embed_tokens and lm_head trained
   as modules_to_save (as Chinese-Alpaca): ${S.sft.steps} steps, each of ${S.sft.accum - S.sft.textMicro} micro-batch(es) of ${S.sft.batch}
   instruction examples and ${S.sft.textMicro} micro-batches of ${S.sft.textBatch} pre-training text windows of ${S.pretrain.seqLen} tokens
   (mixed in, as instruction-tuning recipes do, so that the model does not forget free text).
   Peak learning rate ${S.sft.peakLr} for the adapters, ${Number((S.sft.peakLr * S.sft.modulesLrScale).toPrecision(3))} (x${S.sft.modulesLrScale}) for embed_tokens and lm_head;
   ${S.sft.warmup} warm-up steps, cosine to 10%, no weight decay.
5. **Merge** into the base (PEFT adapter -> F16 GGUF), **quantize** to Q8_0: ${(ggufBytes / 1e6).toFixed(1)} MB.

${run ? conditions(metrics, run, note) : ""}

## Sizes

| | |
|---|---|
| parameters | ${(params / 1e6).toFixed(2)} M |
| layers / dim / heads / FFN | ${config.nLayers} / ${config.dim} / ${config.nHeads} / ${config.ffnDim} |
| vocabulary | ${config.vocabSize} |
| context | ${config.maxSeqLen} (trained on up to ${Math.max(S.pretrain.seqLen, S.sft.maxLen)}) |
| file | Q8_0 GGUF, ${(ggufBytes / 1e6).toFixed(1)} MB |

## Held-out loss and perplexity

Held out from both stages: ${corpus.held} poems and 1 in 25 sayings (${corpus.heldTokens} tokens). "text" is the
loss on the first ${corpus.heldEvalTokens} of these tokens (the held-out poems, then sayings) in windows of
${S.pretrain.seqLen}; "instructions" the loss on the answers of the ${corpus.sftHeld} instruction examples made from the
held-out poems.

| after | text loss | text ppl | instructions loss | instructions ppl |
|---|---|---|---|---|
${row("random init", st.init)}
${row("pre-training", st.pretrain)}
${row("LoRA tuning", st.lora)}

${verdict(st)}

The Q8_0 GGUF, run by \`@cllama/runtime\` (llama.cpp-style perplexity, context 128, second half of each
chunk scored): text perplexity ${f(metrics.ggufPerplexity?.ppl, 1)} over ${metrics.ggufPerplexity?.scored ?? "-"} tokens.

Final training losses: pre-training ${f(last(metrics.pretrainHistory)?.loss)}, LoRA ${f(last(metrics.sftHistory)?.loss)}.

![loss curves](loss-curves.png)

Left: pre-training, blue the training loss per step, red the held-out text loss. Right: LoRA
tuning, blue the training loss per step (mean over its instruction and text micro-batches), red the
held-out text loss, green the held-out instruction loss (step 0: the pre-trained base). Grid lines
every 1 nat.

## Sample conversations

Greedy decoding (\`--temp 0\`), default Alpaca system prompt:

${samples}
What to expect: legible Chinese in the Alpaca template. A model this small, tuned this briefly,
tends to answer in the commonest answer shape of its instruction set (「《…》的作者是…」) whatever
the task, and its titles and authors are mostly wrong.
`;
}
