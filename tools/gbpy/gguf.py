"""A small GGUF (v3) reader and writer in pure Python + NumPy, independent of glassbox's C++ code.

Used by tests to craft files (including malformed ones) and to check what glassbox wrote.
Metadata values keep their GGUF type: {key: (type, value)}; arrays are (ARRAY, (elem_type, [..])).
Tensors: list of dicts {name, shape (row-major), type (ggml id), data (bytes)}.
"""
import struct

import numpy as np

U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
_SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f",
           BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}
GGML_F32, GGML_F16, GGML_Q4_0, GGML_Q8_0, GGML_BF16 = 0, 1, 2, 8, 30
_BLOCK = {GGML_F32: (1, 4), GGML_F16: (1, 2), GGML_Q4_0: (32, 18), GGML_Q8_0: (32, 34),
          GGML_BF16: (1, 2)}


def tensor_bytes(shape, ggml_type):
    n = int(np.prod(shape))
    per, size = _BLOCK[ggml_type]
    return n // per * size


class _Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.data, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.data[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def value(self, t):
        if t == STRING:
            return self.string()
        if t == ARRAY:
            et, n = self.take("<I"), self.take("<Q")
            return (et, [self.value(et) for _ in range(n)])
        return self.take(_SCALAR[t])


def read(path):
    """Returns (metadata, tensors, alignment)."""
    data = open(path, "rb").read()
    r = _Reader(data)
    assert r.take("<I") == 0x46554747, "not GGUF"
    version = r.take("<I")
    assert version in (2, 3)
    n_tensors, n_kv = r.take("<Q"), r.take("<Q")
    meta = {}
    for _ in range(n_kv):
        key = r.string()
        t = r.take("<I")
        meta[key] = (t, r.value(t))
    align = meta.get("general.alignment", (U32, 32))[1]
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        nd = r.take("<I")
        ne = [r.take("<Q") for _ in range(nd)]
        ty, off = r.take("<I"), r.take("<Q")
        infos.append((name, ne[::-1], ty, off))
    base = (r.pos + align - 1) // align * align
    tensors = []
    for name, shape, ty, off in infos:
        nbytes = tensor_bytes(shape, ty)
        tensors.append({"name": name, "shape": shape, "type": ty,
                        "data": data[base + off: base + off + nbytes]})
    return meta, tensors, align


def _pack_value(t, v):
    if t == STRING:
        b = v.encode("utf-8")
        return struct.pack("<Q", len(b)) + b
    if t == ARRAY:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(_pack_value(et, x) for x in items)
    return struct.pack(_SCALAR[t], v)


def write(path, meta, tensors, align=32):
    out = bytearray(struct.pack("<IIQQ", 0x46554747, 3, len(tensors), len(meta)))
    for key, (t, v) in meta.items():
        out += _pack_value(STRING, key) + struct.pack("<I", t) + _pack_value(t, v)
    offset = 0
    for t in tensors:
        out += _pack_value(STRING, t["name"]) + struct.pack("<I", len(t["shape"]))
        out += b"".join(struct.pack("<Q", d) for d in t["shape"][::-1])
        out += struct.pack("<IQ", t["type"], offset)
        offset += (len(t["data"]) + align - 1) // align * align
    out += b"\0" * (-len(out) % align)
    for t in tensors:
        out += t["data"] + b"\0" * (-len(t["data"]) % align)
    with open(path, "wb") as f:
        f.write(out)


def dequantize(t):
    """A tensor dict's values as float32 [shape]."""
    ty, raw, shape = t["type"], t["data"], t["shape"]
    if ty == GGML_F32:
        return np.frombuffer(raw, np.float32).reshape(shape)
    if ty == GGML_F16:
        return np.frombuffer(raw, np.float16).astype(np.float32).reshape(shape)
    if ty == GGML_BF16:
        return (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(shape)
    if ty == GGML_Q8_0:
        b = np.frombuffer(raw, np.dtype([("d", "<f2"), ("q", "i1", 32)]))
        return (b["d"].astype(np.float32)[:, None] * b["q"]).reshape(shape)
    if ty == GGML_Q4_0:
        b = np.frombuffer(raw, np.dtype([("d", "<f2"), ("q", "u1", 16)]))
        lo, hi = (b["q"] & 15).astype(np.int8) - 8, (b["q"] >> 4).astype(np.int8) - 8
        return (b["d"].astype(np.float32)[:, None] * np.concatenate([lo, hi], 1)).reshape(shape)
    raise ValueError(f"type {ty}")
