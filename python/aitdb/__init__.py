"""aitdb torch-side hooks: write msit/aclcmp dump layouts that `aitdb ingest` reads.

    aitdb.DumpConfig, aitdb.register_hook   module dumps (msit torch_tensors layout + exec order)
    aitdb.dump_data                         msit's manual golden dump (golden_tensor/metadata.json)
    aitdb.aclcmp.dump_data / set_label / gen_id / set_task_id   aclcmp's labelled dumps
    aitdb.md5_hooks.set_dump_path / register_hook               aclcmp's weight-MD5 dump
"""
from . import aclcmp, md5_hooks
from ._writer import DumpPathError
from .dump_config import DumpConfig
from .hooks import EXEC_ORDER_FILE, DumpHandle, register_hook
from .manual_dump import dump_data

__all__ = ["DumpConfig", "register_hook", "dump_data", "aclcmp", "md5_hooks", "DumpPathError", "DumpHandle",
           "EXEC_ORDER_FILE"]
