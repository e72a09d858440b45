"""glassbox stats over a corpus against NumPy over the saved traces of the same documents.

A small GPT-2-family model with two planted features: one MLP neuron whose bias keeps it from ever
firing (dead by construction) and one residual channel scaled by 1000 in the token embedding
(a massive activation by construction). A JSON Lines corpus of token documents, one longer than
the window (so it is split), goes through `glassbox stats`; each document window is also written
with `glassbox trace`, and NumPy computes every per-channel statistic, the histogram and the
top activating contexts of a chosen neuron in one pass over the concatenated traces. They must
agree (counts and extremes exactly, moments to about 1e-6) when the windows run one per forward
pass (--batch 1, as the traces do). With two threads (--threads 2), the ways glassbox holds rows
back and shares the counting between threads are checked. Windows of fewer than 16 rows are held
back per hook, up to 32K values: the short documents fill the 128-channel hooks' blocks exactly
(256 rows), and those are counted together, one hook per thread; later, both the 128- and the
64-channel hooks hold 255 and 511 rows when the next window does not fit, and those blocks (more
than 16K values) are split between the threads by rows, the second thread's part kept and merged
at the end. Run several windows per forward pass (right-padded batches), the
statistics agree with that run to float rounding (1e-5 relative: a batched matrix product sums in
another order) and count exactly the same values. Bad corpora give one clear error.
"""
import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import gbtest  # noqa: E402
import refmodels  # noqa: E402
from tb_reader import default_histogram_edges  # noqa: E402
from gbtest import expect  # noqa: E402

WINDOW = 16
HOOKS = ("blocks.*.hook_resid_pre,blocks.*.hook_resid_post,blocks.*.mlp.hook_pre,"
         "blocks.*.mlp.hook_post,blocks.1.attn.hook_pattern,blocks.0.attn.hook_z,hook_embed")
DEAD = (1, 77)  # layer, neuron
MASSIVE = 13    # residual channel
NEURON = ("blocks.0.mlp.hook_post", 5)


def channel_values(name, arrays):
    """All windows' values of a hook as [values, channels] (patterns: per head, keys <= query)."""
    if name.endswith("hook_pattern"):
        cols = []
        for a in arrays:  # [1, heads, q, k]
            q = a.shape[2]
            mask = np.tril(np.ones((q, q), bool))
            cols.append(np.stack([a[0, h][mask] for h in range(a.shape[1])], 1))
        return np.concatenate(cols)
    return np.concatenate([a.reshape(a.shape[1], -1) for a in arrays])


def compare_batched(one, batched):
    """Statistics of windows run four per forward pass against one per pass."""
    expect(batched["tokens"] == one["tokens"] and batched["documents"] == one["documents"],
           "batched run counted other documents")
    for a, b in zip(one["hooks"], batched["hooks"]):
        expect(a["name"] == b["name"] and a["count"] == b["count"] and
               a["positions"] == b["positions"] and a["nan"] == b["nan"],
               f"{a['name']}: batched counts differ")
        for k in ("mean", "std", "min", "max", "abs_max"):
            expect(abs(a[k] - b[k]) <= 1e-5 * max(1.0, abs(a[k])),
                   f"{a['name']}: batched {k} {b[k]} != {a[k]}")
        expect(sum(a["histogram"]["counts"]) == sum(b["histogram"]["counts"]),
               f"{a['name']}: batched histogram counts another number of values")
    top_a, top_b = one["top_contexts"][0]["top"], batched["top_contexts"][0]["top"]
    expect([(c["document"], c["position"], c["context"]) for c in top_a] ==
           [(c["document"], c["position"], c["context"]) for c in top_b],
           "batched top contexts differ")


