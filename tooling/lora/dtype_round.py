#!/usr/bin/python3
"""PyTorch's float32 -> float16 / bfloat16 rounding of the raw float32 values in a file
(writes <file>.f16 and <file>.bf16), the reference for the package's dtype conversions.

  dtype_round.py values.f32
"""
import sys

import numpy as np
import torch

path = sys.argv[1]
x = torch.from_numpy(np.fromfile(path, dtype=np.float32))
x.half().numpy().tofile(path + ".f16")
x.bfloat16().view(torch.int16).numpy().tofile(path + ".bf16")
