/**
 * A Hugging Face tokenizer.json for a SentencePiece BPE model, built the way transformers'
 * LlamaConverter does (vocab + merges recovered from the pieces, ordered by piece score), so
 * @huggingface/tokenizers can load our fixture vocabularies.
 */
import type { SentencePieceTokenizer } from "../src/index";

export function hfTokenizerJson(t: SentencePieceTokenizer): object {
  const { pieces, scores, types } = t.vocabulary;
  const vocab: Record<string, number> = {};
  pieces.forEach((p, id) => {
    vocab[p] = id;
  });
  const order = pieces.map((_, id) => id).sort((a, b) => scores[b]! - scores[a]! || a - b);
  const merges: [string, string][] = [];
  for (const id of order) {
    const piece = pieces[id]!;
    const local: [string, string, number, number][] = [];
    for (let i = 1; i < piece.length; i++) {
      const c = piece.charCodeAt(i);
      if (c >= 0xdc00 && c < 0xe000) continue;
      const l = piece.slice(0, i);
      const r = piece.slice(i);
      if (l in vocab && r in vocab) local.push([l, r, vocab[l]!, vocab[r]!]);
    }
    local.sort((a, b) => a[2] - b[2] || a[3] - b[3]);
    for (const [l, r] of local) merges.push([l, r]);
  }
  const special = (id: number) => ({
    id,
    content: pieces[id],
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const specialIds = pieces.map((_, id) => id).filter((id) => types[id] === 2 || types[id] === 3);
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specialIds.map(special),
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "Prepend", prepend: "\u2581" },
        { type: "Replace", pattern: { String: " " }, content: "\u2581" },
      ],
    },
    pre_tokenizer: null,
    post_processor: null,
    decoder: {
      type: "Sequence",
      decoders: [
        { type: "Replace", pattern: { String: "\u2581" }, content: " " },
        { type: "ByteFallback" },
        { type: "Fuse" },
        { type: "Strip", content: " ", start: 1, stop: 0 },
      ],
    },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: "<unk>",
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}
