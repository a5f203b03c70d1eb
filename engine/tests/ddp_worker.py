"""Run by torchrun in test_ddp.py: trains a spec on this rank and saves the rank's LoRA weights."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from safetensors.torch import save_file

from kiln_engine.events import NullSink
from kiln_engine.runner import run
from kiln_engine.spec import parse_spec
from kiln_engine.train.loop import StopFlag


def main() -> None:
    spec = parse_spec(json.loads(Path(sys.argv[1]).read_text()))
    out = Path(sys.argv[2])
    ctx = run(spec, NullSink(), StopFlag())
    assert ctx.dist.world_size == 2
    save_file({k: v.contiguous() for k, v in ctx.lora.items()}, str(out / f"rank{ctx.dist.rank}.safetensors"),
              metadata={"pid": str(os.getpid())})


if __name__ == "__main__":
    main()
