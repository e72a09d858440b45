#!/usr/bin/python3
"""PyTorch eager with forward hooks, the TransformerLens way, on the benchmark's Llama checkpoint:
prefill and decode tokens/s in the modes glassbox bench measures, printed as JSON.

  /usr/bin/python3 bench/torch_peer.py CHECKPOINT_DIR --threads 2 --modes none,stats,patterns \
      --prefill 128,512 --decode-ctx 128,1024 --decode-tokens 32 --repeats 3

The model is a plain nn.Module Llama (RMSNorm, RoPE, grouped-query attention, SwiGLU) with an
identity HookPoint module at every TransformerLens hook site, as TransformerLens builds its
models; observers are register_forward_hook callbacks on those modules:
  none      no hook registered
  stats     on every hook site glassbox's stats mode observes (all but attn_scores, pattern,
            result and logits): per channel count, mean and variance (two passes), min, max,
            abs-max, zeros, values above 0, NaN and Inf counts, and a histogram over
            glassbox's buckets, accumulated across calls, as glassbox's streaming statistics
  patterns  every layer's attn.hook_pattern kept in a cache dict (tensor.detach(), as
            TransformerLens's run_with_cache keeps it)
Like glassbox without hook_logits, logits are computed for the last position only. Weights are
the f32 checkpoint, loaded with NumPy.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from gbpy import safetensors  # noqa: E402


class HookPoint(nn.Identity):
    """A named place where forward hooks see (and could replace) an activation."""


class RMSNorm(nn.Module):
    def __init__(self, w, eps):
        super().__init__()
        self.w, self.eps = w, eps
        self.hook_scale, self.hook_normalized = HookPoint(), HookPoint()

    def forward(self, x):
        scale = self.hook_scale(torch.sqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))
        return self.hook_normalized(x / scale) * self.w


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, sd, p, cfg):
        super().__init__()
        self.w_q, self.w_k = sd[p + "self_attn.q_proj.weight"], sd[p + "self_attn.k_proj.weight"]
        self.w_v, self.w_o = sd[p + "self_attn.v_proj.weight"], sd[p + "self_attn.o_proj.weight"]
        self.n_heads, self.n_kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.d_head = cfg["hidden_size"] // self.n_heads
        for name in ("q", "k", "v", "rot_q", "rot_k", "attn_scores", "pattern", "z"):
            setattr(self, "hook_" + name, HookPoint())

    def forward(self, x, cos, sin, cache, pos0):
        b, n, _ = x.shape
        q = self.hook_q((x @ self.w_q.T).view(b, n, self.n_heads, self.d_head))
        k = self.hook_k((x @ self.w_k.T).view(b, n, self.n_kv, self.d_head))
        v = self.hook_v((x @ self.w_v.T).view(b, n, self.n_kv, self.d_head))
        q = self.hook_rot_q(q * cos + rotate_half(q) * sin)
        k = self.hook_rot_k(k * cos + rotate_half(k) * sin)
        keys, values = cache
        keys[:, pos0:pos0 + n], values[:, pos0:pos0 + n] = k, v
        k_len = pos0 + n
        group = self.n_heads // self.n_kv
        kk = keys[:, :k_len].repeat_interleave(group, dim=2).transpose(1, 2)  # [b, h, k, d]
        vv = values[:, :k_len].repeat_interleave(group, dim=2).transpose(1, 2)
        scores = (q.transpose(1, 2) @ kk.transpose(2, 3)) / math.sqrt(self.d_head)
        if n > 1:
            future = torch.ones(n, k_len, dtype=torch.bool).triu(pos0 + 1)
            scores = scores.masked_fill(future, float("-inf"))
        pattern = self.hook_pattern(torch.softmax(self.hook_attn_scores(scores), dim=-1))
        z = self.hook_z((pattern @ vv).transpose(1, 2))  # [b, n, h, d]
        return z.reshape(b, n, -1) @ self.w_o.T


class Mlp(nn.Module):
    def __init__(self, sd, p):
        super().__init__()
        self.gate, self.up = sd[p + "mlp.gate_proj.weight"], sd[p + "mlp.up_proj.weight"]
        self.down = sd[p + "mlp.down_proj.weight"]
        self.hook_pre, self.hook_pre_linear, self.hook_post = HookPoint(), HookPoint(), HookPoint()

    def forward(self, x):
        pre = self.hook_pre(x @ self.gate.T)
        lin = self.hook_pre_linear(x @ self.up.T)
        return self.hook_post(F.silu(pre) * lin) @ self.down.T


class Block(nn.Module):
    def __init__(self, sd, L, cfg):
        super().__init__()
        p, eps = f"model.layers.{L}.", cfg.get("rms_norm_eps", 1e-5)
        self.ln1 = RMSNorm(sd[p + "input_layernorm.weight"], eps)
        self.attn = Attention(sd, p, cfg)
        self.ln2 = RMSNorm(sd[p + "post_attention_layernorm.weight"], eps)
        self.mlp = Mlp(sd, p)
        for name in ("resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post"):
            setattr(self, "hook_" + name, HookPoint())

    def forward(self, resid, cos, sin, cache, pos0):
        resid = self.hook_resid_pre(resid)
        resid = self.hook_resid_mid(resid + self.hook_attn_out(
            self.attn(self.ln1(resid), cos, sin, cache, pos0)))
        return self.hook_resid_post(resid + self.hook_mlp_out(self.mlp(self.ln2(resid))))


class Llama(nn.Module):
    def __init__(self, sd, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed, self.unembed = sd["model.embed_tokens.weight"], sd["lm_head.weight"]
        self.hook_embed = HookPoint()
        self.blocks = nn.ModuleList(Block(sd, L, cfg) for L in range(cfg["num_hidden_layers"]))
        self.ln_final = RMSNorm(sd["model.norm.weight"], cfg.get("rms_norm_eps", 1e-5))
        d_head = cfg["hidden_size"] // cfg["num_attention_heads"]
        inv = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, d_head, 2).float() / d_head))
        freqs = torch.outer(torch.arange(cfg["max_position_embeddings"]).float(), inv)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.cos, self.sin = emb.cos()[:, None, :], emb.sin()[:, None, :]  # [pos, 1, d_head]

    def new_cache(self, max_pos):
        c = self.cfg
        shape = (1, max_pos, c["num_key_value_heads"], c["hidden_size"] // c["num_attention_heads"])
        return [(torch.empty(shape), torch.empty(shape)) for _ in self.blocks]

    def forward(self, ids, cache, pos0):
        n = ids.shape[1]
        cos, sin = self.cos[pos0:pos0 + n], self.sin[pos0:pos0 + n]
        resid = self.hook_embed(self.embed[ids])
        for block, kv in zip(self.blocks, cache):
            resid = block(resid, cos, sin, kv, pos0)
        return self.ln_final(resid[:, -1:]) @ self.unembed.T  # last position only


def histogram_edges():
    """glassbox's histogram buckets (export/histogram.h): (1 + j/8) * 2^e in every octave from
    2^-40 up, 2^128 on top; mirrored, with 0 between."""
    pos = [(1 + j / 8) * 2.0 ** e for e in range(-40, 128) for j in range(8)]
    pos.append(2.0 ** 128)
    return torch.tensor([-x for x in reversed(pos)] + [0.0] + pos, dtype=torch.float64)


class StreamingStats:
    """Per channel statistics of one hook accumulated over calls (Chan's parallel update)."""

    EDGES = None

    def __init__(self):
        self.count = None

    def __call__(self, module, inputs, x):
        x = x.detach()
        c = x.reshape(-1, x.shape[-1]).double()
        finite = torch.isfinite(c)
        n = finite.sum(0)
        cz = torch.where(finite, c, torch.zeros_like(c))
        mean = cz.sum(0) / n.clamp(min=1)
        m2 = torch.where(finite, (c - mean) ** 2, torch.zeros_like(c)).sum(0)
        stats = {
            "min": torch.where(finite, c, torch.full_like(c, math.inf)).amin(0),
            "max": torch.where(finite, c, torch.full_like(c, -math.inf)).amax(0),
            "abs_max": cz.abs().amax(0), "sum_abs": cz.abs().sum(0), "zeros": (c == 0).sum(0),
            "above": (c > 0).sum(0), "nan": torch.isnan(c).sum(0), "inf": torch.isinf(c).sum(0)}
        hist = torch.bincount(torch.bucketize(c[finite], StreamingStats.EDGES, right=True) - 1,
                              minlength=len(StreamingStats.EDGES) - 1)
        if self.count is None:
            self.count, self.mean, self.m2, self.s, self.hist = n, mean, m2, stats, hist
            return
        total = self.count + n
        delta = mean - self.mean
        self.mean = self.mean + delta * n / total.clamp(min=1)
        self.m2 = self.m2 + m2 + delta * delta * self.count * n / total.clamp(min=1)
        self.count = total
        self.s["min"] = torch.minimum(self.s["min"], stats["min"])
        self.s["max"] = torch.maximum(self.s["max"], stats["max"])
        self.s["abs_max"] = torch.maximum(self.s["abs_max"], stats["abs_max"])
        for k in ("sum_abs", "zeros", "above", "nan", "inf"):
            self.s[k] = self.s[k] + stats[k]
        self.hist = self.hist + hist


def observe(model, mode):
    """Registers the mode's forward hooks; returns (handles, per-pass reset)."""
    handles, cache = [], {}
    skip = ("hook_attn_scores", "hook_pattern")
    for name, module in model.named_modules():
        if not isinstance(module, HookPoint):
            continue
        if mode == "stats" and not name.endswith(skip):
            handles.append(module.register_forward_hook(StreamingStats()))
        elif mode == "patterns" and name.endswith("hook_pattern"):
            def keep(m, i, out, name=name):
                cache[name] = out.detach()
            handles.append(module.register_forward_hook(keep))
    return handles, cache.clear


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--modes", default="none,stats,patterns")
    ap.add_argument("--prefill", default="128,512")
    ap.add_argument("--decode-ctx", default="128,1024")
    ap.add_argument("--decode-tokens", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if os.environ.get("OPENBLAS_NUM_THREADS") != str(a.threads):
        print(f"torch_peer: OPENBLAS_NUM_THREADS is not {a.threads}: torch's OpenBLAS products may "
              "use other threads than --threads (bench/run.sh sets it)", file=sys.stderr)
    torch.set_grad_enabled(False)
    StreamingStats.EDGES = histogram_edges()
    with open(os.path.join(a.checkpoint, "config.json")) as fh:
        cfg = json.load(fh)
    sd = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32))
          for k, v in safetensors.load_file(os.path.join(a.checkpoint, "model.safetensors")).items()}
    model = Llama(sd, cfg).eval()
    vocab = cfg["vocab_size"]
    gen = torch.Generator().manual_seed(0)
    results = []
    for mode in a.modes.split(","):
        handles, reset = observe(model, mode)
        for n in map(int, a.prefill.split(",")):
            ids = torch.randint(0, vocab, (1, n), generator=gen)
            best = 0.0
            for _ in range(a.repeats):
                cache = model.new_cache(n)
                reset()
                t0 = time.perf_counter()
                model(ids, cache, 0)
                best = max(best, n / (time.perf_counter() - t0))
            results.append({"mode": mode, "kind": "prefill", "n": n, "threads": a.threads,
                            "tokens_per_s": best})
        for ctx in map(int, a.decode_ctx.split(",")):
            ids = torch.randint(0, vocab, (1, ctx + a.decode_tokens), generator=gen)
            best = 0.0
            cache = model.new_cache(ctx + a.decode_tokens)
            for h in handles:  # the context is run once, neither timed nor observed
                h.remove()
            model(ids[:, :ctx], cache, 0)
            handles, reset = observe(model, mode)
            for _ in range(a.repeats):  # each repeat overwrites the positions after the context
                t0 = time.perf_counter()
                for i in range(a.decode_tokens):
                    reset()
                    model(ids[:, ctx + i:ctx + i + 1], cache, ctx + i)
                best = max(best, a.decode_tokens / (time.perf_counter() - t0))
            results.append({"mode": mode, "kind": "decode", "n": ctx, "threads": a.threads,
                            "tokens_per_s": best})
        for h in handles:
            h.remove()
    print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "results": results}))


if __name__ == "__main__":
    main()
