"""Small random-weight models of each family, saved as Hugging Face checkpoints, for reference
tests. Weight scales are chosen so attention patterns are far from uniform."""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.environ.get("GB_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")), "tools"))
from gbpy import safetensors  # noqa: E402

CASES = {
    # name: config.json
    "gpt2": {"model_type": "gpt2", "n_embd": 64, "n_head": 4, "n_layer": 2, "n_positions": 48,
             "n_inner": 128, "vocab_size": 101, "layer_norm_epsilon": 1e-5,
             "activation_function": "gelu_new"},
    "llama_gqa": {"model_type": "llama", "hidden_size": 64, "num_attention_heads": 8,
                  "num_key_value_heads": 2, "num_hidden_layers": 2, "intermediate_size": 96,
                  "vocab_size": 128, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
                  "max_position_embeddings": 64, "tie_word_embeddings": False},
    "llama_mqa_tied": {"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4,
                       "num_key_value_heads": 1, "num_hidden_layers": 3, "intermediate_size": 160,
                       "vocab_size": 96, "rms_norm_eps": 1e-6, "rope_theta": 500000.0,
                       "max_position_embeddings": 64, "tie_word_embeddings": True},
    "qwen2_bias": {"model_type": "qwen2", "hidden_size": 64, "num_attention_heads": 4,
                   "num_key_value_heads": 2, "num_hidden_layers": 2, "intermediate_size": 128,
                   "vocab_size": 96, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
                   "max_position_embeddings": 64, "tie_word_embeddings": True},
}


def random_state_dict(cfg, seed):
    g = torch.Generator().manual_seed(seed)

    def randn(*shape, std=1.0):
        return torch.randn(*shape, generator=g) * std

    sd = {}
    if cfg["model_type"] == "gpt2":
        d, f, v = cfg["n_embd"], cfg["n_inner"], cfg["vocab_size"]
        sd["transformer.wte.weight"] = randn(v, d, std=0.5)
        sd["transformer.wpe.weight"] = randn(cfg["n_positions"], d, std=0.3)
        for L in range(cfg["n_layer"]):
            p = f"transformer.h.{L}."
            for ln in ("ln_1", "ln_2"):
                sd[p + ln + ".weight"] = 1 + randn(d, std=0.2)
                sd[p + ln + ".bias"] = randn(d, std=0.1)
            sd[p + "attn.c_attn.weight"] = randn(d, 3 * d, std=2.0 / d ** 0.5)  # Conv1D [in, out]
            sd[p + "attn.c_attn.bias"] = randn(3 * d, std=0.1)
            sd[p + "attn.c_proj.weight"] = randn(d, d, std=1.0 / d ** 0.5)
            sd[p + "attn.c_proj.bias"] = randn(d, std=0.1)
            sd[p + "mlp.c_fc.weight"] = randn(d, f, std=1.0 / d ** 0.5)
            sd[p + "mlp.c_fc.bias"] = randn(f, std=0.1)
            sd[p + "mlp.c_proj.weight"] = randn(f, d, std=1.0 / f ** 0.5)
            sd[p + "mlp.c_proj.bias"] = randn(d, std=0.1)
            # GPT-2 checkpoints carry these buffers; the loader must ignore them.
            sd[p + "attn.bias"] = torch.tril(torch.ones(1, 1, cfg["n_positions"], cfg["n_positions"]))
        sd["transformer.ln_f.weight"] = 1 + randn(d, std=0.2)
        sd["transformer.ln_f.bias"] = randn(d, std=0.1)
        return sd
    d, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    h, kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    dh = d // h
    bias = cfg["model_type"] == "qwen2"
    sd["model.embed_tokens.weight"] = randn(v, d, std=0.5)
    for L in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{L}."
        sd[p + "input_layernorm.weight"] = 1 + randn(d, std=0.2)
        sd[p + "post_attention_layernorm.weight"] = 1 + randn(d, std=0.2)
        sd[p + "self_attn.q_proj.weight"] = randn(h * dh, d, std=2.0 / d ** 0.5)
        sd[p + "self_attn.k_proj.weight"] = randn(kv * dh, d, std=2.0 / d ** 0.5)
        sd[p + "self_attn.v_proj.weight"] = randn(kv * dh, d, std=1.0 / d ** 0.5)
        sd[p + "self_attn.o_proj.weight"] = randn(d, h * dh, std=1.0 / d ** 0.5)
        if bias:
            sd[p + "self_attn.q_proj.bias"] = randn(h * dh, std=0.3)
            sd[p + "self_attn.k_proj.bias"] = randn(kv * dh, std=0.3)
            sd[p + "self_attn.v_proj.bias"] = randn(kv * dh, std=0.3)
        sd[p + "mlp.gate_proj.weight"] = randn(f, d, std=1.0 / d ** 0.5)
        sd[p + "mlp.up_proj.weight"] = randn(f, d, std=1.0 / d ** 0.5)
        sd[p + "mlp.down_proj.weight"] = randn(d, f, std=1.0 / f ** 0.5)
    sd["model.norm.weight"] = 1 + randn(d, std=0.2)
    if not cfg.get("tie_word_embeddings"):
        sd["lm_head.weight"] = randn(v, d, std=0.5)
    return sd


