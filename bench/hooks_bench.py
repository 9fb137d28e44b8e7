"""Cost of aitdb's torch dump hooks: forward time with and without register_hook, MB/s written,
and plain torch.save of the same tensors (as they are) into the same folders for reference, once
with the folders made in the timed region (what writing that layout costs) and once with them
made beforehand (torch.save alone).
Usage: PYTHONPATH=python /usr/bin/python3 bench/hooks_bench.py [WORKDIR] [REPEATS]
Prints figures only; docs/python_hooks.md has a measured table."""
import os
import shutil
import statistics
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "py"))
import tiny_llama  # noqa: E402

import aitdb  # noqa: E402
from aitdb.hooks import output_leaves, tensor_leaves  # noqa: E402

CASES = [
    ("tiny   hidden 64, 4 layers, prompt 8", tiny_llama.Config(), 8),
    ("mid    hidden 1024, 4 layers, prompt 16",
     tiny_llama.Config(vocab=4096, hidden=1024, intermediate=2816, layers=4, heads=16), 16),
]


def forward(model, ids):
    model.reset_cache()
    with torch.no_grad():
        return model(ids, torch.arange(ids.shape[1])[None])


def tree_bytes(root):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(root) for f in files)


def collect(model, ids):
    """(folder, file, tensor) of everything one dumped forward writes, as the tensors are."""
    names = {m: n for n, m in model.named_modules(prefix="root")}
    out = []

    def post(m, inputs, output):
        for base, t in tensor_leaves(inputs, "input") + output_leaves(output):
            out.append((names[m], base + ".pth", t))
    handles = [m.register_forward_hook(post) for m in names]
    forward(model, ids)
    for h in handles:
        h.remove()
    return out


def summary(times):
    return statistics.median(times), min(times), max(times)


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return summary(times)


def run_case(label, cfg, prompt_len, work, repeats):
    """Each repeat runs the four measurements back to back, so that the machine's drifting I/O
    speed (write-back of earlier runs) hits them alike; medians are printed."""
    model = tiny_llama.build(0, cfg)
    ids = torch.randint(0, cfg.vocab, (1, prompt_len), generator=torch.Generator().manual_seed(1))
    forward(model, ids)  # warm-up
    tensors = collect(model, ids)
    folders = sorted({f for f, _, _ in tensors})
    times = {"plain": [], "dump": [], "ref": [], "bare": []}
    sizes = {}

    def plain():
        t0 = time.perf_counter()
        forward(model, ids)
        return time.perf_counter() - t0

    def dumped(folder):
        handle = aitdb.register_hook(model, aitdb.DumpConfig(dump_path=folder))
        t0 = time.perf_counter()
        forward(model, ids)
        elapsed = time.perf_counter() - t0
        handle.remove()
        return elapsed

    def saved(folder, with_folders):
        if not with_folders:
            for f in folders:
                os.makedirs(os.path.join(folder, f))
        t0 = time.perf_counter()
        for f, name, t in tensors:
            if with_folders:
                os.makedirs(os.path.join(folder, f), exist_ok=True)
            torch.save(t, os.path.join(folder, f, name))
        return time.perf_counter() - t0

    for _ in range(repeats):
        for key, fn in (("plain", plain), ("dump", dumped), ("ref", lambda d: saved(d, True)),
                        ("bare", lambda d: saved(d, False))):
            folder = tempfile.mkdtemp(dir=work)
            times[key].append(fn(folder) if key != "plain" else fn())
            sizes[key] = tree_bytes(folder)
            shutil.rmtree(folder)
    med = {k: summary(v) for k, v in times.items()}

    def line(what, key, extra=""):
        m, lo, hi = med[key]
        print(f"  {what:20}{m * 1e3:9.1f} ms  (min {lo * 1e3:.1f}, max {hi * 1e3:.1f}){extra}")

    cost = med["dump"][0] - med["plain"][0]
    mb = sizes["dump"] / 1e6
    print(f"{label}: {len(tensors)} tensors in {len(folders)} folders")
    line("forward", "plain")
    line("forward + dump", "dump", f", {mb:.2f} MB written, {mb / cost if cost > 0 else float('inf'):.0f} MB/s of dump time")
    print(f"  {'hooks' + chr(39) + ' cost':20}{cost * 1e3:9.1f} ms")
    line("torch.save + mkdir", "ref", f", {sizes['ref'] / 1e6:.2f} MB, {sizes['ref'] / 1e6 / med['ref'][0]:.0f} MB/s")
    line("torch.save alone", "bare")
    best = med["dump"][1] - med["plain"][1]
    print(f"  hooks' cost / (torch.save + mkdir): {cost / med['ref'][0]:.2f} (medians), {best / med['ref'][1]:.2f} (minima)")


def main():
    own = len(sys.argv) > 1 and sys.argv[1] != ""
    work = os.path.abspath(sys.argv[1]) if own else tempfile.mkdtemp(prefix="aitdb_hooks_bench_")
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    os.makedirs(work, exist_ok=True)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {repeats} repeats (median), work {work}")
    try:
        for label, cfg, prompt_len in CASES[:int(os.environ.get("AITDB_BENCH_CASES", len(CASES)))]:
            run_case(label, cfg, prompt_len, work, repeats)
    finally:
        if not own:
            shutil.rmtree(work, True)


if __name__ == "__main__":
    main()
