"""aclcmp's weight-MD5 dump (docs/formats.md, docs/compare.md): modules with a weight are
keyed by the MD5 of their bias (else weight) bytes, so an ATB kernel whose input hashes the same
can be paired with the module.

    set_dump_path(dump_path=".", dump_tag="ait_dump", backend="pt", is_save_md5=False)
    register_hook(model, op_list=[], dump_start_token_id=0, dump_end_token_id=-1)

Layout: {dump_path}/{dump_tag}/{PID}/{n}/{module_name}_output.npy and
{dump_path}/{dump_tag}/{PID}/metadata.json = {"<n - start>": {"<md5>": ["<abs .npy path>"]}},
n = how many times that module ran before (its own call counter), the first path of an md5 in a
token kept. module_name is the named_modules name ("" for the model itself).
"""
import hashlib
import os

import torch

from ._writer import FailureLog, HookHandle, check_int, ensure_writable_dir, guarded, save_npy, tensor_bytes, write_json


def set_dump_path(dump_path=".", dump_tag="ait_dump", backend="pt", is_save_md5=False):
    """backend "pt": creates {dump_path}/{dump_tag} and exports it as AIT_DIALOG_DUMP_PATH.
    backend "acl" (or is_save_md5=True): exports AIT_IS_SAVE_MD5=1 for the ATB side's
    libtensorutil.so. Returns the pt folder (None for acl)."""
    if backend not in ("pt", "acl"):
        raise ValueError(f"aitdb: backend must be 'pt' or 'acl', got {backend!r}")
    if not isinstance(dump_tag, str) or not dump_tag or "/" in dump_tag:
        raise ValueError(f"aitdb: dump_tag must be a folder name, got {dump_tag!r}")
    folder = None
    if backend == "pt":
        folder = ensure_writable_dir(os.path.join(os.fspath(dump_path), dump_tag), "dump_path")
        os.environ["AIT_DIALOG_DUMP_PATH"] = folder
    if backend == "acl" or is_save_md5:
        os.environ["AIT_IS_SAVE_MD5"] = "1"
    return folder


def keyed_tensor(module):
    """The tensor whose MD5 keys MODULE: its bias if it has one, else its weight."""
    bias = getattr(module, "bias", None)
    return bias if isinstance(bias, torch.Tensor) else module.weight


def weight_md5(module):
    """MD5 hex of keyed_tensor(module)'s bytes (C order, stored dtype)."""
    return hashlib.md5(tensor_bytes(keyed_tensor(module))).hexdigest()


def _first_tensor(output):
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (list, tuple)):
        return next((o for o in output if isinstance(o, torch.Tensor)), None)
    return None


class Md5Handle(HookHandle):
    @property
    def metadata_path(self):
        return self._state.meta_path


class _Md5State:
    def __init__(self, base, start, end):
        self.base = os.path.join(base, str(os.getpid()))
        self.meta_path = os.path.join(self.base, "metadata.json")
        self.start, self.end = start, end
        self.calls = {}
        self.md5_cache = {}
        self.meta = {}
        self.failures = FailureLog("weight-MD5 dump")

    def md5(self, module):
        t = keyed_tensor(module)
        key = (t.data_ptr(), t._version, t.dtype, tuple(t.shape))
        cached = self.md5_cache.get(module)
        if cached is None or cached[0] != key:
            cached = (key, weight_md5(module))
            self.md5_cache[module] = cached
        return cached[1]

    def hook(self, name, module, output):
        n = self.calls.get(module, 0)
        self.calls[module] = n + 1
        if n < self.start or (self.end > 0 and n >= self.end):
            return
        out = _first_tensor(output)
        if out is None:
            return
        folder = os.path.join(self.base, str(n))
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{name}_output.npy")
        save_npy(out, path)
        token = self.meta.setdefault(str(n - self.start), {})
        md5 = self.md5(module)
        if md5 not in token:
            token[md5] = [path]
            write_json(self.meta_path, self.meta)


def _op_matches(module, op_list):
    return any(isinstance(module, op) if isinstance(op, type) else type(module).__name__ == op for op in op_list)


def register_hook(model, op_list=None, dump_start_token_id=0, dump_end_token_id=-1):
    """Hooks every module of MODEL that has a weight tensor (only instances of OP_LIST's classes
    or class names when given). Dumps calls n with start <= n and (end <= 0 or n < end), n being
    each module's own call count. Needs set_dump_path() first (or AIT_DUMP_PATH)."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"aitdb: register_hook needs a torch.nn.Module, got {type(model).__name__}")
    op_list = list(op_list or [])
    for op in op_list:
        if not (isinstance(op, type) or (isinstance(op, str) and op)):
            raise TypeError(f"aitdb: op_list holds module classes or class names, got {op!r}")
    start = check_int(dump_start_token_id, "dump_start_token_id", 0)
    end = check_int(dump_end_token_id, "dump_end_token_id", -1)
    if 0 < end <= start:
        raise ValueError(f"aitdb: dump_end_token_id {end} leaves no token after dump_start_token_id {start}")
    base = os.environ.get("AIT_DIALOG_DUMP_PATH") or os.environ.get("AIT_DUMP_PATH")
    if not base:
        raise ValueError("aitdb: no dump folder; call aitdb.md5_hooks.set_dump_path() first")
    state = _Md5State(ensure_writable_dir(base, "AIT_DIALOG_DUMP_PATH"), start, end)
    handles = []
    for name, m in model.named_modules():
        if not isinstance(getattr(m, "weight", None), torch.Tensor):
            continue
        if op_list and not _op_matches(m, op_list):
            continue
        hook = guarded(state.failures, lambda mod, _in, out, _n=name: state.hook(_n, mod, out))
        handles.append(m.register_forward_hook(hook))
    return Md5Handle(state, handles)
