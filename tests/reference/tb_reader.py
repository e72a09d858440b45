"""An independent reader of TensorBoard event files, shared by the reference tests.

Shares no code with glassbox: the .proto text below is written from TensorBoard's published
definitions (event.proto, summary.proto, histogram.proto, tensor.proto, tensor_shape.proto; field
numbers only) and compiled with `protoc --python_out`; the record framing and CRC32C (with
TensorFlow's masking) are implemented here; histograms are recomputed with NumPy and PNGs are
decoded by Pillow.
"""

import importlib
import io
import os
import struct
import subprocess
import sys

import numpy as np
from PIL import Image

# --- TensorBoard's messages, from the published field numbers --------------------------------

TENSORBOARD_PROTO = """
syntax = "proto3";
package tbref;

message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    bytes graph_def = 4;
    Summary summary = 5;
    bytes meta_graph_def = 9;
  }
  SourceMetadata source_metadata = 10;
}
message SourceMetadata { string writer = 1; }

message SummaryMetadata {
  message PluginData {
    string plugin_name = 1;
    bytes content = 2;
  }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
}

message Summary {
  message Image {
    int32 height = 1;
    int32 width = 2;
    int32 colorspace = 3;
    bytes encoded_image_string = 4;
  }
  message Value {
    string node_name = 7;
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
      bytes obsolete_old_style_histogram = 3;
      Image image = 4;
      HistogramProto histo = 5;
      TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}

message HistogramProto {
  double min = 1;
  double max = 2;
  double num = 3;
  double sum = 4;
  double sum_squares = 5;
  repeated double bucket_limit = 6 [packed = true];
  repeated double bucket = 7 [packed = true];
}

message TensorShapeProto {
  message Dim {
    int64 size = 1;
    string name = 2;
  }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}

message TensorProto {
  int32 dtype = 1;  // DataType enum: DT_FLOAT = 1, DT_STRING = 7
  TensorShapeProto tensor_shape = 2;
  int32 version_number = 3;
  bytes tensor_content = 4;
  repeated float float_val = 5 [packed = true];
  repeated bytes string_val = 8;
}
"""

DT_STRING = 7


def compile_protos(workdir):
    with open(os.path.join(workdir, "tbref.proto"), "w") as f:
        f.write(TENSORBOARD_PROTO)
    subprocess.run(["protoc", f"--python_out={workdir}", f"-I{workdir}", "tbref.proto"],
                   check=True)
    sys.path.insert(0, workdir)
    return importlib.import_module("tbref_pb2")


# --- Record framing and CRC32C ----------------------------------------------------------------

def _crc32c_table():
    table = []
    for b in range(256):
        r = b
        for _ in range(8):
            r = (r >> 1) ^ 0x82F63B78 if r & 1 else r >> 1
        table.append(r)
    return table


CRC_TABLE = _crc32c_table()


def crc32c(data):
    r = 0xFFFFFFFF
    for byte in data:
        r = CRC_TABLE[(r ^ byte) & 0xFF] ^ (r >> 8)
    return r ^ 0xFFFFFFFF


def masked_crc(data):
    c = crc32c(data)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


class RecordError(Exception):
    pass


def read_records(path):
    """Every record payload of a TFRecord file; RecordError on a bad CRC or a torn record."""
    with open(path, "rb") as f:
        data = f.read()
    records, pos = [], 0
    while pos < len(data):
        if pos + 12 > len(data):
            raise RecordError(f"truncated record header at byte {pos}")
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if length_crc != masked_crc(header):
            raise RecordError(f"length CRC mismatch at byte {pos}")
        end = pos + 12 + length + 4
        if end > len(data):
            raise RecordError(f"truncated record at byte {pos}")
        payload = data[pos + 12:pos + 12 + length]
        (payload_crc,) = struct.unpack("<I", data[end - 4:end])
        if payload_crc != masked_crc(payload):
            raise RecordError(f"payload CRC mismatch at byte {pos}")
        records.append(payload)
        pos = end
    return records


# --- Expected values, computed here -------------------------------------------------------

def default_histogram_edges():
    """glassbox's histogram buckets, built from their definition: in each octave [2^e, 2^(e+1))
    from e = -40 up the edges (1 + j/8) * 2^e, j = 0..7; 2^128 on top; mirrored, with 0 between
    (so [0, 2^-40) and [-2^-40, 0) take every smaller magnitude)."""
    positive = [(1 + j / 8) * 2.0 ** e for e in range(-40, 128) for j in range(8)]
    positive.append(2.0 ** 128)
    return np.array([-x for x in reversed(positive)] + [0.0] + positive)


def expected_histogram(values):
    finite = values[np.isfinite(values)].astype(np.float64)
    edges = default_histogram_edges()
    counts, _ = np.histogram(finite, bins=edges)
    nonzero = np.nonzero(counts)[0]
    first, last = nonzero[0], nonzero[-1]
    limits = edges[first:last + 2]  # left edge of the first bucket, then right edges
    buckets = np.concatenate([[0], counts[first:last + 1]])
    return finite, limits, buckets


def decode_png(data):
    """(format Pillow detected, pixels); Pillow checks the PNG's own chunk CRCs as it reads."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.format, np.array(image)


def read_events(path, pb):
    """Every Event of an event file, parsed with the classes `pb` from compile_protos()."""
    events = []
    for payload in read_records(path):
        event = pb.Event()
        event.ParseFromString(payload)
        events.append(event)
    return events
