"""API mode of register_hook: torch functions called inside a module's forward are dumped in
folder {module}.{api} (docs/formats.md), through a TorchFunctionMode active during the root's
forward. A repeated call of one API in one module overwrites its folder, as msit does."""
from torch.overrides import TorchFunctionMode

from ._writer import guarded

# Functions that compute values worth comparing; shape queries, views and in-place ops are left out.
API_NAMES = frozenset("""
add sub mul div neg pow rsqrt sqrt exp log abs matmul mm bmm baddbmm addmm linear einsum
softmax log_softmax silu gelu relu sigmoid tanh mean sum cat stack embedding layer_norm
group_norm dropout scaled_dot_product_attention cos sin masked_fill where argmax topk
""".split())


def api_name(func):
    name = getattr(func, "__name__", "")
    if name.startswith("__") and name.endswith("__"):
        name = name[2:-2]
        if name.startswith("r") and name[1:] in API_NAMES:
            name = name[1:]
        elif name == "truediv":
            name = "div"
    return name if name in API_NAMES else None


class _ApiDumpMode(TorchFunctionMode):
    def __init__(self, state):
        super().__init__()
        self.state = state

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        state = self.state
        if state.dumping and state.stack and not state.busy:
            api = api_name(func)
            if api is not None:
                module = state.stack[-1]
                name = state.names[module]
                if state.config.wants_module(name, module):
                    try:
                        state.dump_call(f"{name}.{api}", module, args, out)
                    except Exception as e:  # noqa: BLE001 - the forward pass must go on
                        state.failures.report(e, api)
        return out


def install_api_hooks(state):
    """Adds the module stack and the function mode to STATE; returns the hook handles."""
    state.stack = []
    mode = _ApiDumpMode(state)
    active = []

    def pre(module, inputs):
        if module is state.root:
            while active:  # a forward that raised never reached its post-hook
                active.pop().__exit__(None, None, None)
            state.stack.clear()
            if state.dumping:
                mode.__enter__()
                active.append(mode)
        state.stack.append(module)

    def post(module, inputs, output):
        if state.stack and state.stack[-1] is module:
            state.stack.pop()
        if module is state.root and active:
            active.pop().__exit__(None, None, None)

    handles = []
    for m in state.names:
        handles.append(m.register_forward_pre_hook(guarded(state.failures, pre)))
        handles.append(m.register_forward_hook(guarded(state.failures, post)))
    return handles

