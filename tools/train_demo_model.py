#!/usr/bin/python3
"""Trains glassbox's demo model and writes it as a Hugging Face Llama checkpoint.

Run once by a developer (tests never retrain); glassbox's converter turns the output into the
GGUF file shipped under models/. Needs Debian's python3-torch, python3-numpy and fortunes
(the English text, under /usr/share/games/fortunes). Reproducible: fixed seeds, deterministic
kernels, two threads. See models/README.md for the results.

    /usr/bin/python3 tools/train_demo_model.py OUT_DIR

Steps: corpus (fortune cookies, deduplicated, split train/held-out by a hash of the text) ->
byte-level BPE tokenizer -> Llama-family decoder trained with AdamW and a cosine schedule, first
on short rows of repeated random-token runs only (phase 1: induction and previous-token heads
form), then on the text with such runs mixed in (phase 2, which keeps them) -> evaluation
(held-out perplexity, unigram baseline, previous-token and induction scores per head) ->
checkpoint, tokenizer, eval.json, loss curve, reference logits -> greedy continuations.
"""
import argparse
import dataclasses
import hashlib
import json
import math
import os
import sys
import time
import unicodedata

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gbpy import bpe, head_scores, tiny_llama  # noqa: E402

FORTUNE_DIR = "/usr/share/games/fortunes"
# Not prose (ascii pictures) or stereotype jokes a shipped model should not parrot.
EXCLUDED_FILES = {"art", "ascii-art", "ethnic", "men-women"}
HELDOUT_ONE_IN = 20  # a document is held out when hash(text) % 20 == 0


@dataclasses.dataclass
class TrainConfig:
    seed: int = 20240601
    vocab_size: int = 4096
    steps: int = 1400  # phase 2: text (after the synthetic_steps of phase 1)
    batch: int = 8  # sequences per step
    context: int = 256
    peak_lr: float = 1e-3
    final_lr_fraction: float = 0.1
    warmup_steps: int = 50
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    repeat_fraction: float = 0.5  # share of sequences that carry a repeated random run
    repeat_min: int = 8  # length range of that run
    repeat_max: int = 100
    repeat_copies: int = 2  # how many times the run is written in a row
    synthetic_fraction: float = 0.25  # share of rows that are only a random run, repeated to fill
    # Phase 1, before any text: rows of <|endoftext|> and one random run written again and again
    # to the end of a short row. Small models learn to copy from such rows (induction heads)
    # within a few hundred steps; on text, or on long rows, not within this script's budget.
    synthetic_steps: int = 900
    synthetic_batch: int = 32
    synthetic_context: int = 64
    synthetic_run_min: int = 8
    synthetic_run_max: int = 31
    # Share of phase-1 runs drawn from only n/2 distinct tokens, so that tokens repeat inside the
    # run and copying needs exactly the previous token. Off: tried at 0.5, it delayed the
    # induction heads past 575 steps (plain runs: about 550), and the previous-token head
    # sharpens on plain runs anyway.
    synthetic_dense_fraction: float = 0.0
    log_every: int = 10
    # Model shape beyond the defaults of tiny_llama.Config. q/k/v biases (as in Qwen2) give
    # attention a content-free direction, so previous-token heads form in a few hundred steps.
    tie_embeddings: bool = True
    attention_bias: bool = True
    # d_model 128 rather than 256: on the phase-1 rows a 4-layer d_model-128 model formed
    # induction heads after about 550 steps, a d_model-256 one none within 600.
    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    d_mlp: int = 512

    @property
    def total_steps(self):
        return self.synthetic_steps + self.steps


# --- corpus ------------------------------------------------------------------------------------

def clean_fortune(raw):
    """bytes of one fortune -> ASCII text: overstrike (x BACKSPACE y) resolved, accents stripped,
    typographic punctuation made plain, control characters other than tab/newline dropped,
    trailing spaces removed."""
    text = raw.decode("utf-8", errors="replace")
    while "\b" in text:
        i = text.index("\b")
        text = text[:max(i - 1, 0)] + text[i + 1:]
    plain = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
             "\u2014": "--", "\u2026": "...", "\xa0": " "}
    text = "".join(plain.get(c, c) for c in text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if c in "\t\n" or 32 <= ord(c) < 127)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def read_fortunes(directory):
    """All fortunes of the data files (not the .dat indexes, not the .u8 links), in file order,
    exact duplicates removed."""
    docs, seen = [], set()
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if "." in name or name in EXCLUDED_FILES or os.path.islink(path):
            continue
        with open(path, "rb") as f:
            for raw in f.read().split(b"\n%\n"):
                text = clean_fortune(raw)
                if text.strip() and text not in seen:
                    seen.add(text)
                    docs.append(text)
    return docs


