"""Minimal safetensors writer/reader for the Python tools (F32/F16), so they
need nothing beyond numpy and torch."""
import json
import struct

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16}


def write(path, tensors, metadata, dtype="F32"):
    """tensors: list of (name, numpy array); written in order."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, arr in tensors:
        raw = np.ascontiguousarray(arr, dtype=DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    js = json.dumps(header).encode()
    js += b" " * (-len(js) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)) + js + b"".join(blobs))


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        b, en = e["data_offsets"]
        out[name] = np.frombuffer(data[b:en], dtype=DTYPES[e["dtype"]]).reshape(e["shape"]).astype(np.float32)
    return out, meta
