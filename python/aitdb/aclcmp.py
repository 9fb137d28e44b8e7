"""The older aclcmp code-insertion flows (docs/formats.md, docs/compare.md/c).

dump_data(data_src, data_id, data_val=None, tensor_path=None, token_id=0)
    data_src "golden" or "acl". A value is saved with np.save to
    {out}/{PID}_cmp_dump_data/{golden|acl}_tensor/{token_id}/{data_id}_tensor.npy; an acl
    tensor_path (low level) names a file of the ATB dump,
    $ASDOPS_LOG_TO_FILE_DIR/tensors/thread_{PID}/{token_id}/{tensor_path}, and is appended to
    /tmp/{AIT_CMP_TASK_PID}/ait_compare_acl_map.txt. Each side's metadata.json
    {"<data_id>": {"<token_id>": "<path>"}} sits in {golden|acl}_tensor/.

set_label(data_src, data_id, data_val=None, tensor_path=None)
    data_src "pta" or "acl"; the same, keyed by the current task id instead of a token:
    {out}/{PID}_cmp_dump_data/{pta|acl}_tensor/{task_id}/{data_id}_tensor.npy, low level
    $ASDOPS_LOG_TO_FILE_DIR/tensors/{PID}/{task_id}/{tensor_path}; metadata.json
    {"<data_id>": {"<task_id>": "<path>"}}.

set_task_id() starts the next task "{PID}_{n}" (n = 0, 1, ...) and exports it as AIT_CMP_TASK_ID;
set_label uses exactly that id (aclcmp's set_label wanted a purely numeric id that set_task_id
never produced, so its labels were never recorded). gen_id() returns "data_" + str(time.time()),
strictly increasing within the process.

{out} is the current folder unless output_dir= is given. bfloat16 values are saved as float32
(numpy has no bfloat16).
"""
import math
import os
import time

import numpy as np
import torch

from ._writer import check_data_id, check_int, ensure_writable_dir, save_npy, write_json

_metadata = {}
_task = {"n": -1, "id": None}
_last_id = [0.0]


def _out_dir(output_dir):
    base = "." if output_dir is None else output_dir
    return os.path.join(os.path.abspath(base), f"{os.getpid()}_cmp_dump_data")


def _check_value(data_val, tensor_path, data_src, low_level_src):
    if (data_val is None) == (tensor_path is None):
        raise ValueError("aitdb: give exactly one of data_val (a tensor) and tensor_path")
    if data_val is not None and not isinstance(data_val, (torch.Tensor, np.ndarray)):
        raise TypeError(f"aitdb: data_val must be a torch.Tensor or numpy.ndarray, got {type(data_val).__name__}")
    if tensor_path is not None:
        if data_src != low_level_src:
            raise ValueError(f"aitdb: tensor_path (low level) is only for data_src '{low_level_src}'")
        if not isinstance(tensor_path, str) or not tensor_path or os.path.isabs(tensor_path):
            raise ValueError(f"aitdb: tensor_path must be a path relative to the ATB dump, got {tensor_path!r}")


def _acl_whitelist(tensor_path):
    task_pid = os.environ.get("AIT_CMP_TASK_PID", str(os.getpid()))
    folder = ensure_writable_dir(os.path.join("/tmp", task_pid), "acl map folder")
    with open(os.path.join(folder, "ait_compare_acl_map.txt"), "a", encoding="utf-8") as f:
        f.write(tensor_path + "\n")


def _atb_root():
    return os.path.abspath(os.environ.get("ASDOPS_LOG_TO_FILE_DIR", "."))


def _record(side_dir, data_id, key, data_val, tensor_path, low_level_dir):
    """Saves the value (or resolves the low-level path) and updates SIDE_DIR/metadata.json."""
    if data_val is not None:
        folder = ensure_writable_dir(os.path.join(side_dir, key), "output_dir")
        path = os.path.join(folder, f"{data_id}_tensor.npy")
        save_npy(data_val, path)
    else:
        path = os.path.join(low_level_dir, tensor_path)
        _acl_whitelist(tensor_path)
    ensure_writable_dir(side_dir, "output_dir")
    meta_path = os.path.join(side_dir, "metadata.json")
    meta = _metadata.setdefault(meta_path, {})
    meta.setdefault(data_id, {})[key] = path
    write_json(meta_path, meta)
    return path


def dump_data(data_src, data_id, data_val=None, tensor_path=None, token_id=0, *, output_dir=None):
    """Returns the path recorded in metadata.json."""
    if data_src not in ("golden", "acl"):
        raise ValueError(f"aitdb: data_src must be 'golden' or 'acl', got {data_src!r}")
    data_id = check_data_id(data_id)
    check_int(token_id, "token_id", 0)
    _check_value(data_val, tensor_path, data_src, "acl")
    side_dir = os.path.join(_out_dir(output_dir), f"{data_src}_tensor")
    low = os.path.join(_atb_root(), "tensors", f"thread_{os.getpid()}", str(token_id))
    return _record(side_dir, data_id, str(token_id), data_val, tensor_path, low)


def set_task_id():
    """Starts the next task and returns its id "{PID}_{n}"."""
    _task["n"] += 1
    _task["id"] = f"{os.getpid()}_{_task['n']}"
    os.environ["AIT_CMP_TASK_ID"] = _task["id"]
    return _task["id"]


def current_task_id():
    """The id set_label records under; the first call of set_label starts task "{PID}_0"."""
    return _task["id"] if _task["id"] is not None else set_task_id()


def set_label(data_src, data_id, data_val=None, tensor_path=None, *, output_dir=None):
    """Returns the path recorded in metadata.json."""
    if data_src not in ("pta", "acl"):
        raise ValueError(f"aitdb: data_src must be 'pta' or 'acl', got {data_src!r}")
    data_id = check_data_id(data_id)
    _check_value(data_val, tensor_path, data_src, "acl")
    task = current_task_id()
    side_dir = os.path.join(_out_dir(output_dir), f"{data_src}_tensor")
    low = os.path.join(_atb_root(), "tensors", str(os.getpid()), task)
    return _record(side_dir, data_id, task, data_val, tensor_path, low)


def gen_id():
    now = time.time()
    if now <= _last_id[0]:
        now = math.nextafter(_last_id[0], math.inf)
    _last_id[0] = now
    return "data_" + str(now)
