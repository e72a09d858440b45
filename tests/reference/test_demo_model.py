"""The shipped demo model (models/glassbox-demo.gguf), checked with glassbox's own forward pass.

- Commands without -m use it and say so on stderr.
- glassbox's logits on held-out text equal PyTorch's on the same weights: the GGUF tensors are
  read back in NumPy (gbpy.gguf), Q/K rows returned from llama.cpp's interleaved order to
  rotate-half, and run through tools/gbpy/tiny_llama.py (the model the training script trains).
- Held-out perplexity (glassbox's logits, the shipped held-out sample of a few hundred tokens,
  tokenized by glassbox and checked against the training tokenizer's ids) is well below the
  unigram baseline on the same tokenizer (add-one smoothed training-token counts, shipped too).
- It has the heads a trained transformer shows: `glassbox heads` (repeated random tokens) finds
  a previous-token head and an induction head scoring at least 0.5 (mean attention on the
  previous position / on the token after the earlier occurrence of the current one).
"""
import json
import math
import os
import sys
import tempfile

import numpy as np
import torch

import gbtest
from gbtest import expect

SOURCE = os.environ.get("GB_SOURCE_DIR", ".")
sys.path.insert(0, os.path.join(SOURCE, "tools"))
from gbpy import gguf, tiny_llama  # noqa: E402

MODELS = os.path.join(SOURCE, "models")
GGUF_PATH = os.path.join(MODELS, "glassbox-demo.gguf")

# GGUF tensor names (blk.N.<part>) -> tiny_llama parameter names (layers.N.<part>)
LAYER_PARTS = {
    "attn_norm.weight": "input_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight", "attn_q.bias": "self_attn.q_proj.bias",
    "attn_k.weight": "self_attn.k_proj.weight", "attn_k.bias": "self_attn.k_proj.bias",
    "attn_v.weight": "self_attn.v_proj.weight", "attn_v.bias": "self_attn.v_proj.bias",
    "attn_output.weight": "self_attn.o_proj.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight", "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
}
TOP = {"token_embd.weight": "embed_tokens.weight", "output_norm.weight": "norm.weight",
       "output.weight": "lm_head.weight"}


