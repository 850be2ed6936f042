#!/usr/bin/python3
"""Golden files for @cllama/tokenizer, made by sentencepiece 0.1.97 (Debian python3-sentencepiece).

Run with Debian's interpreter:  /usr/bin/python3 tooling/golden/tokenizer-golden.py

1. Merges LLaMA + chinese_sp.model the way Chinese-LLaMA-Alpaca's merge_tokenizers.py does (over
   sentencepiece_model_pb2), with and without the "[PAD]" piece, and records sizes and SHA-256.
2. Generates a corpus of strings with fixed seeds from every class the tokenizer must handle
   (Chinese, English, mixed, digits, whitespace runs, emoji, rare CJK needing byte fallback,
   control characters, empty, very long, repeated-symbol runs, random code points).
3. Encodes every string with sentencepiece for each fixture tokenizer (LLaMA, Chinese-LLaMA 49953,
   Chinese-Alpaca 49954, Chinese-LLaMA-2 55296) and decodes random id sequences.

Outputs (packages/tokenizer/test/golden/, each well under 1 MB):
  corpus.json.gz            {"seed", "strings": [...]}
  ids-<name>.bin.gz         per string: varint count, then varint ids (Chinese-Alpaca: asserted equal
                            to Chinese-LLaMA's, so not stored twice)
  decode-<name>.json.gz     {"sequences": [[ids...]], "texts": [...]} random id sequences and sp.decode
  merge.json                sizes and SHA-256 of the Python merges
"""

import gzip
import hashlib
import json
import os
import random
import sys

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.environ.get("CLLAMA_FIXTURES") or os.path.join(ROOT, "..", "shared", "fixtures")
OUT = os.path.join(ROOT, "packages", "tokenizer", "test", "golden")
TMP = os.path.join(ROOT, ".bench", "tokenizer")
SEED = 20240601
N_STRINGS = int(os.environ.get("TOKENIZER_GOLDEN_STRINGS", "30000"))


def read(name):
    with open(os.path.join(FIXTURES, "tokenizers", name), "rb") as f:
        return f.read()


def merge(base_bytes, extra_bytes, pad=None):
    """merge_tokenizers.py, reduced to the proto work."""
    base = pb.ModelProto()
    base.ParseFromString(base_bytes)
    extra = pb.ModelProto()
    extra.ParseFromString(extra_bytes)
    present = set(p.piece for p in base.pieces)
    for p in extra.pieces:
        if p.piece not in present:
            new_p = pb.ModelProto().SentencePiece()
            new_p.piece = p.piece
            new_p.score = 0
            base.pieces.append(new_p)
            present.add(p.piece)
    if pad is not None and pad not in present:
        new_p = pb.ModelProto().SentencePiece()
        new_p.piece = pad
        new_p.score = 0
        base.pieces.append(new_p)
    return base.SerializeToString()


# ---------------------------------------------------------------- corpus generation

def build_word_lists(llama_proto, zh_proto):
    english = sorted(
        set(
            p.piece[1:]
            for p in llama_proto.pieces
            if p.type == 1 and p.piece.startswith("\u2581") and p.piece[1:].isascii() and p.piece[1:].isalpha()
        )
    )
    chinese_words = sorted(
        set(
            p.piece.lstrip("\u2581")
            for p in zh_proto.pieces
            if p.type == 1 and p.piece.lstrip("\u2581") and all("\u4e00" <= c <= "\u9fff" for c in p.piece.lstrip("\u2581"))
        )
    )
    return english, chinese_words


