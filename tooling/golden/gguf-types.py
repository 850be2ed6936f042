#!/usr/bin/python3
"""ggml's type table (name, block size, bytes per block) from llama.cpp's own libggml-base.so
(the node-llama-cpp oracle), for @cllama/gguf-format's type test.

Usage: /usr/bin/python3 tooling/golden/gguf-types.py <dir with libggml-base.so> > packages/gguf-format/test/golden/ggml-types.json
"""
import ctypes
import json
import os
import sys

lib = ctypes.CDLL(os.path.join(sys.argv[1], "libggml-base.so"))
lib.ggml_type_name.restype = ctypes.c_char_p
lib.ggml_type_name.argtypes = [ctypes.c_int]
lib.ggml_blck_size.restype = ctypes.c_int64
lib.ggml_blck_size.argtypes = [ctypes.c_int]
lib.ggml_type_size.restype = ctypes.c_size_t
lib.ggml_type_size.argtypes = [ctypes.c_int]

# GGML_TYPE_COUNT is 40 in this llama.cpp (MXFP4 = 39 is the last type); ggml_type_name does
# not bounds-check, so stop there.
types = []
for t in range(40):
    name = lib.ggml_type_name(t)
    block = lib.ggml_blck_size(t)
    types.append({"id": t, "name": name.decode(), "blockSize": block, "typeSize": lib.ggml_type_size(t) if block else 0})
json.dump(types, sys.stdout, indent=1)
sys.stdout.write("\n")
