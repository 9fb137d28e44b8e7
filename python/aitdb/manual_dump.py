"""msit's manual golden dump (docs/formats.md, docs/compare.md):

    dump_data(token_id, data_id, golden_data, my_path, output_path="./")

saves GOLDEN_DATA to {output_path}/msit_dump_{TS}/{PID}_{device}/golden_tensor/{token_id}/{data_id}_tensor.pth
and records [golden path, my_path] in golden_tensor/metadata.json as
{"<data_id>": {"<token_id>": [golden, my]}}. One msit_dump_{TS} folder per process and
output_path. Unlike msit, a data_id keeps every token it was dumped for (msit replaced the whole
entry, so only the last token survived); readers of msit's format read both alike.
"""
import os

import torch

from ._writer import check_data_id, check_int, ensure_writable_dir, save_pth, timestamp, write_json

_roots = {}  # abs output_path -> msit_dump_{TS} folder of this process
_metadata = {}  # metadata.json path -> its content


def _dump_root(output_path):
    key = os.path.abspath(output_path)
    if key not in _roots:
        _roots[key] = os.path.join(ensure_writable_dir(key, "output_path"), f"msit_dump_{timestamp()}")
    return _roots[key]


def dump_data(token_id=-1, data_id=-1, golden_data=None, my_path="", output_path="./"):
    """Returns the path of the saved golden .pth."""
    check_int(token_id, "token_id", 0)
    data_id = check_data_id(data_id)
    if not isinstance(golden_data, torch.Tensor):
        raise TypeError(f"aitdb: golden_data must be a torch.Tensor, got {type(golden_data).__name__}")
    if not isinstance(my_path, (str, os.PathLike)) or not os.fspath(my_path):
        raise ValueError("aitdb: my_path must name the my-side tensor file")
    my_path = os.path.abspath(os.fspath(my_path))
    if not os.path.isfile(my_path) or not os.access(my_path, os.R_OK):
        raise FileNotFoundError(f"aitdb: my_path '{my_path}' is not a readable file")
    rank = f"{os.getpid()}_{golden_data.get_device()}"
    golden_dir = os.path.join(_dump_root(output_path), rank, "golden_tensor")
    token_dir = ensure_writable_dir(os.path.join(golden_dir, str(token_id)), "output_path")
    path = os.path.join(token_dir, f"{data_id}_tensor.pth")
    save_pth(golden_data, path)
    meta_path = os.path.join(golden_dir, "metadata.json")
    meta = _metadata.setdefault(meta_path, {})
    meta.setdefault(data_id, {})[str(token_id)] = [path, my_path]
    write_json(meta_path, meta)
    return path
