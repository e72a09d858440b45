"""The analysis subcommands end to end: targets given as text through the model's tokenizer
(one token, or several with a warning naming them and the first used), token labels, text
corpora (the same statistics as the same documents given as ids), and bad input: every mistake
is one `glassbox: error:` line with exit status 2 (usage) or 1 (bad data).
"""
import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
import gbtest  # noqa: E402
import refmodels  # noqa: E402
from gbtest import expect  # noqa: E402


def byte_level_vocab(folder):
    """GPT-2's byte-to-character table, plus 'he', 'll', 'hell', 'hello', '<|endoftext|>'."""
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    chars = [chr(c) for b, c in sorted(zip(bs, cs))]
    vocab = {c: i for i, c in enumerate(chars)}
    for t in ["he", "ll", "hell", "hello", "<|endoftext|>"]:
        vocab[t] = len(vocab)
    with open(os.path.join(folder, "vocab.json"), "w") as f:
        json.dump(vocab, f)
    with open(os.path.join(folder, "merges.txt"), "w") as f:
        f.write("#version: 0.2\nh e\nl l\nhe ll\nhell o\n")
    return vocab


def error(args, status, *needles):
    p = gbtest.run(*args, check=False)
    lines = p.stderr.strip().split("\n")
    ok = (p.returncode == status and len(lines) == 1 and lines[0].startswith("glassbox: error: ")
          and all(n in p.stderr for n in needles))
    expect(ok, f"glassbox {' '.join(map(str, args))}: exit {p.returncode}, stderr {p.stderr!r}")


