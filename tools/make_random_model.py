#!/usr/bin/env python3
"""Writes a random-weight model as a Hugging Face checkpoint (config.json + model.safetensors),
for benchmarks and smoke tests. NumPy only; run with /usr/bin/python3.

  tools/make_random_model.py OUT_DIR --family llama --layers 12 --d-model 768 --heads 12 \
      --kv-heads 4 --d-mlp 2048 --vocab 32000
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from gbpy import safetensors  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--family", choices=["llama", "gpt2"], default="llama")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--d-model", type=int, default=256)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=0, help="default: --heads")
    ap.add_argument("--d-mlp", type=int, default=0, help="default: 4 x d_model (gpt2), 8/3 x (llama)")
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--ctx", type=int, default=2048)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    d, h = a.d_model, a.heads
    kv = a.kv_heads or h
    dh = d // h

    def w(*shape, std=0.02):
        return (rng.standard_normal(shape, dtype=np.float32) * std).astype(np.float32)

    sd = {}
    if a.family == "gpt2":
        f = a.d_mlp or 4 * d
        cfg = {"model_type": "gpt2", "n_embd": d, "n_head": h, "n_layer": a.layers, "n_positions": a.ctx,
               "n_inner": f, "vocab_size": a.vocab, "layer_norm_epsilon": 1e-5,
               "activation_function": "gelu_new"}
        sd["transformer.wte.weight"] = w(a.vocab, d)
        sd["transformer.wpe.weight"] = w(a.ctx, d, std=0.01)
        for L in range(a.layers):
            p = f"transformer.h.{L}."
            for ln in ("ln_1", "ln_2"):
                sd[p + ln + ".weight"] = np.ones(d, np.float32)
                sd[p + ln + ".bias"] = np.zeros(d, np.float32)
            sd[p + "attn.c_attn.weight"], sd[p + "attn.c_attn.bias"] = w(d, 3 * d), w(3 * d)
            sd[p + "attn.c_proj.weight"], sd[p + "attn.c_proj.bias"] = w(d, d), w(d)
            sd[p + "mlp.c_fc.weight"], sd[p + "mlp.c_fc.bias"] = w(d, f), w(f)
            sd[p + "mlp.c_proj.weight"], sd[p + "mlp.c_proj.bias"] = w(f, d), w(d)
        sd["transformer.ln_f.weight"], sd["transformer.ln_f.bias"] = np.ones(d, np.float32), np.zeros(d, np.float32)
    else:
        f = a.d_mlp or (8 * d // 3 + 31) // 32 * 32
        cfg = {"model_type": "llama", "hidden_size": d, "num_attention_heads": h, "num_key_value_heads": kv,
               "num_hidden_layers": a.layers, "intermediate_size": f, "vocab_size": a.vocab,
               "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": a.ctx,
               "tie_word_embeddings": False}
        sd["model.embed_tokens.weight"] = w(a.vocab, d)
        for L in range(a.layers):
            p = f"model.layers.{L}."
            sd[p + "input_layernorm.weight"] = np.ones(d, np.float32)
            sd[p + "post_attention_layernorm.weight"] = np.ones(d, np.float32)
            sd[p + "self_attn.q_proj.weight"] = w(h * dh, d)
            sd[p + "self_attn.k_proj.weight"] = w(kv * dh, d)
            sd[p + "self_attn.v_proj.weight"] = w(kv * dh, d)
            sd[p + "self_attn.o_proj.weight"] = w(d, h * dh)
            sd[p + "mlp.gate_proj.weight"] = w(f, d)
            sd[p + "mlp.up_proj.weight"] = w(f, d)
            sd[p + "mlp.down_proj.weight"] = w(d, f)
        sd["model.norm.weight"] = np.ones(d, np.float32)
        sd["lm_head.weight"] = w(a.vocab, d)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as fh:
        json.dump(cfg, fh, indent=1)
    safetensors.save_file(sd, os.path.join(a.out, "model.safetensors"))
    n = sum(v.size for v in sd.values())
    print(f"wrote {a.out}: {a.family}, {n / 1e6:.1f}M parameters")


if __name__ == "__main__":
    main()
