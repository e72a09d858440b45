"""A small Llama-family decoder in PyTorch, written to match Hugging Face's LlamaForCausalLM.

Used by tools/train_demo_model.py to train glassbox's demo model, and by tests as the reference
implementation for that model: `load_checkpoint(dir)` reads a Hugging Face checkpoint (config.json
+ model.safetensors) written by `save_checkpoint`.

Architecture (as in HF Llama): token embedding -> n_layers x [RMSNorm -> causal self-attention
with rotary position embeddings (rotate-half convention) -> residual add -> RMSNorm -> SwiGLU MLP
-> residual add] -> RMSNorm -> unembedding. No biases anywhere.

Axis names in shape comments: B batch, T positions, D d_model, H heads, E d_head, F d_mlp, V vocab.
"""
import dataclasses
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import safetensors


@dataclasses.dataclass
class Config:
    vocab_size: int = 4096  # V, including <|endoftext|>
    d_model: int = 256  # D, width of the residual stream
    n_layers: int = 4
    n_heads: int = 8  # H; d_head E = d_model / n_heads
    d_mlp: int = 768  # F, SwiGLU hidden width
    context: int = 256  # longest sequence trained on
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-5
    tie_embeddings: bool = False
    attention_bias: bool = False  # q/k/v biases, as in Qwen2
    bos_token_id: int = 4095
    eos_token_id: int = 4095

    @property
    def d_head(self):
        return self.d_model // self.n_heads


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):  # x: [B, T, D] -> [B, T, D]
        scale = torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * (x * scale)


def rope_tables(cfg, n_pos):
    """cos, sin: [n_pos, E], as HF Llama builds them (frequencies repeated for both halves)."""
    e = cfg.d_head
    inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, e, 2, dtype=torch.float32) / e))  # [E/2]
    angles = torch.outer(torch.arange(n_pos, dtype=torch.float32), inv_freq)  # [n_pos, E/2]
    angles = torch.cat([angles, angles], dim=-1)  # [n_pos, E]
    return angles.cos(), angles.sin()


def apply_rope(x, cos, sin):
    """x: [B, H, T, E]; cos, sin: [T, E]. Rotates pairs (i, i + E/2) — HF's rotate_half."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg.d_model
        self.n_heads, self.d_head = cfg.n_heads, cfg.d_head
        self.q_proj = nn.Linear(d, d, bias=cfg.attention_bias)  # weight [H*E, D]
        self.k_proj = nn.Linear(d, d, bias=cfg.attention_bias)
        self.v_proj = nn.Linear(d, d, bias=cfg.attention_bias)
        self.o_proj = nn.Linear(d, d, bias=False)  # weight [D, H*E]

    def split_heads(self, x):  # [B, T, H*E] -> [B, H, T, E]
        b, t, _ = x.shape
        return x.view(b, t, self.n_heads, self.d_head).transpose(1, 2)

    def forward(self, x, cos, sin, want_pattern=False):
        """x: [B, T, D] -> ([B, T, D], pattern [B, H, T, T] or None)."""
        q = apply_rope(self.split_heads(self.q_proj(x)), cos, sin)
        k = apply_rope(self.split_heads(self.k_proj(x)), cos, sin)
        v = self.split_heads(self.v_proj(x))
        pattern = causal_attention_pattern(q, k)  # [B, H, T, T]
        z = pattern @ v  # [B, H, T, E]
        b, _, t, _ = z.shape
        z = z.transpose(1, 2).reshape(b, t, -1)  # [B, T, H*E]
        return self.o_proj(z), (pattern if want_pattern else None)


def causal_attention_pattern(q, k):
    """q, k: [B, H, T, E] -> softmax(q k^T / sqrt(E)) with future positions masked: [B, H, T, T]."""
    t = q.shape[-2]
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])  # [B, H, T, T]
    future = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
    return scores.masked_fill(future, float("-inf")).softmax(dim=-1)


class SwiGLU(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.d_model, cfg.d_mlp, bias=False)  # weight [F, D]
        self.up_proj = nn.Linear(cfg.d_model, cfg.d_mlp, bias=False)  # weight [F, D]
        self.down_proj = nn.Linear(cfg.d_mlp, cfg.d_model, bias=False)  # weight [D, F]

    def forward(self, x):  # [B, T, D] -> [B, T, D]
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.d_model, cfg.rms_norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.d_model, cfg.rms_norm_eps)
        self.mlp = SwiGLU(cfg)

    def forward(self, x, cos, sin, want_pattern=False):  # x: [B, T, D]
        attn_out, pattern = self.self_attn(self.input_layernorm(x), cos, sin, want_pattern)
        x = x + attn_out
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, pattern


class TinyLlama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.d_model)  # [V, D]
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.d_model, cfg.rms_norm_eps)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)  # weight [V, D]
        if cfg.tie_embeddings:
            self.lm_head.weight = self.embed_tokens.weight
        self.apply(init_weights)

    def forward(self, tokens, want_patterns=False):
        """tokens: [B, T] int64 -> logits [B, T, V]; with want_patterns also a list with one
        attention pattern [B, H, T, T] per layer."""
        cos, sin = rope_tables(self.cfg, tokens.shape[1])
        x = self.embed_tokens(tokens)  # [B, T, D]
        patterns = []
        for layer in self.layers:
            x, pattern = layer(x, cos, sin, want_patterns)
            patterns.append(pattern)
        logits = self.lm_head(self.norm(x))  # [B, T, V]
        return (logits, patterns) if want_patterns else logits


def init_weights(module):
    """GPT-2 style: normal(0, 0.02) for matrices, biases 0; RMSNorm weights stay at 1."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)


