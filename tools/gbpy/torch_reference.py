"""PyTorch forward passes of the GPT-2 and Llama families for reference tests.

Written from the Hugging Face model definitions (GPT2LMHeadModel, LlamaForCausalLM, Qwen2) with
torch's own operators, taking a Hugging Face state dict and config.json dict. Every intermediate is
recorded under its TransformerLens hook name with a leading batch axis, so glassbox's traces can be
compared hook by hook. Positions start at `pos0` so incremental runs can be checked too.
"""
import math

import torch
import torch.nn.functional as F


class Hooks(dict):
    """Records every intermediate by its hook name; `edit(name, tensor)` may return a changed
    tensor that the forward pass continues with (as an intervention in glassbox would)."""

    def __init__(self, edit=None):
        super().__init__()
        self.edit = edit

    def __call__(self, name, x):
        if self.edit is not None:
            y = self.edit(name, x)
            if y is not None:
                x = y
        self[name] = x
        return x


def _norm_parts(x, kind, eps):
    """(scale, normalized) as TransformerLens's ln.hook_scale / ln.hook_normalized."""
    if kind == "layer":
        x = x - x.mean(-1, keepdim=True)
    scale = torch.sqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return scale, x / scale


def _record_norm(hooks, prefix, x, kind, eps, w, b=None):
    scale, normalized = _norm_parts(x, kind, eps)
    scale2 = hooks(prefix + ".hook_scale", scale)
    normalized2 = hooks(prefix + ".hook_normalized", normalized)
    if scale2 is not scale or normalized2 is not normalized:  # edited: continue from the edit
        if scale2 is not scale:
            normalized2 = (x - x.mean(-1, keepdim=True) if kind == "layer" else x) / scale2
        return normalized2 * w + (b if b is not None else 0)
    if kind == "layer":
        return F.layer_norm(x, (x.shape[-1],), w, b, eps)  # torch's LayerNorm is the reference
    # Hugging Face LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) * w
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def _attention(hooks, p, q, k, v, n_heads, n_kv, pos0):
    """q: [b, pos, n_heads, d_head], k, v: [b, pos, n_kv, d_head] -> z [b, pos, n_heads, d_head]."""
    b, n, _, d_head = q.shape
    group = n_heads // n_kv
    k = k.repeat_interleave(group, dim=2)
    v = v.repeat_interleave(group, dim=2)
    scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(d_head)
    k_len = k.shape[1]
    qi = torch.arange(n)[:, None] + pos0
    kj = torch.arange(k_len)[None, :]
    scores = scores.masked_fill(kj > qi, float("-inf"))
    scores = hooks(p + "attn.hook_attn_scores", scores)
    pattern = hooks(p + "attn.hook_pattern", torch.softmax(scores, dim=-1))
    return hooks(p + "attn.hook_z", torch.einsum("bhqk,bkhd->bqhd", pattern, v))


