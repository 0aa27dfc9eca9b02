"""Fixtures shared by the test packages."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest


@pytest.fixture
def unfinished_run_of_other_settings():
    """A function leaving in ``run_dir`` what a killed run of ``overrides`` leaves: its config.yaml
    and a checkpoint (whose bytes are never read: resume compares config.yaml first)."""
    from omegaconf import OmegaConf

    from genlab.config.compose import compose_config

    def leave(run_dir: Path, overrides: list[str]) -> None:
        (run_dir / "checkpoints").mkdir(parents=True)
        (run_dir / "checkpoints" / "last.pt").write_bytes(b"x")
        OmegaConf.save(compose_config(overrides), run_dir / "config.yaml")
    return leave


@pytest.fixture
def readme_slurm_launcher_args() -> list[str]:
    """The hydra/ and hydra.* arguments of the README's SLURM command (its bash block running rates.py
    with hydra/launcher=genlab_slurm), so that tests run what the README says."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    block = next(b for b in blocks if "hydra/launcher=genlab_slurm" in b and "rates.py" in b)
    return [a for a in shlex.split(block.replace("\\\n", " ")) if a.startswith(("hydra/", "hydra."))]
