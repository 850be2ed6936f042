#!/usr/bin/python3
"""Reference loss and gradients for @cllama/train, from PyTorch autograd.

Usage: train-grads.py DIR [--bench SECONDS THREADS]
DIR holds config.json + model.safetensors (F32, Hugging Face names) and batch.json
{"tokens": [...], "targets": [...], "batch": B, "seqLen": T, "lora": null | {"r", "alpha", "adapter"}}
where "adapter" names a safetensors file with PEFT keys. Writes DIR/grads.safetensors (the
gradient of every trainable tensor, same names) and DIR/loss.json.

The model is written out here (no transformers needed) exactly as LlamaForCausalLM computes it:
RMSNorm, rotate_half RoPE, causal softmax attention, SwiGLU, untied lm_head, mean cross-entropy
over targets >= 0. With --bench it instead times training steps (forward + backward + AdamW) on
random data of the same shape and prints tokens/s as JSON.
"""
import json, struct, sys, time
import numpy as np
import torch

def read_st(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        arr = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=np.float32).reshape(info["shape"])
        out[name] = torch.tensor(arr.copy())
    return out

def write_st(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().contiguous().numpy().astype(np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))

def rms(x, g, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g

def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)

def forward(cfg, W, tokens, targets, B, T, lora=None):
    D, H = cfg["hidden_size"], cfg["num_attention_heads"]
    hd = D // H
    eps = cfg["rms_norm_eps"]
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    freqs = torch.outer(torch.arange(T, dtype=torch.float32), inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()

    def lin(name, x):
        y = x @ W[name].t()
        if lora and name in lora["pairs"]:
            a, b = lora["pairs"][name]
            y = y + lora["scale"] * ((x @ a.t()) @ b.t())
        return y

    x = W["model.embed_tokens.weight"][tokens].view(B, T, D)
    mask = torch.full((T, T), float("-inf")).triu(1)
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms(x, W[p + "input_layernorm.weight"], eps)
        q = lin(p + "self_attn.q_proj.weight", h).view(B, T, H, hd).transpose(1, 2)
        k = lin(p + "self_attn.k_proj.weight", h).view(B, T, H, hd).transpose(1, 2)
        v = lin(p + "self_attn.v_proj.weight", h).view(B, T, H, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        att = torch.softmax(q @ k.transpose(-1, -2) / hd ** 0.5 + mask, dim=-1)
        o = (att @ v).transpose(1, 2).reshape(B, T, D)
        x = x + lin(p + "self_attn.o_proj.weight", o)
        h = rms(x, W[p + "post_attention_layernorm.weight"], eps)
        g = lin(p + "mlp.gate_proj.weight", h)
        u = lin(p + "mlp.up_proj.weight", h)
        x = x + lin(p + "mlp.down_proj.weight", torch.nn.functional.silu(g) * u)
    x = rms(x, W["model.norm.weight"], eps)
    logits = lin("lm_head.weight", x).view(B * T, -1)
    return torch.nn.functional.cross_entropy(logits, targets, ignore_index=-1)

def main():
    d = sys.argv[1]
    cfg = json.load(open(f"{d}/config.json"))
    W = read_st(f"{d}/model.safetensors")
    if len(sys.argv) > 2 and sys.argv[2] == "--bench":
        seconds, threads = float(sys.argv[3]), int(sys.argv[4])
        B, T = int(sys.argv[5]), int(sys.argv[6])
        torch.set_num_threads(threads)
        for t in W.values():
            t.requires_grad_(True)
        opt = torch.optim.AdamW(list(W.values()), lr=1e-4)
        V = cfg["vocab_size"]
        g = torch.Generator().manual_seed(0)
        steps, start = 0, time.time()
        while True:
            tok = torch.randint(0, V, (B * T,), generator=g)
            tgt = torch.randint(0, V, (B * T,), generator=g)
            opt.zero_grad()
            forward(cfg, W, tok, tgt, B, T).backward()
            opt.step()
            steps += 1
            if steps == 1:
                start = time.time()  # the first step warms up
            elif time.time() - start > seconds and steps >= 3:
                break
        el = time.time() - start
        # The BLAS this torch build calls (Debian's links the generic one): one lm_head-sized product.
        a, b = torch.randn(B * T, cfg["hidden_size"]), torch.randn(V, cfg["hidden_size"])
        a @ b.t()
        t0 = time.time()
        for _ in range(10):
            a @ b.t()
        gflops = 10 * 2 * a.shape[0] * a.shape[1] * b.shape[0] / (time.time() - t0) / 1e9
        print(json.dumps({"tokensPerSecond": (steps - 1) * B * T / el, "steps": steps - 1, "threads": threads, "matmulGflops": gflops, "blas": torch.__config__.show().split("BLAS_INFO=")[1].split(",")[0]}))
        return
    batch = json.load(open(f"{d}/batch.json"))
    B, T = batch["batch"], batch["seqLen"]
    tokens = torch.tensor(batch["tokens"], dtype=torch.long)
    targets = torch.tensor(batch["targets"], dtype=torch.long)
    lora = None
    if batch.get("lora"):
        L = batch["lora"]
        A = read_st(f"{d}/{L['adapter']}")
        pairs = {}
        for name, t in A.items():
            key = name.replace("base_model.model.", "")
            if ".lora_A." in key:
                base = key.replace(".lora_A.weight", ".weight")
                pairs.setdefault(base, [None, None])[0] = t.requires_grad_(True)
            elif ".lora_B." in key:
                base = key.replace(".lora_B.weight", ".weight")
                pairs.setdefault(base, [None, None])[1] = t.requires_grad_(True)
            else:
                W[key] = t
        lora = {"pairs": pairs, "scale": L["alpha"] / L["r"]}
        trainable = {}
        for base, (a, b) in pairs.items():
            trainable[base.replace(".weight", ".lora_A.weight")] = a
            trainable[base.replace(".weight", ".lora_B.weight")] = b
        for m in L.get("modulesToSave", []):
            trainable[m] = W[m].requires_grad_(True)
    else:
        trainable = {k: t.requires_grad_(True) for k, t in W.items()}
    loss = forward(cfg, W, tokens, targets, B, T, lora)
    loss.backward()
    write_st(f"{d}/grads.safetensors", {k: t.grad for k, t in trainable.items()})
    json.dump({"loss": loss.item()}, open(f"{d}/loss.json", "w"))

main()
