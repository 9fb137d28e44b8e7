"""Builds .pth files for the reader tests with Debian's torch: genuine torch.save output plus
hand-crafted hostile archives. Usage: make_pth.py OUTDIR"""
import collections
import io
import os
import struct
import sys
import zipfile

import torch

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def p(name):
    return os.path.join(out, name)


torch.save(torch.arange(6, dtype=torch.float16).reshape(2, 3), p("contiguous.pth"))
base = torch.arange(12, dtype=torch.bfloat16).reshape(3, 4)
torch.save(base[1:, 1:3], p("view.pth"))
torch.save(base.t(), p("transposed.pth"))
torch.save(torch.nn.Parameter(torch.ones(2, 2)), p("param.pth"))
torch.save(torch.tensor(True), p("scalar_bool.pth"))
t = torch.arange(6, dtype=torch.float32).reshape(2, 3)
torch.save(collections.OrderedDict([("a", t), ("b", t[1])]), p("state_dict.pth"))
torch.save({"w": torch.tensor([1, -2], dtype=torch.int64), "step": 3, "name": "x",
            "nested": {"v": torch.tensor([0.5], dtype=torch.float64)}}, p("plain_dict.pth"))
torch.save([torch.tensor([1, 2], dtype=torch.int8), torch.tensor([3], dtype=torch.uint8)], p("list.pth"))
torch.save(torch.tensor([1.5, -2.0], dtype=torch.float32), p("proto4.pth"), pickle_protocol=4)
torch.save(torch.tensor([1.0 + 2.0j], dtype=torch.complex64), p("complex.pth"))
torch.save(torch.tensor([1.0]), p("legacy.pth"), _use_new_zipfile_serialization=False)


def zip_with(path, entries):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in entries:
            z.writestr(name, data)


# A pickle that would run os.system if it were unpickled by Python.
zip_with(p("evil_global.pth"), [("evil/data.pkl", b"cos\nsystem\n(S'echo pwned'\ntR."), ("evil/version", b"3\n")])
# A pickle naming an allowed module but a function outside the allow-list.
zip_with(p("evil_torch.pth"), [("evil/data.pkl", b"ctorch\nload\n(S'x'\ntR."), ("evil/version", b"3\n")])
# Unknown opcode (EXT1).
zip_with(p("evil_opcode.pth"), [("evil/data.pkl", b"\x80\x02\x82\x01."), ("evil/version", b"3\n")])
# Entry names that climb out of the archive.
zip_with(p("traversal.pth"), [("../escape/data.pkl", b"N."), ("../escape/version", b"3\n")])
# No data.pkl at all.
zip_with(p("no_pickle.pth"), [("x/version", b"3\n")])
# Pickle of plain scalars only.
zip_with(p("no_tensor.pth"), [("x/data.pkl", b"\x80\x02K\x05."), ("x/version", b"3\n")])

# Storage shorter than the tensor claims: replace data/0 of a genuine file with 4 bytes.
with zipfile.ZipFile(p("contiguous.pth")) as src:
    entries = [(i.filename, src.read(i.filename)) for i in src.infolist()]
zip_with(p("short_storage.pth"), [(n, d[:4] if n.endswith("/data/0") else d) for n, d in entries])

# Lying sizes: patch the central-directory sizes of data/0 to 2 GiB.
raw = bytearray(open(p("contiguous.pth"), "rb").read())
pos = 0
while True:
    pos = raw.find(b"PK\x01\x02", pos)
    if pos < 0:
        break
    name_len = struct.unpack_from("<H", raw, pos + 28)[0]
    name = bytes(raw[pos + 46:pos + 46 + name_len])
    if name.endswith(b"/data/0"):
        struct.pack_into("<I", raw, pos + 20, 0x7FFFFFFF)
        struct.pack_into("<I", raw, pos + 24, 0x7FFFFFFF)
    pos += 4
open(p("lying_size.pth"), "wb").write(raw)

full = open(p("contiguous.pth"), "rb").read()
open(p("truncated.pth"), "wb").write(full[: len(full) // 2])
