"""glassbox's torch.nn.Transformer against PyTorch's own module.

For the default nn.Transformer() (d_model 512, 8 heads, 6+6 layers, ff 2048, post-LN, ReLU) on
the seed's [10, 32, 512] source and [20, 32, 512] target, a pre-LN GELU model with float and
boolean attention masks, and an odd-sized batch-first model (d_model 36, 3 heads, ff 50, 2+3
layers, no final decoder norm), each exported with tools/export_torch_transformer.py and run with
random inputs, padding masks and a causal target mask:

- glassbox's output equals the module's forward output (max abs ≤ 1e-5);
- every encoder self-attention, decoder self-attention and cross-attention pattern equals
  MultiheadAttention(..., need_weights=True, average_attn_weights=False) of the module's own
  attention submodule, fed what the layer feeds it;
- mlp.hook_post equals layer.activation(layer.linear1(x)), and the other hooks equal the
  module's submodules' inputs and outputs under the documented names (resid, ln, attn_out, ...).

The reference is computed by calling each layer's submodules in the order its forward() does;
that this reproduces the module's own output is checked too. PyTorch runs in eval mode with
autograd on: without it, the encoder may take its nested-tensor fast path, which returns zeros at
padded source positions instead of the layer's arithmetic.
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
import gbtest  # noqa: E402
from gbtest import expect  # noqa: E402

SOURCE_DIR = os.environ.get("GB_SOURCE_DIR", ".")
EXPORT = os.path.join(SOURCE_DIR, "tools", "export_torch_transformer.py")
TOL = 1e-5

torch.set_num_threads(2)


def max_abs(a, b):
    """Max |a - b|, where equal infinities (masked scores) count as equal and NaN fails."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    with np.errstate(invalid="ignore"):
        diff = np.where(a == b, 0.0, np.abs(a - b))
    return float(np.max(diff)) if a.size else 0.0


