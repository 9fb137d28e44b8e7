"""Independent check of aitdb's format writers and dtype table (tests/test_npy_safetensors.cpp).

Usage: check_formats.py DIR OUT.json
Loads every *.npy in DIR with numpy, parses every *.safetensors with struct + json (no
safetensors package), looks up every torch storage class named in DIR/storages.txt in torch,
and writes what it found as JSON.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

src, out = sys.argv[1], sys.argv[2]
result = {"npy": {}, "safetensors": {}, "storages": {}}
for name in sorted(os.listdir(src)):
    path = os.path.join(src, name)
    if name.endswith(".npy"):
        a = np.load(path, allow_pickle=False)
        result["npy"][name] = {"dtype": a.dtype.str, "shape": list(a.shape),
                               "values": [float(v) for v in a.ravel().tolist()]}
    elif name.endswith(".safetensors"):
        with open(path, "rb") as f:
            blob = f.read()
        (n,) = struct.unpack("<Q", blob[:8])
        header = json.loads(blob[8:8 + n])
        entries = {}
        for key, e in header.items():
            if key == "__metadata__":
                continue
            begin, end = e["data_offsets"]
            data = blob[8 + n + begin:8 + n + end]
            entries[key] = {"dtype": e["dtype"], "shape": e["shape"], "nbytes": len(data),
                            "f32": list(struct.unpack("<%df" % (len(data) // 4), data)) if e["dtype"] == "F32" else None}
        result["safetensors"][name] = {"entries": entries, "metadata": header.get("__metadata__"),
                                       "covered": max(e["data_offsets"][1] for k, e in header.items() if k != "__metadata__") == len(blob) - 8 - n}
    elif name == "storages.txt":
        with open(path) as f:
            for line in f.read().split():
                cls = getattr(torch, line, None)
                result["storages"][line] = str(cls.dtype) if cls is not None and hasattr(cls, "dtype") else None
with open(out, "w") as f:
    json.dump(result, f)
