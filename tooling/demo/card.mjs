/** The demo model's card (apps/cli/models/README.md), from the recipe's settings and measurements. */
const f = (x, d = 3) => (typeof x === "number" ? x.toFixed(d) : "-");
const ppl = (loss) => (typeof loss === "number" ? Math.exp(loss).toFixed(1) : "-");

export function modelCard({ S, metrics, config, corpus, ggufBytes }) {
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
   cosine to 10%. Data: the poems (x${S.pretrain.poemRepeats}) and the sayings, ${corpus.trainTokens} tokens.
3. **Instruction set** built from the poems: write a poem in a form (五言绝句, 七言律诗...), name the
   author, name the title and author of a first line, give the next verse, continue a poem:
   ${corpus.sftTrain} examples for training, ${corpus.sftHeld} from the held-out poems. Prompts are the
   Alpaca template (\`Below is an instruction...### Instruction:...### Response:\`), loss on the answer + EOS only.
4. **LoRA** r=${S.sft.r}, alpha=${S.sft.alpha} on q,k,v,o,gate,up,down, with embed_tokens and lm_head trained
   as modules_to_save (as Chinese-Alpaca): ${S.sft.steps} steps x ${S.sft.batch * S.sft.accum} examples, peak learning rate ${S.sft.peakLr}.
5. **Merge** into the base (PEFT adapter -> F16 GGUF), **quantize** to Q8_0: ${(ggufBytes / 1e6).toFixed(1)} MB.

## Sizes

| | |
|---|---|
| parameters | ${(params / 1e6).toFixed(2)} M |
| layers / dim / heads / FFN | ${config.nLayers} / ${config.dim} / ${config.nHeads} / ${config.ffnDim} |
| vocabulary | ${config.vocabSize} |
| context | ${config.maxSeqLen} (trained on up to ${Math.max(S.pretrain.seqLen, S.sft.maxLen)}) |
| file | Q8_0 GGUF, ${(ggufBytes / 1e6).toFixed(1)} MB |

## Held-out loss and perplexity

Held out: ${corpus.held} poems (never seen in either stage) and 1 in 25 sayings (${corpus.heldTokens} tokens)
for "text"; the instruction examples of the held-out poems, loss on the answers, for "instructions".

| after | text loss | text ppl | instructions loss | instructions ppl |
|---|---|---|---|---|
${row("random init", st.init)}
${row("pre-training", st.pretrain)}
${row("LoRA tuning", st.lora)}

${
  st.lora && st.pretrain && st.lora.text > st.pretrain.text
    ? `Each stage lowers the held-out loss it trains for: pre-training the text loss, LoRA tuning the
instruction loss. LoRA tuning raises the plain-text loss: embed_tokens and lm_head are retrained
(modules_to_save) on nothing but Alpaca prompts and short answers, so the model forgets how to
continue free text. That is the trade this tiny model makes; mixing pre-training text into the
instruction batches would soften it.

`
    : ""
}The Q8_0 GGUF, run by \`@cllama/runtime\` (llama.cpp-style perplexity, context 128, second half of each
chunk scored): text perplexity ${f(metrics.ggufPerplexity?.ppl, 1)} over ${metrics.ggufPerplexity?.scored ?? "-"} tokens.

Final training losses: pre-training ${f(last(metrics.pretrainHistory)?.loss)}, LoRA ${f(last(metrics.sftHistory)?.loss)}.

![loss curves](loss-curves.png)

Left: pre-training, right: LoRA tuning; blue the training loss per step, red the held-out loss
(grid lines every 1 nat).

## Sample conversations

Greedy decoding (\`--temp 0\`), default Alpaca system prompt:

${samples}`;
}
