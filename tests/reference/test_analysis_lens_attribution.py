"""glassbox lens and attribute against NumPy computations on PyTorch's activations.

For small random GPT-2, Llama (GQA) and Qwen2-style models:
 - lens: every layer's residual stream (PyTorch's hook_resid_pre of each block and the last
   hook_resid_post) through the final norm and the unembedding, in NumPy; glassbox's top-k
   probabilities, the target's probability and rank must agree, and its last row must be the
   model's real output (PyTorch's logits, and `glassbox run`'s top-k).
 - attribute: each head's (hook_result), MLP's and embedding's direct contribution with the final
   norm's scale frozen at PyTorch's ln_final.hook_scale, centred for LayerNorm; the attention
   output biases; glassbox's parts must agree with NumPy's, and the parts plus bias terms must
   sum to PyTorch's logit (difference) within 1e-4.
"""
import json
import os
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import gbtest  # noqa: E402
import refmodels  # noqa: E402
from gbtest import expect  # noqa: E402

sys.path.insert(0, os.path.join(os.environ.get("GB_SOURCE_DIR", "."), "tools"))
from gbpy import torch_reference  # noqa: E402

CASES = ("gpt2", "llama_gqa", "qwen2_bias")
N = 9


def final_norm(sd, cfg):
    """(weight, bias or None, eps, layer_norm?) of the final norm, numpy."""
    if cfg["model_type"] == "gpt2":
        return (sd["transformer.ln_f.weight"].numpy().astype(np.float64),
                sd["transformer.ln_f.bias"].numpy().astype(np.float64), cfg["layer_norm_epsilon"], True)
    return sd["model.norm.weight"].numpy().astype(np.float64), None, cfg["rms_norm_eps"], False


def unembedding(sd, cfg):
    if cfg["model_type"] == "gpt2":
        return sd["transformer.wte.weight"].numpy().astype(np.float64)
    return sd.get("lm_head.weight", sd["model.embed_tokens.weight"]).numpy().astype(np.float64)


def read_out(x, sd, cfg):
    """x [pos, d] -> log-probabilities [pos, vocab], in float64."""
    w, b, eps, layer = final_norm(sd, cfg)
    x = x.astype(np.float64)
    if layer:
        x = x - x.mean(-1, keepdims=True)
    y = x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w
    if b is not None:
        y = y + b
    logits = y @ unembedding(sd, cfg).T
    m = logits.max(-1, keepdims=True)
    return logits - m - np.log(np.exp(logits - m).sum(-1, keepdims=True))


def check_lens(case, model, sd, cfg, tokens, hooks, logits):
    target = 5
    out = json.loads(gbtest.run("lens", "-m", model, "--tokens", ",".join(map(str, tokens)),
                                "--target-id", target, "-k", 4, "--json").stdout)
    L = cfg.get("n_layer", cfg.get("num_hidden_layers"))
    rows = [f"blocks.{i}.hook_resid_pre" for i in range(L)] + [f"blocks.{L - 1}.hook_resid_post"]
    expect(out["rows"] == rows, f"{case} lens: rows {out['rows']}")
    for r, name in enumerate(rows):
        lp = read_out(hooks[name][0].numpy(), sd, cfg)
        for p in range(len(tokens)):
            cell = out["cells"][r][p]
            probs = np.exp(lp[p])
            want_top = np.sort(probs)[::-1][:4]
            got_top = np.array([t["prob"] for t in cell["top"]])
            expect(np.allclose(got_top, want_top, atol=1e-5),
                   f"{case} lens {name} pos {p}: top probs {got_top} != {want_top}")
            ids_ok = all(abs(probs[t["id"]] - t["prob"]) < 1e-5 for t in cell["top"])
            expect(ids_ok, f"{case} lens {name} pos {p}: top ids have other probabilities")
            expect(abs(cell["target"]["prob"] - probs[target]) < 1e-5,
                   f"{case} lens {name} pos {p}: p(target) {cell['target']['prob']} != {probs[target]}")
            rank = int((probs > probs[target] + 1e-7).sum())
            expect(abs(cell["target_rank"] - rank) <= int((np.abs(probs - probs[target]) <= 1e-7).sum()),
                   f"{case} lens {name} pos {p}: rank {cell['target_rank']} != {rank}")
    # The last row is the model's output: PyTorch's logits, and glassbox run's top-k.
    lp = torch.log_softmax(logits[0].double(), -1).numpy()
    for p in range(len(tokens)):
        got = np.array([t["prob"] for t in out["cells"][-1][p]["top"]])
        want = np.sort(np.exp(lp[p]))[::-1][:4]
        expect(np.allclose(got, want, atol=1e-5), f"{case} lens last row pos {p} is not the output")
    run = json.loads(gbtest.run("run", "-m", model, "--tokens", ",".join(map(str, tokens)), "-k", 4,
                                "--json").stdout)
    last = out["cells"][-1][-1]["top"]
    expect([t["id"] for t in run["top"]] == [t["id"] for t in last],
           f"{case} lens last row top ids {[t['id'] for t in last]} != run {[t['id'] for t in run['top']]}")
    expect(all(abs(a["prob"] - b["prob"]) < 1e-6 for a, b in zip(run["top"], last)),
           f"{case} lens last row probabilities differ from glassbox run")


