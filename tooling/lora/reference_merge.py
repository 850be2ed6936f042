#!/usr/bin/python3
"""The seed's low-memory merge (Chinese-LLaMA-Alpaca scripts/merge_llama_with_chinese_lora_low_mem.py),
reduced to its arithmetic, as the reference our merge must match bit for bit:

    for each base tensor k, for each LoRA in order:
        if the LoRA saves k (modules_to_save):  state_dict[k] = lora[k].half().clone()
        if the LoRA has k's lora_A:             state_dict[k] += transpose(B.float() @ A.float(), fan_in_fan_out) * alpha / r

(`+=` on a float16 tensor computes in float32 and rounds once.) Differences from the script: it
also reads safetensors and `.default` keys (newer PEFT), and writes one safetensors file.

  reference_merge.py --base DIR --lora DIR [--lora DIR ...] --out merged.safetensors
"""
import argparse
import json
import os
import re
import resource
import time

import torch

from common import load_state_dict, save_safetensors


def transpose(weight, fan_in_fan_out):
    return weight.T if fan_in_fan_out else weight


def base_files(base):
    names = os.listdir(base)
    for index in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        if index in names:
            return sorted(set(json.load(open(os.path.join(base, index)))["weight_map"].values()))
    for single in ("model.safetensors", "pytorch_model.bin"):
        if single in names:
            return [single]
    raise SystemExit(f"no HF checkpoint in {base}")


def load_lora(path):
    config = json.load(open(os.path.join(path, "adapter_config.json")))
    f = "adapter_model.safetensors" if os.path.exists(os.path.join(path, "adapter_model.safetensors")) else "adapter_model.bin"
    sd = load_state_dict(os.path.join(path, f))
    sd = {re.sub(r"\.lora_([AB])\.default\.weight$", r".lora_\1.weight", k): v for k, v in sd.items()}
    return {"state_dict": sd, "scaling": config["lora_alpha"] / config["r"], "fan_in_fan_out": config.get("fan_in_fan_out", False)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--lora", action="append", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    start = time.time()
    loras = [load_lora(p) for p in a.lora]
    merged = {}
    for filename in base_files(a.base):
        state_dict = load_state_dict(os.path.join(a.base, filename))
        for k in state_dict:
            for t_and_l in loras:
                saved_key = "base_model.model." + k
                lora_key_A = saved_key.replace(".weight", ".lora_A.weight")
                if saved_key in t_and_l["state_dict"]:
                    state_dict[k] = t_and_l["state_dict"][saved_key].half().clone()
                if lora_key_A in t_and_l["state_dict"]:
                    lora_key_B = lora_key_A.replace("lora_A.weight", "lora_B.weight")
                    state_dict[k] += (
                        transpose(
                            t_and_l["state_dict"][lora_key_B].float() @ t_and_l["state_dict"][lora_key_A].float(),
                            t_and_l["fan_in_fan_out"],
                        )
                        * t_and_l["scaling"]
                    )
        if a.out.endswith(".safetensors"):
            merged.update(state_dict)
        else:  # the seed's output: torch.save per shard
            os.makedirs(a.out, exist_ok=True)
            torch.save(state_dict, os.path.join(a.out, filename))
        del state_dict
    if a.out.endswith(".safetensors"):
        save_safetensors(a.out, merged)
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": time.time() - start, "maxrss_mb": maxrss_mb}))


if __name__ == "__main__":
    main()
