"""File writing shared by every dump flavour: tensors to .pth / .npy, JSON index files, folder
checks, and the log-once policy for failures inside hooks."""
import json
import logging
import os
import time

import numpy as np
import torch

logger = logging.getLogger("aitdb")


class DumpPathError(OSError):
    """A dump folder cannot be created or written."""


def timestamp():
    """Local time as msit names its dump roots: YYYYMMDD_HHMMSS."""
    return time.strftime("%Y%m%d_%H%M%S")


def ensure_writable_dir(path, what="dump_path"):
    """Creates PATH if needed and proves it writable by creating and removing a probe file.
    Raises DumpPathError naming WHAT otherwise. Returns the absolute path."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"aitdb: {what} must be a path, got {type(path).__name__}")
    path = os.path.abspath(os.fspath(path))
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, f".aitdb_probe_{os.getpid()}")
        with open(probe, "wb"):
            pass
        os.remove(probe)
    except OSError as e:
        raise DumpPathError(e.errno, f"aitdb: {what} '{path}' is not writable: {e.strerror or e}") from e
    return path


def compact(t):
    """The tensor to save for T: T itself (detached) when it owns exactly its storage, else a
    contiguous copy of its elements. torch.save writes a view's whole base storage, which can be
    far larger than the view (a slice of a KV cache, one chunk of a split)."""
    base = t._base  # cheaper than t.storage(); a tensor that is not a view owns its storage
    t = t.detach()
    if t.is_contiguous() and t.storage_offset() == 0 and (base is None or base.numel() == t.numel()):
        return t
    return t.clone(memory_format=torch.contiguous_format)


def save_pth(t, path):
    torch.save(compact(t), path)


def to_numpy(t):
    """A CPU ndarray of T's values; bfloat16 (no numpy dtype) becomes float32."""
    if isinstance(t, np.ndarray):
        return t
    t = t.detach().cpu()
    if t.dtype == torch.bfloat16:
        t = t.float()
    return t.numpy()


def save_npy(t, path):
    np.save(path, to_numpy(t), allow_pickle=False)


def tensor_bytes(t):
    """Raw bytes of T in C order and its stored dtype (what numpy().tobytes() gives, bf16 too)."""
    t = t.detach().cpu().contiguous()
    if t.numel() == 0:
        return b""
    return t.reshape(-1).view(torch.uint8).numpy().tobytes()


def write_json(path, obj):
    """Writes OBJ to PATH atomically (a reader never sees half a file)."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(obj, ensure_ascii=False))  # one write; json.dump writes piece by piece
    os.replace(tmp, path)


class FailureLog:
    """Hooks must never break the model: every failure is counted, the first one is logged as a
    warning with its reason, later ones only at debug level."""

    def __init__(self, what):
        self.what = what
        self.count = 0

    def report(self, exc, where=""):
        self.count += 1
        detail = f"{where}: {exc}" if where else str(exc)
        if self.count == 1:
            logger.warning("aitdb: %s failed (%s: %s); the model goes on, further failures are logged at debug level",
                           self.what, type(exc).__name__, detail)
        else:
            logger.debug("aitdb: %s failed again (%s: %s)", self.what, type(exc).__name__, detail)


def check_int(value, name, minimum=None):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"aitdb: {name} must be an int, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"aitdb: {name} must be >= {minimum}, got {value}")
    return value


def check_data_id(data_id):
    """data_id names a label: a non-empty string or a non-negative int, used as a file name."""
    if isinstance(data_id, bool) or not isinstance(data_id, (str, int)):
        raise TypeError(f"aitdb: data_id must be a str or an int, got {data_id!r}")
    if isinstance(data_id, int):
        check_int(data_id, "data_id", 0)
    s = str(data_id)
    if not s or "/" in s or os.sep in s or s in (".", ".."):
        raise ValueError(f"aitdb: data_id {data_id!r} cannot name a file")
    return s


def guarded(failures, fn):
    """FN as a hook that reports its exceptions to FAILURES instead of raising them."""
    def hook(*args):
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001 - the model's forward pass must go on
            failures.report(e)
    return hook


class HookHandle:
    """What a register_hook returns: remove() takes the hooks off the model; failures counts the
    dumps that failed (the first one was logged)."""

    def __init__(self, state, handles):
        self._state, self._handles = state, handles

    @property
    def failures(self):
        return self._state.failures.count

    def remove(self):
        for h in self._handles:
            h.remove()
        self._handles = []
