#!/usr/bin/python3
"""The plain reference of the decode benchmark: walk two raw ATB dump trees, read every tensor
file pair (same path below the root), compute the cosine similarity, and print how many pairs,
bytes and seconds it took. No warehouse, no other metric: what a user would write in numpy.

usage: /usr/bin/python3 numpy_pair_loop.py GOLDEN_ROOT MY_ROOT
"""
import os
import sys
import time

import numpy as np

# ATB dtype codes (aclDataType) this loop reads; bf16 is widened by hand (numpy has no bf16).
DTYPES = {0: np.float32, 1: np.float16, 27: "bf16"}
END = b"$End=1\n"


def read_atb_bin(path):
    """The `data` object of an ATB TensorBinFile as float32 (text header up to `$End=1`)."""
    with open(path, "rb") as f:
        raw = f.read()
    end = raw.index(END) + len(END)
    header = dict(line.split("=", 1) for line in raw[: end - 1].decode().split("\n") if "=" in line)
    offset, length = (int(v) for v in header.get("$Object.data", "0,%d" % (len(raw) - end)).split(","))
    payload = raw[end + offset : end + offset + length]
    dtype = DTYPES[int(header["dtype"])]
    if dtype == "bf16":
        return (np.frombuffer(payload, np.uint16).astype(np.uint32) << 16).view(np.float32)
    return np.frombuffer(payload, dtype).astype(np.float32)


def cosine(a, b):
    den = float(np.linalg.norm(a)) * float(np.linalg.norm(b))
    return float(np.dot(a, b)) / den if den else float("nan")


def main():
    golden, my = sys.argv[1], sys.argv[2]
    start = time.perf_counter()
    pairs = 0
    nbytes = 0
    lowest = (2.0, "")
    for directory, _, files in os.walk(os.path.join(golden, "tensors")):
        for name in files:
            if not name.endswith(".bin"):
                continue
            g_path = os.path.join(directory, name)
            m_path = os.path.join(my, os.path.relpath(g_path, golden))
            if not os.path.exists(m_path):
                continue
            a, b = read_atb_bin(g_path), read_atb_bin(m_path)
            c = cosine(a, b)
            pairs += 1
            nbytes += os.path.getsize(g_path) + os.path.getsize(m_path)
            if c < lowest[0]:
                lowest = (c, os.path.relpath(g_path, golden))
    seconds = time.perf_counter() - start
    print("pairs=%d" % pairs)
    print("bytes=%d" % nbytes)
    print("seconds=%.3f" % seconds)
    print("lowest_cosine=%.6f %s" % lowest)


if __name__ == "__main__":
    main()
