"""Shared set-up of the viewer tests: the models to view (the shipped default model, which
`glassbox view` shows when given no -m, and small generated ones), and `glassbox view` servers
started on a free port (port 0; the port is read from the line the server prints)."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
sys.path.insert(0, HERE)
import gbtest  # noqa: E402
import refmodels  # noqa: E402
from test_analysis_cli import byte_level_vocab  # noqa: E402

SOURCE = os.environ.get("GB_SOURCE_DIR", os.path.join(HERE, "..", ".."))
# The model every command uses when given no -m (models/README.md).
DEFAULT_MODEL = os.path.join(SOURCE, "models", "glassbox-demo.gguf")

# A GPT-2-family model with a byte-level BPE tokenizer (text prompts), 3 layers x 4 heads.
TEXT_CONFIG = dict(refmodels.CASES["gpt2"], vocab_size=261, n_layer=3, n_positions=64)


def text_model(folder, seed=5, perturb_layer=None):
    """Writes the text model; with perturb_layer, that layer's MLP input weights get noise (a
    model that agrees with the seed's up to that layer, for the diff)."""
    sd = refmodels.random_state_dict(TEXT_CONFIG, seed=seed)
    if perturb_layer is not None:
        import torch
        w = sd[f"transformer.h.{perturb_layer}.mlp.c_fc.weight"]
        sd[f"transformer.h.{perturb_layer}.mlp.c_fc.weight"] = w + 0.5 * torch.randn(
            w.shape, generator=torch.Generator().manual_seed(1))
    refmodels.save_checkpoint(sd, TEXT_CONFIG, folder)
    return byte_level_vocab(folder)


def circuit_model(folder):
    """tools/make_circuit_model.py: L0H2 a previous-token head, L1H1 an induction head."""
    subprocess.run([sys.executable, os.path.join(SOURCE, "tools", "make_circuit_model.py"), folder],
                   check=True, capture_output=True)


def random_model(folder, *args):
    subprocess.run([sys.executable, os.path.join(SOURCE, "tools", "make_random_model.py"), folder, *args],
                   check=True, capture_output=True)


def prompt_ids(margs, prompt):
    """The token ids `glassbox run` feeds the model for `prompt` (with the model's BOS rule)."""
    import json
    return json.loads(gbtest.run("run", *margs, "-p", prompt, "--json").stdout)["tokens"]


class Server:
    """`glassbox view ARGS --port 0` in the background; .port, .url, .stop()."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([gbtest.GLASSBOX, "view", *map(str, args), "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"http://(?:\[[^\]]*\]|[^:/]+):(\d+)/", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"glassbox view printed {line!r}; stderr: {self.proc.stderr.read()}")
        self.port = int(m.group(1))
        self.url = f"http://127.0.0.1:{self.port}/"

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
