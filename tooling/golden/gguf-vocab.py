#!/usr/bin/python3
"""Independent GGUF reader (struct only, no gguf package) -> golden JSON for @cllama/gguf-format.

Usage: /usr/bin/python3 tooling/golden/gguf-vocab.py <file.gguf> > packages/gguf-format/test/golden/<name>.json

Every key is listed with its GGUF type; scalars in full; arrays as item type, count, the first
items, and sha256 of the JSON of all items (compact separators, ensure_ascii=False), which the
test recomputes from what the TypeScript reader returns (float items hashed as their bit
patterns, since Python and JavaScript print floats differently).
"""
import hashlib
import json
import struct
import sys

TYPES = ["UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64"]
FMT = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, fmt):
        (v,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.data[self.pos : self.pos + n].decode("utf-8", errors="strict")
        self.pos += n
        return s

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            it = self.take("<I")
            n = self.take("<Q")
            return {"itemType": TYPES[it], "items": [self.value(it) for _ in range(n)]}
        return self.take(FMT[t])


def plain(v):
    if isinstance(v, dict):
        return [plain(x) for x in v["items"]]
    return v


def hashable(item_type, items):
    # Float formatting differs between Python and JavaScript: hash float bit patterns instead.
    if item_type == "FLOAT32":
        return [struct.unpack("<I", struct.pack("<f", x))[0] for x in items]
    if item_type == "FLOAT64":
        return ["%016x" % struct.unpack("<Q", struct.pack("<d", x))[0] for x in items]
    return items


def describe(t, v):
    if t != 9:
        return {"type": TYPES[t], "value": v}
    items = [plain(x) for x in v["items"]]
    canonical = json.dumps(hashable(v["itemType"], items), ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return {"type": "ARRAY", "itemType": v["itemType"], "count": len(items), "head": items[:8], "sha256": digest}


def main(path):
    data = open(path, "rb").read()
    r = Reader(data)
    assert r.data[:4] == b"GGUF"
    r.pos = 4
    version = r.take("<I")
    n_tensors = r.take("<Q")
    n_kv = r.take("<Q")
    kv = {}
    for _ in range(n_kv):
        key = r.string()
        t = r.take("<I")
        kv[key] = describe(t, r.value(t))
    tensors = []
    for _ in range(n_tensors):
        name = r.string()
        nd = r.take("<I")
        shape = [r.take("<Q") for _ in range(nd)]
        ttype = r.take("<I")
        offset = r.take("<Q")
        tensors.append({"name": name, "type": ttype, "shape": shape, "offset": offset})
    out = {
        "file_sha256": hashlib.sha256(data).hexdigest(),
        "file_size": len(data),
        "version": version,
        "header_size": r.pos,
        "tensors": tensors,
        "metadata": kv,
    }
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
