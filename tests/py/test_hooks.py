"""Tests of the torch-side hooks package python/aitdb (docs/python_hooks.md).
Run: PYTHONPATH=python /usr/bin/python3 -m unittest discover -s tests/py -p 'test_*.py'"""
import glob
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import unittest

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tiny_llama  # noqa: E402

import aitdb  # noqa: E402
from aitdb import aclcmp, md5_hooks  # noqa: E402

PID = os.getpid()


def load(path):
    return torch.load(path)


class Recorder:
    """Plain forward hooks that record, per root call, every module completion and its data."""

    def __init__(self, model):
        self.names = {m: n for n, m in model.named_modules(prefix="root")}
        self.tokens = []
        self.handles = [model.register_forward_pre_hook(lambda m, i: self.tokens.append([]))]
        for m in self.names:
            self.handles.append(m.register_forward_hook(self.post))

    def post(self, module, inputs, output):
        self.tokens[-1].append((self.names[module], inputs, output))

    def remove(self):
        for h in self.handles:
            h.remove()


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="aitdb_hooks_")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.env = dict(os.environ)
        self.addCleanup(self.restore_env)

    def restore_env(self):
        os.environ.clear()
        os.environ.update(self.env)

    def dump(self, model, steps=1, **kw):
        cfg = aitdb.DumpConfig(dump_path=self.tmp, **kw)
        handle = aitdb.register_hook(model, cfg)
        rec = Recorder(model)
        chosen = tiny_llama.generate(model, tiny_llama.prompt(0), steps)
        rec.remove()
        handle.remove()
        self.assertEqual(handle.failures, 0)
        return cfg, handle, rec, chosen

    def rank_dir(self, cfg):
        return os.path.join(cfg.tensors_root, f"cpu_{PID}")

    def dump_once(self, model, *args, **kw):
        """Hooks MODEL, runs it once on ARGS; returns its token-0 folder and output."""
        cfg = aitdb.DumpConfig(dump_path=self.tmp, **kw)
        aitdb.register_hook(model, cfg)
        return os.path.join(self.rank_dir(cfg), "0"), model(*args)


