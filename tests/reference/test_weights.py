"""`glassbox weights` checked against NumPy on the dequantised tensors.

The model files are built here: tensor values are generated with NumPy, stored as F32, F16,
BF16, Q8_0 and Q4_0 in a GGUF file by the test-only program write_test_gguf (tests/helpers/,
glassbox's own GGUF writer and quantizer), and as F32 in a second GGUF used as the reference.
This test then reads the GGUF files with its own parser (the GGUF layout from the published
specification) and dequantises every tensor itself from the ggml block layouts:
  Q8_0: 34-byte blocks, f16 scale d + 32 int8 q, value = d * q
  Q4_0: 18-byte blocks, f16 scale d + 16 bytes, byte j holds element j in its low nibble and
        element j + 16 in its high nibble, value = d * (nibble - 8)
Every statistic glassbox prints is recomputed from those values with NumPy (singular values with
numpy.linalg.svd); --tensorboard output is decoded with the independent reader tb_reader.py; a
Hugging Face folder is written here byte by byte (safetensors layout). Bad input must give one
error line and exit status 1.

Environment: GLASSBOX (the CLI), GB_BUILD_DIR (holds tests/write_test_gguf).
"""

import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tb_reader import (compile_protos, decode_png, expected_histogram,  # noqa: E402
                       read_events)

GLASSBOX = os.environ.get("GLASSBOX")
BUILD = os.environ.get("GB_BUILD_DIR")

# Singular values: how close the estimate (8 values, 8 extra directions, 6 subspace iterations:
# the defaults) must be to numpy.linalg.svd. Where the spectrum decays (the structured test
# matrices, singular values falling by 0.8 each), all 8 must match to 1e-6 relative, f32
# products being the limit (measured: < 1e-7); on unstructured random matrices (flat spectrum,
# the hardest case for the method) the largest to 1% (measured: 0.6%). Every estimate must be a
# lower bound (up to f32 rounding): the method is Rayleigh-Ritz on a subspace.
SVD_REL_TOL_DECAYING = 1e-6
SVD_REL_TOL_FLAT_TOP = 1e-2
FLAT_SPECTRUM = {"token_embd.weight", "blk.3.ffn_down.weight"}
# How far the estimated quantization error (from the block scales alone) may be from the error
# measured against the f32 source, relative to the measured one.
QUANT_ESTIMATE_REL_TOL = {"q8_0": 0.05, "q4_0": 0.05}  # measured: <= 1.4%

# --- GGUF, read here ---------------------------------------------------------------------

GGML_TYPES = {0: "f32", 1: "f16", 2: "q4_0", 8: "q8_0", 30: "bf16"}
GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<B",
                10: "<Q", 11: "<q", 12: "<d"}