def main():
    work = tempfile.mkdtemp(prefix="gb_stats_")
    cfg = refmodels.CASES["gpt2"]
    sd = refmodels.random_state_dict(cfg, seed=31)
    sd[f"transformer.h.{DEAD[0]}.mlp.c_fc.bias"][DEAD[1]] = -1000.0
    sd["transformer.wte.weight"][:, MASSIVE] *= 1000.0
    model = os.path.join(work, "model")
    refmodels.save_checkpoint(sd, cfg, model)

    rng = np.random.default_rng(4)
    # Windows under 16 rows: 40 in the first eight documents, then 14 x 15 + 6 = 216 more (256),
    # then 17 x 15 (255 and 511) before one more of 15 does not fit.
    lengths = (7, 3, 40, 12, 1, 16, 1, 200) + (15,) * 14 + (6,) + (15,) * 18
    docs = [rng.integers(0, cfg["vocab_size"], n).tolist() for n in lengths]
    corpus = os.path.join(work, "corpus.jsonl")
    with open(corpus, "w") as f:
        for i, d in enumerate(docs):
            f.write(json.dumps({"tokens": d, "id": i}) + "\n")
            if i == 2:
                f.write("\n")  # blank lines are skipped
    out_dir = os.path.join(work, "stats")
    p = gbtest.run("stats", "-m", model, "--corpus", corpus, "--hooks", HOOKS, "--window", WINDOW,
                   "--neuron", f"{NEURON[0]}:{NEURON[1]}", "--top-k", 5, "-o", out_dir, "--json",
                   "--batch", 1, "--threads", 2)
    got = json.loads(p.stdout)
    batched = json.loads(gbtest.run("stats", "-m", model, "--corpus", corpus, "--hooks", HOOKS,
                                    "--window", WINDOW, "--neuron", f"{NEURON[0]}:{NEURON[1]}",
                                    "--top-k", 5, "--json", "--batch", 4).stdout)
    compare_batched(got, batched)
    expect("split into windows" in p.stderr and "2 documents" in p.stderr,
           f"no warning about the split document: {p.stderr!r}")
    expect(got["documents"] == len(docs) and got["tokens"] == sum(map(len, docs)),
           f"documents {got['documents']}, tokens {got['tokens']}")

    # Trace every window, as the documented windowing runs them.
    windows = []  # (document, offset, tokens)
    for i, d in enumerate(docs):
        for s in range(0, len(d), WINDOW):
            windows.append((i, s, d[s:s + WINDOW]))
    traces = []
    for k, (_, _, toks) in enumerate(windows):
        out = os.path.join(work, f"trace{k}")
        gbtest.run("trace", "-m", model, "--tokens", ",".join(map(str, toks)), "--hooks", HOOKS, "-o", out)
        traces.append(gbtest.read_trace(out)[1])

    E = default_histogram_edges()
    hooks = {h["name"]: h for h in got["hooks"]}
    expect(set(hooks) == set(traces[0]), f"hooks {sorted(hooks)} != traced {sorted(traces[0])}")
    for name in traces[0]:
        x = channel_values(name, [t[name] for t in traces])  # [n, C]
        d = os.path.join(out_dir, name)
        npy = {f: np.load(os.path.join(d, f + ".npy")) for f in
               ("count", "mean", "var", "min", "max", "abs_max", "zeros", "above", "nan", "inf",
                "mean_abs", "hist_counts", "hist_edges")}
        shape = tuple(hooks[name]["channel_shape"])
        expect(npy["mean"].shape == shape, f"{name}: mean.npy shape {npy['mean'].shape} != {shape}")
        flat = {k: v.reshape(-1) for k, v in npy.items()}
        x64 = x.astype(np.float64)
        want = {"count": np.full(x.shape[1], x.shape[0]), "mean": x64.mean(0), "var": x64.var(0),
                "min": x.min(0), "max": x.max(0), "abs_max": np.abs(x).max(0),
                "zeros": (x == 0).sum(0), "above": (x > 0).sum(0), "nan": np.zeros(x.shape[1]),
                "inf": np.zeros(x.shape[1]), "mean_abs": np.abs(x64).mean(0)}
        # The moments are summed in float over runs of 16 rows (channel_stats.cpp): the mean to
        # within 1e-6 standard deviations, mean_abs to 1e-6 relative, var to 3e-6 relative (a
        # block's sums may run around its first value rather than its mean).
        tolerance = {"mean": 1e-6 * np.sqrt(want["var"]) + 1e-9 * np.abs(want["mean"]),
                     "var": 3e-6 * want["var"], "mean_abs": 1e-6 * want["mean_abs"]}
        for field, w in want.items():
            if field in tolerance:
                err = np.abs(flat[field] - w)
                ok = np.all(err <= tolerance[field] + 1e-12 * max(1.0, float(np.abs(w).max())))
            else:
                ok = np.array_equal(flat[field], w)
            expect(ok, f"{name}: {field} differs from NumPy (max diff "
                       f"{np.max(np.abs(flat[field].astype(np.float64) - w)):.3g})")
        counts, _ = np.histogram(x.reshape(-1).astype(np.float64), E)
        nz = np.nonzero(counts)[0]
        expect(np.array_equal(flat["hist_counts"], counts[nz[0]:nz[-1] + 1]) and
               np.array_equal(flat["hist_edges"], E[nz[0]:nz[-1] + 2]),
               f"{name}: histogram differs from np.histogram")
        h = hooks[name]
        expect(h["count"] == x.size and abs(h["mean"] - x64.mean()) <= 1e-6 * x64.std()
               and abs(h["std"] - x64.std()) <= 2e-6 * x64.std() and h["abs_max"] == float(np.abs(x).max()),
               f"{name}: summary {h['count']}, {h['mean']}, {h['std']} != NumPy {x.size}, {x64.mean()}, {x64.std()}")

    # Dead and rare neurons: from mlp.hook_pre's firing counts.
    for layer in range(cfg["n_layer"]):
        x = channel_values(f"blocks.{layer}.mlp.hook_pre", [t[f"blocks.{layer}.mlp.hook_pre"] for t in traces])
        frac = (x > 0).mean(0)
        entry = next(a for a in got["mlp_neurons"] if a["layer"] == layer)
        expect(entry["dead"] == np.nonzero(frac == 0)[0].tolist(), f"layer {layer}: dead {entry['dead']}")
        expect(entry["rare"] == np.nonzero((frac > 0) & (frac < 0.01))[0].tolist(),
               f"layer {layer}: rare {entry['rare']}")
    dead = next(a for a in got["mlp_neurons"] if a["layer"] == DEAD[0])["dead"]
    expect(DEAD[1] in dead, f"the neuron made dead by construction, {DEAD}, is not listed: {dead}")

    # Massive channels: the planted one in every residual hook, nothing else there.
    massive = [(m["hook"], m["channel"]) for m in got["massive_channels"]]
    for name in traces[0]:
        if "resid" in name or name == "hook_embed":
            flagged = [c for h, c in massive if h == name]
            expect(flagged == [MASSIVE], f"{name}: massive channels {flagged}, expected [{MASSIVE}]")

    # Top activating contexts of the chosen neuron.
    vals = []
    for (doc, off, toks), t in zip(windows, traces):
        a = t[NEURON[0]][0, :, NEURON[1]]
        vals += [(float(v), doc, off + p) for p, v in enumerate(a)]
    vals.sort(key=lambda v: -v[0])
    top = got["top_contexts"][0]["top"]
    expect([(c["value"], c["document"], c["position"]) for c in top] == [v for v in vals[:5]],
           f"top contexts {[(c['value'], c['document'], c['position']) for c in top]} != {vals[:5]}")
    for c in top:
        d = docs[c["document"]]
        start = max(0, c["position"] - 8)
        expect(c["context"] == d[start:c["position"] + 3] and c["context"][c["at"]] == d[c["position"]],
               f"context of {c} is not the document's tokens around it")

    # The written stats.json is the printed JSON.
    with open(os.path.join(out_dir, "stats.json")) as f:
        expect(json.load(f) == got, "stats.json differs from --json output")

    # Bad corpora.
    empty = os.path.join(work, "empty.txt")
    with open(empty, "w") as f:
        f.write("\n  \n\n")
    for path, status, text in ((empty, 1, "corpus has no documents"),
                               (os.path.join(work, "missing.jsonl"), 1, "cannot open corpus")):
        p = gbtest.run("stats", "-m", model, "--corpus", path, check=False)
        expect(p.returncode == status and path in p.stderr and text in p.stderr,
               f"corpus {os.path.basename(path)}: exit {p.returncode}, {p.stderr!r}")
    bad = os.path.join(work, "bad.jsonl")
    with open(bad, "w") as f:
        f.write('{"tokens": [1, 2]}\n{"tokens": [1, 2\n')
    p = gbtest.run("stats", "-m", model, "--corpus", bad, check=False)
    expect(p.returncode == 1 and f"{bad}:2" in p.stderr and "JSON" in p.stderr, f"bad JSONL: {p.stderr!r}")
    with open(bad, "w") as f:
        f.write('{"tokens": [1, 2]}\n{"tokens": [1, 999]}\n')
    p = gbtest.run("stats", "-m", model, "--corpus", bad, check=False)
    expect(p.returncode == 1 and f"{bad}:2" in p.stderr and "999" in p.stderr, f"bad id: {p.stderr!r}")
    gbtest.finish()


if __name__ == "__main__":
    main()