def _rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def _rope(x, positions, theta, dims):
    """Hugging Face rotate-half RoPE on the first `dims` of each head. x: [b, pos, heads, d_head]."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, dims, 2).float() / dims))
    freqs = torch.outer(positions.float(), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[None, :, None, :], emb.sin()[None, :, None, :]
    rot, rest = x[..., :dims], x[..., dims:]
    rot = rot * cos + _rotate_half(rot) * sin
    return torch.cat((rot, rest), dim=-1)


def _head_results(hooks, p, z, w_o):
    """Per-head output z_h @ W_O[:, h]^T: [b, pos, n_heads, d_model]. w_o: [d_model, heads*d_head]."""
    b, n, h, d_head = z.shape
    w = w_o.reshape(w_o.shape[0], h, d_head)
    return hooks(p + "attn.hook_result", torch.einsum("bqhd,mhd->bqhm", z, w))


def gpt2_forward(sd, cfg, ids, pos0=0, edit=None):
    """ids: LongTensor [b, pos]. Returns (logits [b, pos, vocab], hooks dict)."""
    t = "transformer." if "transformer.wte.weight" in sd else ""
    d, n_heads = cfg["n_embd"], cfg["n_head"]
    d_head = d // n_heads
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    act = {"gelu_new": lambda x: F.gelu(x, approximate="tanh"), "gelu": F.gelu, "relu": F.relu}[
        cfg.get("activation_function", "gelu_new")]
    hooks = Hooks(edit)
    b, n = ids.shape
    embed = sd[t + "wte.weight"][ids]
    pos = sd[t + "wpe.weight"][torch.arange(pos0, pos0 + n)][None].expand(b, n, d)
    embed = hooks("hook_embed", embed)
    pos = hooks("hook_pos_embed", pos)
    resid = embed + pos
    for L in range(cfg["n_layer"]):
        p, w = f"blocks.{L}.", lambda name: sd[f"{t}h.{L}.{name}"]
        resid = hooks(p + "hook_resid_pre", resid)
        x = _record_norm(hooks, p + "ln1", resid, "layer", eps, w("ln_1.weight"), w("ln_1.bias"))
        qkv = x @ w("attn.c_attn.weight") + w("attn.c_attn.bias")  # Conv1D: [in, out]
        q, k, v = (y.reshape(b, n, n_heads, d_head) for y in qkv.split(d, dim=-1))
        q = hooks(p + "attn.hook_q", q)
        k = hooks(p + "attn.hook_k", k)
        v = hooks(p + "attn.hook_v", v)
        z = _attention(hooks, p, q, k, v, n_heads, n_heads, pos0)
        w_o = w("attn.c_proj.weight").T  # [d_model, d]
        result = _head_results(hooks, p, z, w_o)
        if hooks.edit is None:
            attn_out = z.reshape(b, n, d) @ w("attn.c_proj.weight") + w("attn.c_proj.bias")
        else:  # per-head results may have been edited: the output is their sum
            attn_out = result.sum(2) + w("attn.c_proj.bias")
        attn_out = hooks(p + "hook_attn_out", attn_out)
        resid = resid + attn_out
        resid = hooks(p + "hook_resid_mid", resid)
        x = _record_norm(hooks, p + "ln2", resid, "layer", eps, w("ln_2.weight"), w("ln_2.bias"))
        pre = x @ w("mlp.c_fc.weight") + w("mlp.c_fc.bias")
        pre = hooks(p + "mlp.hook_pre", pre)
        post = act(pre)
        post = hooks(p + "mlp.hook_post", post)
        mlp_out = post @ w("mlp.c_proj.weight") + w("mlp.c_proj.bias")
        mlp_out = hooks(p + "hook_mlp_out", mlp_out)
        resid = resid + mlp_out
        resid = hooks(p + "hook_resid_post", resid)
    x = _record_norm(hooks, "ln_final", resid, "layer", eps, sd[t + "ln_f.weight"], sd[t + "ln_f.bias"])
    logits = x @ sd[t + "wte.weight"].T
    logits = hooks("hook_logits", logits)
    return logits, hooks


def llama_forward(sd, cfg, ids, pos0=0, edit=None):
    """Llama / Mistral / Qwen2 (q/k/v biases when present). ids: [b, pos]."""
    d, n_heads = cfg["hidden_size"], cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_heads
    d_head = cfg.get("head_dim") or d // n_heads
    eps, theta = cfg.get("rms_norm_eps", 1e-6), cfg.get("rope_theta", 10000.0)
    hooks = Hooks(edit)
    b, n = ids.shape
    positions = torch.arange(pos0, pos0 + n)
    resid = sd["model.embed_tokens.weight"][ids]
    resid = hooks("hook_embed", resid)
    for L in range(cfg["num_hidden_layers"]):
        p = f"blocks.{L}."

        def w(name, L=L):
            return sd.get(f"model.layers.{L}.{name}")

        def lin(x, name):
            y = x @ w(name + ".weight").T
            bias = w(name + ".bias")
            return y if bias is None else y + bias

        resid = hooks(p + "hook_resid_pre", resid)
        x = _record_norm(hooks, p + "ln1", resid, "rms", eps, w("input_layernorm.weight"))
        q = lin(x, "self_attn.q_proj").reshape(b, n, n_heads, d_head)
        k = lin(x, "self_attn.k_proj").reshape(b, n, n_kv, d_head)
        v = lin(x, "self_attn.v_proj").reshape(b, n, n_kv, d_head)
        q = hooks(p + "attn.hook_q", q)
        k = hooks(p + "attn.hook_k", k)
        v = hooks(p + "attn.hook_v", v)
        q, k = _rope(q, positions, theta, d_head), _rope(k, positions, theta, d_head)
        q = hooks(p + "attn.hook_rot_q", q)
        k = hooks(p + "attn.hook_rot_k", k)
        z = _attention(hooks, p, q, k, v, n_heads, n_kv, pos0)
        result = _head_results(hooks, p, z, w("self_attn.o_proj.weight"))
        if hooks.edit is None:
            attn_out = lin(z.reshape(b, n, n_heads * d_head), "self_attn.o_proj")
        else:  # per-head results may have been edited: the output is their sum
            bias = w("self_attn.o_proj.bias")
            attn_out = result.sum(2) + (bias if bias is not None else 0)
        attn_out = hooks(p + "hook_attn_out", attn_out)
        resid = resid + attn_out
        resid = hooks(p + "hook_resid_mid", resid)
        x = _record_norm(hooks, p + "ln2", resid, "rms", eps, w("post_attention_layernorm.weight"))
        gate = lin(x, "mlp.gate_proj")
        up = lin(x, "mlp.up_proj")
        gate = hooks(p + "mlp.hook_pre", gate)
        up = hooks(p + "mlp.hook_pre_linear", up)
        post = F.silu(gate) * up
        post = hooks(p + "mlp.hook_post", post)
        mlp_out = lin(post, "mlp.down_proj")
        mlp_out = hooks(p + "hook_mlp_out", mlp_out)
        resid = resid + mlp_out
        resid = hooks(p + "hook_resid_post", resid)
    x = _record_norm(hooks, "ln_final", resid, "rms", eps, sd["model.norm.weight"])
    unembed = sd.get("lm_head.weight", sd["model.embed_tokens.weight"])
    logits = x @ unembed.T
    logits = hooks("hook_logits", logits)
    return logits, hooks


def forward(sd, cfg, ids, pos0=0, edit=None):
    """edit(name, tensor) -> tensor or None: an intervention at every hook point."""
    if cfg["model_type"] == "gpt2":
        return gpt2_forward(sd, cfg, ids, pos0, edit)
    return llama_forward(sd, cfg, ids, pos0, edit)