def main():
    work = tempfile.mkdtemp(prefix="gb_analysis_cli_")
    cfg = dict(refmodels.CASES["gpt2"], vocab_size=261)
    model = os.path.join(work, "gpt2")
    refmodels.save_checkpoint(refmodels.random_state_dict(cfg, seed=41), cfg, model)
    vocab = byte_level_vocab(model)
    bare = os.path.join(work, "bare")  # no tokenizer
    refmodels.save_checkpoint(refmodels.random_state_dict(cfg, seed=41), cfg, bare)
    toks = "72,101,108,259,32,119"

    # A target that is one token, and one that is two.
    p = gbtest.run("lens", "-m", model, "--tokens", toks, "--target", "hello", "--json")
    lens = json.loads(p.stdout)
    expect(lens["target"]["id"] == vocab["hello"] and p.stderr == "", f"--target hello: {lens['target']}, {p.stderr!r}")
    expect(lens["token_strings"][3] == "hello", f"token labels: {lens['token_strings']}")
    p = gbtest.run("lens", "-m", model, "--tokens", toks, "--target", "hex", "--json")
    expect(json.loads(p.stdout)["target"]["id"] == vocab["he"], "--target hex should use 'he'")
    expect("'hex' is 2 tokens: 'he' 'x'; using the first, 'he'" in p.stderr, f"warning: {p.stderr!r}")
    p = gbtest.run("attribute", "-m", model, "--tokens", toks, "--target", " w", "--contrast", "hello",
                   "--json")
    att = json.loads(p.stdout)
    expect(att["target"]["id"] == vocab["Ġ"] and att["contrast"]["id"] == vocab["hello"],
           f"attribute targets {att['target']} {att['contrast']}; {p.stderr!r}")
    expect(abs(att["total"] - att["actual"]) < 1e-4, "attribute: parts do not sum to the logit difference")
    text = gbtest.run("lens", "-m", model, "--tokens", "32,119,32,259", "--pos", 1).stdout
    expect("position 1 (w)" in text and "#119" not in text,
           f"lens table should label tokens by their text:\n{text}")

    # A text corpus gives the statistics of the same documents given as ids.
    docs = ["hello hello world", "the cat sat on the hell", "", "well, hello"]
    with open(os.path.join(work, "corpus.txt"), "w") as f:
        f.write("\n".join(docs) + "\n")
    ids = [json.loads(gbtest.run("tokenize", "-m", model, "-p", d, "--json").stdout)["ids"]
           for d in docs if d]
    with open(os.path.join(work, "corpus.jsonl"), "w") as f:
        for i in ids:
            f.write(json.dumps({"tokens": i}) + "\n")
    a = json.loads(gbtest.run("stats", "-m", model, "--corpus", os.path.join(work, "corpus.txt"), "--json").stdout)
    b = json.loads(gbtest.run("stats", "-m", model, "--corpus", os.path.join(work, "corpus.jsonl"), "--json").stdout)
    expect(a["documents"] == 3 and a["tokens"] == sum(map(len, ids)), f"text corpus: {a['documents']}, {a['tokens']}")
    expect(a["hooks"] == b["hooks"], "text corpus statistics differ from the same documents as ids")
    with open(os.path.join(work, "corpus2.jsonl"), "w") as f:
        for d in docs:
            f.write(json.dumps({"text": d}) + "\n")
    c = json.loads(gbtest.run("stats", "-m", model, "--corpus", os.path.join(work, "corpus2.jsonl"), "--json").stdout)
    expect(c["hooks"] == b["hooks"], "JSONL text corpus statistics differ from the same documents as ids")

    # Bad input.
    error(["lens", "-m", model, "--tokens", toks, "--target-id", 261], 2, "--target-id", "261", "out of range")
    error(["lens", "-m", model, "--tokens", toks, "--target-id", -3], 2, "--target-id", "-3")
    error(["lens", "-m", model, "--tokens", toks, "--target", "he", "--target-id", 3], 2, "not both")
    error(["lens", "-m", bare, "--tokens", toks, "--target", "he"], 2, "--target", "has no tokenizer")
    error(["lens", "-m", model, "--tokens", toks, "--pos", 6], 2, "position 6", "6 tokens")
    error(["lens", "-m", model, "--tokens", toks, "-k", 0], 2, "top-k")
    error(["attribute", "-m", model, "--tokens", toks, "--pos", -7], 2, "position -7")
    error(["attribute", "-m", model, "--tokens", toks, "--contrast-id", 999], 2, "999")
    error(["heads", "-m", model, "--repeat-len", 30], 2, "do not fit", "48")
    error(["heads", "-m", model, "--sequences", 0], 2, "sequences")
    error(["stats", "-m", model, "--tokens", toks, "--corpus", os.path.join(work, "corpus.txt")], 2,
          "either a prompt")
    error(["stats", "-m", model, "--tokens", toks, "--neuron", "blocks.0.mlp.hook_post"], 2, "HOOK:CHANNEL")
    error(["stats", "-m", model, "--tokens", toks, "--neuron", "blocks.0.mlp.hook_post:128"], 2, "128 channels")
    error(["stats", "-m", model, "--tokens", toks, "--neuron", "blocks.0.attn.hook_pattern:1"], 2, "no neurons")
    error(["stats", "-m", model, "--tokens", toks, "--hooks", "blocks.0.attn.hook_z[head=1]"], 2, "slices")
    error(["stats", "-m", model, "--tokens", toks, "--window", 49], 2, "window", "48")
    error(["stats", "-m", bare, "--corpus", os.path.join(work, "corpus.txt")], 2, "corpus.txt:1", "no tokenizer")
    error(["diff", model, "--tokens", toks, "--tokens2", toks, "--threshold", 0], 2, "threshold")
    error(["diff", model, os.path.join(work, "nothing"), "--tokens", toks], 1, "nothing")
    error(["diagnose", "-m", model, "--tokens", "1,2,999"], 2, "999")

    # Models whose tokenizers disagree cannot be compared.
    other = os.path.join(work, "other_vocab")
    refmodels.save_checkpoint(refmodels.random_state_dict(cfg, seed=41), cfg, other)
    byte_level_vocab(other)
    with open(os.path.join(other, "vocab.json")) as f:
        v = json.load(f)
    v["he"], v["ll"] = v["ll"], v["he"]
    with open(os.path.join(other, "vocab.json"), "w") as f:
        json.dump(v, f)
    error(["diff", model, other, "--tokens", toks], 2, "tokenizers differ at token 256", "'he'", "'ll'")
    gbtest.run("diff", model, bare, "--tokens", toks)  # one without a tokenizer: ids are comparable

    # Output that looks complete is complete: an unwritable --out fails cleanly.
    blocker = os.path.join(work, "file")
    open(blocker, "w").close()
    error(["stats", "-m", model, "--tokens", toks, "-o", os.path.join(blocker, "sub")], 1, "cannot create")
    gbtest.finish()


if __name__ == "__main__":
    main()
