"""Writes torch dumps of tiny_llama with aitdb's hooks, for end-to-end ingest/compare tests.
Usage: make_transformer_dumps.py OUTDIR   (needs PYTHONPATH to hold the repository's python/)

OUTDIR/golden        float32 model
OUTDIR/my_perturbed  same weights, root.model.layers.2.mlp.down_proj weight times (1 + 0.05 * N(0, 1));
                     its output's cosine to golden (about 0.998: below 0.999, above the default
                     --threshold 0.99) is printed as perturbed_output_cosine
OUTDIR/my_bf16       the golden model in bfloat16
Each holds msit_dump_{TS}/torch_tensors/cpu_{PID}/ with tokens 0..2 of a greedy generation
(token 0 = prefill of an 8-token prompt, 1 and 2 = decode steps) and weights/. The my runs are fed
the golden run's tokens, so every run sees the same inputs. Prints JSON describing what it wrote."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tiny_llama  # noqa: E402

import aitdb  # noqa: E402

SEED = 0
STEPS = 3
PERTURBED_LAYER = 2
PERTURBED_MODULE = f"root.model.layers.{PERTURBED_LAYER}.mlp.down_proj"


def perturb(model, scale=0.05, seed=1234):
    w = model.model.layers[PERTURBED_LAYER].mlp.down_proj.weight
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        w.mul_(1.0 + scale * torch.randn(w.shape, generator=gen))


def dump_run(model, folder, input_ids, forced=None):
    os.makedirs(folder, exist_ok=True)
    config = aitdb.DumpConfig(dump_path=folder, token_range=range(STEPS), dump_weight=True)
    handle = aitdb.register_hook(model, config)
    chosen = tiny_llama.generate(model, input_ids, STEPS, forced=forced)
    handle.remove()
    if handle.failures:
        raise RuntimeError(f"{handle.failures} dump failures in {folder}")
    dtype = str(next(model.parameters()).dtype).replace("torch.", "")
    return {"dump_root": config.dump_root, "rank_dir": handle.rank_dir, "dtype": dtype,
            "tokens": list(range(STEPS)), "greedy_tokens": chosen}


def output_cosine(golden, my, module, token=0):
    """Cosine similarity of MODULE's output at TOKEN between two runs (float64)."""
    a, b = (torch.load(os.path.join(r["rank_dir"], str(token), module, "output.pth")).double().flatten()
            for r in (golden, my))
    return float(torch.nn.functional.cosine_similarity(a, b, dim=0))


def write_dumps(outdir):
    outdir = os.path.abspath(outdir)
    input_ids = tiny_llama.prompt(SEED)
    golden_model = tiny_llama.build(SEED)
    golden = dump_run(golden_model, os.path.join(outdir, "golden"), input_ids)
    fed = golden["greedy_tokens"]
    perturbed_model = tiny_llama.build(SEED)
    perturb(perturbed_model)
    perturbed = dump_run(perturbed_model, os.path.join(outdir, "my_perturbed"), input_ids, forced=fed)
    perturbed["perturbed_module"] = PERTURBED_MODULE
    perturbed["perturbed_output_cosine"] = output_cosine(golden, perturbed, PERTURBED_MODULE)
    bf16 = dump_run(tiny_llama.build(SEED, dtype=torch.bfloat16), os.path.join(outdir, "my_bf16"), input_ids,
                    forced=fed)
    cfg = golden_model.cfg
    return {"golden": golden, "my_perturbed": perturbed, "my_bf16": bf16, "perturbed_module": PERTURBED_MODULE,
            "input_ids": input_ids[0].tolist(), "fed_tokens": fed, "seed": SEED,
            "model": {"layers": cfg.layers, "hidden": cfg.hidden, "intermediate": cfg.intermediate,
                      "heads": cfg.heads, "vocab": cfg.vocab}}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_transformer_dumps.py OUTDIR")
    print(json.dumps(write_dumps(sys.argv[1]), indent=2))
