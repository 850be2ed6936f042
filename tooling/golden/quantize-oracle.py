#!/usr/bin/python3
"""
ggml's reference quantizer as an oracle for @cllama/quantize.

Loads libggml-base.so from node-llama-cpp's prebuilt CPU libraries and, for every case of a
request file, quantizes float32 rows with `ggml_quantize_chunk` (exactly what llama-quantize calls
without an importance matrix; for the activation formats Q8_1 / Q8_K, which ggml_quantize_chunk
does not take, the type traits' `from_float_ref`), then dequantizes the bytes with the type
traits' `to_float`. Used by the golden-file generator (quantize-golden.mjs) and by the package's
differential test.

usage: quantize-oracle.py <libdir> <request.bin> <response.bin>

request  (little-endian): b"QREQ", u32 ncases, then per case:
         u32 type, u32 nrows, u32 n_per_row, f32 data[nrows * n_per_row]
response: b"QRES", u32 ncases, then per case:
         u32 nbytes, u8 bytes[nbytes], u32 nfloats, f32 floats[nfloats]  (nfloats 0: no to_float)
"""
import ctypes
import struct
import sys

import numpy as np

# Activation formats: ggml_quantize_chunk does not take them; call their exported reference rows.
ACTIVATION_QUANTIZE = {9: "quantize_row_q8_1_ref", 15: "quantize_row_q8_K_ref"}
ACTIVATION_DEQUANTIZE = {15: "dequantize_row_q8_K"}  # Q8_1 has no dequantizer in ggml


class TypeTraits(ctypes.Structure):
    # struct ggml_type_traits (ggml.h)
    _fields_ = [
        ("type_name", ctypes.c_char_p),
        ("blck_size", ctypes.c_int64),
        ("blck_size_interleave", ctypes.c_int64),
        ("type_size", ctypes.c_size_t),
        ("is_quantized", ctypes.c_bool),
        ("to_float", ctypes.c_void_p),
        ("from_float_ref", ctypes.c_void_p),
    ]


ROW_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)


def main() -> None:
    libdir, req_path, res_path = sys.argv[1:4]
    lib = ctypes.CDLL(f"{libdir}/libggml-base.so")
    lib.ggml_quantize_chunk.restype = ctypes.c_size_t
    lib.ggml_quantize_chunk.argtypes = [
        ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p,
    ]
    lib.ggml_get_type_traits.restype = ctypes.POINTER(TypeTraits)
    lib.ggml_get_type_traits.argtypes = [ctypes.c_int]
    lib.ggml_quantize_init.argtypes = [ctypes.c_int]

    req = open(req_path, "rb").read()
    assert req[:4] == b"QREQ", "not a request file"
    (ncases,) = struct.unpack_from("<I", req, 4)
    pos = 8
    out = [b"QRES", struct.pack("<I", ncases)]
    for _ in range(ncases):
        qtype, nrows, n_per_row = struct.unpack_from("<III", req, pos)
        pos += 12
        n = nrows * n_per_row
        src = np.frombuffer(req, dtype="<f4", count=n, offset=pos).copy()
        pos += 4 * n
        traits = lib.ggml_get_type_traits(qtype).contents
        nbytes = n // traits.blck_size * traits.type_size
        dst = np.zeros(nbytes, dtype=np.uint8)
        if qtype in ACTIVATION_QUANTIZE:
            fn = getattr(lib, ACTIVATION_QUANTIZE[qtype])
            fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
            fn(src.ctypes.data, dst.ctypes.data, n)
        else:
            lib.ggml_quantize_init(qtype)
            written = lib.ggml_quantize_chunk(qtype, src.ctypes.data, dst.ctypes.data, 0, nrows, n_per_row, None)
            assert written == nbytes, (qtype, written, nbytes)
        out.append(struct.pack("<I", nbytes))
        out.append(dst.tobytes())
        to_float = None
        if qtype in ACTIVATION_DEQUANTIZE:
            to_float = getattr(lib, ACTIVATION_DEQUANTIZE[qtype])
            to_float.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        elif traits.to_float:
            to_float = ROW_FN(traits.to_float)
        if to_float is not None:
            floats = np.zeros(n, dtype="<f4")
            to_float(dst.ctypes.data, floats.ctypes.data, n)
            out.append(struct.pack("<I", n))
            out.append(floats.tobytes())
        else:
            out.append(struct.pack("<I", 0))
    with open(res_path, "wb") as f:
        f.write(b"".join(out))


if __name__ == "__main__":
    main()
