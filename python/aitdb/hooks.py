"""register_hook(model, DumpConfig): msit's torch dump layout (docs/formats.md) plus aitdb's
per-token execution order file aitdb_exec_order.txt."""
import csv
import os

import torch

from ._writer import FailureLog, HookHandle, guarded, save_pth, write_json
from .dump_config import DumpConfig

EXEC_ORDER_FILE = "aitdb_exec_order.txt"
_STAT_HEADER = ["NodeName", "NodeType", "InputOutput", "Index", "DataType", "Shape", "Max", "Min", "Mean", "L2Norm"]


def tensor_leaves(values, prefix):
    """(file base name, tensor) of a positional tuple/list as msit names them: {prefix}_{i}, and
    {prefix}_{i}_{j} one level down. Anything else (None, ints, deeper nesting, dicts) is skipped."""
    out = []
    for i, v in enumerate(values):
        if isinstance(v, torch.Tensor):
            out.append((f"{prefix}_{i}", v))
        elif isinstance(v, (list, tuple)):
            out.extend((f"{prefix}_{i}_{j}", w) for j, w in enumerate(v) if isinstance(w, torch.Tensor))
    return out


def output_leaves(output):
    if isinstance(output, torch.Tensor):
        return [("output", output)]
    if isinstance(output, (list, tuple)):
        return tensor_leaves(output, "output")
    return []


def _stat_row(name, type_name, base, t):
    f = t.detach().float()
    index = base.rsplit("_", 1)[1] if "_" in base else "0"
    io = "Input" if base.startswith("input") else "Output"
    if f.numel() == 0:
        mx = mn = mean = norm = float("nan")
    else:
        mx, mn, mean, norm = f.max().item(), f.min().item(), f.mean().item(), torch.norm(f).item()
    return [name, type_name, io, index, str(t.dtype), str(tuple(t.shape)), mx, mn, mean, norm]


class _TreeNode:
    __slots__ = ("name", "type", "children", "done")

    def __init__(self, name, type_name):
        self.name, self.type, self.children, self.done = name, type_name, [], False

    def to_json(self):
        return {"name": self.name, "type": self.type, "children": [c.to_json() for c in self.children]}


class DumpHandle(HookHandle):
    @property
    def rank_dir(self):
        """The {device}_{pid} folder of the last token seen (None before the first token)."""
        return self._state.rank_dir

    def remove(self):
        super().remove()
        self._state.close_token()


