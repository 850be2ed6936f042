#!/usr/bin/python3
"""A tiny LLaMA forward pass in PyTorch (float32), written from the Hugging Face modeling
semantics (rotate-half RoPE with optional linear scaling, RMSNorm, SwiGLU, grouped-query
attention), because transformers is not installed. Prints the next-token probabilities after
the last input token as JSON.

  forward.py --config config.json --weights model.safetensors|pytorch_model.bin|dir --tokens 1,2,3
"""
import argparse
import json
import os

import torch

from common import load_state_dict


def load_weights(path):
    if os.path.isdir(path):
        for f in ("model.safetensors", "pytorch_model.bin"):
            if os.path.exists(os.path.join(path, f)):
                return load_state_dict(os.path.join(path, f))
        raise SystemExit(f"no weights in {path}")
    return load_state_dict(path)


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def forward(cfg, sd, tokens):
    W = {k: v.float() for k, v in sd.items()}
    dim, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    kv = cfg.get("num_key_value_heads") or heads
    hd = dim // heads
    eps = cfg.get("rms_norm_eps", 1e-6)
    theta = cfg.get("rope_theta", 10000.0)
    scaling = cfg.get("rope_scaling") or {}
    factor = scaling.get("factor", 1.0) if scaling.get("type", scaling.get("rope_type")) == "linear" else 1.0
    n = len(tokens)
    x = W["model.embed_tokens.weight"][torch.tensor(tokens)]
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2).float() / hd))
    t = torch.arange(n).float() / factor
    freqs = torch.outer(t, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((n, n), float("-inf")).triu(1)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        q = (h @ W[p + "self_attn.q_proj.weight"].T).view(n, heads, hd).transpose(0, 1)
        k = (h @ W[p + "self_attn.k_proj.weight"].T).view(n, kv, hd).transpose(0, 1)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).view(n, kv, hd).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(heads // kv, dim=0)
        v = v.repeat_interleave(heads // kv, dim=0)
        att = (q @ k.transpose(1, 2)) / hd**0.5 + mask
        o = (att.softmax(-1) @ v).transpose(0, 1).reshape(n, dim)
        x = x + o @ W[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        gate = h @ W[p + "mlp.gate_proj.weight"].T
        up = h @ W[p + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(gate) * up) @ W[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W.get("lm_head.weight", W["model.embed_tokens.weight"])
    return x @ head.T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--tokens", required=True)
    a = ap.parse_args()
    cfg = json.load(open(a.config))
    tokens = [int(t) for t in a.tokens.split(",")]
    logits = forward(cfg, load_weights(a.weights), tokens)
    probs = logits[-1].double().softmax(-1)
    print(json.dumps({"probs": probs.tolist()}))


if __name__ == "__main__":
    main()