def split_documents(docs):
    """(train, held_out): a document is held out when the SHA-256 of its text is 0 mod 20."""
    def held_out(text):
        return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % HELDOUT_ONE_IN == 0
    return [d for d in docs if not held_out(d)], [d for d in docs if held_out(d)]


def token_stream(tokenizer, docs):
    """<|endoftext|> doc <|endoftext|> doc ... <|endoftext|> as one int64 array [N]."""
    ids = [tokenizer.eot_id]
    for d in docs:
        ids.extend(tokenizer.encode(d))
        ids.append(tokenizer.eot_id)
    return np.array(ids, dtype=np.int64)


# --- training batches --------------------------------------------------------------------------

def random_run(rng, n, vocab_size, eot_id, alphabet=None):
    """n random token ids, never <|endoftext|>: uniform over the vocabulary, or drawn from
    `alphabet` distinct ids picked first (so that ids repeat inside the run)."""
    if alphabet is None:
        run = rng.integers(0, vocab_size - 1, size=n)
    else:
        run = rng.choice(rng.choice(vocab_size - 1, size=alphabet, replace=False), size=n)
    return run + (run >= eot_id)


def sample_batch(stream, starts, tc, vocab_size, eot_id, rng):
    """(inputs [B, T], targets [B, T]). Each row is T+1 tokens of the stream starting at a
    document boundary (so position 0 is <|endoftext|>, as at inference); a repeat_fraction of
    rows has a random run r written repeat_copies times in a row at a random place. Targets
    inside the first copy of r (and the first token of the second) are unpredictable and get
    ignore index -100."""
    t = tc.context
    rows = np.stack([stream[s:s + t + 1] for s in rng.choice(starts, size=tc.batch)])  # [B, T+1]
    ignore = np.zeros_like(rows, dtype=bool)
    for row, mask in zip(rows, ignore):
        if rng.random() < tc.synthetic_fraction:
            # <|endoftext|> then one random run, written again and again to the end of the row:
            # the cleanest induction signal (as the induction score measures it).
            n = int(rng.integers(tc.repeat_min, tc.repeat_max // 2 + 1))
            run = random_run(rng, n, vocab_size, eot_id)
            row[0] = eot_id
            row[1:] = np.resize(run, t)
            mask[:n + 2] = True
        elif rng.random() < tc.repeat_fraction:
            k = tc.repeat_copies
            n = int(rng.integers(tc.repeat_min, min(tc.repeat_max, t // k) + 1))
            at = int(rng.integers(1, t + 1 - k * n + 1))
            run = random_run(rng, n, vocab_size, eot_id)
            row[at:at + k * n] = np.tile(run, k)
            mask[at:at + n + 1] = True
    inputs = torch.from_numpy(rows[:, :-1])
    targets = torch.from_numpy(np.where(ignore, -100, rows)[:, 1:])
    return inputs, targets


def synthetic_batch(tc, vocab_size, eot_id, rng):
    """Phase 1 rows (inputs [B, T], targets [B, T]): <|endoftext|>, then a random run of
    synthetic_run_min..max tokens repeated to the end of the row. Only targets after the first
    copy (which can be copied from earlier in the row) count."""
    b, t = tc.synthetic_batch, tc.synthetic_context
    rows = np.empty((b, t + 1), dtype=np.int64)
    ignore = np.zeros_like(rows, dtype=bool)
    for row, mask in zip(rows, ignore):
        n = int(rng.integers(tc.synthetic_run_min, tc.synthetic_run_max + 1))
        dense = rng.random() < tc.synthetic_dense_fraction
        run = random_run(rng, n, vocab_size, eot_id, alphabet=max(2, n // 2) if dense else None)
        row[0] = eot_id
        row[1:] = np.resize(run, t)
        mask[:n + 2] = True
    targets = np.where(ignore, -100, rows)[:, 1:]
    return torch.from_numpy(rows[:, :-1]), torch.from_numpy(targets)


def learning_rate(step, tc):
    """Linear warmup, then cosine decay from peak_lr to final_lr_fraction * peak_lr."""
    if step < tc.warmup_steps:
        return tc.peak_lr * (step + 1) / tc.warmup_steps
    progress = (step - tc.warmup_steps) / max(1, tc.total_steps - tc.warmup_steps)
    floor = tc.final_lr_fraction
    return tc.peak_lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


def make_optimizer(model, tc):
    """AdamW; weight decay on matrices only (not on RMSNorm gains)."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": tc.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=tc.peak_lr, betas=(0.9, 0.95), eps=1e-8)


def train(model, stream, tc, tokenizer, held_out_stream):
    """Runs tc.steps optimizer steps; returns the loss curve as a list of dicts."""
    rng = np.random.default_rng(tc.seed)
    starts = np.flatnonzero(stream[:len(stream) - tc.context - 1] == tokenizer.eot_id)
    opt = make_optimizer(model, tc)
    curve, window, t0 = [], [], time.time()
    for step in range(tc.total_steps):
        for group in opt.param_groups:
            group["lr"] = learning_rate(step, tc)
        if step < tc.synthetic_steps:
            inputs, targets = synthetic_batch(tc, len(tokenizer), tokenizer.eot_id, rng)
        else:
            inputs, targets = sample_batch(stream, starts, tc, len(tokenizer), tokenizer.eot_id,
                                           rng)
        logits = model(inputs)  # [B, T, V]
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                               ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
        opt.step()
        window.append(loss.item())
        last = step + 1 == tc.total_steps
        if (step + 1) % tc.log_every == 0 or last:
            point = {"step": step + 1, "train_loss": float(np.mean(window)),
                     "lr": learning_rate(step, tc), "seconds": round(time.time() - t0, 1)}
            if (step + 1) % (tc.log_every * 10) == 0 or last:
                point["heldout_loss"] = heldout_loss(model, held_out_stream, tc.context,
                                                     max_windows=16)
                point.update(best_head_scores(model, tokenizer))
            curve.append(point)
            window = []
            print(json.dumps(point), flush=True)
    return curve


# --- evaluation --------------------------------------------------------------------------------

def heldout_windows(stream, context, max_windows=None):
    """Non-overlapping windows of context+1 tokens of the held-out stream: [W, context+1]."""
    n = (len(stream) - 1) // context
    if max_windows:
        n = min(n, max_windows)
    return torch.from_numpy(np.stack([stream[i * context:i * context + context + 1]
                                      for i in range(n)]))


@torch.no_grad()
def heldout_loss(model, stream, context, max_windows=None):
    """Mean next-token cross-entropy (nats) over the held-out windows."""
    model.eval()
    windows = heldout_windows(stream, context, max_windows)
    total, count = 0.0, 0
    for chunk in windows.split(8):
        logits = model(chunk[:, :-1])
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                 chunk[:, 1:].reshape(-1), reduction="sum").item()
        count += chunk[:, 1:].numel()
    model.train()
    return total / count


def unigram_loss(train_stream, held_out_stream, context, vocab_size):
    """Cross-entropy (nats) of an add-one-smoothed unigram model fitted on the training tokens,
    on exactly the targets heldout_loss scores."""
    counts = np.bincount(train_stream, minlength=vocab_size).astype(np.float64) + 1.0
    log_p = np.log(counts / counts.sum())
    targets = heldout_windows(held_out_stream, context)[:, 1:].numpy().ravel()
    return float(-log_p[targets].mean())


@torch.no_grad()
def best_head_scores(model, tokenizer):
    """The highest previous-token and induction score of any head (for the training log)."""
    model.eval()
    prev, induction, _ = head_scores.score_heads(model, len(tokenizer), tokenizer.eot_id)
    model.train()
    return {"best_prev_token": round(float(prev.max()), 3),
            "best_induction": round(float(induction.max()), 3)}


def score_heads(model, tokenizer):
    prev, induction, repeat_loss = head_scores.score_heads(model, len(tokenizer),
                                                           tokenizer.eot_id)
    def best(scores):
        layer, head = divmod(int(scores.argmax()), scores.shape[1])
        return {"layer": layer, "head": head, "score": round(float(scores.max()), 4)}
    return {"probe": "16 sequences: <|endoftext|> + 50 uniformly random tokens, repeated once",
            "prev_token": prev.numpy().round(4).tolist(),
            "induction": induction.numpy().round(4).tolist(),
            "best_prev_token": best(prev), "best_induction": best(induction),
            "second_repeat_loss": round(repeat_loss, 4)}


@torch.no_grad()
def greedy_continuation(model, tokenizer, prompt, n_new=40):
    ids = [tokenizer.eot_id] + tokenizer.encode(prompt)
    for _ in range(n_new):
        logits = model(torch.tensor([ids[-model.cfg.context:]]))
        nxt = int(logits[0, -1].argmax())
        if nxt == tokenizer.eot_id:
            break
        ids.append(nxt)
    return tokenizer.decode(ids[1:])


# --- output ------------------------------------------------------------------------------------

def write_reference(model, out_dir, held_out_stream, eot_id, n_seq=4, length=64):
    """A few held-out token sequences and PyTorch's float32 logits for them, for comparing
    another implementation: reference_tokens.npy [n_seq, length] int32,
    reference_logits.npy [n_seq, length, V] float32."""
    starts = np.flatnonzero(held_out_stream[:-length] == eot_id)[::7][:n_seq]
    tokens = np.stack([held_out_stream[s:s + length] for s in starts])
    with torch.no_grad():
        logits = model.eval()(torch.from_numpy(tokens))
    np.save(os.path.join(out_dir, "reference_tokens.npy"), tokens.astype(np.int32))
    np.save(os.path.join(out_dir, "reference_logits.npy"), logits.numpy().astype(np.float32))


def write_heldout_sample(model, tokenizer, out_dir, held_out_docs, train_stream, n_tokens=512):
    """The first held-out documents, as text and as tokens (<|endoftext|> before each), with
    the model's and the unigram baseline's perplexity on them: heldout_sample.json."""
    docs, ids = [], [tokenizer.eot_id]
    for d in held_out_docs:
        doc_ids = tokenizer.encode(d) + [tokenizer.eot_id]
        if len(ids) + len(doc_ids) > n_tokens:
            break
        docs.append(d)
        ids.extend(doc_ids)
    stream = np.array(ids, dtype=np.int64)
    with torch.no_grad():
        logits = model.eval()(torch.from_numpy(stream[None, :-1]))  # needs len <= context
    nll = F.cross_entropy(logits[0], torch.from_numpy(stream[1:])).item()
    counts = np.bincount(train_stream, minlength=len(tokenizer)).astype(np.float64) + 1.0
    uni = float(-np.log(counts / counts.sum())[stream[1:]].mean())
    sample = {"format": "<|endoftext|> + document, for each document, then <|endoftext|>",
              "documents": docs, "token_ids": ids,
              "model_perplexity": math.exp(nll), "unigram_perplexity": math.exp(uni)}
    with open(os.path.join(out_dir, "heldout_sample.json"), "w") as f:
        json.dump(sample, f, indent=1)
    np.save(os.path.join(out_dir, "unigram_counts.npy"),
            np.bincount(train_stream, minlength=len(tokenizer)).astype(np.int64))


def write_loss_csv(curve, path):
    with open(path, "w") as f:
        f.write("step,train_loss,heldout_loss,lr,seconds\n")
        for p in curve:
            held = f"{p['heldout_loss']:.4f}" if "heldout_loss" in p else ""
            f.write(f"{p['step']},{p['train_loss']:.4f},{held},{p['lr']:.6g},{p['seconds']}\n")


# --- main --------------------------------------------------------------------------------------

PROMPTS = ["A bug in the code is", "The best way to", "Q: What do you call",
           "Never trust a", "The computer"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", help="directory for the checkpoint (created if missing)")
    for field in dataclasses.fields(TrainConfig):  # every setting can be overridden
        parse = (lambda v: v.lower() in ("1", "true", "yes")) if field.type is bool else field.type
        parser.add_argument("--" + field.name.replace("_", "-"), type=parse,
                            default=field.default, help=f"default {field.default}")
    args = parser.parse_args()
    tc = TrainConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)})
    os.makedirs(args.out_dir, exist_ok=True)
    t_start = time.time()
    torch.set_num_threads(2)
    torch.manual_seed(tc.seed)
    torch.use_deterministic_algorithms(True)

    docs = read_fortunes(FORTUNE_DIR)
    train_docs, held_docs = split_documents(docs)
    order = np.random.default_rng(tc.seed).permutation(len(train_docs))
    train_docs = [train_docs[i] for i in order]
    print(f"corpus: {len(docs)} documents, {len(train_docs)} train, {len(held_docs)} held out",
          flush=True)
    check_ascii(train_docs + held_docs)

    merges = bpe.train(train_docs, tc.vocab_size,
                       progress=lambda n, total: print(f"bpe: {n}/{total} merges", flush=True))
    tokenizer = bpe.Tokenizer(merges)
    train_stream = token_stream(tokenizer, train_docs)
    held_stream = token_stream(tokenizer, held_docs)
    t_tok = time.time() - t_start
    print(f"tokens: {len(train_stream)} train, {len(held_stream)} held out "
          f"(tokenizer {t_tok:.0f} s)", flush=True)

    cfg = tiny_llama.Config(vocab_size=len(tokenizer), context=tc.context,
                            bos_token_id=tokenizer.eot_id, eos_token_id=tokenizer.eot_id,
                            tie_embeddings=tc.tie_embeddings, attention_bias=tc.attention_bias,
                            d_model=tc.d_model, n_layers=tc.n_layers, n_heads=tc.n_heads,
                            d_mlp=tc.d_mlp)
    model = tiny_llama.TinyLlama(cfg)
    print(f"model: {tiny_llama.count_parameters(model)} parameters", flush=True)
    curve = train(model, train_stream, tc, tokenizer, held_stream)
    model.eval()
    t_train = time.time() - t_start

    evaluation = evaluate(model, tokenizer, train_stream, held_stream, tc)
    evaluation.update(corpus_stats(docs, train_docs, held_docs, train_stream, held_stream))
    evaluation.update({"train_config": dataclasses.asdict(tc), "loss_curve": curve,
                       "parameters": tiny_llama.count_parameters(model),
                       "seconds_tokenizer": round(t_tok, 1),
                       "seconds_until_trained": round(t_train, 1)})
    write_outputs(model, tokenizer, args.out_dir, evaluation, curve, held_docs, train_stream,
                  held_stream)
    evaluation["continuations"] = {p: greedy_continuation(model, tokenizer, p) for p in PROMPTS}
    evaluation["seconds_total"] = round(time.time() - t_start, 1)
    evaluation["cpu_seconds_total"] = round(time.process_time(), 1)
    with open(os.path.join(args.out_dir, "eval.json"), "w") as f:
        json.dump(evaluation, f, indent=1)
    print_summary(evaluation)


def check_ascii(docs):
    """The corpus is plain ASCII, where the pattern split is the same in every implementation of
    GPT-2's regular expression."""
    bad = [d for d in docs if not d.isascii()]
    if bad:
        raise SystemExit(f"non-ASCII text left in the corpus: {bad[0][:60]!r}")


def evaluate(model, tokenizer, train_stream, held_stream, tc):
    loss = heldout_loss(model, held_stream, tc.context)
    uni = unigram_loss(train_stream, held_stream, tc.context, len(tokenizer))
    return {"heldout_loss": loss, "heldout_perplexity": math.exp(loss),
            "unigram_loss": uni, "unigram_perplexity": math.exp(uni),
            "heads": score_heads(model, tokenizer)}


def corpus_stats(docs, train_docs, held_docs, train_stream, held_stream):
    return {"corpus": {"documents": len(docs), "train_documents": len(train_docs),
                       "heldout_documents": len(held_docs),
                       "train_bytes": sum(len(d) for d in train_docs),
                       "heldout_bytes": sum(len(d) for d in held_docs),
                       "train_tokens": int(len(train_stream)),
                       "heldout_tokens": int(len(held_stream))}}


def write_outputs(model, tokenizer, out_dir, evaluation, curve, held_docs, train_stream,
                  held_stream):
    tiny_llama.save_checkpoint(model, out_dir)
    tokenizer.save(out_dir, add_bos=True)  # trained with <|endoftext|> at position 0
    write_loss_csv(curve, os.path.join(out_dir, "loss_curve.csv"))
    write_reference(model, out_dir, held_stream, tokenizer.eot_id)
    write_heldout_sample(model, tokenizer, out_dir, held_docs, train_stream,
                         n_tokens=model.cfg.context + 1)


def print_summary(ev):
    heads = ev["heads"]
    print(f"held-out perplexity {ev['heldout_perplexity']:.2f} "
          f"(unigram baseline {ev['unigram_perplexity']:.2f})")
    print(f"best induction head {heads['best_induction']}, "
          f"best previous-token head {heads['best_prev_token']}")
    for prompt, text in ev["continuations"].items():
        print(f"--- {prompt!r}\n{text}")
    print(f"total time {ev['seconds_total']:.0f} s")


if __name__ == "__main__":
    main()
