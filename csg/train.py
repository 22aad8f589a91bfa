"""``python -m csg.train --method csg --dataset digits --epochs 3 ...``: one run from a shell.

Every field of :class:`csg.config.Config` is a flag (``--stages 3 4``, ``--magnitude none``).
Launch with ``torchrun --nproc_per_node N -m csg.train ...`` for data-parallel training.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import typing

import torch.distributed as dist

from .config import Config
from .engine import train


def _magnitude(value: str) -> int | str | None:
    low = value.strip().lower()
    return low if low == "auto" else None if low == "none" else int(value)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m csg.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    hints = typing.get_type_hints(Config)
    for f in dataclasses.fields(Config):
        kind = hints[f.name]
        flag = "--" + f.name.replace("_", "-")
        if kind is bool:
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default)
        elif f.name == "stages":
            p.add_argument(flag, type=int, nargs="+", default=list(f.default))
        elif f.name == "magnitude":
            p.add_argument(
                flag,
                type=_magnitude,
                default=f.default,
                help="RandAugment M of 30, 'none', or 'auto' (the paper's protocol; default)",
            )
        else:
            base = next(t for t in typing.get_args(kind) or (kind,) if t is not type(None))
            optional = type(None) in typing.get_args(kind)
            conv = (lambda b: lambda v: None if v.lower() == "none" else b(v))(base) if optional else base
            p.add_argument(flag, type=conv, default=f.default, help=f"default: {f.default}")
    return p


def command(cfg: Config, gpus: int = 1) -> list[str]:
    """The shell command that trains ``cfg``: ``python -m csg.train ...``, or under
    ``torchrun --nproc_per_node gpus`` for data-parallel training (gloo on a CPU)."""
    launcher = (
        [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={gpus}"]
        if gpus > 1
        else [sys.executable]
    )
    flags = []
    for f in dataclasses.fields(Config):
        value = getattr(cfg, f.name)
        if value == f.default:
            continue
        flag = "--" + f.name.replace("_", "-")
        if isinstance(value, bool):
            flags.append(flag if value else "--no-" + flag[2:])
        elif isinstance(value, tuple):
            flags += [flag, *map(str, value)]
        else:
            flags.append(f"{flag}={'none' if value is None else value}")
    return launcher + ["-m", "csg.train", *flags]


def main(argv=None) -> None:
    args = vars(parser().parse_args(argv))
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:  # launched by torchrun
        import torch

        dist.init_process_group("nccl" if torch.cuda.is_available() and args["device"] != "cpu" else "gloo")
        if torch.cuda.is_available() and args["device"] != "cpu":
            args["device"] = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
            torch.cuda.set_device(args["device"])
    try:
        result = train(Config(**args))
    except (ValueError, FileNotFoundError) as error:  # bad parameters or data: one line, no traceback
        print(f"python -m csg.train: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    if result.record_path:
        final = {split: round(v["score"], 4) for split, v in result.record["final"].items()}
        print(json.dumps({"record": str(result.record_path), "final": final}))


if __name__ == "__main__":
    main()