class Reference:
    """Runs an nn.Transformer layer by layer through its own submodules and records every
    intermediate under glassbox's hook names, batch-first ([b, pos, ...])."""

    def __init__(self, model):
        self.model = model
        self.bf = model.batch_first
        self.hooks = {}

    def batch_major(self, x):  # module layout -> [b, pos, ...]
        return x if self.bf else x.transpose(0, 1)

    def put(self, name, x):
        self.hooks[name] = x.detach().numpy().copy()

    def norm(self, name, ln, x):
        """Applies LayerNorm `ln` and records its scale and normalized parts."""
        xb = self.batch_major(x)
        self.put(name + ".hook_scale", torch.sqrt(xb.var(-1, unbiased=False, keepdim=True) + ln.eps))
        self.put(name + ".hook_normalized", F.layer_norm(xb, (xb.shape[-1],), eps=ln.eps))
        return ln(x)

    def attention(self, p, mha, x, kv, attn_mask, kpm):
        """MultiheadAttention with its weights, plus q/k/v/z/result from its parameters."""
        out, weights = mha(x, kv, kv, attn_mask=attn_mask, key_padding_mask=kpm,
                           need_weights=True, average_attn_weights=False)
        d, h = mha.embed_dim, mha.num_heads
        w_q, w_k, w_v = mha.in_proj_weight.chunk(3)
        b_q, b_k, b_v = mha.in_proj_bias.chunk(3)
        xb, kvb = self.batch_major(x), self.batch_major(kv)
        q = F.linear(xb, w_q, b_q).unflatten(-1, (h, d // h))
        k = F.linear(kvb, w_k, b_k).unflatten(-1, (h, d // h))
        v = F.linear(kvb, w_v, b_v).unflatten(-1, (h, d // h))
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(d // h)
        if attn_mask is not None:
            scores = scores + (torch.zeros_like(attn_mask, dtype=scores.dtype).masked_fill(
                attn_mask, float("-inf")) if attn_mask.dtype == torch.bool else attn_mask)
        if kpm is not None:
            scores = scores.masked_fill(kpm[:, None, None, :], float("-inf"))
        z = torch.einsum("bhqk,bkhd->bqhd", weights, v)
        w_o = mha.out_proj.weight.unflatten(1, (h, d // h))
        for name, t in (("hook_q", q), ("hook_k", k), ("hook_v", v), ("hook_attn_scores", scores),
                        ("hook_pattern", weights), ("hook_z", z),
                        ("hook_result", torch.einsum("bqhd,mhd->bqhm", z, w_o))):
            self.put(p + name, t)
        return out

    def mlp(self, p, layer, x):
        pre = layer.linear1(x)
        post = layer.activation(pre)
        out = layer.linear2(post)
        self.put(p + "mlp.hook_pre", self.batch_major(pre))
        self.put(p + "mlp.hook_post", self.batch_major(post))
        self.put(p + "hook_mlp_out", self.batch_major(out))
        return out

    def add(self, name, x, delta):
        x = x + delta
        self.put(name, self.batch_major(x))
        return x

    def encoder_layer(self, L, layer, x, mask, kpm):
        p = f"encoder.blocks.{L}."
        self.put(p + "hook_resid_pre", self.batch_major(x))
        if layer.norm_first:
            h = self.norm(p + "ln1", layer.norm1, x)
            a = self.attention(p + "attn.", layer.self_attn, h, h, mask, kpm)
            self.put(p + "hook_attn_out", self.batch_major(a))
            x = self.add(p + "hook_resid_mid", x, a)
            h = self.norm(p + "ln2", layer.norm2, x)
            return self.add(p + "hook_resid_post", x, self.mlp(p, layer, h))
        a = self.attention(p + "attn.", layer.self_attn, x, x, mask, kpm)
        self.put(p + "hook_attn_out", self.batch_major(a))
        x = self.norm(p + "ln1", layer.norm1, self.add(p + "hook_resid_mid", x, a))
        x = self.add(p + "hook_resid_post", x, self.mlp(p, layer, x))
        return self.norm(p + "ln2", layer.norm2, x)

    def decoder_layer(self, L, layer, x, memory, tgt_mask, tgt_kpm, mem_mask, mem_kpm):
        p = f"decoder.blocks.{L}."
        self.put(p + "hook_resid_pre", self.batch_major(x))
        pre_ln = layer.norm_first
        h = self.norm(p + "ln1", layer.norm1, x) if pre_ln else x
        a = self.attention(p + "attn.", layer.self_attn, h, h, tgt_mask, tgt_kpm)
        self.put(p + "hook_attn_out", self.batch_major(a))
        x = self.add(p + "hook_resid_cross_pre", x, a)
        if not pre_ln:
            x = self.norm(p + "ln1", layer.norm1, x)
        h = self.norm(p + "ln_cross", layer.norm2, x) if pre_ln else x
        c = self.attention(p + "cross_attn.", layer.multihead_attn, h, memory, mem_mask, mem_kpm)
        self.put(p + "hook_cross_attn_out", self.batch_major(c))
        x = self.add(p + "hook_resid_mid", x, c)
        if not pre_ln:
            x = self.norm(p + "ln_cross", layer.norm2, x)
        h = self.norm(p + "ln2", layer.norm3, x) if pre_ln else x
        x = self.add(p + "hook_resid_post", x, self.mlp(p, layer, h))
        return x if pre_ln else self.norm(p + "ln2", layer.norm3, x)

    def forward(self, src, tgt, m):
        x = src
        for L, layer in enumerate(self.model.encoder.layers):
            x = self.encoder_layer(L, layer, x, m.get("src_mask"), m.get("src_key_padding_mask"))
        if self.model.encoder.norm is not None:
            x = self.norm("encoder.ln_final", self.model.encoder.norm, x)
        memory = x
        x = tgt
        for L, layer in enumerate(self.model.decoder.layers):
            x = self.decoder_layer(L, layer, x, memory, m.get("tgt_mask"),
                                   m.get("tgt_key_padding_mask"), m.get("memory_mask"),
                                   m.get("memory_key_padding_mask"))
        if self.model.decoder.norm is not None:
            x = self.norm("decoder.ln_final", self.model.decoder.norm, x)
        return x


def padding(rng, batch, n):
    """Bool [batch, n], True = padded: a random tail of each row, never the first position."""
    lengths = rng.integers(max(1, n // 2), n + 1, batch)
    return np.arange(n)[None, :] >= lengths[:, None]


def causal_mask(n):
    return torch.triu(torch.full((n, n), float("-inf")), diagonal=1)


# name: (nn.Transformer kwargs, src_len, tgt_len, batch, which masks, hook filter)
CASES = {
    # The seed's default module and input shapes; only some hooks (all would be ~1 GB).
    "default": (dict(), 10, 20, 32, ("causal", "src_pad", "tgt_pad", "mem_pad"),
                "*.blocks.*.attn.hook_pattern,decoder.blocks.*.cross_attn.hook_pattern,"
                "*.blocks.*.mlp.hook_post,*.blocks.*.hook_resid_post,*.blocks.*.hook_resid_mid,"
                "decoder.blocks.*.hook_resid_cross_pre,*.ln_final.*,"
                "encoder.blocks.0.*,decoder.blocks.5.*"),
    "prenorm_gelu": (dict(d_model=64, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
                          dim_feedforward=96, activation="gelu", norm_first=True),
                     9, 6, 3, ("float_src_mask", "bool_tgt_mask", "float_mem_mask", "mem_pad"),
                     "all"),
    "odd_batch_first": (dict(d_model=36, nhead=3, num_encoder_layers=2, num_decoder_layers=3,
                             dim_feedforward=50, batch_first=True),
                        7, 5, 4, ("causal", "src_pad", "mem_pad", "no_decoder_norm"), "all"),
}


def make_inputs(rng, cfg, src_len, tgt_len, batch, masks, work):
    """(torch kwargs for the module, glassbox arguments) for one case."""
    d, bf = cfg.get("d_model", 512), cfg.get("batch_first", False)
    shape = (lambda n: (batch, n, d)) if bf else (lambda n: (n, batch, d))
    src = rng.standard_normal(shape(src_len)).astype(np.float32)
    tgt = rng.standard_normal(shape(tgt_len)).astype(np.float32)
    files = {"src": src, "tgt": tgt}
    kw, args = {}, []
    if "causal" in masks:
        kw["tgt_mask"] = causal_mask(tgt_len)
        args.append("--causal")
    pads = {}
    if "src_pad" in masks:
        pads["src_pad"] = padding(rng, batch, src_len)
    if "tgt_pad" in masks:
        pads["tgt_pad"] = padding(rng, batch, tgt_len)
    if "mem_pad" in masks:  # usually the source's own padding
        pads["mem_pad"] = pads["src_pad"] if "src_pad" in pads else padding(rng, batch, src_len)
    for key, flag, torch_key in (("src_pad", "--src-padding", "src_key_padding_mask"),
                                 ("tgt_pad", "--tgt-padding", "tgt_key_padding_mask"),
                                 ("mem_pad", "--memory-padding", "memory_key_padding_mask")):
        if key in pads:
            files[key] = pads[key]
            kw[torch_key] = torch.from_numpy(pads[key])
            args += [flag, os.path.join(work, key + ".npy")]
    if "float_src_mask" in masks:
        m = (0.5 * rng.standard_normal((src_len, src_len))).astype(np.float32)
        m[0, 1:] = -np.inf  # a fully additive mask with blocked keys too
        files["float_src_mask"] = m
        kw["src_mask"] = torch.from_numpy(m)
        args += ["--src-mask", os.path.join(work, "float_src_mask.npy")]
    if "bool_tgt_mask" in masks:
        m = rng.random((tgt_len, tgt_len)) < 0.4
        np.fill_diagonal(m, False)  # every query keeps a key
        files["bool_tgt_mask"] = m
        kw["tgt_mask"] = torch.from_numpy(m)
        args += ["--tgt-mask", os.path.join(work, "bool_tgt_mask.npy")]
    if "float_mem_mask" in masks:
        m = (0.5 * rng.standard_normal((tgt_len, src_len))).astype(np.float32)
        files["float_mem_mask"] = m
        kw["memory_mask"] = torch.from_numpy(m)
        args += ["--memory-mask", os.path.join(work, "float_mem_mask.npy")]
    for name, arr in files.items():
        np.save(os.path.join(work, name + ".npy"), arr)
    args = ["--src", os.path.join(work, "src.npy"), "--tgt", os.path.join(work, "tgt.npy")] + args
    return torch.from_numpy(src), torch.from_numpy(tgt), kw, args


def export(model, name, cfg, work, seed):
    """Exports the model with tools/export_torch_transformer.py, each case another way in:
    --new (a fresh nn.Transformer from the same seed), a state_dict file with the flags it cannot
    tell, or a whole module saved with torch.save."""
    model_dir = os.path.join(work, name)
    if name == "default":
        source = ["--new", "--seed", str(seed)]
    elif name == "prenorm_gelu":
        source = [os.path.join(work, name + "_sd.pt"), "--nhead", str(cfg["nhead"]),
                  "--activation", cfg["activation"], "--norm-first"]
        torch.save(model.state_dict(), source[0])
    else:
        source = [os.path.join(work, name + ".pt")]
        torch.save(model, source[0])
    p = subprocess.run(["/usr/bin/python3", EXPORT, *source, "-o", model_dir],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"export failed:\n{p.stderr}")
    with open(os.path.join(model_dir, "config.json")) as f:
        exported = json.load(f)
    expect(exported["norm_first"] == cfg.get("norm_first", False) and
           exported["batch_first"] == cfg.get("batch_first", False) and
           exported["decoder_norm"] == (model.decoder.norm is not None),
           f"{name}: exported config {exported}")
    return model_dir


def check_case(name, cfg, src_len, tgt_len, batch, masks, filt, work, seed):
    torch.manual_seed(seed)
    model = nn.Transformer(**cfg)
    if "no_decoder_norm" in masks:
        model.decoder.norm = None
    model.eval()  # dropout off
    model_dir = export(model, name, cfg, work, seed)
    rng = np.random.default_rng(seed)
    src, tgt, kw, args = make_inputs(rng, cfg, src_len, tgt_len, batch, masks, work)

    # PyTorch: the module itself, and its submodules step by step.
    want = model(src, tgt, **kw).detach().numpy()
    ref = Reference(model)
    composed = ref.forward(src, tgt, kw).detach().numpy()
    err = max_abs(composed, want)
    expect(err <= 1e-6, f"{name}: the step-by-step reference differs from the module by {err:.3g}")

    # glassbox: the output, then the hooks.
    out_npy = os.path.join(work, name + "_out.npy")
    gbtest.run("run", "-m", model_dir, *args, "-o", out_npy, "--threads", 2)
    got = np.load(out_npy)
    expect(got.shape == want.shape, f"{name}: output shape {got.shape} != {want.shape}")
    out_err = max_abs(got, want) if got.shape == want.shape else float("inf")
    expect(out_err <= TOL, f"{name}: output max abs diff {out_err:.3g} > {TOL}")

    trace_dir = os.path.join(work, name + "_trace")
    gbtest.run("trace", "-m", model_dir, *args, "--hooks", filt, "-o", trace_dir, "--threads", 2)
    manifest, trace = gbtest.read_trace(trace_dir)
    expect(manifest["model"]["family"] == "torch_transformer", f"{name}: manifest family")
    worst = {}
    for hook, arr in trace.items():
        if hook not in ref.hooks:
            expect(False, f"{name}: hook {hook} has no PyTorch counterpart")
            continue
        w = ref.hooks[hook]
        expect(arr.shape == w.shape, f"{name}: {hook} shape {arr.shape} != {w.shape}")
        if arr.shape != w.shape:
            continue
        e = max_abs(arr, w)
        kind = hook.split(".", 3)[-1]
        worst[kind] = max(worst.get(kind, 0.0), e)
        expect(e <= TOL, f"{name}: {hook} max abs diff {e:.3g} > {TOL}")
    n_layers = len(model.encoder.layers) + 2 * len(model.decoder.layers)
    n_patterns = sum(1 for h in trace if h.endswith("attn.hook_pattern"))
    expect(n_patterns == n_layers, f"{name}: {n_patterns} attention patterns traced, "
                                   f"expected {n_layers}")
    expect(sum(1 for h in trace if h.endswith("mlp.hook_post")) ==
           len(model.encoder.layers) + len(model.decoder.layers), f"{name}: mlp.hook_post count")
    if filt == "all":
        missing = sorted(set(ref.hooks) - set(trace))
        expect(not missing, f"{name}: hooks PyTorch has that glassbox did not trace: {missing[:4]}")
    print(f"{name}: output max abs diff {out_err:.2e}; {len(trace)} hooks, worst "
          f"pattern {max(v for k, v in worst.items() if k.endswith('hook_pattern')):.2e}, "
          f"mlp.hook_post {worst.get('mlp.hook_post', 0):.2e}, any {max(worst.values()):.2e}",
          flush=True)
    return model_dir, args


def main():
    work = tempfile.mkdtemp(prefix="gb_ref_torch_transformer_")
    for i, (name, (cfg, s, t, b, masks, filt)) in enumerate(CASES.items()):
        check_case(name, cfg, s, t, b, masks, filt, os.path.join(work, ""), seed=10 + i)
    gbtest.finish()


if __name__ == "__main__":
    main()
