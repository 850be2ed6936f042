#!/usr/bin/python3
"""Build tiny random LLaMA checkpoints, PEFT adapters, merged tokenizers and hostile files for
the @cllama/lora-merge tests and benchmark.

  fixtures.py checkpoint --out DIR --format st|st-sharded|bin|bin-sharded|meta|meta2 [dims...]
  fixtures.py lora --out DIR [dims...] --r 8 --alpha 32 --targets q_proj,v_proj [--vocab N]
  fixtures.py tokenizer --out FILE --base llama.model --extra chinese_sp.model [--pad]
  fixtures.py malicious --out DIR
"""
import argparse
import json
import os
import pickle
import shutil
import zipfile

import torch

from common import permute_hf_to_meta, save_safetensors

DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}
PROJ = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def dims_args(p):
    p.add_argument("--vocab", type=int, default=32000)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=None)
    p.add_argument("--ff", type=int, default=172)
    p.add_argument("--dtype", default="f16")
    p.add_argument("--seed", type=int, default=1)


def linear_shapes(a):
    kv = a.kv_heads or a.heads
    hd = a.dim // a.heads
    return {
        "q_proj": (a.dim, a.dim),
        "k_proj": (kv * hd, a.dim),
        "v_proj": (kv * hd, a.dim),
        "o_proj": (a.dim, a.dim),
        "gate_proj": (a.ff, a.dim),
        "up_proj": (a.ff, a.dim),
        "down_proj": (a.dim, a.ff),
    }


def module_of(p):
    return "self_attn" if p in ("q_proj", "k_proj", "v_proj", "o_proj") else "mlp"


def hf_state(a):
    g = torch.Generator().manual_seed(a.seed)
    dt = DTYPES[a.dtype]
    rnd = lambda *s, scale: (torch.randn(*s, generator=g) * scale).to(dt)  # noqa: E731
    sd = {"model.embed_tokens.weight": rnd(a.vocab, a.dim, scale=0.5)}
    for i in range(a.layers):
        sd[f"model.layers.{i}.input_layernorm.weight"] = (1 + torch.randn(a.dim, generator=g) * 0.1).to(dt)
        for p, (o, n) in linear_shapes(a).items():
            sd[f"model.layers.{i}.{module_of(p)}.{p}.weight"] = rnd(o, n, scale=n**-0.5)
        sd[f"model.layers.{i}.post_attention_layernorm.weight"] = (1 + torch.randn(a.dim, generator=g) * 0.1).to(dt)
    sd["model.norm.weight"] = (1 + torch.randn(a.dim, generator=g) * 0.1).to(dt)
    if not a.tie:
        sd["lm_head.weight"] = rnd(a.vocab, a.dim, scale=a.dim**-0.5)
    return sd


def hf_config(a):
    cfg = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": a.vocab,
        "hidden_size": a.dim,
        "intermediate_size": a.ff,
        "num_hidden_layers": a.layers,
        "num_attention_heads": a.heads,
        "num_key_value_heads": a.kv_heads or a.heads,
        "rms_norm_eps": a.eps,
        "rope_theta": a.rope_theta,
        "max_position_embeddings": a.ctx,
        "tie_word_embeddings": a.tie,
        "torch_dtype": {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}[a.dtype],
    }
    if a.rope_scale:
        cfg["rope_scaling"] = {"type": "linear", "factor": a.rope_scale}
    return cfg