class GgufParser:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        self.pos = 0

    def take(self, fmt):
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value

    def string(self):
        n = self.take("<Q")
        s = self.data[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def value(self, kind):
        if kind == 8:
            return self.string()
        if kind == 9:
            item_kind, n = self.take("<I"), self.take("<Q")
            return [self.value(item_kind) for _ in range(n)]
        return self.take(GGUF_SCALARS[kind])


def read_gguf(path):
    """{name: (dtype, shape, raw bytes)} of a GGUF file."""
    p = GgufParser(path)
    assert p.data[:4] == b"GGUF"
    p.pos = 4
    version, n_tensors, n_kv = p.take("<I"), p.take("<Q"), p.take("<Q")
    assert version == 3
    metadata = {}
    for _ in range(n_kv):
        key = p.string()
        metadata[key] = p.value(p.take("<I"))
    infos = []
    for _ in range(n_tensors):
        name = p.string()
        n_dims = p.take("<I")
        ne = [p.take("<Q") for _ in range(n_dims)]
        kind, offset = p.take("<I"), p.take("<Q")
        infos.append((name, GGML_TYPES[kind], list(reversed(ne)), offset))
    alignment = metadata.get("general.alignment", 32)
    data_start = (p.pos + alignment - 1) // alignment * alignment
    tensors = {}
    for name, dtype, shape, offset in infos:
        n = int(np.prod(shape))
        nbytes = {"f32": 4 * n, "f16": 2 * n, "bf16": 2 * n, "q8_0": n // 32 * 34,
                  "q4_0": n // 32 * 18}[dtype]
        start = data_start + offset
        tensors[name] = (dtype, shape, p.data[start:start + nbytes])
    return tensors


Q8_0_BLOCK = np.dtype([("d", "<f2"), ("q", "i1", 32)])
Q4_0_BLOCK = np.dtype([("d", "<f2"), ("q", "u1", 16)])


def dequantise(dtype, shape, raw):
    """(values as float32 in the tensor's shape, block scales as float64 or None)."""
    if dtype == "f32":
        return np.frombuffer(raw, "<f4").reshape(shape), None
    if dtype == "f16":
        return np.frombuffer(raw, "<f2").astype(np.float32).reshape(shape), None
    if dtype == "bf16":
        bits = np.frombuffer(raw, "<u2").astype(np.uint32) << 16
        return bits.view(np.float32).reshape(shape), None
    if dtype == "q8_0":
        blocks = np.frombuffer(raw, Q8_0_BLOCK)
        d = blocks["d"].astype(np.float32)
        values = d[:, None] * blocks["q"].astype(np.float32)
        return values.reshape(shape), d.astype(np.float64)
    if dtype == "q4_0":
        blocks = np.frombuffer(raw, Q4_0_BLOCK)
        d = blocks["d"].astype(np.float32)
        low = (blocks["q"] & 0x0F).astype(np.float32) - 8
        high = (blocks["q"] >> 4).astype(np.float32) - 8
        values = d[:, None] * np.concatenate([low, high], axis=1)  # elements j, then j + 16
        return values.reshape(shape), d.astype(np.float64)
    raise ValueError(dtype)


# --- The test model ------------------------------------------------------------------------

def with_spectrum(rng, rows, cols, scale):
    """A [rows, cols] matrix with singular values scale * 0.8^i (decaying, well separated)."""
    k = min(rows, cols)
    u, _ = np.linalg.qr(rng.standard_normal((rows, k)))
    v, _ = np.linalg.qr(rng.standard_normal((cols, k)))
    return (u * (scale * 0.8 ** np.arange(k))) @ v.T


def make_tensors():
    """{name: (dtype, float32 source values)}; layer numbers chosen to test natural order."""
    rng = np.random.default_rng(20240607)
    t = {}
    t["blk.0.attn_q.weight"] = ("f32", with_spectrum(rng, 96, 64, 2.0))
    t["blk.1.attn_q.weight"] = ("f16", with_spectrum(rng, 96, 64, 1.5))
    t["blk.2.attn_q.weight"] = ("bf16", with_spectrum(rng, 64, 96, 3.0))
    t["blk.10.ffn_up.weight"] = ("q8_0", with_spectrum(rng, 128, 64, 1.0) +
                                 0.002 * rng.standard_normal((128, 64)))
    t["blk.3.ffn_up.weight"] = ("q4_0", with_spectrum(rng, 64, 128, 1.0))
    down = 0.02 * rng.standard_t(5, (128, 64))  # heavier tails, like trained weights
    down[5, 32:64] = 0.0  # one all-zero block: scale 0
    t["blk.3.ffn_down.weight"] = ("q4_0", down)
    t["token_embd.weight"] = ("q8_0", 0.05 * rng.standard_normal((1100, 64)))  # flat spectrum
    norm = 1.0 + 0.1 * rng.standard_normal(64)
    norm[[3, 9, 27, 40, 63]] = 0.0
    t["output_norm.weight"] = ("f32", norm)
    t["blk.0.experts.weight"] = ("f16", 0.1 * rng.standard_normal((2, 32, 64)))
    t["row.weight"] = ("bf16", rng.standard_normal((1, 64)))
    bad = rng.standard_normal((4, 32))
    bad[0, 1] = bad[2, 7] = bad[3, 31] = np.nan
    bad[1, 0], bad[1, 1] = np.inf, -np.inf
    t["blk.0.bad.weight"] = ("f32", bad)
    return {name: (dtype, values.astype(np.float32)) for name, (dtype, values) in t.items()}


def write_gguf(workdir, out, tensors, all_f32=False):
    entries = []
    for i, (name, (dtype, values)) in enumerate(tensors.items()):
        npy = os.path.join(workdir, f"t{i}.npy")
        np.save(npy, values)
        entries.append({"name": name, "dtype": "f32" if all_f32 else dtype, "npy": npy})
    spec = os.path.join(workdir, "spec.json")
    with open(spec, "w") as f:
        json.dump({"out": out, "tensors": entries}, f)
    helper = os.path.join(BUILD, "tests", "write_test_gguf")
    subprocess.run([helper, spec], check=True, timeout=60)


def write_safetensors(path, tensors):
    """tensors: {name: (safetensors dtype, raw little-endian bytes, shape)}."""
    header, offset, blobs = {}, 0, []
    for name, (dtype, raw, shape) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def run(args, expect=0):
    result = subprocess.run([GLASSBOX] + args, capture_output=True, text=True, timeout=300)
    if result.returncode != expect:
        raise AssertionError(f"glassbox {' '.join(args)}: exit {result.returncode}, "
                             f"expected {expect}\n{result.stderr}")
    return result


def close(a, b, rel, abs_tol=0.0):
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)


# --- The tests -----------------------------------------------------------------------------

class Weights(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not GLASSBOX or not BUILD:
            raise RuntimeError("GLASSBOX and GB_BUILD_DIR must be set")
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        cls.source = make_tensors()
        cls.model = os.path.join(cls.dir, "model.gguf")
        cls.reference = os.path.join(cls.dir, "reference.gguf")
        write_gguf(cls.dir, cls.model, cls.source)
        write_gguf(cls.dir, cls.reference, cls.source, all_f32=True)
        cls.stored = read_gguf(cls.model)
        cls.result = run(["weights", "-m", cls.model, "--reference", cls.reference, "--json"])
        cls.report = json.loads(cls.result.stdout)
        cls.by_name = {t["name"]: t for t in cls.report["tensors"]}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def dequantised(self, name):
        dtype, shape, raw = self.stored[name]
        return dequantise(dtype, shape, raw)

    def check_value_stats(self, name, got, x):
        """got: glassbox's JSON for a tensor; x: its dequantised values (float32)."""
        x64 = x.astype(np.float64).ravel()
        finite = x64[np.isfinite(x64)]
        self.assertEqual(got["numel"], x64.size, name)
        self.assertEqual(got["finite"], finite.size, name)
        self.assertEqual(got["nan"], int(np.isnan(x64).sum()), name)
        self.assertEqual(got["inf"], int(np.isinf(x64).sum()), name)
        self.assertTrue(close(got["l2_norm"], math.sqrt(math.fsum(finite ** 2)), 1e-12), name)
        scale = float(np.abs(finite).mean())
        self.assertTrue(close(got["mean"], float(finite.mean()), 0, 1e-12 * scale), name)
        self.assertTrue(close(got["std"], float(np.std(finite)), 1e-10), name)
        self.assertEqual(got["min"], float(finite.min()), name)
        self.assertEqual(got["max"], float(finite.max()), name)
        self.assertEqual(got["abs_max"], float(np.abs(finite).max()), name)
        self.assertEqual(got["zero_fraction"], int((x64 == 0).sum()) / x64.size, name)
        h = got["histogram"]
        values, limits, buckets = expected_histogram(x64)
        self.assertEqual(h["bucket_limit"], limits.tolist(), name)
        self.assertEqual(h["bucket"], buckets.tolist(), name)
        self.assertEqual(sum(h["bucket"]), finite.size, name)
        self.assertEqual(h["num"], finite.size, name)
        self.assertEqual((h["min"], h["max"]), (float(finite.min()), float(finite.max())), name)
        self.assertTrue(close(h["sum_squares"], math.fsum(finite ** 2), 1e-12), name)

    def test_every_tensor_listed_in_natural_order(self):
        names = [t["name"] for t in self.report["tensors"]]
        self.assertEqual(sorted(names), sorted(self.source))
        self.assertLess(names.index("blk.3.ffn_up.weight"), names.index("blk.10.ffn_up.weight"))
        self.assertLess(names.index("blk.2.attn_q.weight"), names.index("blk.10.ffn_up.weight"))
        for name, (dtype, values) in self.source.items():
            self.assertEqual(self.by_name[name]["dtype"], dtype)
            self.assertEqual(self.by_name[name]["shape"], list(values.shape))
        svd = self.report["singular_values"]
        self.assertEqual((svd["values"], svd["oversampling"], svd["iterations"]), (8, 8, 6))

    def test_statistics_equal_numpy(self):
        for name in self.source:
            x, _ = self.dequantised(name)
            self.check_value_stats(name, self.by_name[name], x)

    def test_singular_values_against_numpy_svd(self):
        checked = 0
        for name in self.source:
            x, _ = self.dequantised(name)
            got = self.by_name[name].get("singular_values")
            is_matrix = x.ndim == 2 and min(x.shape) > 1 and np.isfinite(x).all()
            if not is_matrix:
                self.assertIsNone(got, name)
                continue
            truth = np.linalg.svd(x.astype(np.float64), compute_uv=False)
            self.assertEqual(len(got), 8, name)
            for est, true in zip(got, truth):
                self.assertLessEqual(est, true * (1 + 1e-6), name)  # a lower bound
            if name in FLAT_SPECTRUM:
                self.assertTrue(close(got[0], truth[0], SVD_REL_TOL_FLAT_TOP),
                                (name, got[0], truth[0]))
            else:
                for est, true in zip(got, truth):
                    self.assertTrue(close(est, true, SVD_REL_TOL_DECAYING), (name, est, true))
            checked += 1
        self.assertEqual(checked, 7)
        self.assertIn("non-finite", self.by_name["blk.0.bad.weight"]["note"])

    def test_quantization_estimate_from_block_scales(self):
        for name, (dtype, source) in self.source.items():
            got = self.by_name[name].get("quantization")
            if dtype not in ("q8_0", "q4_0"):
                self.assertIsNone(got, name)
                continue
            x, d = self.dequantised(name)
            x64 = x.astype(np.float64).ravel()
            noise_rms = math.sqrt(np.mean(d ** 2) / 12)
            signal_rms = math.sqrt(np.mean(x64 ** 2))
            self.assertEqual(got["blocks"], d.size)
            self.assertEqual(got["step_max"], float(np.abs(d).max()))
            self.assertTrue(close(got["step_rms"], math.sqrt(np.mean(d ** 2)), 1e-12), name)
            self.assertTrue(close(got["noise_rms"], noise_rms, 1e-12), name)
            self.assertTrue(close(got["rel_error"], noise_rms / signal_rms, 1e-12), name)
            self.assertTrue(close(got["sqnr_db"], 20 * math.log10(signal_rms / noise_rms), 1e-12))
            # The estimate means something: it is close to the error against the f32 source.
            src = source.astype(np.float64).ravel()
            measured = np.linalg.norm(x64 - src) / np.linalg.norm(src)
            self.assertTrue(close(got["rel_error"], measured, QUANT_ESTIMATE_REL_TOL[dtype]),
                            (name, got["rel_error"], measured))

    def test_reference_error_equals_numpy(self):
        self.assertEqual(self.report["reference"], self.reference)
        for name, (dtype, source) in self.source.items():
            got = self.by_name[name]["reference"]
            x, _ = self.dequantised(name)
            x64, r = x.astype(np.float64).ravel(), source.astype(np.float64).ravel()
            if not np.isfinite(r).all():
                self.assertIsNone(got["rel_error"], name)  # NaN: null in JSON
                continue
            diff = x64 - r
            if dtype == "f32":
                self.assertEqual(got["max_abs_error"], 0.0, name)
                self.assertIsNone(got["sqnr_db"], name)  # infinite
                continue
            self.assertTrue(close(got["rms_error"], math.sqrt(np.mean(diff ** 2)), 1e-10), name)
            self.assertTrue(close(got["max_abs_error"], float(np.abs(diff).max()), 1e-12), name)
            rel = np.linalg.norm(diff) / np.linalg.norm(r)
            self.assertTrue(close(got["rel_error"], rel, 1e-10), name)
            self.assertTrue(close(got["sqnr_db"], -20 * math.log10(rel), 1e-10), name)
            cosine = float(x64 @ r / (np.linalg.norm(x64) * np.linalg.norm(r)))
            self.assertTrue(close(got["cosine"], cosine, 1e-12), name)

    def test_non_finite_values_are_reported(self):
        self.assertIn("glassbox: warning: tensor blk.0.bad.weight: 3 NaN and 2 infinite value(s)",
                      self.result.stderr)

    def test_table(self):
        out = run(["weights", self.model]).stdout
        lines = out.splitlines()
        self.assertEqual(lines[0], self.model)
        self.assertEqual(lines[1].split()[:4], ["tensor", "dtype", "shape", "norm"])
        rows = {line.split()[0]: line for line in lines[2:2 + len(self.source)]}
        self.assertEqual(set(rows), set(self.source))
        for name in self.source:
            x, _ = self.dequantised(name)
            finite = x[np.isfinite(x)].astype(np.float64)
            norm = "%.4g" % math.sqrt(math.fsum(finite ** 2))
            self.assertIn(f"  {norm}  ", rows[name], name)
        self.assertIn(f"{len(self.source)} tensors", out)

    def test_tensor_filter(self):
        report = json.loads(run(["weights", self.model, "--json", "--tensors",
                                 "blk.*.attn_q.weight,blk.3-10.ffn_up.weight"]).stdout)
        self.assertEqual([t["name"] for t in report["tensors"]],
                         ["blk.0.attn_q.weight", "blk.1.attn_q.weight", "blk.2.attn_q.weight",
                          "blk.3.ffn_up.weight", "blk.10.ffn_up.weight"])
        report = json.loads(run(["weights", self.model, "--json", "--singular-values", "3",
                                 "--tensors", r"re:blk\.0\.attn_q\.weight"]).stdout)
        (t,) = report["tensors"]
        self.assertEqual(len(t["singular_values"]), 3)
        result = run(["weights", self.model, "--tensors", "blk.0.atn_q.weight"], expect=2)
        self.assertEqual(result.stderr.count("\n"), 1)
        self.assertIn("--tensors: no tensor matches 'blk.0.atn_q.weight'; closest names: "
                      "blk.0.attn_q.weight", result.stderr)

    def test_tensorboard(self):
        log_dir = os.path.join(self.dir, "tb")
        run(["weights", self.model, "--reference", self.reference, "--tensorboard", log_dir])
        (name,) = os.listdir(log_dir)
        pb = compile_protos(tempfile.mkdtemp(dir=self.dir))
        events = read_events(os.path.join(log_dir, name), pb)  # checks every CRC
        self.assertEqual(events[0].file_version, "brain.Event:2")
        got = {}
        for e in events[1:]:
            for v in e.summary.value:
                self.assertNotIn((v.tag, e.step), got)
                got[(v.tag, e.step)] = v

        expected_tags = set()
        for name, (dtype, source) in self.source.items():
            parts = name.split(".")
            layer = next((i for i, p in enumerate(parts) if p.isdigit()), None)
            step = int(parts[layer]) if layer is not None else 0
            tag = ".".join("{L}" if i == layer else p for i, p in enumerate(parts))
            x, _ = self.dequantised(name)
            x64 = x.astype(np.float64)
            finite = x64[np.isfinite(x64)]
            is_matrix = x.ndim == 2 and min(x.shape) > 1
            expected_tags |= {("histogram/" + tag, step), ("norm/" + tag, step),
                              ("std/" + tag, step), ("abs_max/" + tag, step)}

            h = got[("histogram/" + tag, step)].histo
            _, limits, buckets = expected_histogram(x64.ravel())
            self.assertEqual(list(h.bucket_limit), limits.tolist(), name)
            self.assertEqual(list(h.bucket), buckets.tolist(), name)
            self.assertEqual(h.num, finite.size, name)
            for metric, value in [("norm", math.sqrt(math.fsum(finite ** 2))),
                                  ("std", float(np.std(finite))),
                                  ("abs_max", float(np.abs(finite).max()))]:
                self.assertTrue(close(got[(f"{metric}/{tag}", step)].simple_value, value, 1e-6),
                                (name, metric))
            if is_matrix and np.isfinite(x).all():
                expected_tags.add(("sigma_1/" + tag, step))
                sigma = np.linalg.svd(x64, compute_uv=False)[0]
                tol = SVD_REL_TOL_FLAT_TOP if name in FLAT_SPECTRUM else 1e-6
                self.assertTrue(close(got[("sigma_1/" + tag, step)].simple_value, sigma, tol))
            if dtype in ("q8_0", "q4_0"):
                expected_tags.add(("quant_rel_error/" + tag, step))
            if np.isfinite(source).all():
                expected_tags.add(("reference_rel_error/" + tag, step))
            if is_matrix:
                expected_tags.add(("heatmap/" + tag, step))
                self.check_heatmap(name, got[("heatmap/" + tag, step)].image, x64)
        self.assertEqual(set(got), expected_tags)

    def check_heatmap(self, name, image, x):
        """Size by the documented rule; each cell's colour has the sign of its (block mean)
        value: red for positive, blue for negative (diverging colormap centred on 0)."""
        fmt, pixels = decode_png(image.encoded_image_string)
        self.assertEqual(fmt, "PNG")
        rows, cols = x.shape
        f = math.ceil(max(rows, cols) / 512)
        cells = np.zeros((math.ceil(rows / f), math.ceil(cols / f)))
        for r in range(cells.shape[0]):
            for c in range(cells.shape[1]):
                block = x[r * f:(r + 1) * f, c * f:(c + 1) * f]
                block = block[np.isfinite(block)]
                cells[r, c] = block.mean() if block.size else np.nan
        cell = min(max(256 // max(cells.shape), 1), 16)
        self.assertEqual(pixels.shape, (cells.shape[0] * cell, cells.shape[1] * cell, 3), name)
        m = np.nanmax(np.abs(cells))
        red_minus_blue = pixels[::cell, ::cell, 0].astype(int) - pixels[::cell, ::cell, 2]
        strong = np.abs(cells) > 0.05 * m  # clearly away from the grey centre
        self.assertTrue(strong.sum() > 0.25 * cells.size, name)
        np.testing.assert_array_equal(np.sign(red_minus_blue[strong]), np.sign(cells[strong]),
                                      name)

    def test_hugging_face_folder(self):
        folder = os.path.join(self.dir, "hf")
        os.makedirs(folder)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump({"model_type": "gpt2"}, f)
        rng = np.random.default_rng(5)
        a = rng.standard_normal((48, 32)).astype(np.float32)
        b = rng.standard_normal(32).astype(np.float16)
        c = (rng.standard_normal((16, 40)).astype(np.float32).view(np.uint32) >> 16).astype(
            np.uint16)  # bf16 by truncation
        ids = np.arange(7, dtype=np.int64)
        write_safetensors(os.path.join(folder, "model.safetensors"), {
            "h.0.attn.c_attn.weight": ("F32", a.tobytes(), a.shape),
            "h.0.ln_1.bias": ("F16", b.tobytes(), b.shape),
            "wte.weight": ("BF16", c.tobytes(), c.shape),
            "position_ids": ("I64", ids.tobytes(), ids.shape)})
        report = json.loads(run(["weights", "-m", folder, "--json"]).stdout)
        by_name = {t["name"]: t for t in report["tensors"]}
        self.check_value_stats("a", by_name["h.0.attn.c_attn.weight"], a)
        self.check_value_stats("b", by_name["h.0.ln_1.bias"], b.astype(np.float32))
        c32 = (c.astype(np.uint32) << 16).view(np.float32)
        self.check_value_stats("c", by_name["wte.weight"], c32)
        self.assertEqual(by_name["wte.weight"]["dtype"], "BF16")
        ids_entry = by_name["position_ids"]
        self.assertEqual((ids_entry["dtype"], ids_entry["shape"]), ("I64", [7]))
        self.assertIn("not read", ids_entry["note"])
        self.assertNotIn("l2_norm", ids_entry)

    def assert_one_error(self, args, *needles):
        result = run(args, expect=1)
        self.assertEqual(result.stdout, "")
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("glassbox: error: "), lines[0])
        for needle in needles:
            self.assertIn(needle, lines[0])

    def test_bad_input(self):
        text = os.path.join(self.dir, "notes.txt")
        with open(text, "w") as f:
            f.write("these are not weights\n")
        self.assert_one_error(["weights", "-m", text], text, "not a GGUF file")

        folder = os.path.join(self.dir, "empty_folder")
        os.makedirs(folder)
        self.assert_one_error(["weights", "-m", folder], folder, "no config.json")

        missing = os.path.join(self.dir, "missing.gguf")
        self.assert_one_error(["weights", "-m", missing], missing, "no such file")

        truncated = os.path.join(self.dir, "truncated.gguf")
        with open(self.model, "rb") as f:
            data = f.read()
        with open(truncated, "wb") as f:
            f.write(data[:len(data) - 100])
        self.assert_one_error(["weights", "-m", truncated], truncated, "past end of file")

        blocker = os.path.join(self.dir, "a_file")
        with open(blocker, "w") as f:
            f.write("x")
        log_dir = os.path.join(blocker, "logs")
        self.assert_one_error(["weights", "-m", self.model, "--tensorboard", log_dir],
                              "cannot create log directory", log_dir)
        self.assertFalse(os.path.exists(log_dir))

        other = os.path.join(self.dir, "other.gguf")
        wrong = {"blk.0.attn_q.weight": ("f32", np.zeros((64, 96), np.float32))}
        write_gguf(tempfile.mkdtemp(dir=self.dir), other, wrong)
        self.assert_one_error(["weights", "-m", self.model, "--reference", other], other,
                              "blk.0.attn_q.weight has shape [64, 96], the model [96, 64]")
        unrelated = {"something.else": ("f32", np.zeros((4, 32), np.float32))}
        write_gguf(tempfile.mkdtemp(dir=self.dir), other, unrelated)
        self.assert_one_error(["weights", "-m", self.model, "--reference", other], other,
                              "none of the inspected tensors is in the reference")


if __name__ == "__main__":
    unittest.main()
