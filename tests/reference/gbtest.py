"""Helpers for script tests: run the glassbox binary, read traces, report checks."""
import json
import os
import subprocess
import sys

import numpy as np

GLASSBOX = os.environ.get("GLASSBOX", "build/glassbox")
FAILURES = []


def run(*args, check=True):
    """Runs glassbox; returns CompletedProcess. On unexpected failure, raises with its stderr."""
    p = subprocess.run([GLASSBOX, *map(str, args)], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError(f"glassbox {' '.join(map(str, args))} failed ({p.returncode}):\n{p.stderr}")
    return p


def read_trace(out_dir):
    """Returns (manifest, {hook name: array})."""
    with open(os.path.join(out_dir, "manifest.json")) as f:
        manifest = json.load(f)
    arrays = {h["name"]: np.load(os.path.join(out_dir, h["file"])) for h in manifest["hooks"]}
    return manifest, arrays


def expect(cond, message):
    """Records a failed check (the test keeps going, to report every failure)."""
    if not cond:
        FAILURES.append(message)
        print("FAIL:", message, flush=True)


def finish():
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print("all checks passed")
