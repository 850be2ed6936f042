#!/usr/bin/python3
"""Golden data for @cllama/kernels-wasm, made by llama.cpp's own ggml libraries (the oracle).

For every weight type: random rows quantized by ggml_quantize_chunk, a random activation row
quantized by the CPU backend's quantize_row_q8_{0,1,K}, the CPU backend's ggml_vec_dot_<w>_<a>
of each row with it, and ggml's dequantize_row_<w> of the first rows.

Usage: /usr/bin/python3 tooling/golden/kernels-wasm-blocks.py [libdir] > packages/kernels-wasm/test/golden/blocks.json
libdir defaults to the node-llama-cpp CPU libraries under tooling/oracle.
"""
import base64
import ctypes
import json
import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
libdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    here, "..", "oracle", "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64")
base = ctypes.CDLL(os.path.join(libdir, "libggml-base.so"), mode=ctypes.RTLD_GLOBAL)
cpu = None
for variant in ("zen4", "icelake", "skylakex", "haswell", "x64"):
    try:
        cpu = ctypes.CDLL(os.path.join(libdir, f"libggml-cpu-{variant}.so"), mode=ctypes.RTLD_GLOBAL)
        cpu_variant = variant
        break
    except OSError:
        continue
if hasattr(cpu, "ggml_cpu_init"):
    cpu.ggml_cpu_init()

TYPES = [  # name, ggml id, activation partner
    ("q4_0", 2, "q8_0"), ("q4_1", 3, "q8_1"), ("q5_0", 6, "q8_0"), ("q5_1", 7, "q8_1"),
    ("q8_0", 8, "q8_0"), ("q2_K", 10, "q8_K"), ("q3_K", 11, "q8_K"), ("q4_K", 12, "q8_K"),
    ("q5_K", 13, "q8_K"), ("q6_K", 14, "q8_K"),
]
N = 512
ROWS = 5
rng = np.random.default_rng(20261127)
weights = (rng.standard_normal((ROWS, N)) * 0.05).astype(np.float32)
x = rng.standard_normal(N).astype(np.float32)
x[7] = 3.5  # an outlier, as real activations have

base.ggml_quantize_chunk.restype = ctypes.c_size_t
base.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                     ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
f32p = lambda a: a.ctypes.data_as(ctypes.c_void_p)
b64 = lambda a: base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()

out = {"generator": "tooling/golden/kernels-wasm-blocks.py", "cpu": cpu_variant, "n": N, "rows": ROWS,
       "x": b64(x), "types": {}}
for name, tid, act in TYPES:
    wbuf = np.zeros(ROWS * N * 4, dtype=np.uint8)
    size = base.ggml_quantize_chunk(tid, f32p(weights), f32p(wbuf), 0, ROWS, N, None)
    wbuf = wbuf[:size]
    row_bytes = size // ROWS
    abuf = np.zeros(N * 4, dtype=np.uint8)
    q = getattr(cpu, f"quantize_row_{act}")
    q.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    q(f32p(x), f32p(abuf), N)
    act_bytes = {"q8_0": 34, "q8_1": 36, "q8_K": 292}[act] * N // (256 if act == "q8_K" else 32)
    dot = getattr(cpu, f"ggml_vec_dot_{name}_{act}")
    dot.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
                    ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    dots = []
    for r in range(ROWS):
        s = np.zeros(1, dtype=np.float32)
        dot(N, f32p(s), 0, ctypes.c_void_p(wbuf.ctypes.data + r * row_bytes), 0, f32p(abuf), 0, 1)
        dots.append(float(s[0]))
    deq = np.zeros(2 * N, dtype=np.float32)
    dq = getattr(base, f"dequantize_row_{name}")
    dq.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    dq(f32p(wbuf), f32p(deq), 2 * N)
    out["types"][name] = {"id": tid, "act": act, "weights": b64(wbuf), "actBlocks": b64(abuf[:act_bytes]),
                          "dots": dots, "dequant": b64(deq)}
json.dump(out, sys.stdout, indent=1)
sys.stdout.write("\n")
