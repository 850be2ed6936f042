#!/usr/bin/python3
"""The Chinese-LLaMA vocabulary merge (LLaMA + chinese_sp, as the seed's merge_tokenizers.py does)
as JSON {pieces, scores, types} for the gguf-format benchmark's 49,953-token 7B-shape file.

Usage: /usr/bin/python3 tooling/golden/gguf-bench-vocab.py <llama.model> <chinese_sp.model> > vocab.json
"""
import json
import sys

from sentencepiece import sentencepiece_model_pb2 as sp_pb2


def load(path):
    model = sp_pb2.ModelProto()
    with open(path, "rb") as f:
        model.ParseFromString(f.read())
    return model


def main(base_path, extra_path):
    base = load(base_path)
    extra = load(extra_path)
    seen = set(p.piece for p in base.pieces)
    for p in extra.pieces:
        if p.piece not in seen:
            new = sp_pb2.ModelProto().SentencePiece()
            new.piece = p.piece
            new.score = 0
            base.pieces.append(new)
            seen.add(p.piece)
    # sentencepiece piece types (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte)
    # map one to one onto GGUF token types.
    out = {
        "pieces": [p.piece for p in base.pieces],
        "scores": [p.score for p in base.pieces],
        "types": [int(p.type) if p.type else 1 for p in base.pieces],
    }
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