def count_parameters(model):
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


# --- Hugging Face checkpoint format -------------------------------------------------------------

def hf_config(cfg):
    """The config.json of a LlamaForCausalLM with this shape."""
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.d_model,
        "intermediate_size": cfg.d_mlp,
        "num_hidden_layers": cfg.n_layers,
        "num_attention_heads": cfg.n_heads,
        "num_key_value_heads": cfg.n_heads,
        "head_dim": cfg.d_head,
        "hidden_act": "silu",
        "max_position_embeddings": cfg.context,
        "rms_norm_eps": cfg.rms_norm_eps,
        "rope_theta": cfg.rope_theta,
        "rope_scaling": None,
        "attention_bias": cfg.attention_bias,
        "mlp_bias": False,
        "tie_word_embeddings": cfg.tie_embeddings,
        "bos_token_id": cfg.bos_token_id,
        "eos_token_id": cfg.eos_token_id,
        "torch_dtype": "float32",
    }


def config_from_hf(hf):
    return Config(vocab_size=hf["vocab_size"], d_model=hf["hidden_size"],
                  n_layers=hf["num_hidden_layers"], n_heads=hf["num_attention_heads"],
                  d_mlp=hf["intermediate_size"], context=hf["max_position_embeddings"],
                  rope_theta=hf["rope_theta"], rms_norm_eps=hf["rms_norm_eps"],
                  tie_embeddings=hf["tie_word_embeddings"],
                  attention_bias=hf.get("attention_bias", False), bos_token_id=hf["bos_token_id"],
                  eos_token_id=hf["eos_token_id"])


def hf_state_dict(model):
    """Parameter name -> tensor, with HF Llama names (model.layers.N.self_attn.q_proj.weight...)."""
    out = {}
    for name, tensor in model.state_dict().items():
        if name == "lm_head.weight":
            if not model.cfg.tie_embeddings:
                out[name] = tensor
        else:
            out["model." + name] = tensor
    return out


def save_checkpoint(model, out_dir):
    """Writes config.json and model.safetensors (float32) into out_dir."""
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(hf_config(model.cfg), f, indent=2)
        f.write("\n")
    tensors = {k: v.detach().float().contiguous() for k, v in hf_state_dict(model).items()}
    safetensors.save_file(tensors, os.path.join(out_dir, "model.safetensors"),
                          metadata={"format": "pt"})


def load_checkpoint(model_dir):
    """Reads a checkpoint written by save_checkpoint; returns the model in eval mode."""
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = config_from_hf(json.load(f))
    model = TinyLlama(cfg)
    tensors = safetensors.load_file(os.path.join(model_dir, "model.safetensors"))
    state = {}
    for name, array in tensors.items():
        key = name[len("model."):] if name.startswith("model.") else name
        state[key] = torch.from_numpy(np.ascontiguousarray(array))
    if cfg.tie_embeddings:
        state["lm_head.weight"] = state["embed_tokens.weight"]
    model.load_state_dict(state, strict=True)
    return model.eval()
