"""glassbox diff: identical models diff to zero; F32 against Q8_0 and Q4_0 conversions of the same
weights give small, non-zero errors, Q8_0's smaller than Q4_0's; every number equals NumPy's on
the two runs' traces (`glassbox trace`); models that cannot be compared are refused naming the
difference.
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

TOKENS = "5,17,3,99,42,8,1,64,23,7,11"


def diff(a, b, *extra):
    return json.loads(gbtest.run("diff", a, b, "--tokens", TOKENS, "--json", *extra).stdout)


def trace(model, out, tokens=TOKENS):
    gbtest.run("trace", "-m", model, "--tokens", tokens, "--hooks", "all", "-o", out)
    return gbtest.read_trace(out)[1]


def log_softmax(x):
    x = x.astype(np.float64)
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def check_against_traces(label, d, ta, tb):
    """Each hook's numbers, the KL and the top-1 agreement recomputed in NumPy."""
    expect(len(d["hooks"]) > 20, f"{label}: only {len(d['hooks'])} hooks compared")
    for h in d["hooks"]:
        a, b = ta[h["name"]].astype(np.float64), tb[h["name"]].astype(np.float64)
        both = np.isfinite(a) & np.isfinite(b)  # masked scores are -inf in both
        a, b = a[both], b[both]
        na = np.linalg.norm(a)
        rel = np.linalg.norm(b - a) / na if na > 0 else np.linalg.norm(b - a)
        cos = a @ b / (na * np.linalg.norm(b)) if na > 0 and np.linalg.norm(b) > 0 else 1.0
        mx = np.abs(b - a).max() if a.size else 0.0
        ok = (abs(h["rel_error"] - rel) <= 1e-6 * max(rel, 1e-3) and abs(h["cosine"] - cos) <= 1e-9 + 1e-6 * (1 - cos)
              and abs(h["max_abs"] - mx) <= 1e-6 * max(mx, 1e-6))
        expect(ok, f"{label}: {h['name']}: glassbox {h['rel_error']}, {h['cosine']}, {h['max_abs']} "
                   f"!= NumPy {rel}, {cos}, {mx}")
    la, lb = log_softmax(ta["hook_logits"][0]), log_softmax(tb["hook_logits"][0])
    kl = (np.exp(la) * (la - lb)).sum(-1)
    expect(np.allclose(d["kl"], kl, rtol=1e-5, atol=1e-9), f"{label}: KL {d['kl']} != NumPy {kl}")
    agree = float(np.mean(la.argmax(-1) == lb.argmax(-1)))
    expect(abs(d["top1_agreement"] - agree) < 1e-12, f"{label}: top-1 agreement {d['top1_agreement']} != {agree}")


def final_errors(d, n_layers):
    by = {h["name"]: h for h in d["hooks"]}
    return by[f"blocks.{n_layers - 1}.hook_resid_post"]["rel_error"], by["hook_logits"]["rel_error"]


