"""Writes a torch golden dump of tiny_llama (aitdb's hooks) and ATB-layout dumps of the same model,
for the tests of the automatic ATB<->torch mapping.
Usage: make_atb_dump.py OUTDIR   (needs PYTHONPATH to hold the repository's python/)

OUTDIR/golden         torch dump (msit_dump_{TS}/torch_tensors/cpu_{PID}/), float32, tokens 0..2
OUTDIR/atb            ATB dump of the same weights: msit_dump_atb/tensors/0_{PID}/{token}/... with
                      model/{PID}/TinyLlama.json; op outputs are the values the torch model computes
                      at the corresponding point, laid out as an ATB llama graph would be
OUTDIR/atb_perturbed  the same with root.model.layers.2.mlp.down_proj perturbed (as in
                      make_transformer_dumps.py), fed the golden run's tokens
OUTDIR/atb_bias       as atb, each down projection split into a bias-less LinearOperation and an
                      Elewise ADD (elewiseType 8) sibling that adds the bias
OUTDIR/md5_golden     aclcmp weight-MD5 dump of the same model (aitdb.md5_hooks): ait_dump/{PID}/...
OUTDIR/atb_md5        ATB md5-mode dump: tensors/thread_{PID}/{token}/..., inputs of weighted ops as
                      empty files named by their MD5
Prints JSON describing what it wrote (op counts per layer, the perturbed op)."""
import hashlib
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_transformer_dumps as mtd  # noqa: E402
import tiny_llama  # noqa: E402

import aitdb.md5_hooks  # noqa: E402

ACL_DTYPES = {torch.float32: 0, torch.float16: 1, torch.int64: 9, torch.bfloat16: 27}
ELEWISE_ADD = 8  # ATB elewiseType of ELEWISE_ADD
ELEWISE_MUL = 9


def write_bin(path, t):
    """ATB's tensor .bin: text header (dtype as aclDataType, format 2 = ND), then the raw bytes."""
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        raw = t.view(torch.int16).numpy().tobytes()
    else:
        raw = t.numpy().tobytes()
    dims = ",".join(str(d) for d in t.shape)
    header = (f"$Version=1.0\n$Object.Count=1\n$Object.Length={len(raw)}\nformat=2\n"
              f"dtype={ACL_DTYPES[t.dtype]}\ndims={dims}\n$Object.data=0,{len(raw)}\n$End=1\n")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(header.encode() + raw)


class Recorder:
    """Forward hooks on every module: inputs[0] and output of each call, per forward step."""

    def __init__(self, model):
        self.steps = []
        self.handles = [m.register_forward_hook(self.hook(name)) for name, m in model.named_modules()]

    def hook(self, name):
        def record(_module, inputs, output):
            step = self.steps[-1]
            step[name] = (inputs[0].detach().clone() if inputs and torch.is_tensor(inputs[0]) else None,
                          tuple(o.detach().clone() for o in output) if isinstance(output, tuple)
                          else output.detach().clone())
        return record

    def new_step(self):
        self.steps.append({})

    def remove(self):
        for h in self.handles:
            h.remove()


