#!/usr/bin/python3
"""
llama.cpp's llama-quantize as an oracle: calls `llama_model_quantize` from node-llama-cpp's
libllama (the whole tool: type mixes, fallbacks, metadata, threads) through ctypes.

usage: quantize-llama.py <libdir> <in.gguf> <out.gguf> <ftype number> <nthread>
           [--pure] [--allow-requantize] [--output-tensor-type N] [--token-embedding-type N]
       quantize-llama.py <libdir> --jobs <jobs.json>
           (a JSON list of [in, out, ftype, nthread, flags...] runs, one process for all)

Prints {"seconds": ...} per run (or {"error": ...}); exits 1 when a single run fails.
"""
import ctypes
import glob
import json
import os
import sys
import time


class Params(ctypes.Structure):
    # llama_model_quantize_params starts with these fields in every llama.cpp of the last years;
    # the tail (pointers, newer flags) is kept as opaque bytes, large enough for any version.
    _fields_ = [
        ("nthread", ctypes.c_int32),
        ("ftype", ctypes.c_int32),
        ("output_tensor_type", ctypes.c_int32),
        ("token_embedding_type", ctypes.c_int32),
        ("allow_requantize", ctypes.c_bool),
        ("quantize_output_tensor", ctypes.c_bool),
        ("only_copy", ctypes.c_bool),
        ("pure", ctypes.c_bool),
        ("tail", ctypes.c_uint8 * 240),
    ]


def load(libdir):
    llama_path = sorted(glob.glob(os.path.join(libdir, "libllama*.so")))
    llama_path = [p for p in llama_path if "common" not in p][0]
    ctypes.CDLL(os.path.join(libdir, "libggml-base.so"), mode=ctypes.RTLD_GLOBAL)
    lib = ctypes.CDLL(llama_path, mode=ctypes.RTLD_GLOBAL)
    lib.llama_backend_init.restype = None
    lib.llama_backend_init()
    lib.llama_model_quantize_default_params.restype = Params
    lib.llama_model_quantize.restype = ctypes.c_uint32
    lib.llama_model_quantize.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(Params)]
    return lib


def run(lib, inp, out, ftype, nthread, flags):
    params = lib.llama_model_quantize_default_params()
    params.nthread = int(nthread)
    params.ftype = int(ftype)
    i = 0
    while i < len(flags):
        f = flags[i]
        if f == "--pure":
            params.pure = True
        elif f == "--allow-requantize":
            params.allow_requantize = True
        elif f == "--output-tensor-type":
            i += 1
            params.output_tensor_type = int(flags[i])
        elif f == "--token-embedding-type":
            i += 1
            params.token_embedding_type = int(flags[i])
        else:
            raise SystemExit(f"unknown flag {f}")
        i += 1
    start = time.perf_counter()
    rc = lib.llama_model_quantize(inp.encode(), out.encode(), ctypes.byref(params))
    seconds = time.perf_counter() - start
    return {"seconds": seconds} if rc == 0 else {"error": "llama_model_quantize failed"}


def main() -> None:
    args = sys.argv[1:]
    lib = load(args[0])
    if args[1] == "--jobs":
        for job in json.load(open(args[2])):
            print(json.dumps(run(lib, *job[:4], job[4:])), flush=True)
        return
    result = run(lib, *args[1:5], args[5:])
    print(json.dumps(result))
    if "error" in result:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