def write_checkpoint(a):
    os.makedirs(a.out, exist_ok=True)
    sd = hf_state(a)
    if a.format.startswith("meta"):
        write_meta(a, sd)
    else:
        with open(os.path.join(a.out, "config.json"), "w") as f:
            json.dump(hf_config(a), f, indent=2)
        names = list(sd)
        shards = [names] if not a.format.endswith("sharded") else [names[: len(names) // 2], names[len(names) // 2 :]]
        st = a.format.startswith("st")
        ext = "safetensors" if st else "bin"
        weight_map = {}
        for k, part in enumerate(shards):
            if len(shards) == 1:
                fname = "model.safetensors" if st else "pytorch_model.bin"
            else:
                fname = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors" if st else f"pytorch_model-{k + 1:05d}-of-{len(shards):05d}.bin"
            chunk = {n: sd[n] for n in part}
            if st:
                save_safetensors(os.path.join(a.out, fname), chunk, {"format": "pt"})
            else:
                torch.save(chunk, os.path.join(a.out, fname))
            weight_map.update({n: fname for n in part})
        if len(shards) > 1:
            index = "model.safetensors.index.json" if st else "pytorch_model.bin.index.json"
            with open(os.path.join(a.out, index), "w") as f:
                json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=2)
        del ext
    # the HF-order reference of what every reader must produce
    if a.reference:
        save_safetensors(a.reference, sd)
    if a.tokenizer:
        shutil.copy(a.tokenizer, os.path.join(a.out, "tokenizer.model"))


META = {
    "model.embed_tokens.weight": ("tok_embeddings.weight", 1),
    "model.norm.weight": ("norm.weight", None),
    "lm_head.weight": ("output.weight", 0),
}
META_LAYER = {
    "input_layernorm": ("attention_norm", None),
    "self_attn.q_proj": ("attention.wq", 0),
    "self_attn.k_proj": ("attention.wk", 0),
    "self_attn.v_proj": ("attention.wv", 0),
    "self_attn.o_proj": ("attention.wo", 1),
    "post_attention_layernorm": ("ffn_norm", None),
    "mlp.gate_proj": ("feed_forward.w1", 0),
    "mlp.up_proj": ("feed_forward.w3", 0),
    "mlp.down_proj": ("feed_forward.w2", 1),
}


class FastRandom:
    """Normal-looking values for multi-GB benchmark files: a 16M-value random pool, tiled from a
    random offset (drawing billions of fresh normals would take longer than the benchmark)."""

    def __init__(self, g):
        self.g = g
        self.pool = torch.randn(1 << 24, generator=g)

    def randn(self, *shape, generator=None):  # same call shape as torch.randn
        n = 1
        for d in shape:
            n *= d
        start = int(torch.randint(0, 1 << 24, (1,), generator=self.g))
        reps = -(-(start + n) // (1 << 24))
        return self.pool.repeat(reps)[start : start + n].reshape(shape).clone()


def write_big(a):
    """A 7B-shape Hugging Face base (F16, sharded .bin, written shard by shard so memory stays at
    one shard) for the benchmark; the LoRA and tokenizer are made with the lora/tokenizer commands."""
    os.makedirs(a.out, exist_ok=True)
    g = torch.Generator().manual_seed(a.seed)
    fast = FastRandom(g)
    a.tie = False
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(hf_config(a), f, indent=2)
    shapes = [("model.embed_tokens.weight", (a.vocab, a.dim))]
    for i in range(a.layers):
        shapes.append((f"model.layers.{i}.input_layernorm.weight", (a.dim,)))
        for p, shape in linear_shapes(a).items():
            shapes.append((f"model.layers.{i}.{module_of(p)}.{p}.weight", shape))
        shapes.append((f"model.layers.{i}.post_attention_layernorm.weight", (a.dim,)))
    shapes += [("model.norm.weight", (a.dim,)), ("lm_head.weight", (a.vocab, a.dim))]
    per = -(-len(shapes) // a.shards)
    weight_map = {}
    for k in range(a.shards):
        fname = f"pytorch_model-{k + 1:05d}-of-{a.shards:05d}.bin"
        chunk = {}
        for name, shape in shapes[k * per : (k + 1) * per]:
            scale = 1.0 if len(shape) == 1 else shape[-1] ** -0.5
            chunk[name] = (fast.randn(*shape) * scale).half()
            weight_map[name] = fname
        torch.save(chunk, os.path.join(a.out, fname))
        del chunk
    with open(os.path.join(a.out, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=2)


def write_meta(a, sd):
    n_shards = 2 if a.format == "meta2" else 1
    shards = [{} for _ in range(n_shards)]
    kv = a.kv_heads or a.heads
    for name, t in sd.items():
        if name.startswith("model.layers."):
            i, rest = name[len("model.layers.") :].split(".", 1)
            meta, axis = META_LAYER[rest[: -len(".weight")]]
            meta = f"layers.{i}.{meta}.weight"
        else:
            meta, axis = META[name]
        if "q_proj" in name:
            t = permute_hf_to_meta(t, a.heads)
        elif "k_proj" in name:
            t = permute_hf_to_meta(t, kv)
        pieces = [t] * n_shards if axis is None else list(torch.chunk(t, n_shards, dim=axis))
        for s, piece in zip(shards, pieces):
            s[meta] = piece.clone()
    for k, s in enumerate(shards):
        s["rope.freqs"] = torch.ones(a.dim // a.heads // 2, dtype=DTYPES[a.dtype])
        torch.save(s, os.path.join(a.out, f"consolidated.{k:02d}.pth"))
    params = {"dim": a.dim, "multiple_of": 4, "n_heads": a.heads, "n_layers": a.layers, "norm_eps": a.eps, "vocab_size": -1}
    if a.kv_heads:
        params["n_kv_heads"] = a.kv_heads
    with open(os.path.join(a.out, "params.json"), "w") as f:
        json.dump(params, f)


def write_lora(a):
    os.makedirs(a.out, exist_ok=True)
    g = torch.Generator().manual_seed(a.seed)
    dt = DTYPES[a.dtype]
    shapes = linear_shapes(a)
    if a.fast_random:
        fast = FastRandom(g)
        torch_randn = torch.randn

        def randn(*shape, generator=None):
            return fast.randn(*shape)

        torch.randn = randn
    targets = a.targets.split(",")
    suffix = ".default" if a.default_keys else ""
    sd = {}
    for i in range(a.layers):
        for p in targets:
            o, n = shapes[p]
            if a.fan_in_fan_out:
                o, n = n, o  # Conv1D layout: the product is transposed back onto W
            key = f"base_model.model.model.layers.{i}.{module_of(p)}.{p}"
            sd[f"{key}.lora_A{suffix}.weight"] = (torch.randn(a.r, n, generator=g) * n**-0.5).to(dt)
            sd[f"{key}.lora_B{suffix}.weight"] = (torch.randn(o, a.r, generator=g) * 0.05).to(dt)
    modules_to_save = None
    if a.save_embeddings:
        modules_to_save = ["embed_tokens", "lm_head"]
        sd["base_model.model.model.embed_tokens.weight"] = (torch.randn(a.vocab, a.dim, generator=g) * 0.5).to(dt)
        sd["base_model.model.lm_head.weight"] = (torch.randn(a.vocab, a.dim, generator=g) * a.dim**-0.5).to(dt)
    if a.fast_random:
        torch.randn = torch_randn
    if a.format == "st":
        save_safetensors(os.path.join(a.out, "adapter_model.safetensors"), sd)
    else:
        torch.save(sd, os.path.join(a.out, "adapter_model.bin"))
    config = {
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "r": a.r,
        "lora_alpha": a.alpha,
        "lora_dropout": 0.05,
        "target_modules": targets,
        "fan_in_fan_out": a.fan_in_fan_out,
        "modules_to_save": modules_to_save,
        "bias": "none",
        "inference_mode": True,
    }
    with open(os.path.join(a.out, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2)
    if a.tokenizer:
        shutil.copy(a.tokenizer, os.path.join(a.out, "tokenizer.model"))


def write_tokenizer(a):
    """The seed's merge_tokenizers.py: LLaMA pieces, then the new Chinese pieces (+ optional pad)."""
    from sentencepiece import sentencepiece_model_pb2 as sp_pb2

    base = sp_pb2.ModelProto()
    base.ParseFromString(open(a.base, "rb").read())
    extra = sp_pb2.ModelProto()
    extra.ParseFromString(open(a.extra, "rb").read())
    have = {p.piece for p in base.pieces}
    for p in extra.pieces:
        if p.piece not in have:
            piece = sp_pb2.ModelProto().SentencePiece()
            piece.piece = p.piece
            piece.score = 0
            base.pieces.append(piece)
            have.add(p.piece)
    if a.pad:
        piece = sp_pb2.ModelProto().SentencePiece()
        piece.piece = "[PAD]"
        piece.score = 0
        piece.type = sp_pb2.ModelProto.SentencePiece.USER_DEFINED
        base.pieces.append(piece)
    with open(a.out, "wb") as f:
        f.write(base.SerializeToString())
    print(len(base.pieces))


class _Evil:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


def _zip_checkpoint(path, pkl):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/version", "3\n")


def write_malicious(a):
    """Pickles that would run code under torch.load; the reader must refuse each untouched."""
    os.makedirs(a.out, exist_ok=True)
    canary = os.path.join(a.out, "PWNED")
    cmd = f"touch {canary}"
    # 1. a __reduce__ trick inside an otherwise normal state dict: GLOBAL posix.system + REDUCE
    _zip_checkpoint(os.path.join(a.out, "os-system.bin"), pickle.dumps({"w": _Evil(os.system, cmd)}, protocol=2))
    # 2. builtins.eval through STACK_GLOBAL (protocol 4)
    _zip_checkpoint(os.path.join(a.out, "eval.bin"), pickle.dumps(_Evil(eval, f"__import__('os').system('{cmd}')"), protocol=4))
    # 3. protocol-0 INST opcode: "i" module\nname\n calls it with the marked args
    inst = b"(S'" + cmd.encode() + b"'\nios\nsystem\n."
    _zip_checkpoint(os.path.join(a.out, "inst.bin"), inst)
    # 4. allowed global used as a callable it is not: REDUCE on torch.FloatStorage
    _zip_checkpoint(os.path.join(a.out, "storage-call.bin"), b"\x80\x02ctorch\nFloatStorage\nq\x00)R.")
    # 5. a real tensor next to an evil global deep inside (subprocess.Popen via NEWOBJ)
    class Popen:  # noqa: N801
        pass

    Popen.__module__ = "subprocess"
    Popen.__qualname__ = "Popen"
    _zip_checkpoint(os.path.join(a.out, "newobj.bin"), b"\x80\x02csubprocess\nPopen\nq\x00)\x81.")
    print(canary)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("checkpoint")
    c.add_argument("--out", required=True)
    c.add_argument("--format", default="st")
    dims_args(c)
    c.add_argument("--tie", action="store_true")
    c.add_argument("--eps", type=float, default=1e-6)
    c.add_argument("--rope-theta", type=float, default=10000.0)
    c.add_argument("--rope-scale", type=float, default=None)
    c.add_argument("--ctx", type=int, default=2048)
    c.add_argument("--tokenizer")
    c.add_argument("--reference", help="also write the HF state dict here (safetensors)")
    l = sub.add_parser("lora")  # noqa: E741
    l.add_argument("--out", required=True)
    l.add_argument("--format", default="bin")
    dims_args(l)
    l.add_argument("--r", type=int, default=8)
    l.add_argument("--alpha", type=float, default=32)
    l.add_argument("--targets", default="q_proj,k_proj,v_proj,o_proj")
    l.add_argument("--default-keys", action="store_true")
    l.add_argument("--fan-in-fan-out", action="store_true")
    l.add_argument("--save-embeddings", action="store_true")
    l.add_argument("--tokenizer")
    l.add_argument("--fast-random", action="store_true", help="tiled random pool (benchmark-size files)")
    b = sub.add_parser("big")
    b.add_argument("--out", required=True)
    dims_args(b)
    b.add_argument("--shards", type=int, default=3)
    b.add_argument("--eps", type=float, default=1e-6)
    b.add_argument("--rope-theta", type=float, default=10000.0)
    b.add_argument("--rope-scale", type=float, default=None)
    b.add_argument("--ctx", type=int, default=2048)
    t = sub.add_parser("tokenizer")
    t.add_argument("--out", required=True)
    t.add_argument("--base", required=True)
    t.add_argument("--extra", required=True)
    t.add_argument("--pad", action="store_true")
    m = sub.add_parser("malicious")
    m.add_argument("--out", required=True)
    a = ap.parse_args()
    {"checkpoint": write_checkpoint, "big": write_big, "lora": write_lora, "tokenizer": write_tokenizer, "malicious": write_malicious}[a.cmd](a)


if __name__ == "__main__":
    main()