def layer_ops(rec, i, heads, bias_split=False):
    """One decoder layer as ATB nodes: (type, param, outputs, children, module whose weight the op
    takes as an input or None) with the values the torch model computed at that point."""
    p = f"model.layers.{i}"
    out = lambda n: rec[f"{p}.{n}"][1]  # noqa: E731
    inp = lambda n: rec[f"{p}.{n}"][0]  # noqa: E731
    linear = {"hasBias": False, "transposeB": True}
    q, k = out("self_attn.q_proj"), out("self_attn.k_proj")
    cos, sin = out("self_attn.rotary_emb")
    b, s, h = q.shape
    hd = h // heads

    def rope(x):
        x = x.view(b, s, heads, hd).transpose(1, 2)
        r = x * cos[:, None] + tiny_llama.rotate_half(x) * sin[:, None]
        return r.transpose(1, 2).reshape(b, s, h)

    attention = [
        ("LinearOperation", linear, [q], [], f"{p}.self_attn.q_proj"),
        ("LinearOperation", linear, [k], [], f"{p}.self_attn.k_proj"),
        ("LinearOperation", linear, [out("self_attn.v_proj")], [], f"{p}.self_attn.v_proj"),
        ("RopeOperation", {"rotaryCoeff": 2}, [rope(q), rope(k)], [], None),
        ("SelfAttentionOperation", {"headNum": heads}, [inp("self_attn.o_proj")], [], None),
        ("LinearOperation", linear, [out("self_attn.o_proj")], [], f"{p}.self_attn.o_proj"),
    ]
    mlp = [
        ("LinearOperation", linear, [out("mlp.gate_proj")], [], f"{p}.mlp.gate_proj"),
        ("ActivationOperation", {"activationType": 2}, [out("mlp.act_fn")], [], None),
        ("LinearOperation", linear, [out("mlp.up_proj")], [], f"{p}.mlp.up_proj"),
        ("ElewiseOperation", {"elewiseType": ELEWISE_MUL}, [inp("mlp.down_proj")], [], None),
        ("LinearOperation", linear, [out("mlp.down_proj")], [], f"{p}.mlp.down_proj"),
    ]
    if bias_split:
        # The bias added by a separate Elewise ADD after a bias-less matmul: the matmul's output
        # lacks the bias (a made-up one here), the add's output is the module's.
        down = out("mlp.down_proj")
        mlp[-1] = ("LinearOperation", linear, [down - 0.5], [], f"{p}.mlp.down_proj")
        mlp.append(("ElewiseOperation", {"elewiseType": ELEWISE_ADD}, [down], [], None))
    return [
        ("RmsNormOperation", {"layerType": 1}, [out("input_layernorm")], [], f"{p}.input_layernorm"),
        ("Attention", {}, [out("self_attn")], attention, None),
        ("ElewiseOperation", {"elewiseType": ELEWISE_ADD}, [inp("post_attention_layernorm")], [], None),
        ("RmsNormOperation", {"layerType": 1}, [out("post_attention_layernorm")], [], f"{p}.post_attention_layernorm"),
        ("Mlp", {}, [out("mlp")], mlp, None),
        ("ElewiseOperation", {"elewiseType": ELEWISE_ADD}, [rec[p][1]], [], None),
    ]


def model_ops(rec, cfg, bias_split=False):
    ops = [("WordEmbedding", {}, [rec["model.embed_tokens"][1]], [], "model.embed_tokens")]
    ops += [("LlamaDecoderLayer", {}, [rec[f"model.layers.{i}"][1]], layer_ops(rec, i, cfg.heads, bias_split), None)
            for i in range(cfg.layers)]
    ops += [("RmsNormOperation", {"layerType": 1}, [rec["model.norm"][1]], [], "model.norm"),
            ("LmHead", {}, [rec["lm_head"][1]], [], "lm_head")]
    return ops


def write_ops(folder, ops, id_prefix, param_files, md5_inputs=None):
    """Tensor tree of one token: {id}_{OpType}/.../after/outtensor{k}.bin (+ op_param.json).
    With MD5_INPUTS (module name -> its input tensors), an op taking a module's weight gets, as
    aclcmp's md5 mode writes them, an empty after/{md5} file per input instead of intensor files."""
    nodes = []
    for pos, (op_type, param, outputs, children, module) in enumerate(ops):
        d = os.path.join(folder, f"{pos}_{op_type}")
        ids = id_prefix + [pos]
        for k, t in enumerate(outputs):
            write_bin(os.path.join(d, "after", f"outtensor{k}.bin"), t)
        if md5_inputs is not None and module is not None:
            for t in md5_inputs(module):
                open(os.path.join(d, "after", hashlib.md5(tensor_bytes(t)).hexdigest()), "wb").close()
        if param_files and param:
            with open(os.path.join(d, "op_param.json"), "w") as f:
                json.dump(param, f)
        node = {"opName": op_type + "_" + "_".join(str(x) for x in ids), "opType": op_type, "param": param,
                "inTensors": [], "outTensors": [f"out_{'_'.join(str(x) for x in ids)}_{k}" for k in range(len(outputs))]}
        if children:
            node["nodes"] = write_ops(d, children, ids, param_files, md5_inputs)
        nodes.append(node)
    return nodes


