"""DumpConfig: what register_hook dumps and where (msit's torch dump options, docs/formats.md)."""
import os
import re

from ._writer import check_int, ensure_writable_dir, timestamp

_MODES = ("module", "api")


def _normalise_mode(mode):
    if isinstance(mode, str):
        modes = ["module", "api"] if mode == "all" else [mode]
    elif isinstance(mode, (list, tuple)):
        modes = list(mode)
    else:
        raise TypeError(f"aitdb: mode must be 'module', 'api', 'all' or a list of them, got {mode!r}")
    for m in modes:
        if m not in _MODES:
            raise ValueError(f"aitdb: unknown mode {m!r}; expected 'module', 'api' or 'all'")
    if not modes:
        raise ValueError("aitdb: mode must name at least one of 'module', 'api'")
    return tuple(dict.fromkeys(modes))


def _glob_regex(pattern):
    """layer_name is a glob whose only wildcard is '*'."""
    return re.compile("^" + ".*".join(re.escape(p) for p in pattern.split("*")) + "$")


class DumpConfig:
    """What to dump from a torch model.

    dump_path      folder that receives msit_dump_{YYYYMMDD_HHMMSS}/ (default: the current folder)
    token_range    iterable of token indices to dump (default [0]); token k is the k-th call of
                   the root module's forward
    module_list    class names (e.g. ["Linear", "LlamaMLP"]); only those modules are dumped
                   (default: all)
    tensor_part    0 inputs, 1 outputs, 2 both (int or "0"/"1"/"2")
    device_id      dump only when the model's device index equals it (default: any)
    dump_weight    also write weights/root.{param}.pth once, at register_hook
    layer_name     glob ('*' only) on the full module name (root.model.layers.*.mlp); filters
                   both module dumps and weights
    mode           'module' (forward hooks), 'api' (torch functions called inside modules,
                   in folder {module}.{api}), or 'all' / ['module', 'api']
    dump_last_logits  per token, only the output of the last sub-module that returned a tensor
                   before the root finished (typically root.lm_head)
    dump_statistics_mode  0 tensors only, 1 statistics.csv only, 2 both
    """

    def __init__(self, dump_path=None, token_range=None, module_list=None, tensor_part="2", device_id=None,
                 dump_weight=False, layer_name=None, mode="module", dump_last_logits=False,
                 dump_statistics_mode=0):
        if token_range is None:
            token_range = [0]
        if isinstance(token_range, (str, bytes)) or not hasattr(token_range, "__iter__"):
            raise TypeError(f"aitdb: token_range must be a list of token indices, got {token_range!r}")
        tokens = [check_int(t, "token_range entry", 0) for t in token_range]
        if not tokens:
            raise ValueError("aitdb: token_range is empty, nothing would be dumped")
        self.token_range = frozenset(tokens)

        if module_list is None:
            module_list = []
        if isinstance(module_list, str) or not isinstance(module_list, (list, tuple, set, frozenset)):
            raise TypeError(f"aitdb: module_list must be a list of class names, got {module_list!r}")
        for name in module_list:
            if not isinstance(name, str) or not name:
                raise TypeError(f"aitdb: module_list holds class names, got {name!r}")
        self.module_list = frozenset(module_list)

        part = str(tensor_part) if isinstance(tensor_part, (int, str)) and not isinstance(tensor_part, bool) else None
        if part not in ("0", "1", "2"):
            raise ValueError(f"aitdb: tensor_part must be 0 (inputs), 1 (outputs) or 2 (both), got {tensor_part!r}")
        self.tensor_part = int(part)
        self.device_id = None if device_id is None else check_int(device_id, "device_id", 0)
        self.dump_weight = bool(dump_weight)
        if layer_name is not None and (not isinstance(layer_name, str) or not layer_name):
            raise TypeError(f"aitdb: layer_name must be a non-empty glob string, got {layer_name!r}")
        self.layer_name = layer_name
        self._layer_re = _glob_regex(layer_name) if layer_name else None
        self.mode = _normalise_mode(mode)
        self.dump_last_logits = bool(dump_last_logits)
        if dump_statistics_mode not in (0, 1, 2) or isinstance(dump_statistics_mode, bool):
            raise ValueError(f"aitdb: dump_statistics_mode must be 0, 1 or 2, got {dump_statistics_mode!r}")
        self.dump_statistics_mode = dump_statistics_mode

        base = ensure_writable_dir("." if dump_path is None else dump_path, "dump_path")
        self.dump_path = base
        self.dump_root = os.path.join(base, f"msit_dump_{timestamp()}")
        self.tensors_root = ensure_writable_dir(os.path.join(self.dump_root, "torch_tensors"), "dump_path")

    @property
    def save_tensors(self):
        return self.dump_statistics_mode in (0, 2)

    @property
    def save_statistics(self):
        return self.dump_statistics_mode in (1, 2)

    def wants_token(self, token):
        return token in self.token_range

    def wants_module(self, name, module):
        if self.module_list and type(module).__name__ not in self.module_list:
            return False
        return self.wants_name(name)

    def wants_name(self, name):
        return self._layer_re is None or self._layer_re.match(name) is not None
