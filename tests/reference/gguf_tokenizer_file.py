"""Writes a GGUF v3 file that holds only metadata (no tensors), following the GGUF specification
byte by byte. The tokenizer reference tests use it to hand reference vocabularies to glassbox
without going through glassbox's own GGUF writer."""
import struct

U32, I32, F32, BOOL, STRING, ARRAY = 4, 5, 6, 7, 8, 9


def _string(s):
    b = s.encode("utf-8") if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def _value(kind, v):
    if kind == U32:
        return struct.pack("<I", v)
    if kind == I32:
        return struct.pack("<i", v)
    if kind == F32:
        return struct.pack("<f", v)
    if kind == BOOL:
        return struct.pack("<?", v)
    if kind == STRING:
        return _string(v)
    raise ValueError(kind)


def write_gguf(path, metadata):
    """metadata: list of (key, kind, value); for arrays kind is (ARRAY, element kind)."""
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, 0, len(metadata)))
    for key, kind, value in metadata:
        out += _string(key)
        if isinstance(kind, tuple):
            out += struct.pack("<IIQ", ARRAY, kind[1], len(value))
            for item in value:
                out += _value(kind[1], item)
        else:
            out += struct.pack("<I", kind) + _value(kind, value)
    out += b"\0" * (-len(out) % 32)
    with open(path, "wb") as f:
        f.write(out)
