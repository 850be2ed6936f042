"""Times sentencepiece's encode (CPU time of the encode calls only) on the benchmark texts; prints JSON."""
import json
import sys
import time

import sentencepiece as spm

model_path, lines_path, nospace_path = sys.argv[1:4]
sp = spm.SentencePieceProcessor(model_file=model_path)
with open(lines_path, encoding="utf-8") as f:
    lines = f.read().split("\n")
with open(nospace_path, encoding="utf-8") as f:
    nospace = f.read()


def best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


sp.encode(lines[:100])
lines_s = best(lambda: [sp.encode(line) for line in lines])
whole = "\n".join(lines)
whole_s = best(lambda: sp.encode(whole))
nospace_s = best(lambda: sp.encode(nospace))
ids = [sp.encode(line) for line in lines]
print(json.dumps({"lines_s": lines_s, "whole_s": whole_s, "nospace_s": nospace_s, "tokens": sum(len(x) for x in ids)}))
