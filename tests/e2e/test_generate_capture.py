"""Captures during `glassbox generate`: kept in memory or, over the memory budget, streamed to
disk — both give the same files, equal to tracing the whole generated sequence at once."""
import json
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import gbtest  # noqa: E402
import refmodels  # noqa: E402
from gbtest import expect  # noqa: E402

HOOKS = ["blocks.*.attn.hook_pattern", "blocks.1.attn.hook_attn_scores", "blocks.1.hook_resid_post",
         "blocks.0.attn.hook_z[head=1]", "hook_logits"]


def main():
    with tempfile.TemporaryDirectory(prefix="gb_gen_capture_") as work:
        cfg = refmodels.CASES["llama_gqa"]
        hf = os.path.join(work, "hf")
        refmodels.save_checkpoint(refmodels.random_state_dict(cfg, seed=3), cfg, hf)
        prompt = "5,17,99,3,42"
        args = ["generate", "-m", hf, "--tokens", prompt, "-n", 7, "--temperature", 0.8, "--seed", 11,
                "--json"]
        hook_args = [x for h in HOOKS for x in ("--hooks", h)]
        mem = gbtest.run(*args, *hook_args, "--trace-out", os.path.join(work, "mem"))
        disk = gbtest.run(*args, *hook_args, "--trace-out", os.path.join(work, "disk"),
                          "--memory-budget", "2K")
        expect("streaming" not in mem.stderr, "small capture was streamed")
        expect("streaming" in disk.stderr, f"capture over budget was not streamed: {disk.stderr}")
        out = json.loads(mem.stdout)
        expect(out["tokens"] == json.loads(disk.stdout)["tokens"], "same seed, different tokens")
        run_tokens = [int(t) for t in prompt.split(",")] + out["tokens"][:-1]

        full = os.path.join(work, "full")
        gbtest.run("trace", "-m", hf, "--tokens", ",".join(map(str, run_tokens)), *hook_args, "-o", full)
        man_m, mem_arrays = gbtest.read_trace(os.path.join(work, "mem"))
        man_d, disk_arrays = gbtest.read_trace(os.path.join(work, "disk"))
        _, full_arrays = gbtest.read_trace(full)
        expect(man_m["tokens"] == run_tokens and man_d["tokens"] == run_tokens,
               f"manifest tokens {man_m['tokens']} != {run_tokens}")
        expect(sorted(mem_arrays) == sorted(full_arrays) == sorted(disk_arrays), "different hook sets")
        for name, want in full_arrays.items():
            m, d = mem_arrays[name], disk_arrays[name]
            expect(m.shape == want.shape == d.shape, f"{name}: shapes {m.shape} {d.shape} {want.shape}")
            if m.shape != want.shape or d.shape != want.shape:
                continue
            expect(np.array_equal(m, d), f"{name}: memory and disk captures differ")
            fin = np.isfinite(want)
            expect(np.array_equal(fin, np.isfinite(m)), f"{name}: masked entries differ")
            err = float(np.max(np.abs(np.where(fin, m, 0) - np.where(fin, want, 0))))
            expect(err < 1e-4, f"{name}: incremental capture differs from full trace by {err}")

        too_small = gbtest.run(*args, *hook_args, "--trace-out", os.path.join(work, "x"),
                               "--memory-budget", "100", check=False)
        expect(too_small.returncode == 2 and "too small for one token" in too_small.stderr,
               f"tiny budget: {too_small.returncode} {too_small.stderr}")
        sliced = gbtest.run(*args, "--hooks", "blocks.0.hook_resid_post[pos=-1]", "--trace-out",
                            os.path.join(work, "y"), "--memory-budget", "1", check=False)
        expect(sliced.returncode != 0, "position slice streamed")
    gbtest.finish()


if __name__ == "__main__":
    main()