def _round_half_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def quantize_dequantize(w, qtype):
    """The values a [rows, cols] f32 matrix takes after ggml's Q8_0 / Q4_0 quantization (blocks of
    32 along each row), computed independently from the block definitions:
      Q8_0: d = amax/127 (stored f16), q = round(x/d)              -> d*q
      Q4_0: d = max/-8 (max = value of largest magnitude, f16),
            q = min(15, trunc(x/d + 8.5))                          -> d*(q-8)"""
    rows, cols = w.shape
    b = w.reshape(rows, cols // 32, 32).astype(np.float32)
    if qtype == "q8_0":
        d = (np.abs(b).max(-1, keepdims=True) / np.float32(127)).astype(np.float32)
        inv = np.where(d != 0, np.float32(1) / np.where(d != 0, d, 1), 0).astype(np.float32)
        q = _round_half_away(b * inv)
        return (d.astype(np.float16).astype(np.float32) * q).reshape(rows, cols)
    idx = np.abs(b).argmax(-1)[..., None]
    mx = np.take_along_axis(b, idx, -1)
    d = (mx / np.float32(-8)).astype(np.float32)
    inv = np.where(d != 0, np.float32(1) / np.where(d != 0, d, 1), 0).astype(np.float32)
    q = np.minimum(15, np.trunc(b * inv + np.float32(8.5)))
    return (d.astype(np.float16).astype(np.float32) * (q - 8)).reshape(rows, cols)


def gguf_weights(sd, cfg, qtype):
    """The state dict as a GGUF of weight type `qtype` holds it: every matrix rounded through
    f16 / Q8_0 / Q4_0 (GPT-2's [in, out] Conv1D matrices along their output-major layout), norms
    and biases kept f32. The attention-mask buffers of GPT-2 are not weights."""
    out = {}
    for k, v in sd.items():
        if v.dim() != 2 or k.endswith("attn.bias"):
            out[k] = v
            continue
        conv1d = cfg["model_type"] == "gpt2" and ".c_" in k
        w = (v.T if conv1d else v).numpy()
        if qtype == "f16":
            w = w.astype(np.float16).astype(np.float32)
        elif qtype in ("q8_0", "q4_0") and w.shape[1] % 32 == 0:
            w = quantize_dequantize(w, qtype)
        elif qtype in ("q8_0", "q4_0"):
            w = w.astype(np.float16).astype(np.float32)
        t = torch.from_numpy(np.ascontiguousarray(w))
        out[k] = t.T.contiguous() if conv1d else t
    return out


def save_checkpoint(sd, cfg, out_dir, shards=1, dtype=torch.float32):
    """Writes config.json and model.safetensors (or `shards` files plus the index)."""
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    tensors = {k: v.to(dtype) if v.is_floating_point() else v for k, v in sd.items()}
    if shards == 1:
        safetensors.save_file(tensors, os.path.join(out_dir, "model.safetensors"))
        return
    names = sorted(tensors)
    weight_map = {}
    for i in range(shards):
        part = names[i::shards]
        file = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        safetensors.save_file({k: tensors[k] for k in part}, os.path.join(out_dir, file))
        weight_map.update({k: file for k in part})
    with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=1)