def main():
    work = tempfile.mkdtemp(prefix="gb_diff_")
    for case in ("llama_gqa", "gpt2"):
        cfg = refmodels.CASES[case]
        n_layers = cfg.get("n_layer", cfg.get("num_hidden_layers"))
        hf = os.path.join(work, case)
        refmodels.save_checkpoint(refmodels.random_state_dict(cfg, seed=21), cfg, hf)
        files = {}
        for t in ("f32", "q8_0", "q4_0"):
            files[t] = os.path.join(work, f"{case}_{t}.gguf")
            gbtest.run("convert", hf, "-o", files[t], "--type", t)
        traces = {t: trace(f, os.path.join(work, f"{case}_{t}_trace")) for t, f in files.items()}

        # The same file twice: zero everywhere.
        d = diff(files["f32"], files["f32"])
        worst = max(h["rel_error"] for h in d["hooks"])
        expect(worst == 0 and all(h["max_abs"] == 0 and h["cosine"] == 1 for h in d["hooks"]),
               f"{case} identical: largest relative error {worst}")
        expect(d["kl_max"] == 0 and d["top1_agreement"] == 1 and d["first_hook"] is None
               and d["first_layer"] is None, f"{case} identical: {d['kl_max']}, {d['top1_agreement']}")

        # F32 against Q8_0 and Q4_0.
        errs = {}
        for t in ("q8_0", "q4_0"):
            d = diff(files["f32"], files[t], "--hooks", "all", "--threshold", 0.01)
            check_against_traces(f"{case} f32/{t}", d, traces["f32"], traces[t])
            resid, logits = final_errors(d, n_layers)
            errs[t] = (resid, logits, d["kl_mean"])
            bound = 0.1 if t == "q8_0" else 1.0  # these random weights are large: Q4_0 is coarse
            expect(0 < resid < bound and 0 < logits < bound, f"{case} f32/{t}: final errors {resid}, {logits}")
            expect(d["kl_mean"] > 0, f"{case} f32/{t}: KL is zero")
            # first layer above the threshold, recomputed from the per-hook numbers
            layers = [h["layer"] for h in d["hooks"]
                      if h["name"].endswith("hook_resid_post") and h["rel_error"] > 0.01]
            expect(d["first_layer"] == (layers[0] if layers else None),
                   f"{case} f32/{t}: first layer {d['first_layer']} != {layers[:1]}")
        print(f"{case}: f32 vs q8_0 {errs['q8_0']}, vs q4_0 {errs['q4_0']}", flush=True)
        for i, what in enumerate(("final resid_post", "logits", "KL")):
            expect(errs["q8_0"][i] < errs["q4_0"][i],
                   f"{case}: {what} error of Q8_0 {errs['q8_0'][i]} is not below Q4_0's {errs['q4_0'][i]}")

    # One model, two prompts of the same length.
    model = files["f32"]
    other = "5,17,3,99,42,8,1,64,23,7,12"
    # (--hooks all as in the traces: observing attn.hook_result sums attn_out head by head,
    # which rounds differently)
    d = json.loads(gbtest.run("diff", model, "--tokens", TOKENS, "--tokens2", other, "--hooks", "all",
                              "--json").stdout)
    t2 = trace(model, os.path.join(work, "prompt2_trace"), other)
    check_against_traces("two prompts", d, traces["f32"], t2)
    emb = next(h for h in d["hooks"] if h["name"] == "hook_embed")
    expect(emb["rel_error"] > 0, "two prompts: the last token differs, hook_embed should too")

    # Refusals.
    llama = os.path.join(work, "llama_gqa")
    cases = [
        (files["f32"], llama, "architecture family"),  # gpt2 against llama
    ]
    for name, change, what in (("layers", {"num_hidden_layers": 3}, "number of layers"),
                               ("vocab", {"vocab_size": 160}, "vocabulary size"),
                               ("kv", {"num_key_value_heads": 4}, "number of kv heads")):
        cfg = dict(refmodels.CASES["llama_gqa"], **change)
        path = os.path.join(work, "llama_" + name)
        refmodels.save_checkpoint(refmodels.random_state_dict(cfg, seed=1), cfg, path)
        cases.append((llama, path, what))
    for a, b, what in cases:
        p = gbtest.run("diff", a, b, "--tokens", "1,2,3", check=False)
        expect(p.returncode == 2 and what in p.stderr and a in p.stderr and b in p.stderr,
               f"diff {os.path.basename(a)} {os.path.basename(b)}: exit {p.returncode}, {p.stderr!r}")
    p = gbtest.run("diff", model, "--tokens", "1,2,3", "--tokens2", "1,2", check=False)
    expect(p.returncode == 2 and "same number of tokens" in p.stderr, f"prompt lengths: {p.stderr!r}")
    p = gbtest.run("diff", model, "--tokens", "1,2,3", check=False)
    expect(p.returncode == 2 and "second prompt" in p.stderr, f"one model, one prompt: {p.stderr!r}")
    gbtest.finish()


if __name__ == "__main__":
    main()
