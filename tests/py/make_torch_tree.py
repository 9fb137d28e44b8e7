"""Writes a small torch golden dump (docs/formats.md) under OUTDIR/msit_dump_20250101_000000."""
import json
import os
import sys

import torch

root = os.path.join(sys.argv[1], "msit_dump_20250101_000000", "torch_tensors", "npu0_55")
os.makedirs(root, exist_ok=True)


def save(rel, t):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(t, path)


tree = {"name": "root", "type": "Model", "children": [{"name": "root.layer", "type": "Linear", "children": []}]}
with open(os.path.join(root, "model_tree.json"), "w") as f:
    json.dump(tree, f)
save("weights/root.layer.weight.pth", torch.nn.Parameter(torch.eye(2)))
for token in (0, 1):
    x = torch.full((1, 2), float(token + 1), dtype=torch.float16)
    save(f"{token}/root.layer/input_0.pth", x)
    save(f"{token}/root.layer/input_1_0.pth", x * 2)
    save(f"{token}/root.layer/output_0.pth", x.clone())
    save(os.path.join(str(token), "root", "output.pth"), x)  # the model itself is module "root"
