"""glassbox heads (and attribute) on a model whose heads are known by construction.

tools/gbpy/circuit_models.py sets the weights of a two-layer GPT-2-family model by hand: L0H2 is a pure
previous-token head, L1H1 an induction head. The test checks, with PyTorch, that the
construction does what it says; then that `glassbox heads` ranks L0H2 first for previous-token
score and L1H1 first for induction score, and that every score of every head equals the same
score computed in NumPy from PyTorch's attention patterns on the sequences glassbox reports
(TransformerLens's detection patterns, averaged over the queries that have a target). Finally
`glassbox attribute` on a repeated sequence must name L1H1 as the largest direct contributor to
the induced token's logit.
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
from gbpy import circuit_models as cm  # noqa: E402
from gbpy import torch_reference  # noqa: E402


def reference_scores(pattern, tokens):
    """pattern [n_heads, n, n] of one sequence -> dict score -> [n_heads], written from the
    TransformerLens head detector definitions and Olsson et al."""
    n = len(tokens)
    out = {k: [] for k in ("prev_token", "duplicate", "induction", "entropy", "sink", "distance")}
    for p in pattern:
        prev, dup, ind, ent, sink, dist = [], [], [], [], [], []
        for q in range(n):
            same = [k for k in range(q) if tokens[k] == tokens[q]]
            if q > 0:
                prev.append(p[q, q - 1])
                row = p[q, : q + 1]
                nz = row[row > 0]
                ent.append(-(nz * np.log(nz)).sum())
                sink.append(row[0])
                dist.append((row * (q - np.arange(q + 1))).sum())
            if same:
                dup.append(p[q, same].sum())
                ind.append(p[q, [k + 1 for k in same]].sum())
        for key, v in zip(out, (prev, dup, ind, ent, sink, dist)):
            out[key].append(np.mean(v) if v else 0.0)
    return {k: np.array(v) for k, v in out.items()}


def patterns(sd, tokens):
    with torch.no_grad():
        logits, hooks = torch_reference.forward(sd, cm.CONFIG, torch.tensor(tokens)[None])
    return logits[0].numpy(), [hooks[f"blocks.{L}.attn.hook_pattern"][0].numpy() for L in range(2)]


def main():
    work = tempfile.mkdtemp(prefix="gb_heads_")
    sd = {k: torch.from_numpy(v) for k, v in cm.state_dict().items()}
    model = os.path.join(work, "circuit")
    refmodels.save_checkpoint(sd, cm.CONFIG, model)

    # The construction, checked with PyTorch.
    r = np.random.default_rng(5).permutation(cm.V)[:16]
    seq = np.concatenate([r, r])
    logits, (p0, p1) = patterns(sd, seq)
    prev = np.mean([p0[2, q, q - 1] for q in range(1, len(seq))])
    ind = np.mean([p1[1, q, q - 15] for q in range(16, len(seq))])
    expect(prev > 0.99, f"construction: L0H2 attends to the previous token only {prev:.3f}")
    expect(ind > 0.9, f"construction: L1H1 attends to the induction target only {ind:.3f}")

    # glassbox heads: rankings and every score against NumPy on PyTorch's patterns.
    out = json.loads(gbtest.run("heads", "-m", model, "--repeat-len", 20, "--sequences", 3,
                                "--seed", 7, "--json").stdout)
    ranked = out["ranked"]
    top_prev = (ranked["prev_token"][0]["layer"], ranked["prev_token"][0]["head"])
    top_ind = (ranked["induction"][0]["layer"], ranked["induction"][0]["head"])
    expect(top_prev == cm.PREV_HEAD, f"prev_token ranks {top_prev} first, not {cm.PREV_HEAD}")
    expect(top_ind == cm.INDUCTION_HEAD, f"induction ranks {top_ind} first, not {cm.INDUCTION_HEAD}")
    expect(ranked["prev_token"][0]["score"] > 0.99, f"prev-token score {ranked['prev_token'][0]}")
    expect(ranked["induction"][0]["score"] > 0.9, f"induction score {ranked['induction'][0]}")
    expect(len(out["sequences"]) == 3 and all(len(s) == 40 for s in out["sequences"]),
           "heads: expected 3 sequences of 2 x 20 tokens")
    for s in out["sequences"]:
        expect(s[:20] == s[20:] and len(set(s[:20])) == 20, f"not a repeat of distinct tokens: {s}")
    per_seq = []
    for s in out["sequences"]:
        _, pats = patterns(sd, np.array(s))
        per_seq.append([reference_scores(p, s) for p in pats])
    for key in ("prev_token", "duplicate", "induction", "entropy", "sink", "distance"):
        want = np.array([[np.mean([seq[L][key][h] for seq in per_seq]) for h in range(cm.H)]
                         for L in range(2)])
        got = np.array(out["scores"][key])
        err = float(np.max(np.abs(got - want)))
        expect(err < 1e-4, f"heads: {key} differs from NumPy on PyTorch patterns by {err:.3g}")

    # Entropy, sink and distance on a prompt.
    prompt = [3, 9, 3, 17, 5, 9, 3, 1, 22, 0, 9]
    out = json.loads(gbtest.run("heads", "-m", model, "--tokens", ",".join(map(str, prompt)),
                                "--repeat-len", 8, "--sequences", 1, "--json").stdout)
    _, pats = patterns(sd, np.array(prompt))
    ref = [reference_scores(p, prompt) for p in pats]
    for key in ("entropy", "sink", "distance"):
        want = np.array([ref[L][key] for L in range(2)])
        err = float(np.max(np.abs(np.array(out["scores"][key]) - want)))
        expect(err < 1e-4, f"heads on a prompt: {key} differs from NumPy by {err:.3g}")

    # Direct logit attribution on the circuit: at a position in the second repeat the model
    # predicts the next token of the repeat, and L1H1 writes it.
    tok_arg = ",".join(map(str, seq[:24]))
    att = json.loads(gbtest.run("attribute", "-m", model, "--tokens", tok_arg, "--json").stdout)
    expect(att["target"]["id"] == int(seq[24]), f"attribute: top-1 {att['target']} is not {seq[24]}")
    top = max(att["components"], key=lambda c: abs(c["value"]))
    expect(top["name"] == "L1H1", f"attribute: largest component is {top['name']}, not L1H1")
    expect(abs(att["total"] - att["actual"]) < 1e-4,
           f"attribute: parts sum to {att['total']}, the logit is {att['actual']}")
    expect(abs(att["actual"] - float(logits[23, seq[24]])) < 1e-4,
           f"attribute: logit {att['actual']} != PyTorch {logits[23, seq[24]]}")
    gbtest.finish()


if __name__ == "__main__":
    main()