PUNCT_ZH = list("，。！？；：、“”‘’（）《》【】…—·")
PUNCT_EN = list(".,!?;:'\"()[]{}-_/\\@#$%^&*+=<>|~`")
WHITESPACE = [" ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \t ", "\u3000", "\u00a0", "\u2009", "\u200b", "\v", "\f"]
EMOJI = [
    "😀", "😂", "🤣", "❤️", "👍", "👍🏽", "🎉", "🔥", "🙏", "🐼", "🍜", "🇨🇳", "🇺🇸", "👨‍👩‍👧‍👦", "🧑🏻‍💻", "✅", "⭐", "☕", "🀄", "🈶",
    "😊", "🤔", "🥺", "🫠", "🪐",
]
SPECIAL_LOOKING = ["<s>", "</s>", "<unk>", "<0x41>", "<pad>", "[PAD]", "\u2581", "\u2581\u2581", "<<SYS>>", "[INST]", "###"]


def rand_codepoint(rng, lo, hi):
    while True:
        cp = rng.randint(lo, hi)
        if not (0xD800 <= cp <= 0xDFFF):
            return chr(cp)


def gen_chinese(rng, zh_words, n):
    parts = []
    for _ in range(n):
        r = rng.random()
        if r < 0.8:
            parts.append(rng.choice(zh_words))
        elif r < 0.95:
            parts.append(rng.choice(PUNCT_ZH))
        else:
            parts.append(rand_codepoint(rng, 0x4E00, 0x9FFF))
    return "".join(parts)


def gen_english(rng, en_words, n):
    words = []
    for i in range(n):
        w = rng.choice(en_words)
        r = rng.random()
        if r < 0.1:
            w = w.capitalize()
        elif r < 0.13:
            w = w.upper()
        words.append(w)
        if rng.random() < 0.1:
            words[-1] += rng.choice(PUNCT_EN)
    return " ".join(words)


def gen_digits(rng):
    kinds = [
        lambda: str(rng.randint(0, 10 ** rng.randint(1, 30))),
        lambda: f"{rng.uniform(-1e6, 1e6):.{rng.randint(0, 6)}f}",
        lambda: " ".join(str(rng.randint(0, 9999)) for _ in range(rng.randint(1, 8))),
        lambda: f"{rng.randint(1900, 2100)}年{rng.randint(1, 12)}月{rng.randint(1, 31)}日",
        lambda: f"{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}",
        lambda: "".join(rng.choice("0123456789０１２３４５６７８９") for _ in range(rng.randint(1, 20))),
        lambda: f"{rng.randint(0, 100)}%{rng.choice(['', ' ', '，'])}{rng.randint(1, 9)}e{rng.randint(-9, 9)}",
    ]
    return rng.choice(kinds)()


def gen_whitespace(rng):
    parts = []
    for _ in range(rng.randint(1, 12)):
        r = rng.random()
        if r < 0.5:
            parts.append(rng.choice(WHITESPACE) * rng.randint(1, 6))
        elif r < 0.8:
            parts.append(rng.choice(["a", "hello", "你好", "x", "1", "."]))
        else:
            parts.append(" " * rng.randint(1, 40))
    return "".join(parts)


def gen_emoji(rng):
    parts = []
    for _ in range(rng.randint(1, 10)):
        r = rng.random()
        if r < 0.6:
            parts.append(rng.choice(EMOJI))
        elif r < 0.8:
            parts.append(rand_codepoint(rng, 0x1F300, 0x1FAFF))
        else:
            parts.append(rng.choice([" ", "好", "ok", "！"]))
    return "".join(parts)