class ModuleDumpTest(TempDirTest):
    def test_layout_and_values(self):
        model = tiny_llama.build(0)
        cfg, handle, rec, _ = self.dump(model)
        self.assertRegex(cfg.dump_root, r"/msit_dump_\d{8}_\d{6}$")
        self.assertEqual(os.path.dirname(cfg.dump_root), os.path.abspath(self.tmp))
        rank = self.rank_dir(cfg)
        self.assertEqual(handle.rank_dir, rank)
        self.assertEqual(sorted(os.listdir(rank)), ["0", "model_tree.json"])
        tok = os.path.join(rank, "0")
        self.assertEqual(sorted(os.listdir(os.path.join(tok, "root.model.layers.0.mlp.down_proj"))),
                         ["input_0.pth", "output.pth"])
        self.assertEqual(sorted(os.listdir(os.path.join(tok, "root"))), ["input_0.pth", "input_1.pth", "output.pth"])
        # rotary_emb returns a tuple (cos, sin): output_0, output_1
        self.assertEqual(sorted(os.listdir(os.path.join(tok, "root.model.layers.1.self_attn.rotary_emb"))),
                         ["input_0.pth", "input_1.pth", "output_0.pth", "output_1.pth"])
        # ModuleList never runs: no folder
        self.assertFalse(os.path.exists(os.path.join(tok, "root.model.layers")))
        # every recorded call's data equals what was saved (last call of a module wins)
        last = {}
        for name, inputs, output in rec.tokens[0]:
            last[name] = (inputs, output)
        for name, (inputs, output) in last.items():
            folder = os.path.join(tok, name)
            for i, x in enumerate(inputs):
                self.assertTrue(torch.equal(load(os.path.join(folder, f"input_{i}.pth")), x), (name, i))
            if isinstance(output, torch.Tensor):
                self.assertTrue(torch.equal(load(os.path.join(folder, "output.pth")), output), name)
            else:
                for i, x in enumerate(output):
                    self.assertTrue(torch.equal(load(os.path.join(folder, f"output_{i}.pth")), x), (name, i))
        logits = load(os.path.join(tok, "root", "output.pth"))
        self.assertEqual(tuple(logits.shape), (1, 8, 128))

    def test_nested_inputs_outputs_and_non_tensors(self):
        class Inner(nn.Module):
            def forward(self, x, pair, scale, none):
                return x * scale, (pair[0] + 1, pair[1] - 1), None

        class Outer(nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = Inner()
                self.lin = nn.Linear(2, 2)

            def forward(self, x):
                y, (a, b), _ = self.inner(x, [x, 2 * x], 3, None)
                return self.lin(y + a + b)

        x = torch.arange(4.0).reshape(2, 2)
        tok, _ = self.dump_once(Outer(), x)
        folder = os.path.join(tok, "root.inner")
        self.assertEqual(sorted(os.listdir(folder)),
                         ["input_0.pth", "input_1_0.pth", "input_1_1.pth", "output_0.pth", "output_1_0.pth",
                          "output_1_1.pth"])
        self.assertTrue(torch.equal(load(os.path.join(folder, "input_1_1.pth")), 2 * x))
        self.assertTrue(torch.equal(load(os.path.join(folder, "output_0.pth")), 3 * x))
        self.assertTrue(torch.equal(load(os.path.join(folder, "output_1_1.pth")), 2 * x - 1))

    def test_model_tree_order(self):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.b = nn.Linear(2, 2)
                self.unused = nn.ReLU()
                self.a = nn.Sequential(nn.Linear(2, 2), nn.Tanh())

            def forward(self, x):
                return self.b(self.a(x))  # a (and its children) completes before b

        model = Net()
        cfg = aitdb.DumpConfig(dump_path=self.tmp, token_range=[1])
        aitdb.register_hook(model, cfg)
        model(torch.ones(1, 2))
        model(torch.ones(1, 2))
        with open(os.path.join(self.rank_dir(cfg), "model_tree.json")) as f:
            tree = json.load(f)
        self.assertEqual(tree, {"name": "root", "type": "Net", "children": [
            {"name": "root.unused", "type": "ReLU", "children": []},
            {"name": "root.a", "type": "Sequential", "children": [
                {"name": "root.a.0", "type": "Linear", "children": []},
                {"name": "root.a.1", "type": "Tanh", "children": []}]},
            {"name": "root.b", "type": "Linear", "children": []}]})
        self.assertEqual(sorted(os.listdir(self.rank_dir(cfg))), ["1", "model_tree.json"])

    def test_model_tree_of_tiny_llama(self):
        model = tiny_llama.build(0)
        cfg, _, _, _ = self.dump(model)
        with open(os.path.join(self.rank_dir(cfg), "model_tree.json")) as f:
            tree = json.load(f)
        inner = tree["children"][0]
        self.assertEqual([c["name"] for c in tree["children"]], ["root.model", "root.lm_head"])
        self.assertEqual([c["name"] for c in inner["children"]],
                         ["root.model.layers", "root.model.embed_tokens", "root.model.norm"])
        mlp = inner["children"][0]["children"][2]["children"][3]
        self.assertEqual(mlp["name"], "root.model.layers.2.mlp")
        self.assertEqual(mlp["type"], "MLP")
        self.assertEqual([c["name"].rsplit(".", 1)[1] for c in mlp["children"]],
                         ["gate_proj", "act_fn", "up_proj", "down_proj"])

    def test_exec_order(self):
        model = tiny_llama.build(0)
        cfg, _, rec, _ = self.dump(model, steps=2, token_range=[0, 1])
        for token in (0, 1):
            with open(os.path.join(self.rank_dir(cfg), str(token), aitdb.EXEC_ORDER_FILE)) as f:
                lines = f.read().splitlines()
            self.assertEqual(lines, [name for name, _, _ in rec.tokens[token]])
            self.assertEqual(lines[-1], "root")
            self.assertEqual(lines[0], "root.model.embed_tokens")
            pos = {n: i for i, n in enumerate(lines)}
            self.assertLess(pos["root.model.layers.0.mlp.down_proj"], pos["root.model.layers.0.mlp"])
            self.assertLess(pos["root.model.layers.0.mlp"], pos["root.model.layers.0"])
            self.assertLess(pos["root.model.layers.0"], pos["root.model.layers.1.input_layernorm"])
            for n in lines:  # every child line comes before its parent's
                parent = n.rsplit(".", 1)[0] if "." in n else None
                if parent in pos:
                    self.assertLess(pos[n], pos[parent], n)
                self.assertTrue(os.path.isdir(os.path.join(self.rank_dir(cfg), str(token), n)))

    def test_exec_order_repeated_module_and_filters(self):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(2, 2)
                self.act = nn.ReLU()

            def forward(self, x):
                return self.lin(self.act(self.lin(x)))

        tok, out = self.dump_once(Net(), torch.ones(1, 2), module_list=["Linear"])
        with open(os.path.join(tok, aitdb.EXEC_ORDER_FILE)) as f:
            self.assertEqual(f.read(), "root.lin\nroot.lin\n")
        self.assertEqual(sorted(os.listdir(tok)), [aitdb.EXEC_ORDER_FILE, "root.lin"])
        # the second call overwrote the first: its output is the model's output
        self.assertTrue(torch.equal(load(os.path.join(tok, "root.lin", "output.pth")), out))

    def test_token_range(self):
        model = tiny_llama.build(0)
        cfg, _, rec, _ = self.dump(model, steps=3, token_range=[1, 2])
        rank = self.rank_dir(cfg)
        self.assertEqual(sorted(os.listdir(rank)), ["1", "2", "model_tree.json"])
        for token in (1, 2):
            ids = load(os.path.join(rank, str(token), "root", "input_0.pth"))
            self.assertEqual(tuple(ids.shape), (1, 1))
            pos = load(os.path.join(rank, str(token), "root", "input_1.pth"))
            self.assertEqual(pos.tolist(), [[7 + token]])
            self.assertTrue(torch.equal(ids, rec.tokens[token][-1][1][0]))

    def test_tensor_part(self):
        for part, expect in ((0, ["input_0.pth"]), ("1", ["output.pth"]), (2, ["input_0.pth", "output.pth"])):
            with self.subTest(part=part):
                model = tiny_llama.build(0)
                cfg = aitdb.DumpConfig(dump_path=os.path.join(self.tmp, str(part)), tensor_part=part)
                aitdb.register_hook(model, cfg)
                tiny_llama.generate(model, tiny_llama.prompt(0), 1)
                folder = os.path.join(self.rank_dir(cfg), "0", "root.lm_head")
                self.assertEqual(sorted(os.listdir(folder)), expect)

    def test_layer_name_and_module_list(self):
        model = tiny_llama.build(0)
        cfg, _, _, _ = self.dump(model, layer_name="root.model.layers.1.*", module_list=["Linear", "MLP"],
                                 dump_weight=True)
        tok = os.path.join(self.rank_dir(cfg), "0")
        names = sorted(n for n in os.listdir(tok) if n != aitdb.EXEC_ORDER_FILE)
        self.assertEqual(names, sorted(["root.model.layers.1.mlp"] + [
            f"root.model.layers.1.self_attn.{p}_proj" for p in "qkvo"] + [
            f"root.model.layers.1.mlp.{p}_proj" for p in ("gate", "up", "down")]))
        weights = sorted(os.listdir(os.path.join(self.rank_dir(cfg), "weights")))
        self.assertEqual(len(weights), 9)
        self.assertTrue(all(w.startswith("root.model.layers.1.") for w in weights))

    def test_weights(self):
        model = tiny_llama.build(0)
        cfg, _, _, _ = self.dump(model, dump_weight=True)
        folder = os.path.join(self.rank_dir(cfg), "weights")
        params = dict(model.named_parameters())
        self.assertEqual(sorted(os.listdir(folder)), sorted(f"root.{n}.pth" for n in params))
        w = load(os.path.join(folder, "root.model.layers.2.mlp.down_proj.weight.pth"))
        self.assertIsInstance(w, nn.Parameter)
        self.assertTrue(torch.equal(w, params["model.layers.2.mlp.down_proj.weight"]))

    def test_views_are_saved_compact(self):
        class Split(nn.Module):
            def forward(self, x):
                return x[:, 1:3], x.t()

        x = torch.arange(400.0).reshape(20, 20)
        tok, _ = self.dump_once(Split(), x)
        folder = os.path.join(tok, "root")
        part = load(os.path.join(folder, "output_0.pth"))
        self.assertTrue(torch.equal(part, x[:, 1:3]))
        self.assertEqual(part.storage().size(), 40)  # not the 400 of the base
        self.assertTrue(torch.equal(load(os.path.join(folder, "output_1.pth")), x.t()))
        whole = load(os.path.join(folder, "input_0.pth"))
        self.assertEqual(whole.storage().size(), 400)

    def test_bf16_model(self):
        model = tiny_llama.build(0, dtype=torch.bfloat16)
        cfg, _, rec, _ = self.dump(model)
        out = load(os.path.join(self.rank_dir(cfg), "0", "root.model.norm", "output.pth"))
        self.assertEqual(out.dtype, torch.bfloat16)
        self.assertTrue(torch.equal(out, [o for n, _, o in rec.tokens[0] if n == "root.model.norm"][0]))

    def test_statistics_mode(self):
        model = tiny_llama.build(0)
        cfg, _, rec, _ = self.dump(model, dump_statistics_mode=1)
        folder = os.path.join(self.rank_dir(cfg), "0", "root.model.norm")
        self.assertEqual(os.listdir(folder), ["statistics.csv"])
        with open(os.path.join(folder, "statistics.csv")) as f:
            rows = [line.rstrip("\n") for line in f]
        self.assertEqual(rows[0], "NodeName,NodeType,InputOutput,Index,DataType,Shape,Max,Min,Mean,L2Norm")
        out = [o for n, _, o in rec.tokens[0] if n == "root.model.norm"][0]
        fields = rows[2].split(",", 5)
        self.assertEqual(fields[:5], ["root.model.norm", "RMSNorm", "Output", "0", "torch.float32"])
        tail = fields[5].rsplit(",", 4)
        self.assertEqual(tail[0], '"(1, 8, 64)"')
        self.assertAlmostEqual(float(tail[1]), out.max().item(), places=5)
        self.assertAlmostEqual(float(tail[4]), torch.norm(out).item(), places=4)

    def test_dump_last_logits(self):
        model = tiny_llama.build(0)
        cfg, _, rec, _ = self.dump(model, steps=2, token_range=[0, 1], dump_last_logits=True)
        for token in (0, 1):
            tok = os.path.join(self.rank_dir(cfg), str(token))
            self.assertEqual(sorted(os.listdir(tok)), [aitdb.EXEC_ORDER_FILE, "root.lm_head"])
            self.assertEqual(os.listdir(os.path.join(tok, "root.lm_head")), ["output.pth"])
            self.assertTrue(torch.equal(load(os.path.join(tok, "root.lm_head", "output.pth")),
                                        rec.tokens[token][-1][2]))

    def test_api_mode(self):
        model = tiny_llama.build(0)
        cfg, _, rec, _ = self.dump(model, mode="all")
        tok = os.path.join(self.rank_dir(cfg), "0")
        folder = os.path.join(tok, "root.model.layers.0.mlp.act_fn.silu")
        self.assertEqual(sorted(os.listdir(folder)), ["input_0.pth", "output.pth"])
        gate = [o for n, _, o in rec.tokens[0] if n == "root.model.layers.0.mlp.gate_proj"][0]
        self.assertTrue(torch.equal(load(os.path.join(folder, "input_0.pth")), gate))
        self.assertTrue(torch.equal(load(os.path.join(folder, "output.pth")), torch.nn.functional.silu(gate)))
        self.assertTrue(os.path.isdir(os.path.join(tok, "root.model.layers.0.self_attn.softmax")))
        self.assertTrue(os.path.isdir(os.path.join(tok, "root.model.layers.0.self_attn.q_proj")))
        with open(os.path.join(tok, aitdb.EXEC_ORDER_FILE)) as f:
            lines = f.read().splitlines()
        self.assertLess(lines.index("root.model.layers.0.mlp.act_fn.silu"), lines.index("root.model.layers.0.mlp.act_fn"))
        # the API mode's function hook is gone once the forward returned
        self.assertFalse(torch.overrides._is_torch_function_mode_enabled())

    def test_forward_survives_unwritable_dump(self):
        model = tiny_llama.build(0)
        reference = tiny_llama.build(0)
        cfg = aitdb.DumpConfig(dump_path=self.tmp, token_range=[0, 1, 2])
        handle = aitdb.register_hook(model, cfg)
        ids = tiny_llama.prompt(0)
        pos = torch.arange(8)[None]
        with torch.no_grad():
            first = model(ids, pos)
            self.assertEqual(handle.failures, 0)
            # the dump folder becomes a plain file: every later write fails
            shutil.rmtree(cfg.tensors_root)
            with open(cfg.tensors_root, "w") as f:
                f.write("x")
            with self.assertLogs("aitdb", level="WARNING") as logs:
                model.reset_cache()
                second = model(ids, pos)
                model.reset_cache()
                third = model(ids[:, :4], pos[:, :4])
            reference.reset_cache()
            expect = reference(ids, pos)
            reference.reset_cache()
            expect_short = reference(ids[:, :4], pos[:, :4])
        self.assertEqual(len([r for r in logs.records if r.levelname == "WARNING"]), 1)
        self.assertIn("dump failed", logs.output[0])
        self.assertGreater(handle.failures, 10)
        self.assertTrue(torch.equal(first, expect))
        self.assertTrue(torch.equal(second, expect))
        self.assertTrue(torch.equal(third, expect_short))

    def test_bad_arguments(self):
        bad = [dict(token_range="0"), dict(token_range=[-1]), dict(token_range=[0.5]), dict(token_range=[]),
               dict(token_range=5), dict(tensor_part=3), dict(tensor_part="both"), dict(module_list="Linear"),
               dict(module_list=[nn.Linear]), dict(device_id=-1), dict(mode="kernel"), dict(layer_name=""),
               dict(dump_statistics_mode=3)]
        for kw in bad:
            with self.subTest(kw=kw), self.assertRaises((TypeError, ValueError)) as ctx:
                aitdb.DumpConfig(dump_path=self.tmp, **kw)
            self.assertIn("aitdb:", str(ctx.exception))
        blocker = os.path.join(self.tmp, "file")
        open(blocker, "w").close()
        with self.assertRaises(aitdb.DumpPathError) as ctx:
            aitdb.DumpConfig(dump_path=os.path.join(blocker, "sub"))
        self.assertIn("not writable", str(ctx.exception))
        cfg = aitdb.DumpConfig(dump_path=self.tmp)
        with self.assertRaises(TypeError):
            aitdb.register_hook(object(), cfg)
        with self.assertRaises(TypeError):
            aitdb.register_hook(nn.Linear(1, 1), {"dump_path": self.tmp})

    def test_device_filter(self):
        model = tiny_llama.build(0)
        cfg, _, _, _ = self.dump(model, device_id=0)  # a CPU model has no device index
        self.assertEqual(os.listdir(self.rank_dir(cfg)), ["model_tree.json"])


class ManualDumpTest(TempDirTest):
    def test_msit_dump_data(self):
        my = os.path.join(self.tmp, "my_out.bin")
        open(my, "wb").close()
        out = os.path.join(self.tmp, "out")
        a, b = torch.arange(6.0).reshape(2, 3), torch.ones(4, dtype=torch.float16)
        pa = aitdb.dump_data(0, "attn_out", a, my, out)
        pb = aitdb.dump_data(1, "attn_out", b, my, out)
        pc = aitdb.dump_data(0, 7, b[:2], my, out)
        root = glob.glob(os.path.join(out, "msit_dump_*"))
        self.assertEqual(len(root), 1)
        golden = os.path.join(root[0], f"{PID}_-1", "golden_tensor")
        self.assertEqual(pa, os.path.join(golden, "0", "attn_out_tensor.pth"))
        self.assertEqual(pb, os.path.join(golden, "1", "attn_out_tensor.pth"))
        self.assertEqual(pc, os.path.join(golden, "0", "7_tensor.pth"))
        self.assertTrue(torch.equal(load(pa), a))
        self.assertTrue(torch.equal(load(pc), b[:2]))
        with open(os.path.join(golden, "metadata.json")) as f:
            meta = json.load(f)
        self.assertEqual(meta, {"attn_out": {"0": [pa, my], "1": [pb, my]}, "7": {"0": [pc, my]}})

    def test_msit_dump_data_errors(self):
        my = os.path.join(self.tmp, "my.bin")
        open(my, "wb").close()
        t = torch.ones(1)
        cases = [((-1, "x", t, my), ValueError), ((0, -1, t, my), ValueError), ((0, "x", [1.0], my), TypeError),
                 ((0, "x", np.ones(1), my), TypeError), ((0, "x", t, ""), ValueError),
                 ((0, "x", t, os.path.join(self.tmp, "missing.bin")), FileNotFoundError),
                 ((0, "a/b", t, my), ValueError), ((True, "x", t, my), TypeError)]
        for args, exc in cases:
            with self.subTest(args=args[:2]), self.assertRaises(exc):
                aitdb.dump_data(*args, output_path=self.tmp)

    def test_aclcmp_dump_data(self):
        os.environ["ASDOPS_LOG_TO_FILE_DIR"] = os.path.join(self.tmp, "atb")
        os.environ["AIT_CMP_TASK_PID"] = f"aitdb_test_{PID}"
        self.addCleanup(shutil.rmtree, f"/tmp/aitdb_test_{PID}", True)
        out = os.path.join(self.tmp, "acl")
        g = torch.arange(4, dtype=torch.float16)
        pg = aclcmp.dump_data("golden", "mlp_out", g, token_id=0, output_dir=out)
        pg1 = aclcmp.dump_data("golden", "mlp_out", np.arange(3, dtype=np.int32), token_id=1, output_dir=out)
        pa = aclcmp.dump_data("acl", "mlp_out", g.to(torch.bfloat16), token_id=0, output_dir=out)
        rel = "0_Decoder/3_Linear/after/outtensor0.bin"
        pl = aclcmp.dump_data("acl", "mlp_out", tensor_path=rel, token_id=1, output_dir=out)
        base = os.path.join(out, f"{PID}_cmp_dump_data")
        self.assertEqual(pg, os.path.join(base, "golden_tensor", "0", "mlp_out_tensor.npy"))
        self.assertEqual(pa, os.path.join(base, "acl_tensor", "0", "mlp_out_tensor.npy"))
        self.assertEqual(pl, os.path.join(self.tmp, "atb", "tensors", f"thread_{PID}", "1", rel))
        saved = np.load(pg)
        self.assertEqual(saved.dtype, np.float16)
        self.assertEqual(saved.tolist(), [0, 1, 2, 3])
        self.assertEqual(np.load(pg1).dtype, np.int32)
        self.assertEqual(np.load(pa).dtype, np.float32)  # bf16 has no numpy dtype
        with open(os.path.join(base, "golden_tensor", "metadata.json")) as f:
            self.assertEqual(json.load(f), {"mlp_out": {"0": pg, "1": pg1}})
        with open(os.path.join(base, "acl_tensor", "metadata.json")) as f:
            self.assertEqual(json.load(f), {"mlp_out": {"0": pa, "1": pl}})
        with open(f"/tmp/aitdb_test_{PID}/ait_compare_acl_map.txt") as f:
            self.assertEqual(f.read(), rel + "\n")

    def test_aclcmp_errors(self):
        t = torch.ones(1)
        with self.assertRaisesRegex(ValueError, "data_src must be 'golden' or 'acl'"):
            aclcmp.dump_data("pta", "x", t, output_dir=self.tmp)
        with self.assertRaisesRegex(TypeError, "data_val must be a torch.Tensor"):
            aclcmp.dump_data("golden", "x", [1, 2], output_dir=self.tmp)
        with self.assertRaisesRegex(ValueError, "exactly one"):
            aclcmp.dump_data("golden", "x", output_dir=self.tmp)
        with self.assertRaisesRegex(ValueError, "only for data_src 'acl'"):
            aclcmp.dump_data("golden", "x", tensor_path="a/b.bin", output_dir=self.tmp)
        with self.assertRaisesRegex(ValueError, "data_src must be 'pta' or 'acl'"):
            aclcmp.set_label("golden", "x", t, output_dir=self.tmp)
        with self.assertRaisesRegex(TypeError, "data_val"):
            aclcmp.set_label("pta", "x", 3.0, output_dir=self.tmp)
        with self.assertRaises(ValueError):
            aclcmp.dump_data("golden", "x", t, token_id=-1, output_dir=self.tmp)
        blocker = os.path.join(self.tmp, "file")
        open(blocker, "w").close()
        with self.assertRaises(aitdb.DumpPathError):
            aclcmp.dump_data("golden", "x", t, output_dir=blocker)

    def test_set_label_and_task_ids(self):
        os.environ["ASDOPS_LOG_TO_FILE_DIR"] = os.path.join(self.tmp, "atb")
        os.environ["AIT_CMP_TASK_PID"] = f"aitdb_test_{PID}"
        self.addCleanup(shutil.rmtree, f"/tmp/aitdb_test_{PID}", True)
        out = os.path.join(self.tmp, "lbl")
        t1 = aclcmp.set_task_id()
        m = re.fullmatch(rf"{PID}_(\d+)", t1)
        self.assertIsNotNone(m)
        self.assertEqual(os.environ["AIT_CMP_TASK_ID"], t1)
        ids = [aclcmp.gen_id() for _ in range(50)]
        self.assertEqual(len(set(ids)), 50)
        self.assertTrue(all(re.fullmatch(r"data_\d+\.\d+(e-?\d+)?", i) for i in ids))
        x = torch.randn(3, 4, generator=torch.Generator().manual_seed(5))
        p1 = aclcmp.set_label("pta", ids[0], x, output_dir=out)
        a1 = aclcmp.set_label("acl", ids[0], x + 1, output_dir=out)
        t2 = aclcmp.set_task_id()
        self.assertEqual(t2, f"{PID}_{int(m.group(1)) + 1}")
        p2 = aclcmp.set_label("pta", ids[0], x * 2, output_dir=out)
        a2 = aclcmp.set_label("acl", ids[0], tensor_path="0_Model/after/outtensor0.bin", output_dir=out)
        base = os.path.join(out, f"{PID}_cmp_dump_data")
        self.assertEqual(p1, os.path.join(base, "pta_tensor", t1, f"{ids[0]}_tensor.npy"))
        self.assertEqual(a2, os.path.join(self.tmp, "atb", "tensors", str(PID), t2, "0_Model/after/outtensor0.bin"))
        np.testing.assert_array_equal(np.load(p2), (x * 2).numpy())
        np.testing.assert_array_equal(np.load(a1), (x + 1).numpy())
        with open(os.path.join(base, "pta_tensor", "metadata.json")) as f:
            self.assertEqual(json.load(f), {ids[0]: {t1: p1, t2: p2}})
        with open(os.path.join(base, "acl_tensor", "metadata.json")) as f:
            self.assertEqual(json.load(f), {ids[0]: {t1: a1, t2: a2}})


class Md5HookTest(TempDirTest):
    def test_md5_layout_and_keys(self):
        model = tiny_llama.build(0)
        model.lm_head = nn.Linear(64, 128, bias=True)  # a bias keys the module instead of its weight
        with torch.no_grad():
            model.lm_head.bias.copy_(torch.linspace(-1, 1, 128))
        folder = md5_hooks.set_dump_path(self.tmp, "ait_dump", "pt")
        self.assertEqual(folder, os.path.join(os.path.abspath(self.tmp), "ait_dump"))
        self.assertEqual(os.environ["AIT_DIALOG_DUMP_PATH"], folder)
        handle = md5_hooks.register_hook(model, dump_start_token_id=1, dump_end_token_id=3)
        rec = Recorder(model)
        tiny_llama.generate(model, tiny_llama.prompt(0), 4)
        rec.remove()
        self.assertEqual(handle.failures, 0)
        base = os.path.join(folder, str(PID))
        self.assertEqual(handle.metadata_path, os.path.join(base, "metadata.json"))
        self.assertEqual(sorted(os.listdir(base)), ["1", "2", "metadata.json"])
        with open(handle.metadata_path) as f:
            meta = json.load(f)
        self.assertEqual(sorted(meta), ["0", "1"])  # keys count from dump_start_token_id
        weighted = {n: m for n, m in model.named_modules() if isinstance(getattr(m, "weight", None), torch.Tensor)}
        expect = {}
        for name, m in weighted.items():
            t = m.bias if getattr(m, "bias", None) is not None else m.weight
            expect.setdefault(hashlib.md5(t.detach().numpy().tobytes()).hexdigest(), name)
        self.assertEqual(len(weighted), 4 * 9 + 3)
        for key, token_dir in (("0", "1"), ("1", "2")):
            self.assertEqual(sorted(meta[key]), sorted(expect))
            for md5, paths in meta[key].items():
                self.assertEqual(paths, [os.path.join(base, token_dir, f"{expect[md5]}_output.npy")])
        lm_md5 = hashlib.md5(model.lm_head.bias.detach().numpy().tobytes()).hexdigest()
        logits = np.load(meta["1"][lm_md5][0])
        np.testing.assert_array_equal(logits, rec.tokens[2][-1][2].numpy())
        self.assertEqual(logits.shape, (1, 1, 128))

    def test_md5_bf16_op_list_and_errors(self):
        model = tiny_llama.build(0, dtype=torch.bfloat16)
        md5_hooks.set_dump_path(self.tmp, "tag", is_save_md5=True)
        self.assertEqual(os.environ["AIT_IS_SAVE_MD5"], "1")
        handle = md5_hooks.register_hook(model, op_list=["RMSNorm"])
        tiny_llama.generate(model, tiny_llama.prompt(0), 1)
        with open(handle.metadata_path) as f:
            meta = json.load(f)
        norm = model.model.norm.weight.detach()
        key = hashlib.md5(norm.view(torch.int16).numpy().tobytes()).hexdigest()
        self.assertEqual(len(meta["0"]), 9)
        self.assertTrue(meta["0"][key][0].endswith("/0/model.norm_output.npy"))
        self.assertEqual(np.load(meta["0"][key][0]).dtype, np.float32)
        with self.assertRaisesRegex(ValueError, "backend"):
            md5_hooks.set_dump_path(self.tmp, backend="tf")
        with self.assertRaisesRegex(ValueError, "dump_end_token_id"):
            md5_hooks.register_hook(model, dump_start_token_id=2, dump_end_token_id=1)
        with self.assertRaises(TypeError):
            md5_hooks.register_hook(model, op_list=[3])
        os.environ.pop("AIT_DIALOG_DUMP_PATH")
        os.environ.pop("AIT_DUMP_PATH", None)
        with self.assertRaisesRegex(ValueError, "set_dump_path"):
            md5_hooks.register_hook(model)
        os.environ["AIT_IS_SAVE_MD5"] = "0"
        self.assertIsNone(md5_hooks.set_dump_path(self.tmp, backend="acl"))
        self.assertEqual(os.environ["AIT_IS_SAVE_MD5"], "1")


class TransformerDumpsTest(TempDirTest):
    def test_make_transformer_dumps(self):
        import make_transformer_dumps
        info = make_transformer_dumps.write_dumps(self.tmp)
        self.assertEqual(info["perturbed_module"], "root.model.layers.2.mlp.down_proj")
        runs = [info[k] for k in ("golden", "my_perturbed", "my_bf16")]
        for run in runs:
            self.assertEqual(sorted(os.listdir(run["rank_dir"])), ["0", "1", "2", "model_tree.json", "weights"])
        g, p, b = runs
        self.assertEqual(b["dtype"], "bfloat16")
        for token in range(3):
            def out(run, module):
                return load(os.path.join(run["rank_dir"], str(token), module, "output.pth"))
            # before the perturbed module both float32 runs agree exactly, at and after it they do not
            self.assertTrue(torch.equal(out(g, "root.model.layers.2.mlp.up_proj"), out(p, "root.model.layers.2.mlp.up_proj")))
            self.assertTrue(torch.equal(out(g, "root.model.layers.1"), out(p, "root.model.layers.1")))
            self.assertFalse(torch.equal(out(g, info["perturbed_module"]), out(p, info["perturbed_module"])))
            self.assertTrue(torch.equal(load(os.path.join(g["rank_dir"], str(token), "root", "input_0.pth")),
                                        load(os.path.join(b["rank_dir"], str(token), "root", "input_0.pth"))))
            cos = torch.nn.functional.cosine_similarity(out(g, "root.model.layers.1").double().flatten(),
                                                        out(b, "root.model.layers.1").double().flatten(), dim=0)
            self.assertGreater(float(cos), 0.999)
        self.assertLess(p["perturbed_output_cosine"], 0.999)
        self.assertGreater(p["perturbed_output_cosine"], 0.99)


if __name__ == "__main__":
    unittest.main()
