"""glassbox's forward pass against PyTorch, for every family and file format.

For small random-weight GPT-2, Llama (GQA, one kv head, tied/untied) and Qwen2-style (q/k/v
biases) models, saved as Hugging Face checkpoints (one sharded, one BF16) and converted with
`glassbox convert` to GGUF F32 / F16 / Q8_0 / Q4_0: every hook tensor, the residual stream of every
layer and the logits are compared with a PyTorch implementation (tools/gbpy/torch_reference.py),
with and without the KV cache (prompt fed whole, in chunks, and one token at a time).
"""
import os
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import gbtest  # noqa: E402
import refmodels  # noqa: E402
from gbtest import expect  # noqa: E402

sys.path.insert(0, os.path.join(os.environ.get("GB_SOURCE_DIR", "."), "tools"))
from gbpy import torch_reference  # noqa: E402

torch.set_num_threads(1)
N_TOKENS = 13


def max_abs(a, b):
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def rel_err(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def compare_all_hooks(label, trace, ref, tol):
    """Every hook glassbox wrote must exist in the reference and agree within tol (max abs)."""
    expect(len(trace) >= 10, f"{label}: only {len(trace)} hooks traced")
    for name, got in trace.items():
        if name not in ref:
            expect(False, f"{label}: hook {name} has no PyTorch counterpart")
            continue
        want = ref[name]
        expect(got.shape == want.shape, f"{label}: {name} shape {got.shape} != {want.shape}")
        if got.shape != want.shape:
            continue
        if name.endswith("hook_attn_scores"):  # -inf where masked, on both sides
            expect(np.array_equal(np.isinf(got), np.isinf(want)), f"{label}: {name} mask differs")
            got, want = np.where(np.isinf(got), 0, got), np.where(np.isinf(want), 0, want)
        err = max_abs(got, want)
        expect(err <= tol, f"{label}: {name} max abs diff {err:.3g} > {tol}")
    missing = [n for n in ref if n not in trace]
    expect(not missing, f"{label}: hooks not traced: {missing[:5]}")


def main():
    work = tempfile.mkdtemp(prefix="gb_ref_models_")
    rng = np.random.default_rng(0)
    for case_i, (case, cfg) in enumerate(refmodels.CASES.items()):
        sd = refmodels.random_state_dict(cfg, seed=100 + case_i)
        hf = os.path.join(work, case)
        refmodels.save_checkpoint(sd, cfg, hf, shards=2 if case == "llama_gqa" else 1)
        tokens = rng.integers(0, cfg["vocab_size"], N_TOKENS)
        tok_arg = ",".join(map(str, tokens))
        with torch.no_grad():
            _, ref = torch_reference.forward(sd, cfg, torch.tensor(tokens)[None])
        ref = {k: v.numpy() for k, v in ref.items()}

        # Hugging Face checkpoint, f32: every hook, whole prompt and through the KV cache.
        for chunk in (0, 5, 1):
            out = os.path.join(work, f"{case}_trace_{chunk}")
            gbtest.run("trace", "-m", hf, "--tokens", tok_arg, "--hooks", "all", "-o", out,
                       "--chunk", chunk, "--threads", 2)
            _, trace = gbtest.read_trace(out)
            compare_all_hooks(f"{case} hf chunk={chunk}", trace, ref, 1e-4)
        print(f"{case}: Hugging Face checkpoint matches PyTorch on every hook", flush=True)

        # GGUF conversions. F32 must match as tightly as the checkpoint. For F16 / Q8_0 / Q4_0
        # the reference is PyTorch on the same weights rounded the way the file stores them
        # (quantized independently in NumPy). With --exact glassbox keeps activations in f32 and
        # must match it to f32 rounding (1e-4). By default it rounds activations to Q8_0 blocks
        # as llama.cpp does (each value moves by up to 1/254 of its block's largest magnitude);
        # over these random models' layers that stays within 5e-2 relative on every residual
        # stream and the logits. The drift from the f32 model is reported.
        for qtype in ("f32", "f16", "q8_0", "q4_0"):
            gguf = os.path.join(work, f"{case}.{qtype}.gguf")
            gbtest.run("convert", hf, "-o", gguf, "--type", qtype)
            out = os.path.join(work, f"{case}_{qtype}_trace")
            hooks = "all" if qtype == "f32" else "blocks.*.hook_resid_post,hook_logits"
            gbtest.run("trace", "-m", gguf, "--tokens", tok_arg, "--hooks", hooks, "-o", out)
            _, trace = gbtest.read_trace(out)
            exact = trace
            if qtype in ("q8_0", "q4_0"):
                gbtest.run("trace", "-m", gguf, "--tokens", tok_arg, "--hooks", hooks, "-o",
                           out + "_exact", "--exact")
                _, exact = gbtest.read_trace(out + "_exact")
            if qtype == "f32":
                compare_all_hooks(f"{case} gguf f32", trace, ref, 1e-4)
                continue
            with torch.no_grad():
                _, qref = torch_reference.forward(refmodels.gguf_weights(sd, cfg, qtype), cfg,
                                                  torch.tensor(tokens)[None])
            worst, worst_exact, drift = 0.0, 0.0, 0.0
            bound = 1e-4 if qtype == "f16" else 5e-2
            for name, got in trace.items():
                err = rel_err(got, qref[name].numpy())
                worst, drift = max(worst, err), max(drift, rel_err(got, ref[name]))
                expect(err <= bound, f"{case} gguf {qtype}: {name} relative error {err:.3g} > {bound}")
                err = rel_err(exact[name], qref[name].numpy())
                worst_exact = max(worst_exact, err)
                expect(err <= 1e-4, f"{case} gguf {qtype} --exact: {name} relative error {err:.3g} > 1e-4")
            expect(drift > 0, f"{case} gguf {qtype}: identical to f32, the weights were not converted")
            print(f"{case}: GGUF {qtype} vs same-weights PyTorch {worst:.2e} (--exact {worst_exact:.2e}), "
                  f"vs f32 model {drift:.2e}",
                  flush=True)

    # A BF16 checkpoint: compared with PyTorch run on the same bf16-rounded weights.
    cfg = refmodels.CASES["llama_gqa"]
    sd = refmodels.random_state_dict(cfg, seed=7)
    sd_bf16 = {k: v.to(torch.bfloat16).to(torch.float32) for k, v in sd.items()}
    hf = os.path.join(work, "llama_bf16")
    refmodels.save_checkpoint(sd, cfg, hf, dtype=torch.bfloat16)
    tokens = rng.integers(0, cfg["vocab_size"], N_TOKENS)
    with torch.no_grad():
        _, ref = torch_reference.forward(sd_bf16, cfg, torch.tensor(tokens)[None])
    out = os.path.join(work, "bf16_trace")
    gbtest.run("trace", "-m", hf, "--tokens", ",".join(map(str, tokens)), "--hooks", "all", "-o", out)
    _, trace = gbtest.read_trace(out)
    compare_all_hooks("llama bf16 checkpoint", trace, {k: v.numpy() for k, v in ref.items()}, 1e-4)
    gbtest.finish()


if __name__ == "__main__":
    main()
