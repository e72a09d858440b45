"""Bad model files and arguments: one clear error line naming the file and the item, exit 1
(2 for usage errors); never a crash. Files are crafted from a valid converted model with an
independent GGUF writer (tools/gbpy/gguf.py)."""
import json
import os
import shutil
import struct
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
sys.path.insert(0, os.path.join(os.environ.get("GB_SOURCE_DIR", "."), "tools"))
import gbtest  # noqa: E402
import refmodels  # noqa: E402
from gbpy import gguf  # noqa: E402
from gbtest import expect  # noqa: E402

TOKENS = "1,2,3"


def expect_error(label, args, needles, status=1):
    p = gbtest.run(*args, check=False)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    expect(p.returncode == status, f"{label}: exit {p.returncode}, expected {status}; stderr: {p.stderr!r}")
    expect(len(lines) == 1 and lines[0].startswith("glassbox: error: "),
           f"{label}: expected one 'glassbox: error:' line, got {lines!r}")
    for n in needles:
        expect(n in p.stderr, f"{label}: message lacks {n!r}: {p.stderr!r}")


def main():
    work = tempfile.mkdtemp(prefix="gb_bad_files_")
    cfg = refmodels.CASES["llama_gqa"]
    sd = refmodels.random_state_dict(cfg, seed=1)
    hf = os.path.join(work, "hf")
    refmodels.save_checkpoint(sd, cfg, hf)
    good = os.path.join(work, "good.gguf")
    gbtest.run("convert", hf, "-o", good, "--type", "q8_0")
    gbtest.run("run", "-m", good, "--tokens", TOKENS)  # the valid file runs
    meta, tensors, align = gguf.read(good)
    raw = open(good, "rb").read()

    def variant(name, data=None, meta_=None, tensors_=None):
        path = os.path.join(work, name)
        if data is not None:
            open(path, "wb").write(data)
        else:
            gguf.write(path, meta_ if meta_ is not None else meta, tensors_ if tensors_ is not None else tensors)
        return path

    p = variant("truncated.gguf", raw[:200])
    expect_error("truncated header", ["run", "-m", p, "--tokens", TOKENS], [p, "truncated?"])
    p = variant("magic.gguf", b"GGML" + raw[4:])
    expect_error("wrong magic", ["run", "-m", p, "--tokens", TOKENS], [p, "not a GGUF file"])
    p = variant("empty.gguf", b"")
    expect_error("empty file", ["inspect", p], [p])

    t2 = [dict(t) for t in tensors]
    q = next(t for t in t2 if t["name"] == "blk.1.attn_q.weight")
    q["type"] = 99
    p = variant("unknown_type.gguf", tensors_=t2)
    expect_error("unknown tensor type", ["run", "-m", p, "--tokens", TOKENS],
                 [p, "blk.1.attn_q.weight", "unknown tensor type 99"])
    q["type"] = 12  # q4_K: a real ggml type glassbox does not run
    p = variant("q4k.gguf", tensors_=t2)
    expect_error("unsupported tensor type", ["run", "-m", p, "--tokens", TOKENS],
                 [p, "blk.1.attn_q.weight", "q4_k is not supported"])

    last = tensors[-1]["name"]
    p = variant("past_end.gguf", raw[:-64])
    expect_error("data past end", ["run", "-m", p, "--tokens", TOKENS],
                 [p, f"tensor {last}: data ends past end of file"])

    p = variant("missing.gguf", tensors_=[t for t in tensors if t["name"] != "blk.1.ffn_up.weight"])
    expect_error("missing tensor", ["run", "-m", p, "--tokens", TOKENS], [p, "missing tensor blk.1.ffn_up.weight"])

    m2 = dict(meta)
    m2["llama.feed_forward_length"] = (gguf.U32, 64)
    p = variant("shape.gguf", meta_=m2)
    expect_error("shape contradicts config", ["run", "-m", p, "--tokens", TOKENS],
                 [p, "blk.0.ffn_gate.weight", "contradicts the config"])

    m3 = dict(meta)
    m3["general.architecture"] = (gguf.STRING, "mamba")
    p = variant("arch.gguf", meta_=m3)
    expect_error("unknown architecture", ["run", "-m", p, "--tokens", TOKENS], [p, "unknown architecture 'mamba'"])

    m4 = dict(meta)
    m4["llama.attention.head_count_kv"] = (gguf.U32, 3)
    p = variant("heads.gguf", meta_=m4)
    expect_error("heads do not divide", ["run", "-m", p, "--tokens", TOKENS], [p, "kv heads"])

    # Hugging Face checkpoints.
    bad_hf = os.path.join(work, "hf_missing")
    shutil.copytree(hf, bad_hf)
    sd2 = {k: v for k, v in sd.items() if k != "model.layers.0.mlp.up_proj.weight"}
    refmodels.save_checkpoint(sd2, cfg, bad_hf)
    expect_error("HF missing tensor", ["run", "-m", bad_hf, "--tokens", TOKENS],
                 [bad_hf, "missing tensor model.layers.0.mlp.up_proj.weight"])
    st = os.path.join(bad_hf, "model.safetensors")
    data = open(st, "rb").read()
    open(st, "wb").write(data[:-100])
    expect_error("HF truncated safetensors", ["run", "-m", bad_hf, "--tokens", TOKENS],
                 [st, "data ends past end of file"])
    open(st, "wb").write(struct.pack("<Q", 10) + b"{not json}")
    expect_error("HF header not JSON", ["run", "-m", bad_hf, "--tokens", TOKENS], [st, "JSON"])
    with open(os.path.join(bad_hf, "config.json"), "w") as f:
        json.dump(dict(cfg, model_type="mamba"), f)
    expect_error("HF unknown model_type", ["run", "-m", bad_hf, "--tokens", TOKENS], ["unknown architecture 'mamba'"])
    empty_dir = os.path.join(work, "empty_dir")
    os.makedirs(empty_dir)
    expect_error("directory without config", ["run", "-m", empty_dir, "--tokens", TOKENS], [empty_dir, "config.json"])
    expect_error("no such file", ["run", "-m", os.path.join(work, "nope.gguf"), "--tokens", TOKENS], ["nope.gguf"])
    text = os.path.join(work, "notes.txt")
    open(text, "w").write("hello")
    expect_error("not a model", ["run", "-m", text, "--tokens", TOKENS], [text])

    # Usage errors: exit 2.
    expect_error("token out of range", ["run", "-m", good, "--tokens", "1,500"], ["500", "out of range"], status=2)
    expect_error("bad token list", ["run", "-m", good, "--tokens", "1,x"], ["--tokens"], status=2)
    expect_error("unknown flag", ["run", "-m", good, "--frobnicate"], ["frobnicate"], status=2)
    expect_error("bad convert type", ["convert", hf, "-o", os.path.join(work, "x.gguf"), "--type", "q3"],
                 ["--type"], status=2)
    expect_error("unknown hook", ["trace", "-m", good, "--tokens", TOKENS, "--hooks", "blocks.0.attn.hook_patern",
                                  "-o", os.path.join(work, "t")], ["blocks.0.attn.hook_pattern"], status=2)
    expect_error("head out of range", ["trace", "-m", good, "--tokens", TOKENS, "--hooks",
                                       "blocks.0.attn.hook_z[head=9]", "-o", os.path.join(work, "t2")],
                 ["head index 9"], status=2)
    expect(not os.path.exists(os.path.join(work, "t2", "manifest.json")), "failed trace left a manifest")
    gbtest.finish()


if __name__ == "__main__":
    main()
