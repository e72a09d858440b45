#!/usr/bin/env python3
"""Writes a two-layer GPT-2-family model whose weights are set by hand (tools/gbpy/circuit_models.py):
L0H2 is a previous-token head and L1H1 an induction head, so on a repeated sequence the model
predicts the next token of the repeat. A Hugging Face checkpoint (config.json + model.safetensors),
24 tokens, 64 positions. For demonstrations of the analyses; NumPy only, run with /usr/bin/python3.

  tools/make_circuit_model.py OUT_DIR
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from gbpy import circuit_models, safetensors  # noqa: E402


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(circuit_models.CONFIG, f, indent=1)
    safetensors.save_file(circuit_models.state_dict(), os.path.join(out, "model.safetensors"))
    print(f"wrote {out}: previous-token head L{circuit_models.PREV_HEAD[0]}H{circuit_models.PREV_HEAD[1]}, "
          f"induction head L{circuit_models.INDUCTION_HEAD[0]}H{circuit_models.INDUCTION_HEAD[1]}")


if __name__ == "__main__":
    main()