def reference_attribution(sd, cfg, hooks, pos, u):
    """Parts {name: value} and terms, as the attribution definition says, in float64."""
    w, b, eps, layer = final_norm(sd, cfg)
    scale = float(hooks["ln_final.hook_scale"][0, pos, 0])
    g = w * u / scale

    def project(x):
        x = x.astype(np.float64)
        return float(((x - x.mean()) if layer else x) @ g)

    parts = {"hook_embed": project(hooks["hook_embed"][0, pos].numpy())}
    if "hook_pos_embed" in hooks:
        parts["hook_pos_embed"] = project(hooks["hook_pos_embed"][0, pos].numpy())
    terms = {}
    L = cfg.get("n_layer", cfg.get("num_hidden_layers"))
    for i in range(L):
        res = hooks[f"blocks.{i}.attn.hook_result"][0, pos].numpy()  # [heads, d]
        for h in range(res.shape[0]):
            parts[f"L{i}H{h}"] = project(res[h])
        parts[f"L{i} mlp"] = project(hooks[f"blocks.{i}.hook_mlp_out"][0, pos].numpy())
        terms[f"L{i} attn bias"] = project(hooks[f"blocks.{i}.hook_attn_out"][0, pos].numpy() - res.sum(0))
    terms["ln_final bias"] = float(b @ u) if b is not None else 0.0
    return parts, terms


def check_attribution(case, model, sd, cfg, tokens, hooks, logits):
    U = unembedding(sd, cfg)
    for pos, target, contrast in ((N - 1, 3, None), (4, 7, 11), (0, 2, None)):
        args = ["attribute", "-m", model, "--tokens", ",".join(map(str, tokens)), "--pos", pos,
                "--target-id", target, "--json"]
        if contrast is not None:
            args += ["--contrast-id", contrast]
        out = json.loads(gbtest.run(*args).stdout)
        u = U[target] - (U[contrast] if contrast is not None else 0)
        actual = float(logits[0, pos, target]) - (float(logits[0, pos, contrast]) if contrast is not None else 0)
        label = f"{case} attribute pos {pos} target {target} contrast {contrast}"
        expect(abs(out["actual"] - actual) < 1e-4, f"{label}: actual {out['actual']} != PyTorch {actual}")
        expect(abs(out["total"] - actual) < 1e-4, f"{label}: parts sum to {out['total']}, logit {actual}")
        s = sum(c["value"] for c in out["components"]) + sum(t["value"] for t in out["terms"])
        expect(abs(s - actual) < 1e-4, f"{label}: listed parts sum to {s}, logit {actual}")
        parts, terms = reference_attribution(sd, cfg, hooks, pos, u)
        got = {c["name"]: c["value"] for c in out["components"]}
        expect(set(got) == set(parts), f"{label}: components {sorted(got)} != {sorted(parts)}")
        for name, want in parts.items():
            if name in got:
                expect(abs(got[name] - want) < 1e-4, f"{label}: {name} {got[name]} != NumPy {want}")
        gt = {t["name"]: t["value"] for t in out["terms"]}
        for name, want in terms.items():
            expect(abs(gt.get(name, 1e9) - want) < 1e-4, f"{label}: term {name} {gt.get(name)} != {want}")


def main():
    work = tempfile.mkdtemp(prefix="gb_lens_")
    rng = np.random.default_rng(3)
    for i, case in enumerate(CASES):
        cfg = refmodels.CASES[case]
        sd = refmodels.random_state_dict(cfg, seed=300 + i)
        model = os.path.join(work, case)
        refmodels.save_checkpoint(sd, cfg, model)
        tokens = rng.integers(0, cfg["vocab_size"], N)
        with torch.no_grad():
            logits, hooks = torch_reference.forward(sd, cfg, torch.tensor(tokens)[None])
        check_lens(case, model, sd, cfg, tokens, hooks, logits)
        check_attribution(case, model, sd, cfg, tokens, hooks, logits)
        print(f"{case}: lens and attribution agree with NumPy on PyTorch's activations", flush=True)
    gbtest.finish()


if __name__ == "__main__":
    main()