def rotate_half_rows(x, d_head):
    """Undo llama.cpp's Q/K row order: per head, rows (2i, 2i+1) go back to (i, i + d_head/2).
    x: [n_heads * d_head, ...] (a weight, or a bias)."""
    rest = x.shape[1:]
    heads = x.shape[0] // d_head
    return x.reshape(heads, d_head // 2, 2, *rest).swapaxes(1, 2).reshape(x.shape)


def torch_model_from_gguf(path):
    meta, tensors, _ = gguf.read(path)
    arch = meta["general.architecture"][1]
    expect(arch == "llama", f"demo model architecture {arch}, expected llama")
    m = lambda key: meta[f"{arch}.{key}"][1]  # noqa: E731
    names = {t["name"] for t in tensors}
    vocab = next(t["shape"][0] for t in tensors if t["name"] == "token_embd.weight")
    cfg = tiny_llama.Config(vocab_size=vocab, d_model=m("embedding_length"),
                            n_layers=m("block_count"), n_heads=m("attention.head_count"),
                            d_mlp=m("feed_forward_length"), context=m("context_length"),
                            rope_theta=m("rope.freq_base"),
                            rms_norm_eps=m("attention.layer_norm_rms_epsilon"),
                            tie_embeddings="output.weight" not in names,
                            attention_bias="blk.0.attn_q.bias" in names)
    state = {}
    for t in tensors:
        w = gguf.dequantize(t).astype(np.float32)
        name = t["name"]
        if name.startswith("blk."):
            _, layer, part = name.split(".", 2)
            if part.startswith(("attn_q.", "attn_k.")):
                w = rotate_half_rows(w, cfg.d_head)
            state[f"layers.{layer}.{LAYER_PARTS[part]}"] = torch.from_numpy(w.copy())
        else:
            state[TOP[name]] = torch.from_numpy(w.copy())
    model = tiny_llama.TinyLlama(cfg)
    if cfg.tie_embeddings:
        state["lm_head.weight"] = state["embed_tokens.weight"]
    missing, unexpected = model.load_state_dict(state, strict=False)
    expect(not missing and not unexpected, f"state dict: missing {missing}, unexpected {unexpected}")
    return model.eval(), cfg


def log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def main():
    work = tempfile.mkdtemp(prefix="gb_demo_")
    with open(os.path.join(MODELS, "glassbox-demo.heldout.json")) as f:
        sample = json.load(f)
    ids = sample["token_ids"]

    # No -m: the demo model, said on stderr, by every kind of command.
    for args in (["inspect"], ["hooks"], ["tokenize", "-p", "Hi"], ["run", "-p", "Hi"],
                 ["lens", "-p", "Hi"], ["diagnose", "-p", "Hi"],
                 ["weights", "--tensors", "output_norm.weight", "--singular-values", "0"]):
        p = gbtest.run(*args)
        expect("using the default model glassbox-demo.gguf" in p.stderr,
               f"{args[0]} without -m: stderr {p.stderr!r}")

    # glassbox's tokenizer gives the training tokenizer's ids for the held-out documents.
    lines = os.path.join(work, "docs.jsonl")
    with open(lines, "w") as f:
        for doc in sample["documents"]:
            f.write(json.dumps({"text": doc}) + "\n")
    out = gbtest.run("tokenize", "--jsonl", lines, "--no-bos").stdout.splitlines()
    eot = ids[0]
    built = [eot]
    for line in out:
        built += json.loads(line)["ids"] + [eot]
    expect(built == ids, f"glassbox's tokens of the held-out documents differ from the training "
           f"tokenizer's ({len(built)} vs {len(ids)} ids)")

    # glassbox's logits (no -m) vs PyTorch on the file's weights.
    out = os.path.join(work, "trace")
    gbtest.run("trace", "--tokens", ",".join(map(str, ids[:-1])), "--hooks", "hook_logits",
               "-o", out)
    _, trace = gbtest.read_trace(out)
    logits = trace["hook_logits"].reshape(len(ids) - 1, -1).astype(np.float64)  # [n, V]
    model, cfg = torch_model_from_gguf(GGUF_PATH)
    with torch.no_grad():
        ref = model(torch.tensor([ids[:-1]]))[0].double().numpy()  # [n, V]
    err = float(np.abs(logits - ref).max() / np.abs(ref).max())
    print(f"logits vs PyTorch on the file's weights: max relative error {err:.2e}", flush=True)
    expect(err <= 1e-4, f"glassbox logits differ from PyTorch by {err:.3g} (relative to max |logit|)")

    # Held-out perplexity against the unigram baseline.
    targets = np.array(ids[1:])
    nll = -log_softmax(logits)[np.arange(len(targets)), targets].mean()
    counts = np.load(os.path.join(MODELS, "glassbox-demo.unigram.npy")).astype(np.float64) + 1.0
    uni = -np.log(counts / counts.sum())[targets].mean()
    ppl, uni_ppl = math.exp(nll), math.exp(uni)
    print(f"held-out perplexity {ppl:.1f} on {len(targets)} tokens; unigram baseline {uni_ppl:.1f}",
          flush=True)
    expect(ppl < 0.5 * uni_ppl, f"perplexity {ppl:.1f} is not clearly below unigram {uni_ppl:.1f}")
    expect(abs(ppl - sample["model_perplexity"]) < 0.01 * ppl,
           f"perplexity {ppl:.2f} differs from the model card's {sample['model_perplexity']:.2f}")

    # Heads: the bar is a score of at least 0.5 for the best of each kind.
    heads = json.loads(gbtest.run("heads", "--json").stdout)
    for key in ("prev_token", "induction"):
        top = heads["ranked"][key][0]
        print(f"best {key} head L{top['layer']}H{top['head']}: {top['score']:.3f}", flush=True)
        expect(top["score"] >= 0.5, f"best {key} head scores {top['score']:.3f} < 0.5")
    gbtest.finish()


if __name__ == "__main__":
    main()
