"""Shared helpers for the tokenizer reference tests: running glassbox in batch mode and comparing
id lists with a reference."""
import json
import os
import subprocess
import sys

GLASSBOX = os.environ.get("GLASSBOX", "glassbox")
SOURCE_DIR = os.environ.get("GB_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def glassbox_jsonl(model, requests, extra=()):
    """Runs `glassbox tokenize --jsonl -` on a list of {"text": ...} / {"ids": [...]} requests."""
    payload = "".join(json.dumps(r) + "\n" for r in requests)
    proc = subprocess.run([GLASSBOX, "tokenize", "-m", model, "--jsonl", "-", *extra],
                          input=payload.encode(), capture_output=True)
    if proc.returncode != 0:
        sys.exit(f"glassbox failed on {model}: {proc.stderr.decode(errors='replace')}")
    return [json.loads(line) for line in proc.stdout.decode().split("\n") if line]


def encode_all(model, texts, extra=("--no-bos",)):
    return [r["ids"] for r in glassbox_jsonl(model, [{"text": t} for t in texts], extra)]


def decode_all(model, id_lists):
    return [r["text"] for r in glassbox_jsonl(model, [{"ids": ids} for ids in id_lists])]


def compare(label, texts, expected, actual):
    """Returns the number of texts whose ids differ, printing the first few differences."""
    bad = 0
    for i, (text, want, got) in enumerate(zip(texts, expected, actual)):
        if want == got:
            continue
        bad += 1
        if bad <= 3:
            k = next((j for j in range(min(len(want), len(got))) if want[j] != got[j]),
                     min(len(want), len(got)))
            print(f"{label}: text {i} differs at token {k}: reference {want[max(0, k-3):k+4]} "
                  f"glassbox {got[max(0, k-3):k+4]}; text starts {text[:80]!r}")
    if len(expected) != len(actual):
        print(f"{label}: {len(expected)} reference results but {len(actual)} from glassbox")
        bad += 1
    return bad
