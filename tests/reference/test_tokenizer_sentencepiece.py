"""SentencePiece-style BPE against the sentencepiece library (Debian's python3-sentencepiece and
spm_train). BPE models with several settings are trained on text from this machine, converted to
GGUF tokenizer metadata (and one to a Hugging Face tokenizer.json), and glassbox must produce the
library's ids on held-out text, including text that needs byte fallback or the unknown token, and
decode id sequences exactly as the library does."""
import json
import os
import random
import subprocess
import sys
import tempfile

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as spm_pb

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.environ.get(
    "GB_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")), "tools"))
from gbpy import gguf  # noqa: E402
import tokenizer_corpus as corpus  # noqa: E402
from tokenizer_harness import GLASSBOX, compare, decode_all, encode_all  # noqa: E402

# name -> spm_train flags (the normalisation rule is always the identity, as in Llama's models:
# GGUF carries no other rule).
MODELS = {
    "llama_like": dict(vocab_size=4000, byte_fallback=True, split_digits=True,
                       character_coverage=0.99),
    "small_unk": dict(vocab_size=3000, byte_fallback=False, remove_extra_whitespaces=True,
                      user_defined_symbols="<sep>,<mask>", control_symbols="<cls>",
                      character_coverage=0.98),
    "no_prefix": dict(vocab_size=2000, byte_fallback=True, add_dummy_prefix=False,
                      character_coverage=0.98),
    "cross_words": dict(vocab_size=8000, byte_fallback=True, split_by_whitespace=False,
                        character_coverage=0.995),
}


def train(tmp, name, flags, training_file):
    prefix = os.path.join(tmp, name)
    args = dict(input=training_file, model_prefix=prefix, model_type="bpe",
                normalization_rule_name="identity", remove_extra_whitespaces=False,
                max_sentence_length=100000, minloglevel=2, num_threads=2)
    args.update(flags)
    cmd = ["spm_train"] + [f"--{k}={str(v).lower() if isinstance(v, bool) else v}"
                           for k, v in args.items()]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        sys.exit(f"spm_train failed for {name}: {proc.stderr.decode(errors='replace')}")
    return prefix + ".model"


def with_unused_pieces(model_file, out_file):
    """Marks every 9th multi-character normal piece as UNUSED (merged, then split back)."""
    m = spm_pb.ModelProto()
    m.ParseFromString(open(model_file, "rb").read())
    n = 0
    for p in m.pieces:
        if p.type == p.NORMAL and len(p.piece) > 1:
            n += 1
            if n % 9 == 0:
                p.type = p.UNUSED
    open(out_file, "wb").write(m.SerializeToString())
    return out_file


def to_gguf(model_file, path):
    m = spm_pb.ModelProto()
    m.ParseFromString(open(model_file, "rb").read())
    assert m.normalizer_spec.name == "identity"
    t = m.trainer_spec
    meta = {
        "general.architecture": (gguf.STRING, "llama"),
        "tokenizer.ggml.model": (gguf.STRING, "llama"),
        "tokenizer.ggml.tokens": (gguf.ARRAY, (gguf.STRING, [p.piece for p in m.pieces])),
        "tokenizer.ggml.scores": (gguf.ARRAY, (gguf.F32, [p.score for p in m.pieces])),
        "tokenizer.ggml.token_type": (gguf.ARRAY, (gguf.I32, [int(p.type) for p in m.pieces])),
        "tokenizer.ggml.add_space_prefix": (gguf.BOOL, m.normalizer_spec.add_dummy_prefix),
        "tokenizer.ggml.remove_extra_whitespaces": (gguf.BOOL,
                                                    m.normalizer_spec.remove_extra_whitespaces),
    }
    for key, value in (("bos", t.bos_id), ("eos", t.eos_id), ("unknown", t.unk_id),
                       ("padding", t.pad_id)):
        if value >= 0:
            meta[f"tokenizer.ggml.{key}_token_id"] = (gguf.U32, value)
    gguf.write(path, meta, [])
    return path


