"""TensorBoard event files written by gb::SummaryWriter, read back by an independent reader.

The reader (tb_reader.py, next to this file) shares no code with glassbox: its .proto text is
written from TensorBoard's published definitions (field numbers only) and compiled with
`protoc --python_out`; the record framing and CRC32C (with TensorFlow's masking) are
implemented in Python; histograms are checked against NumPy, PNGs are decoded by Pillow. The
events come from the test-only program tb_write_events (tests/helpers/), which logs inputs
generated here.

Environment: GB_BUILD_DIR (the build directory holding tests/tb_write_events).
"""

import json
import math
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tb_reader import (DT_STRING, RecordError, compile_protos, decode_png,  # noqa: E402
                       expected_histogram, read_events, read_records)


def expected_downsample(pixels, max_side):
    """The documented rule: block side f = ceil(longest / max_side), block means rounded half up."""
    h, w, c = pixels.shape
    f = math.ceil(max(h, w) / max_side)
    out = np.zeros((math.ceil(h / f), math.ceil(w / f), c), dtype=np.uint8)
    for oy in range(out.shape[0]):
        for ox in range(out.shape[1]):
            block = pixels[oy * f:(oy + 1) * f, ox * f:(ox + 1) * f].astype(np.int64)
            n = block.shape[0] * block.shape[1]
            out[oy, ox] = (block.sum(axis=(0, 1)) + n // 2) // n
    return out


# --- The tests --------------------------------------------------------------------------

def helper_path():
    build = os.environ.get("GB_BUILD_DIR")
    if not build:
        raise RuntimeError("GB_BUILD_DIR is not set")
    path = os.path.join(build, "tests", "tb_write_events")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"{path} is missing: build the tb_write_events target")
    return path


class TensorBoardFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.pb = compile_protos(cls.tmp.name)
        cls.helper = helper_path()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_helper(self, spec, expect_ok=True):
        workdir = tempfile.mkdtemp(dir=self.tmp.name)
        spec_path = os.path.join(workdir, "spec.json")
        with open(spec_path, "w") as f:
            json.dump(spec, f)
        result = subprocess.run([self.helper, spec_path], capture_output=True, text=True,
                                timeout=120)
        if expect_ok:
            self.assertEqual(result.returncode, 0, result.stderr)
            return json.loads(result.stdout), result.stderr
        return result

    def write_array(self, array, name):
        path = os.path.join(self.tmp.name, name)
        array.tofile(path)
        return path

    def events_of(self, path):
        return read_events(path, self.pb)

    def summary_values(self, events):
        """(tag, step, wall_time, value) for every summary value after the first event."""
        return [(v.tag, e.step, e.wall_time, v) for e in events[1:] for v in e.summary.value]

    # A file with every kind of summary, checked value by value.
    def test_round_trip(self):
        rng = np.random.default_rng(7)
        log_dir = os.path.join(self.tmp.name, "run", "nested")  # created by the writer
        scalars = [("loss/train", 3, 0.1), ("loss/train", 4, -1234.5678), ("lr", 0, 3e-38),
                   ("big", 9, 3.4e38), ("neg_zero", 1, -0.0), ("pi", 2 ** 40, math.pi)]
        hist_normal = rng.standard_normal(5000).astype(np.float32)
        hist_wide = (rng.standard_normal(3000) * 10.0 ** rng.integers(-15, 25, 3000)).astype(
            np.float32)  # spans the whole bucket range, including values beyond +-1e20
        hist_bad = rng.standard_normal(1000).astype(np.float32)
        hist_bad[[3, 50, 700]] = np.nan
        hist_bad[[10, 11]] = np.inf
        hist_bad[999] = -np.inf
        hist_zero = np.zeros(17, dtype=np.float32)
        hist_all_nan = np.full(8, np.nan, dtype=np.float32)
        rgb = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
        gray = rng.integers(0, 256, (19, 8, 1), dtype=np.uint8)
        too_big = rng.integers(0, 256, (700, 300, 1), dtype=np.uint8)
        heat = rng.random((4, 6, 5)).astype(np.float32) * 0.8 + 0.1
        heat[0, 0, 0], heat[1, 2, 3], heat[3, 5, 4] = 0.0, 1.0, np.nan
        text = "## logit lens\n| layer | top token |\n|---|---|\n| 0 | ☃ «the» |\n"

        entries = [{"kind": "scalar", "tag": t, "step": s, "value": v, "wall_time": 1e9 + s}
                   for t, s, v in scalars]
        entries.append({"kind": "scalar", "tag": "now", "step": 5, "value": 1.0})
        for tag, values in [("h/normal", hist_normal), ("h/wide", hist_wide),
                            ("h/bad", hist_bad), ("h/zero", hist_zero),
                            ("h/all_nan", hist_all_nan)]:
            entries.append({"kind": "histogram", "tag": tag, "step": 11,
                            "values_file": self.write_array(values, tag.replace("/", "_"))})
        for tag, pixels in [("img/rgb", rgb), ("img/gray", gray), ("img/too_big", too_big)]:
            entries.append({"kind": "image", "tag": tag, "step": 12, "height": pixels.shape[0],
                            "width": pixels.shape[1], "channels": pixels.shape[2],
                            "pixels_file": self.write_array(pixels, tag.replace("/", "_"))})
        entries.append({"kind": "heatmap", "tag": "attn/layer0", "step": 13, "tiles": 4,
                        "rows": 6, "cols": 5, "cell_pixels": 3, "vmin": 0.0, "vmax": 1.0,
                        "values_file": self.write_array(heat, "heat")})
        entries.append({"kind": "text", "tag": "notes", "step": 14, "text": text})
        entries.append({"kind": "threaded_scalars", "tag_prefix": "thread", "threads": 4,
                        "steps": 100})

        start = time.time()
        report, stderr = self.run_helper({"log_dir": log_dir, "max_image_side": 256,
                                          "filename_suffix": ".v2", "entries": entries})
        end = time.time()

        # File name and first event.
        files = os.listdir(log_dir)
        self.assertEqual(len(files), 1)
        m = re.fullmatch(r"events\.out\.tfevents\.(\d+)\." + re.escape(socket.gethostname()) +
                         r"\.v2", files[0])
        self.assertIsNotNone(m, files[0])
        self.assertTrue(int(start) - 1 <= int(m.group(1)) <= end + 1)
        self.assertEqual(os.path.basename(report["event_file"]), files[0])
        events = self.events_of(os.path.join(log_dir, files[0]))
        self.assertEqual(events[0].file_version, "brain.Event:2")
        self.assertEqual(events[0].WhichOneof("what"), "file_version")
        values = self.summary_values(events)
        by_tag = {}
        for tag, step, wall, v in values:
            by_tag.setdefault(tag, []).append((step, wall, v))

        # Scalars: float32 exactly, steps and wall times exactly.
        for tag, step, value in scalars:
            matches = [(w, v) for s, w, v in by_tag[tag] if s == step]
            self.assertEqual(len(matches), 1, (tag, step))
            wall, v = matches[0]
            self.assertEqual(v.WhichOneof("value"), "simple_value")
            self.assertEqual(v.simple_value, float(np.float32(value)), tag)
            self.assertEqual(math.copysign(1, v.simple_value), math.copysign(1, value))
            self.assertEqual(wall, 1e9 + step)
        (step, wall, v), = by_tag["now"]
        self.assertTrue(start - 1 <= wall <= end + 1)

        # Histograms: against NumPy.
        for tag, array in [("h/normal", hist_normal), ("h/wide", hist_wide),
                           ("h/bad", hist_bad), ("h/zero", hist_zero)]:
            (step, wall, v), = by_tag[tag]
            h = v.histo
            finite, limits, buckets = expected_histogram(array)
            self.assertEqual(h.num, finite.size, tag)
            self.assertEqual(sum(h.bucket), h.num, tag)
            self.assertEqual(h.min, finite.min(), tag)
            self.assertEqual(h.max, finite.max(), tag)
            self.assertTrue(math.isclose(h.sum, math.fsum(finite), rel_tol=1e-12, abs_tol=1e-300))
            self.assertTrue(math.isclose(h.sum_squares, math.fsum(finite * finite),
                                         rel_tol=1e-12, abs_tol=1e-300))
            self.assertEqual(list(h.bucket_limit), limits.tolist(), tag)
            self.assertEqual(list(h.bucket), buckets.tolist(), tag)
            self.assertTrue(all(math.isfinite(x) for x in list(h.bucket_limit) + list(h.bucket)))
        self.assertNotIn("h/all_nan", by_tag)  # nothing finite: nothing written
        hist_reports = {r["tag"]: r for r in report["histograms"]}
        for tag, array in [("h/bad", hist_bad), ("h/all_nan", hist_all_nan),
                           ("h/normal", hist_normal)]:
            r = hist_reports[tag]
            self.assertEqual(r["nan"], int(np.isnan(array).sum()), tag)
            self.assertEqual(r["inf"], int(np.isinf(array).sum()), tag)
            self.assertEqual(r["counted"], int(np.isfinite(array).sum()), tag)
        self.assertFalse(hist_reports["h/all_nan"]["written"])
        self.assertIn("histogram 'h/bad' step 11: 3 NaN and 3 infinite value(s) left out", stderr)

        # Images: decoded by Pillow, exact pixels; the oversized one downsampled by the rule.
        for tag, pixels, expected in [("img/rgb", rgb, rgb), ("img/gray", gray, gray),
                                      ("img/too_big", too_big,
                                       expected_downsample(too_big, 256))]:
            (step, wall, v), = by_tag[tag]
            img = v.image
            fmt, decoded = decode_png(img.encoded_image_string)
            self.assertEqual(fmt, "PNG")
            h, w, c = expected.shape
            self.assertEqual((img.height, img.width, img.colorspace), (h, w, c), tag)
            decoded = decoded.reshape(decoded.shape[0], decoded.shape[1], -1)
            self.assertEqual(decoded.shape, expected.shape, tag)
            np.testing.assert_array_equal(decoded, expected, tag)
        self.assertEqual(by_tag["img/too_big"][0][2].image.height, 234)

        # Heat map: 4 tiles of 6x5 cells, 3 px per cell, 2 columns, 2 px white gaps.
        (step, wall, v), = by_tag["attn/layer0"]
        fmt, hm = decode_png(v.image.encoded_image_string)
        self.assertEqual(hm.shape, (2 * 18 + 2, 2 * 15 + 2, 3))
        tile_origin = [(0, 0), (0, 17), (20, 0), (20, 17)]  # (top, left) of each tile

        def cell(t, r, c):
            top, left = tile_origin[t]
            block = hm[top + 3 * r:top + 3 * r + 3, left + 3 * c:left + 3 * c + 3]
            self.assertTrue((block == block[0, 0]).all())  # one colour per cell
            return tuple(int(x) for x in block[0, 0])

        self.assertEqual(cell(0, 0, 0), (68, 1, 84))       # vmin: viridis' first colour
        self.assertEqual(cell(1, 2, 3), (253, 231, 37))    # vmax: viridis' last colour
        self.assertEqual(cell(3, 5, 4), (255, 0, 255))     # NaN: the documented magenta
        self.assertTrue((hm[18:20, :] == 255).all() and (hm[:, 15:17] == 255).all())  # gaps
        for t in range(4):
            for r in range(6):
                for c in range(5):
                    if not np.isnan(heat[t, r, c]):
                        self.assertNotEqual(cell(t, r, c), (255, 0, 255))

        # Text: TensorBoard's text plugin convention.
        (step, wall, v), = by_tag["notes"]
        self.assertEqual(v.metadata.plugin_data.plugin_name, "text")
        self.assertEqual(v.tensor.dtype, DT_STRING)
        self.assertEqual([d.size for d in v.tensor.tensor_shape.dim], [1])
        self.assertEqual(v.tensor.string_val[0].decode("utf-8"), text)

        # Scalars from 4 threads at once: each exactly once.
        for t in range(4):
            got = sorted((s, v.simple_value) for s, w, v in by_tag[f"thread/{t}"])
            self.assertEqual(got, [(s, float(t * 100000 + s)) for s in range(100)])

    def write_small_file(self):
        log_dir = tempfile.mkdtemp(dir=self.tmp.name)
        entries = [{"kind": "scalar", "tag": "x", "step": s, "value": s * 0.5}
                   for s in range(20)]
        entries.append({"kind": "text", "tag": "t", "step": 0, "text": "hello"})
        report, _ = self.run_helper({"log_dir": log_dir, "entries": entries})
        with open(report["event_file"], "rb") as f:
            return f.read()

    def test_corruption_is_detected(self):
        data = self.write_small_file()
        path = os.path.join(self.tmp.name, "corrupt.tfevents")
        with open(path, "wb") as f:
            f.write(data)
        self.assertEqual(len(read_records(path)), 22)  # control: the intact file reads
        first_len = struct.unpack("<Q", data[:8])[0]
        second = 16 + first_len
        # Flip one bit: in a length, a length CRC, a payload, a payload CRC.
        for pos in [0, 9, 14, second + 2, second + 10, second + 13, len(data) - 1]:
            bad = bytearray(data)
            bad[pos] ^= 0x04
            with open(path, "wb") as f:
                f.write(bad)
            with self.assertRaises(RecordError, msg=f"flip at {pos}"):
                read_records(path)
        # Truncate: inside a header, inside a payload, inside the final CRC.
        for cut in [5, second + 9, second + 14, len(data) - 2]:
            with open(path, "wb") as f:
                f.write(data[:cut])
            with self.assertRaisesRegex(RecordError, "truncated", msg=f"cut at {cut}"):
                read_records(path)

    def test_write_failure_leaves_only_whole_records(self):
        # A file size limit makes write() fail the way a full disk does.
        log_dir = tempfile.mkdtemp(dir=self.tmp.name)
        rng = np.random.default_rng(3)
        noise = rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)  # ~120 KB as PNG
        entries = [{"kind": "scalar", "tag": "x", "step": s, "value": float(s)}
                   for s in range(10)]
        entries += [{"kind": "flush"},
                    {"kind": "image", "tag": "noise", "step": 0, "height": 200, "width": 200,
                     "channels": 3, "pixels_file": self.write_array(noise, "noise")},
                    {"kind": "scalar", "tag": "x", "step": 10, "value": 10.0},
                    {"kind": "flush"}]
        result = self.run_helper({"log_dir": log_dir, "max_file_bytes": 20000,
                                  "entries": entries}, expect_ok=False)
        self.assertEqual(result.returncode, 1, result.stderr)
        (name,) = os.listdir(log_dir)
        path = os.path.join(log_dir, name)
        self.assertIn(f"cannot write event file {path}: File too large", result.stderr)
        self.assertIn("2 event(s) lost", result.stderr)
        self.assertIn("cut back to its 11 whole event(s)", result.stderr)
        events = self.events_of(path)  # every record whole, every CRC right
        self.assertEqual(len(events), 11)
        self.assertEqual([e.summary.value[0].simple_value for e in events[1:]],
                         [float(s) for s in range(10)])

    def test_unwritable_log_dir(self):
        blocker = os.path.join(self.tmp.name, "a_file")
        with open(blocker, "w") as f:
            f.write("not a directory")
        log_dir = os.path.join(blocker, "run")
        result = self.run_helper({"log_dir": log_dir, "entries": []}, expect_ok=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"error: cannot create log directory {log_dir}", result.stderr)


if __name__ == "__main__":
    unittest.main()
