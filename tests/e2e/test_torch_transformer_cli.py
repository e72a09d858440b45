"""glassbox on exported torch.nn.Transformer folders, end to end: `hooks` lists the encoder and
decoder hook points (cross-attention only in the decoder), filters (globs, layer ranges, head and
position slices) select from them and their values equal PyTorch's, and bad inputs — .npy files of
the wrong dtype or shape, missing or misplaced options, broken model folders, modules the exporter
cannot handle — each give one clear error line naming the file, exit 1 (2 for usage errors), and
no output file.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
SOURCE_DIR = os.environ.get("GB_SOURCE_DIR", ".")
sys.path.insert(0, os.path.join(SOURCE_DIR, "tools"))
import gbtest  # noqa: E402
import refmodels  # noqa: E402
from gbpy import safetensors  # noqa: E402
from gbtest import expect  # noqa: E402

EXPORT = os.path.join(SOURCE_DIR, "tools", "export_torch_transformer.py")
D, HEADS, ENC, DEC, FF = 20, 4, 2, 3, 24


def expect_error(label, args, needles, status=1, no_file=None):
    p = gbtest.run(*args, check=False)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    expect(p.returncode == status,
           f"{label}: exit {p.returncode}, expected {status}; stderr: {p.stderr!r}")
    expect(len(lines) == 1 and lines[0].startswith("glassbox: error: "),
           f"{label}: expected one 'glassbox: error:' line, got {lines!r}")
    for n in needles:
        expect(n in p.stderr, f"{label}: message lacks {n!r}: {p.stderr!r}")
    if no_file:
        expect(not os.path.exists(no_file), f"{label}: {no_file} was written")


def export(args):
    return subprocess.run(["/usr/bin/python3", EXPORT, *args], capture_output=True, text=True)


def save(work, name, arr):
    path = os.path.join(work, name)
    np.save(path, arr)
    return path


def check_hooks_listing(model_dir):
    p = gbtest.run("hooks", "-m", model_dir, "--json")
    names = [h["name"] for h in json.loads(p.stdout)]
    per_block = {}
    for n in names:
        parts = n.split(".")
        if parts[1] == "blocks":
            per_block.setdefault((parts[0], int(parts[2])), []).append(".".join(parts[3:]))
    expect(sorted(per_block) == [("decoder", i) for i in range(DEC)] +
           [("encoder", i) for i in range(ENC)], f"hooks: blocks {sorted(per_block)}")
    enc0, dec0 = per_block.get(("encoder", 0), []), per_block.get(("decoder", 0), [])
    expect("attn.hook_pattern" in enc0 and "mlp.hook_post" in enc0, "hooks: encoder block sites")
    expect(not any(s.startswith(("cross_attn.", "ln_cross.")) for s in enc0),
           "hooks: the encoder lists cross-attention sites")
    for site in ("cross_attn.hook_pattern", "cross_attn.hook_k", "hook_resid_cross_pre",
                 "ln_cross.hook_normalized", "hook_cross_attn_out", "attn.hook_pattern"):
        expect(site in dec0, f"hooks: decoder block lacks {site}")
    expect("encoder.ln_final.hook_normalized" in names and
           "decoder.ln_final.hook_normalized" in names, "hooks: final norms missing")
    for absent in ("hook_embed", "hook_logits", "encoder.blocks.0.attn.hook_rot_q"):
        expect(absent not in names, f"hooks: lists {absent}, which this model does not have")
    p = gbtest.run("hooks", "-m", model_dir, "--pos", 6)
    expect("decoder.blocks.2.cross_attn.hook_pattern" in p.stdout and
           f"[1, {HEADS}, 6, 6]" in p.stdout, "hooks --pos: concrete shapes")


def check_filters(model, model_dir, work):
    """Globs, layer ranges and slices pick the right tensors (values from PyTorch)."""
    rng = np.random.default_rng(3)
    src = rng.standard_normal((6, 2, D)).astype(np.float32)
    tgt = rng.standard_normal((4, 2, D)).astype(np.float32)
    args = ["--src", save(work, "f_src.npy", src), "--tgt", save(work, "f_tgt.npy", tgt)]
    layer = model.decoder.layers[1]
    with torch.no_grad():
        memory = model.encoder(torch.from_numpy(src))
        x = torch.from_numpy(tgt)
        x = model.decoder.layers[0](x, memory)
        x = layer.norm1(x + layer.self_attn(x, x, x, need_weights=False)[0])
        _, cross = layer.multihead_attn(x, memory, memory, need_weights=True,
                                        average_attn_weights=False)
    out = os.path.join(work, "f_trace")
    gbtest.run("trace", "-m", model_dir, *args, "-o", out, "--hooks",
               "decoder.blocks.1-2.cross_attn.hook_pattern[head=1][pos=-1],"
               "encoder.blocks.*.mlp.hook_post[neuron=0:5]")
    manifest, trace = gbtest.read_trace(out)
    expect(sorted(trace) == ["decoder.blocks.1.cross_attn.hook_pattern",
                             "decoder.blocks.2.cross_attn.hook_pattern",
                             "encoder.blocks.0.mlp.hook_post", "encoder.blocks.1.mlp.hook_post"],
           f"filters selected {sorted(trace)}")
    got = trace.get("decoder.blocks.1.cross_attn.hook_pattern")
    want = cross.numpy()[:, 1:2, -1:, :]
    expect(got is not None and got.shape == want.shape and np.max(np.abs(got - want)) <= 1e-5,
           f"sliced cross-attention pattern differs: {None if got is None else got.shape}")
    expect(trace["encoder.blocks.0.mlp.hook_post"].shape == (2, 6, 5), "neuron slice shape")
    roles = [i["role"] for i in manifest.get("inputs", [])]
    expect(roles == ["src", "tgt"], f"manifest inputs {roles}")


def check_bad_inputs(model_dir, work):
    src = np.zeros((6, 2, D), np.float32)
    tgt = np.zeros((4, 2, D), np.float32)
    good_src, good_tgt = save(work, "src.npy", src), save(work, "tgt.npy", tgt)
    out = os.path.join(work, "out.npy")
    run = ["run", "-m", model_dir, "-o", out]

    bad = save(work, "int_src.npy", np.zeros((6, 2, D), np.int32))
    expect_error("integer src", run + ["--src", bad, "--tgt", good_tgt], [bad, "float32"],
                 no_file=out)
    bad = save(work, "rank2_src.npy", np.zeros((6, D), np.float32))
    expect_error("rank-2 src", run + ["--src", bad, "--tgt", good_tgt], [bad, "[6, 20]"],
                 no_file=out)
    bad = save(work, "wide_tgt.npy", np.zeros((4, 2, D + 1), np.float32))
    expect_error("d_model mismatch", run + ["--src", good_src, "--tgt", bad], [bad, f"{D}"],
                 no_file=out)
    bad = save(work, "batch3_tgt.npy", np.zeros((4, 3, D), np.float32))
    expect_error("batch mismatch", run + ["--src", good_src, "--tgt", bad], [bad, "batch"],
                 no_file=out)
    # The module's layout is seq-first: a batch-first flag reinterprets [6, 2, D] as 6 rows of 2,
    # which then disagrees with tgt's batch of 4.
    expect_error("layout flag", run + ["--src", good_src, "--tgt", good_tgt, "--batch-first"],
                 ["batch"], no_file=out)
    both = ["--src", good_src, "--tgt", good_tgt]
    bad = save(work, "pad_short.npy", np.zeros((2, 5), bool))
    expect_error("padding shape", run + both + ["--src-padding", bad], [bad, "[batch, src_len]"],
                 no_file=out)
    bad = save(work, "mask3d.npy", np.zeros((8, 4, 4), np.float32))
    expect_error("3-D mask", run + both + ["--tgt-mask", bad], [bad, "per-head"], no_file=out)
    bad = save(work, "mem_mask.npy", np.zeros((6, 4), np.float32))
    expect_error("memory mask transposed", run + both + ["--memory-mask", bad],
                 [bad, "[tgt_len, src_len]"], no_file=out)
    bad = os.path.join(work, "not_npy.npy")
    open(bad, "wb").write(b"hello")
    expect_error("not an .npy", run + ["--src", bad, "--tgt", good_tgt], [bad], no_file=out)
    expect_error("missing file", run + ["--src", os.path.join(work, "nope.npy"), "--tgt",
                                        good_tgt], ["nope.npy"], no_file=out)
    expect_error("no --tgt", run + ["--src", good_src], ["--tgt"], status=2, no_file=out)
    expect_error("no -o", ["run", "-m", model_dir] + both, ["-o"], status=2)
    expect_error("tokens", ["trace", "-m", model_dir, "--tokens", "1,2", "--hooks", "all", "-o",
                            os.path.join(work, "t")], ["--src"], status=2)
    expect_error("generate", ["generate", "-m", model_dir, "--tokens", "1,2"],
                 ["encoder-decoder"], status=2)
    expect_error("bench", ["bench", "-m", model_dir], ["encoder-decoder"], status=2)
    expect_error("bad hook", ["trace", "-m", model_dir, *both, "--hooks",
                              "decoder.blocks.0.cross_attn.hook_patern", "-o",
                              os.path.join(work, "t")], ["cross_attn.hook_pattern"], status=2)
    expect_error("encoder has no cross-attention",
                 ["trace", "-m", model_dir, *both, "--hooks", "encoder.blocks.0.cross_attn.*",
                  "-o", os.path.join(work, "t")], ["no hook matches"], status=2)


def check_bad_models(model_dir, work):
    both = ["--src", os.path.join(work, "src.npy"), "--tgt", os.path.join(work, "tgt.npy")]
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    tensors = safetensors.load_file(os.path.join(model_dir, "model.safetensors"))

    def variant(name, config=None, drop=None, reshape=None):
        d = os.path.join(work, name)
        os.makedirs(d, exist_ok=True)
        json.dump(config or cfg, open(os.path.join(d, "config.json"), "w"))
        t = {k: v for k, v in tensors.items() if k != drop}
        if reshape:
            t[reshape] = t[reshape][:-1]
        safetensors.save_file(t, os.path.join(d, "model.safetensors"))
        return d

    d = variant("v2", dict(cfg, format_version=2))
    expect_error("format version", ["inspect", d], ["config.json", "format_version"])
    d = variant("heads", dict(cfg, nhead=3))
    expect_error("nhead", ["inspect", d], [d, "nhead"])
    d = variant("act", dict(cfg, activation="swish"))
    expect_error("activation", ["inspect", d], ["config.json", "swish"])
    d = variant("missing", drop="decoder.layers.2.multihead_attn.in_proj_weight")
    expect_error("missing tensor", ["run", "-m", d, *both, "-o", os.path.join(work, "o.npy")],
                 ["decoder.layers.2.multihead_attn.in_proj_weight"])
    d = variant("short", reshape="encoder.layers.1.linear1.weight")
    expect_error("tensor shape", ["run", "-m", d, *both, "-o", os.path.join(work, "o.npy")],
                 ["encoder.layers.1.linear1.weight", "shape"])
    expect_error("convert", ["convert", model_dir, "-o", os.path.join(work, "x.gguf")],
                 ["GGUF"], status=2, no_file=os.path.join(work, "x.gguf"))

    # A decoder-only model refuses the encoder-decoder options.
    rcfg = refmodels.CASES["gpt2"]
    hf = os.path.join(work, "gpt2")
    refmodels.save_checkpoint(refmodels.random_state_dict(rcfg, seed=1), rcfg, hf)
    expect_error("--src on gpt2", ["trace", "-m", hf, "--tokens", "1,2", *both, "--hooks", "all",
                                   "-o", os.path.join(work, "g")], ["decoder-only"], status=2)


def check_exporter_errors(work):
    enc_only = os.path.join(work, "enc_only.pt")
    torch.save(nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2), 1), enc_only)
    p = export([enc_only, "-o", os.path.join(work, "e1")])
    expect(p.returncode == 1 and "TransformerEncoder" in p.stderr and "nn.Transformer" in p.stderr,
           f"exporter on an encoder alone: {p.returncode} {p.stderr!r}")
    silu = nn.Transformer(8, 2, 1, 1, 16, activation=torch.nn.functional.silu)
    torch.save(silu, os.path.join(work, "silu.pt"))
    p = export([os.path.join(work, "silu.pt"), "-o", os.path.join(work, "e2")])
    expect(p.returncode == 1 and "activation" in p.stderr and
           not os.path.exists(os.path.join(work, "e2", "config.json")),
           f"exporter on SiLU: {p.returncode} {p.stderr!r}")
    torch.save(nn.Transformer(8, 2, 1, 1, 16).state_dict(), os.path.join(work, "sd.pt"))
    p = export([os.path.join(work, "sd.pt"), "-o", os.path.join(work, "e3")])
    expect(p.returncode == 1 and "--nhead" in p.stderr, f"state_dict without --nhead: {p.stderr!r}")


def main():
    work = tempfile.mkdtemp(prefix="gb_torch_transformer_cli_")
    torch.manual_seed(0)
    model = nn.Transformer(D, HEADS, ENC, DEC, FF, dropout=0.0).eval()
    torch.save(model, os.path.join(work, "model.pt"))
    model_dir = os.path.join(work, "model")
    p = export([os.path.join(work, "model.pt"), "-o", model_dir])
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    check_hooks_listing(model_dir)
    check_filters(model, model_dir, work)
    check_bad_inputs(model_dir, work)
    check_bad_models(model_dir, work)
    check_exporter_errors(work)
    gbtest.finish()


if __name__ == "__main__":
    main()