def to_hf_dir(model_file, folder):
    """A tokenizer.json as Hugging Face's converter writes one for a SentencePiece BPE model:
    merges are every split of a piece into two pieces, ordered by the piece's score."""
    m = spm_pb.ModelProto()
    m.ParseFromString(open(model_file, "rb").read())
    vocab = {p.piece: i for i, p in enumerate(m.pieces)}
    merges = []
    for piece, pid in vocab.items():
        for k in range(1, len(piece)):
            left, right = piece[:k], piece[k:]
            if left in vocab and right in vocab:
                merges.append((m.pieces[pid].score, vocab[left], vocab[right], left, right))
    merges.sort(key=lambda x: (-x[0], x[1], x[2]))
    special = [{"id": i, "content": p.piece, "special": True}
               for i, p in enumerate(m.pieces) if p.type in (p.CONTROL, p.UNKNOWN)]
    os.mkdir(folder)
    with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump({
            "version": "1.0",
            "added_tokens": special,
            "normalizer": {"type": "Sequence", "normalizers": [
                {"type": "Prepend", "prepend": "\u2581"},
                {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
            "pre_tokenizer": None,
            "model": {"type": "BPE", "vocab": vocab, "merges": [f"{a} {b}" for *_, a, b in merges],
                      "unk_token": "<unk>", "byte_fallback": True, "fuse_unk": True},
        }, f, ensure_ascii=False)
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": True}, f)
    return folder


def glassbox_bytes(model, data):
    """Encodes raw bytes (possibly invalid UTF-8) through a file."""
    with tempfile.NamedTemporaryFile(suffix=".txt") as f:
        f.write(data)
        f.flush()
        out = subprocess.run([GLASSBOX, "tokenize", "-m", model, "-f", f.name, "--json",
                              "--no-bos"], capture_output=True, check=True)
    return json.loads(out.stdout)["ids"]


def random_id_lists(rng, vocab_size, count):
    return [[rng.randrange(vocab_size) for _ in range(rng.randint(1, 30))] for _ in range(count)]


def check_model(label, sp, model, texts, lossless, rng):
    failures = 0
    want = [sp.encode(t) for t in texts]
    got = encode_all(model, texts)
    bad = compare(label, texts, want, got)
    all_ids = [i for ids in want for i in ids]
    n_unknown = sum(1 for i in all_ids if sp.is_unknown(i))
    n_byte = sum(1 for i in all_ids if sp.is_byte(i))
    n_user = sum(1 for i in all_ids if sp.id_to_piece(i) in ("<sep>", "<mask>"))
    print(f"{label}: {len(texts) - bad}/{len(texts)} texts identical to sentencepiece "
          f"({len(all_ids)} tokens: {n_unknown} unknown, {n_byte} byte fallback, "
          f"{n_user} user-defined)")
    failures += bad
    # The held-out text must reach the paths this model has.
    has_bytes = sp.get_piece_size() > 3 and sp.is_byte(3)
    if (has_bytes and n_byte == 0) or (not has_bytes and n_unknown == 0):
        print(f"{label}: the held-out text did not exercise byte fallback / the unknown token")
        failures += 1

    # Decoding: the library's decode of the held-out ids and of random id sequences (control,
    # unknown and byte tokens, broken UTF-8 included).
    id_lists = want + random_id_lists(rng, sp.get_piece_size(), 300)
    id_lists += [[rng.choice(range(3, 259)) for _ in range(rng.randint(1, 12))] for _ in range(100)]
    if sp.get_piece_size() < 259 or sp.id_to_piece(3) != "<0x00>":
        id_lists = id_lists[:-100]
    expected_text = [sp.decode(ids) for ids in id_lists]
    decoded = decode_all(model, id_lists)
    wrong = [i for i, (a, b) in enumerate(zip(expected_text, decoded)) if a != b]
    for i in wrong[:3]:
        print(f"{label}: decode {id_lists[i][:12]}: sentencepiece {expected_text[i][:60]!r}, "
              f"glassbox {decoded[i][:60]!r}")
    print(f"{label}: {len(id_lists) - len(wrong)}/{len(id_lists)} decodes identical")
    failures += len(wrong)
    if lossless:
        lost = sum(1 for t, d in zip(texts, decoded) if t != d)
        print(f"{label}: decode(encode(x)) == x for {len(texts) - lost}/{len(texts)} texts")
        failures += lost

    # Invalid UTF-8: each bad byte becomes U+FFFD, as in the library.
    for data in (b"abc \xff def", b"\xe2\x82", b"\xc0\xaf x", b"ok \xed\xa0\x80 \xf4\x90\x80\x80",
                 b"\x80\x80\x80", "caf\u00e9 \U0001F600".encode() + b"\xf0\x9f"):
        if glassbox_bytes(model, data) != sp.encode(data):
            print(f"{label}: invalid UTF-8 {data!r}: sentencepiece {sp.encode(data)}, "
                  f"glassbox {glassbox_bytes(model, data)}")
            failures += 1
    return failures


def main():
    rng = random.Random(5)
    sources = list(corpus.SOURCES)
    training = corpus.documents(sources, 700_000, seed=10, generated_share=0.1)
    held_out = corpus.edge_cases() + corpus.documents(sources, 300_000, seed=11)
    held_out += ["".join(corpus.random_char(rng) for _ in range(200)) for _ in range(30)]
    held_out += ["<sep> a<mask>b <cls> <s> </s>", " <sep><sep>  x", "<mask>"]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        training_file = os.path.join(tmp, "train.txt")
        with open(training_file, "w", encoding="utf-8") as f:
            f.write("\n".join(line for doc in training for line in doc.split("\n") if line.strip()))
        for name, flags in MODELS.items():
            model_file = train(tmp, name, flags, training_file)
            if name == "cross_words":  # pieces span words: exercises the unchunked merge path
                sp = spm.SentencePieceProcessor(model_file=model_file)
                inner = sum(1 for i in range(sp.get_piece_size())
                            if "\u2581" in sp.id_to_piece(i).lstrip("\u2581"))
                print(f"{name}: {inner} pieces with \u2581 inside")
                failures += inner == 0
            variants = {name: model_file}
            if name == "llama_like":
                variants[name + "+unused"] = with_unused_pieces(model_file, model_file + ".unused")
            for label, mf in variants.items():
                sp = spm.SentencePieceProcessor(model_file=mf)
                gguf_path = to_gguf(mf, os.path.join(tmp, label + ".gguf"))
                lossless = flags.get("byte_fallback") and not flags.get("remove_extra_whitespaces")
                failures += check_model(label + " (gguf)", sp, gguf_path, held_out, lossless, rng)
                if label == "llama_like":
                    hf = to_hf_dir(mf, os.path.join(tmp, "hf_" + label))
                    failures += check_model(label + " (tokenizer.json)", sp, hf, held_out, lossless,
                                            rng)
    if failures:
        sys.exit(f"FAILED: {failures} mismatches")
    print("OK")


if __name__ == "__main__":
    main()