class _DumpState:
    def __init__(self, model, config):
        self.config = config
        self.root = model
        self.names = {}
        self.nodes = {}
        for name, m in model.named_modules(prefix="root"):
            self.names[m] = name
            self.nodes[m] = _TreeNode(name, type(m).__name__)
        self.parents = {}
        for parent in self.nodes:
            for c in parent.children():
                if c is not model and c not in self.parents:
                    self.parents[c] = parent
                    self.nodes[parent].children.append(self.nodes[c])
        params = list(model.parameters())
        self.last_param = params[-1] if params else None
        self.calls = 0
        self.token = None
        self.dumping = False
        self.rank_dir = None
        self.token_dir = None
        self.exec_fd = None
        self.made_dirs = set()
        self.last_tensor_module = None
        self.busy = False
        self.stack = []
        self.failures = FailureLog("dump")

    # -- folders ---------------------------------------------------------------------------
    def device(self):
        return torch.device("cpu") if self.last_param is None else self.last_param.device

    def rank_folder(self):
        return os.path.join(self.config.tensors_root, f"{str(self.device()).replace(':', '')}_{os.getpid()}")

    def makedirs(self, path):
        if path not in self.made_dirs:
            try:
                os.mkdir(path)  # the usual case: a module folder in an existing token folder
            except OSError:
                os.makedirs(path, exist_ok=True)
            self.made_dirs.add(path)

    # -- tokens ----------------------------------------------------------------------------
    def on_root_start(self, module, inputs):
        self.close_token()
        self.token = self.calls
        self.calls += 1
        self.rank_dir = self.rank_folder()
        self.token_dir = os.path.join(self.rank_dir, str(self.token))
        cfg = self.config
        dev = self.device()
        self.dumping = cfg.wants_token(self.token) and (cfg.device_id is None or dev.index == cfg.device_id)
        self.last_tensor_module = None

    def close_token(self):
        if self.exec_fd is not None:
            try:
                os.close(self.exec_fd)
            except OSError as e:
                self.failures.report(e, EXEC_ORDER_FILE)
            self.exec_fd = None

    def on_root_end(self):
        cfg = self.config
        if self.dumping and cfg.dump_last_logits and self.last_tensor_module is not None:
            name, module, output = self.last_tensor_module
            self.dump_call(name, module, (), output, force_outputs=True)
        if self.token == 0:
            try:
                self.makedirs(self.rank_dir)
                write_json(os.path.join(self.rank_dir, "model_tree.json"), self.nodes[self.root].to_json())
            except Exception as e:  # noqa: BLE001 - a dump must never break the forward pass
                self.failures.report(e, "model_tree.json")
        self.close_token()

    # -- modules ---------------------------------------------------------------------------
    def on_module_end(self, module, inputs, output):
        if self.token is None:
            return
        if self.token == 0:
            self.record_completion(module)
        cfg = self.config
        if module is self.root:
            self.on_root_end()
            return
        if not self.dumping:
            return
        name = self.names[module]
        if cfg.dump_last_logits:
            if isinstance(output, torch.Tensor) and cfg.wants_module(name, module):
                self.last_tensor_module = (name, module, output)
            return
        if cfg.wants_module(name, module):
            self.dump_call(name, module, inputs, output)

    def on_root_module_end(self, module, inputs, output):
        """The root's own data is dumped before its tree/token bookkeeping."""
        if self.token is not None and self.dumping and not self.config.dump_last_logits \
                and self.config.wants_module("root", module):
            self.dump_call("root", module, inputs, output)
        self.on_module_end(module, inputs, output)

    def record_completion(self, module):
        """model_tree.json children are ordered by first completion during token 0; modules that
        never ran keep their definition order in front."""
        node = self.nodes.get(module)
        if node is None or node.done:
            return
        node.done = True
        parent = self.parents.get(module)
        if parent is not None:
            siblings = self.nodes[parent].children
            siblings.remove(node)
            siblings.append(node)

    def dump_call(self, name, module, inputs, output, force_outputs=False):
        self.busy = True  # torch calls made while dumping are not API calls of the model
        try:
            self._dump_call(name, module, inputs, output, force_outputs)
        finally:
            self.busy = False

    def _dump_call(self, name, module, inputs, output, force_outputs):
        cfg = self.config
        leaves = []
        if cfg.tensor_part in (0, 2) and not force_outputs:
            leaves += tensor_leaves(inputs, "input")
        if cfg.tensor_part in (1, 2) or force_outputs:
            leaves += output_leaves(output)
        if not leaves:
            return
        folder = os.path.join(self.token_dir, name)
        written = 0
        try:
            self.makedirs(folder)
        except Exception as e:  # noqa: BLE001
            self.failures.report(e, folder)
            return
        if cfg.save_tensors:
            for base, t in leaves:
                path = os.path.join(folder, base + ".pth")
                try:
                    save_pth(t, path)
                    written += 1
                except Exception as e:  # noqa: BLE001
                    self.failures.report(e, path)
        if cfg.save_statistics:
            path = os.path.join(folder, "statistics.csv")
            try:
                new = not os.path.exists(path)
                with open(path, "a", newline="") as f:
                    w = csv.writer(f)
                    if new:
                        w.writerow(_STAT_HEADER)
                    for base, t in leaves:
                        w.writerow(_stat_row(name, type(module).__name__, base, t))
                written += 1
            except Exception as e:  # noqa: BLE001
                self.failures.report(e, path)
        if written:
            self.append_exec(name)

    def append_exec(self, name):
        try:
            if self.exec_fd is None:
                self.makedirs(self.token_dir)
                self.exec_fd = os.open(os.path.join(self.token_dir, EXEC_ORDER_FILE),
                                       os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.write(self.exec_fd, (name + "\n").encode())
        except Exception as e:  # noqa: BLE001
            self.failures.report(e, EXEC_ORDER_FILE)

    def dump_weights(self):
        folder = os.path.join(self.rank_folder(), "weights")
        for pname, p in self.root.named_parameters():
            name = f"root.{pname}"
            if not self.config.wants_name(name):
                continue
            try:
                self.makedirs(folder)
                torch.save(p, os.path.join(folder, name + ".pth"))
            except Exception as e:  # noqa: BLE001
                self.failures.report(e, name)


def register_hook(model, config, hook_name="dump_data"):
    """Hooks every module of MODEL to dump as CONFIG says (docs/formats.md); returns a DumpHandle.
    hook_name is accepted for msit compatibility; 'dump_data' is the only kind."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"aitdb: register_hook needs a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(config, DumpConfig):
        raise TypeError(f"aitdb: register_hook needs a DumpConfig, got {type(config).__name__}")
    if hook_name != "dump_data":
        raise ValueError(f"aitdb: unknown hook_name {hook_name!r}; only 'dump_data' is supported")
    state = _DumpState(model, config)
    handles = [model.register_forward_pre_hook(guarded(state.failures, state.on_root_start))]
    for m in state.names:
        post = state.on_root_module_end if m is model else state.on_module_end
        handles.append(m.register_forward_hook(guarded(state.failures, post)))
    if "api" in config.mode:
        from ._api_mode import install_api_hooks
        handles.extend(install_api_hooks(state))
    if config.dump_weight:
        state.dump_weights()
    return DumpHandle(state, handles)
