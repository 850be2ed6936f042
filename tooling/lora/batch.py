#!/usr/bin/python3
"""Run several tooling/lora scripts in one interpreter (importing torch once instead of per
script): stdin is a JSON list of [script, arg, ...]; stdout a JSON list of their outputs."""
import contextlib
import io
import json
import os
import runpy
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
outputs = []
for job in json.load(sys.stdin):
    script, args = job[0], job[1:]
    sys.argv = [script, *args]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        runpy.run_path(os.path.join(here, script), run_name="__main__")
    outputs.append(buf.getvalue())
print(json.dumps(outputs))
