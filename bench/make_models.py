#!/usr/bin/env python3
"""Makes the benchmark models of bench/run.sh: a random-weight Llama-architecture checkpoint
(tools/make_random_model.py) with a SentencePiece-style BPE tokenizer.json, converted by
`glassbox convert` to GGUF F32, F16, Q8_0 and Q4_0. Files that exist are kept.

  bench/make_models.py --glassbox build/glassbox --out DIR [--layers 12 --d-model 768 ...]

The tokenizer exists so that llama.cpp, which requires one in every GGUF, loads the same files.
Its pieces are made up (letters, their pairs, triples and some quadruples, plus byte fallback);
the benchmarks feed token ids, not text.
"""
import argparse
import itertools
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SPACE = "\u2581"  # ▁
TYPES = ("f32", "f16", "q8_0", "q4_0")


def tokenizer_json(vocab_size):
    """A SentencePiece-style BPE tokenizer.json with exactly vocab_size tokens."""
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    merges = []
    alphabet = [SPACE] + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    for ch in alphabet:
        vocab[ch] = len(vocab)

    def add(a, b):
        if len(vocab) < vocab_size and a + b not in vocab:
            vocab[a + b] = len(vocab)
            merges.append(f"{a} {b}")

    level = alphabet
    while len(vocab) < vocab_size:
        longer = []
        for a, b in itertools.product(level, alphabet):
            add(a, b)
            longer.append(a + b)
            if len(vocab) >= vocab_size:
                break
        level = longer
    if len(vocab) != vocab_size:
        sys.exit(f"make_models: cannot make a tokenizer of {vocab_size} tokens")
    return {
        "version": "1.0",
        "added_tokens": [{"id": i, "content": t, "special": True} for i, t in
                         enumerate(["<unk>", "<s>", "</s>"])],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": SPACE},
            {"type": "Replace", "pattern": {"String": " "}, "content": SPACE}]},
        "pre_tokenizer": None,
        "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]},
        "model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": True, "vocab": vocab,
                  "merges": merges},
    }


def run(*cmd):
    subprocess.run([str(c) for c in cmd], check=True, stdout=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--glassbox", required=True, help="the glassbox binary that converts")
    ap.add_argument("--out", required=True, help="folder for the checkpoint and the GGUF files")
    ap.add_argument("--name", default="llama100m")
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--d-model", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--d-mlp", type=int, default=2048)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--ctx", type=int, default=2048)
    ap.add_argument("--types", default=",".join(TYPES))
    a = ap.parse_args()

    hf = os.path.join(a.out, a.name + "-hf")
    if not os.path.exists(os.path.join(hf, "model.safetensors")):
        run("/usr/bin/python3", os.path.join(HERE, "..", "tools", "make_random_model.py"), hf,
            "--family", "llama", "--layers", a.layers, "--d-model", a.d_model, "--heads", a.heads,
            "--kv-heads", a.kv_heads, "--d-mlp", a.d_mlp, "--vocab", a.vocab, "--ctx", a.ctx)
        with open(os.path.join(hf, "tokenizer.json"), "w") as fh:
            json.dump(tokenizer_json(a.vocab), fh)
    for t in a.types.split(","):
        gguf = os.path.join(a.out, f"{a.name}.{t}.gguf")
        if not os.path.exists(gguf):
            run(a.glassbox, "convert", hf, "-o", gguf + ".part", "--type", t)
            os.replace(gguf + ".part", gguf)
        print(gguf)


if __name__ == "__main__":
    main()
