"""glassbox diagnose on models with a non-finite value injected into one weight.

Each case puts an Inf or NaN at a chosen place in a random model's weights; where it first shows
in the forward pass follows from the architecture: an MLP input weight row → that layer's
mlp.hook_pre at position 0, that channel; a token-embedding row → hook_embed at the first position
holding that token; a key-projection row → attn.hook_k at position 0, that head and dimension
(also through a GGUF conversion, whose key rows are stored interleaved). diagnose must name the
hook, layer, position and channel, show the input activation as finite and the weight row as
holding the bad value at the right column. A clean model reports every value finite.
"""
import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import gbtest  # noqa: E402
import refmodels  # noqa: E402
from gbtest import expect  # noqa: E402


def diagnose(model, tokens):
    return json.loads(gbtest.run("diagnose", "-m", model, "--tokens", ",".join(map(str, tokens)),
                                 "--json").stdout)


def find_input(d, what):
    return next((i for i in d["inputs"] if i["what"] == what), None)


def check(label, d, hook, layer, position, channel, finite_input, weight, row, column):
    f = d["first"]
    expect(f is not None, f"{label}: no non-finite value found")
    if f is None:
        return
    got = (f["hook"], f["layer"], f["position"], f["channel"])
    expect(got == (hook, layer, position, channel),
           f"{label}: first non-finite at {got}, expected {(hook, layer, position, channel)}")
    if finite_input:
        i = find_input(d, finite_input)
        expect(i is not None and i["finite"], f"{label}: input {finite_input} not shown finite: {i}")
    w = find_input(d, weight)
    expect(w is not None, f"{label}: weight {weight} not among the inputs: {d['inputs']}")
    if w:
        expect(w["where"] == f"row {row}", f"{label}: {weight} shown at {w['where']}, not row {row}")
        expect(not w["finite"] and w.get("first_nonfinite") == column,
               f"{label}: {weight} row {row} should hold the bad value at {column}: {w}")
    expect(d["nonfinite_hooks"] and d["nonfinite_hooks"][0]["hook"] == hook,
           f"{label}: the first hook listed is not {hook}")


def main():
    work = tempfile.mkdtemp(prefix="gb_diag_")

    # GPT-2: +Inf in the MLP input weight of layer 1 (HF Conv1D [in, out]: [column 5, channel 17]).
    cfg = refmodels.CASES["gpt2"]
    sd = refmodels.random_state_dict(cfg, seed=11)
    clean = os.path.join(work, "gpt2_clean")
    refmodels.save_checkpoint(sd, cfg, clean)
    d = diagnose(clean, [1, 2, 3, 4])
    expect(d["first"] is None and d["nonfinite_hooks"] == [] and d["logits_finite"],
           f"clean model: {d['first']}")
    expect(d["hooks_checked"] > 20, f"clean model: only {d['hooks_checked']} hooks checked")
    sd["transformer.h.1.mlp.c_fc.weight"][5, 17] = float("inf")
    model = os.path.join(work, "gpt2_inf")
    refmodels.save_checkpoint(sd, cfg, model)
    d = diagnose(model, [1, 2, 3, 4])
    check("gpt2 mlp weight", d, "blocks.1.mlp.hook_pre", 1, 0, 17, "blocks.1.ln2.hook_normalized",
          "blk.1.ffn_up.weight", 17, 5)
    expect(not d["logits_finite"], "gpt2 mlp weight: the Inf should reach the logits")

    # Llama: NaN in token 7's embedding, column 3; token 7 first appears at position 4.
    cfg = refmodels.CASES["llama_gqa"]
    sd = refmodels.random_state_dict(cfg, seed=12)
    sd["model.embed_tokens.weight"][7, 3] = float("nan")
    model = os.path.join(work, "llama_nan_embed")
    refmodels.save_checkpoint(sd, cfg, model)
    d = diagnose(model, [1, 2, 3, 4, 7, 5, 7])
    check("llama embedding", d, "hook_embed", -1, 4, 3, None, "token_embd.weight", 7, 3)

    # Llama: -Inf in the key projection (kv head 1, dimension 6), through the HF checkpoint and
    # through a GGUF conversion that stores key rows interleaved.
    sd = refmodels.random_state_dict(cfg, seed=13)
    d_head = cfg["hidden_size"] // cfg["num_attention_heads"]
    kv_head, dim, column = 1, 6, 40
    row = kv_head * d_head + dim
    sd["model.layers.0.self_attn.k_proj.weight"][row, column] = float("-inf")
    model = os.path.join(work, "llama_inf_k")
    refmodels.save_checkpoint(sd, cfg, model)
    gguf = os.path.join(work, "llama_inf_k.gguf")
    gbtest.run("convert", model, "-o", gguf, "--type", "f32")
    half = d_head // 2
    stored = kv_head * d_head + (2 * dim if dim < half else 2 * (dim - half) + 1)
    for label, path, weight_row in (("llama k (hf)", model, row), ("llama k (gguf)", gguf, stored)):
        d = diagnose(path, [3, 1, 4, 1, 5])
        check(label, d, "blocks.0.attn.hook_k", 0, 0, row, "blocks.0.ln1.hook_normalized",
              "blk.0.attn_k.weight", weight_row, column)
        expect(d["first"] and d["first"]["channel_desc"] == f"head {kv_head}, dim {dim}",
               f"{label}: channel described as {d['first'] and d['first']['channel_desc']}")

    # The table form names the same place.
    text = gbtest.run("diagnose", "-m", model, "--tokens", "3,1,4").stdout
    expect("blocks.0.attn.hook_k" in text and "position 0" in text and f"head {kv_head}, dim {dim}" in text,
           f"diagnose table does not name the hook/position/channel:\n{text}")
    gbtest.finish()


if __name__ == "__main__":
    main()