def gen_rare_cjk(rng):
    ranges = [(0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x9FA6, 0x9FFF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]
    parts = []
    for _ in range(rng.randint(1, 12)):
        if rng.random() < 0.7:
            lo, hi = rng.choice(ranges)
            parts.append(rand_codepoint(rng, lo, hi))
        else:
            parts.append(rng.choice(["的", "是", " ", "字", "a"]))
    return "".join(parts)


def gen_control(rng):
    parts = []
    for _ in range(rng.randint(1, 10)):
        r = rng.random()
        if r < 0.5:
            parts.append(chr(rng.choice(list(range(0, 32)) + [0x7F] + list(range(0x80, 0xA0)))))
        elif r < 0.7:
            parts.append(rng.choice(["\u200b", "\u200d", "\u200e", "\ufeff", "\u2028", "\u2029", "\ufffd", "\uffff", "\U0010FFFF"]))
        else:
            parts.append(rng.choice(["abc", "中文", " ", "1"]))
    return "".join(parts)


def gen_random_unicode(rng):
    out = []
    for _ in range(rng.randint(1, 16)):
        r = rng.random()
        if r < 0.4:
            out.append(rand_codepoint(rng, 0x20, 0x7FF))
        elif r < 0.8:
            out.append(rand_codepoint(rng, 0x800, 0xFFFF))
        else:
            out.append(rand_codepoint(rng, 0x10000, 0x10FFFF))
    return "".join(out)


def gen_runs(rng):
    unit = rng.choice(["a", "ab", "=", "-", "*", ".", "。", "哈", "哈哈", " ", "\n", "\t", "0", "1", "00", "ab ", "👍", "\u2581", "_", "!", "~", "#", "的"])
    s = unit * rng.randint(1, 100)
    if rng.random() < 0.3:
        s = rng.choice(["x", "你", " "]) + s + rng.choice(["y", "好", " ", ""])
    return s


def gen_mixed(rng, en_words, zh_words):
    parts = []
    for _ in range(rng.randint(2, 7)):
        r = rng.random()
        if r < 0.35:
            parts.append(gen_chinese(rng, zh_words, rng.randint(1, 4)))
        elif r < 0.65:
            parts.append(gen_english(rng, en_words, rng.randint(1, 4)))
        elif r < 0.75:
            parts.append(gen_digits(rng))
        elif r < 0.85:
            parts.append(rng.choice(WHITESPACE))
        elif r < 0.9:
            parts.append(rng.choice(EMOJI))
        elif r < 0.95:
            parts.append(rng.choice(SPECIAL_LOOKING))
        else:
            parts.append(rng.choice(PUNCT_ZH + PUNCT_EN))
        if rng.random() < 0.4:
            parts.append(" ")
    return "".join(parts)


def gen_long(rng, en_words, zh_words):
    target = rng.randint(1000, 8000)
    parts = []
    size = 0
    while size < target:
        p = gen_mixed(rng, en_words, zh_words) if rng.random() < 0.8 else gen_runs(rng)
        parts.append(p)
        size += len(p)
    return "".join(parts)


def make_corpus(rng, en_words, zh_words, n):
    strings = ["", " ", "  ", "\n", "\t", "a", "\u2581", " \u2581 ", "hello world", "你好，世界！", "10 123", "<s>", "</s>"]
    generators = [
        (0.16, lambda: gen_chinese(rng, zh_words, rng.randint(1, 16))),
        (0.14, lambda: gen_english(rng, en_words, rng.randint(1, 12))),
        (0.22, lambda: gen_mixed(rng, en_words, zh_words)),
        (0.07, lambda: gen_digits(rng)),
        (0.08, lambda: gen_whitespace(rng)),
        (0.06, lambda: gen_emoji(rng)),
        (0.06, lambda: gen_rare_cjk(rng)),
        (0.06, lambda: gen_control(rng)),
        (0.06, lambda: gen_random_unicode(rng)),
        (0.08, lambda: gen_runs(rng)),
        (0.01, lambda: ""),
    ]
    total = sum(w for w, _ in generators)
    while len(strings) < n:
        r = rng.random() * total
        for w, g in generators:
            r -= w
            if r <= 0:
                strings.append(g())
                break
    for _ in range(8):  # very long inputs
        strings.append(gen_long(rng, en_words, zh_words))
    strings.append("a" * 5000)
    strings.append("\u2581" * 3000)
    strings.append("哈" * 4000)
    strings.append(" " * 4000)
    strings.append("0" * 3000)
    return strings


# ---------------------------------------------------------------- output

def varint(n, out):
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def write_gz(path, data):
    # mtime=0 so the file only changes when its content does
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(data)
    return os.path.getsize(path)


def main():
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(TMP, exist_ok=True)
    llama_bytes = read("llama.model")
    zh_bytes = read("chinese_sp.model")
    merged = merge(llama_bytes, zh_bytes)
    alpaca = merge(llama_bytes, zh_bytes, pad="[PAD]")
    models = {
        "llama": llama_bytes,
        "chinese-llama": merged,
        "chinese-alpaca": alpaca,
        "chinese-llama-2": read("chinese-llama-2.model"),
    }
    for name, data in models.items():
        with open(os.path.join(TMP, f"{name}.model"), "wb") as f:
            f.write(data)
    merge_info = {
        name: {"bytes": len(models[name]), "sha256": hashlib.sha256(models[name]).hexdigest()}
        for name in ("chinese-llama", "chinese-alpaca")
    }
    with open(os.path.join(OUT, "merge.json"), "w") as f:
        json.dump(merge_info, f, indent=2)
        f.write("\n")
    print("merge:", merge_info, file=sys.stderr)

    llama_proto = pb.ModelProto()
    llama_proto.ParseFromString(llama_bytes)
    zh_proto = pb.ModelProto()
    zh_proto.ParseFromString(zh_bytes)
    en_words, zh_words = build_word_lists(llama_proto, zh_proto)
    rng = random.Random(SEED)
    strings = make_corpus(rng, en_words, zh_words, N_STRINGS)
    size = write_gz(os.path.join(OUT, "corpus.json.gz"), json.dumps({"seed": SEED, "strings": strings}, ensure_ascii=False).encode())
    print(f"corpus: {len(strings)} strings, {sum(len(s) for s in strings)} chars, {size} bytes gz", file=sys.stderr)

    encoded = {}
    for name, data in models.items():
        sp = spm.SentencePieceProcessor(model_proto=data)
        ids = sp.encode(strings)
        encoded[name] = ids
        if name == "chinese-alpaca":
            # "[PAD]" never comes out of plain text: the Alpaca ids are the Chinese-LLaMA ids, checked
            # here so the test can compare the Alpaca tokenizer against that one golden file.
            assert ids == encoded["chinese-llama"], "chinese-alpaca ids differ from chinese-llama ids"
            merge_info["chinese-alpaca"]["idsEqualChineseLlama"] = True
            with open(os.path.join(OUT, "merge.json"), "w") as f:
                json.dump(merge_info, f, indent=2)
                f.write("\n")
        else:
            buf = bytearray()
            for seq in ids:
                varint(len(seq), buf)
                for i in seq:
                    varint(i, buf)
            size = write_gz(os.path.join(OUT, f"ids-{name}.bin.gz"), bytes(buf))
            print(f"ids-{name}: {sum(len(s) for s in ids)} ids, {size} bytes gz", file=sys.stderr)

        # decode: random id sequences over the whole vocabulary, biased to byte pieces and specials
        drng = random.Random(SEED + len(data))
        n = sp.get_piece_size()
        seqs = []
        for _ in range(3000):
            seq = []
            for _ in range(drng.randint(0, 12)):
                r = drng.random()
                if r < 0.35:
                    seq.append(drng.randint(3, 258))
                elif r < 0.45:
                    seq.append(drng.randint(0, 2))
                elif r < 0.55:
                    seq.append(drng.choice([259, 29871, 1678, 268, 13]))
                else:
                    seq.append(drng.randint(0, n - 1))
            seqs.append(seq)
        texts = [sp.decode(s) for s in seqs]
        size = write_gz(
            os.path.join(OUT, f"decode-{name}.json.gz"),
            json.dumps({"sequences": seqs, "texts": texts}, ensure_ascii=False).encode(),
        )
        print(f"decode-{name}: {size} bytes gz", file=sys.stderr)


if __name__ == "__main__":
    main()