def tensor_bytes(t):
    """Raw bytes in C order and stored dtype, as aclcmp hashes them."""
    t = t.detach().contiguous()
    return (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()


def atb_run(model, folder, input_ids, forced, md5_mode=False, bias_split=False):
    """Runs MODEL for mtd.STEPS steps (FORCED tokens) and writes its ATB-layout dump. MD5_MODE:
    aclcmp's md5 dump (rank folder thread_{pid}, inputs of weighted ops as MD5 file names).
    BIAS_SPLIT: each layer's down projection as a bias-less LinearOperation plus an Elewise ADD."""
    rec = Recorder(model)
    model.reset_cache()
    ids, start = input_ids, 0
    pid = os.getpid()
    root = os.path.join(folder, "msit_dump_atb")
    graph = None
    with torch.no_grad():
        for step in range(mtd.STEPS):
            rec.new_step()
            positions = torch.arange(start, start + ids.shape[1])[None, :]
            model(ids, positions)
            step_rec = rec.steps[-1]
            modules = dict(model.named_modules())

            def md5_inputs(name, step_rec=step_rec):
                return [step_rec[name][0], modules[name].weight]

            rank = f"thread_{pid}" if md5_mode else f"0_{pid}"
            graph = write_ops(os.path.join(root, "tensors", rank, str(step)), model_ops(step_rec, model.cfg, bias_split), [],
                              not md5_mode, md5_inputs if md5_mode else None)
            start += ids.shape[1]
            ids = torch.tensor([[forced[step]]])
    rec.remove()
    os.makedirs(os.path.join(root, "model", str(pid)), exist_ok=True)
    with open(os.path.join(root, "model", str(pid), "TinyLlama.json"), "w") as f:
        json.dump({"modelName": "TinyLlama", "nodes": graph}, f)
    return root


def write_dumps(outdir):
    outdir = os.path.abspath(outdir)
    input_ids = tiny_llama.prompt(mtd.SEED)
    golden_model = tiny_llama.build(mtd.SEED)
    golden = mtd.dump_run(golden_model, os.path.join(outdir, "golden"), input_ids)
    fed = golden["greedy_tokens"]
    atb = atb_run(tiny_llama.build(mtd.SEED), os.path.join(outdir, "atb"), input_ids, fed)
    perturbed_model = tiny_llama.build(mtd.SEED)
    mtd.perturb(perturbed_model)
    atb_perturbed = atb_run(perturbed_model, os.path.join(outdir, "atb_perturbed"), input_ids, fed)
    atb_bias = atb_run(tiny_llama.build(mtd.SEED), os.path.join(outdir, "atb_bias"), input_ids, fed,
                       bias_split=True)
    # Weight-MD5 pair: aclcmp's PyTorch side (md5_hooks) and the ATB side in md5 mode.
    md5_model = tiny_llama.build(mtd.SEED)
    md5_folder = aitdb.md5_hooks.set_dump_path(os.path.join(outdir, "md5_golden"), "ait_dump", "pt")
    handle = aitdb.md5_hooks.register_hook(md5_model)
    tiny_llama.generate(md5_model, input_ids, mtd.STEPS, forced=fed)
    handle.remove()
    atb_md5 = atb_run(tiny_llama.build(mtd.SEED), os.path.join(outdir, "atb_md5"), input_ids, fed, md5_mode=True)
    weighted = sum(1 for m in md5_model.modules() if isinstance(getattr(m, "weight", None), torch.Tensor))
    cfg = golden_model.cfg
    return {"golden": golden["dump_root"], "atb": atb, "atb_perturbed": atb_perturbed, "tokens": mtd.STEPS,
            "layers": cfg.layers, "perturbed_module": mtd.PERTURBED_MODULE,
            "perturbed_op": f"{1 + mtd.PERTURBED_LAYER}_4_4", "md5_golden": md5_folder, "atb_md5": atb_md5, "atb_bias": atb_bias,
            "weighted_modules": weighted}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_atb_dump.py OUTDIR")
    print(json.dumps(write_dumps(sys.argv[1]), indent=2))
