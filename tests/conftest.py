"""Fixtures shared by the test packages."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def unfinished_run_of_other_settings():
    """A function leaving in ``run_dir`` what a killed run of ``overrides`` leaves: its config.yaml
    and a checkpoint (whose bytes are never read: resume compares config.yaml first)."""
    from omegaconf import OmegaConf

    from genlab.cli import compose_config

    def leave(run_dir: Path, overrides: list[str]) -> None:
        (run_dir / "checkpoints").mkdir(parents=True)
        (run_dir / "checkpoints" / "last.pt").write_bytes(b"x")
        OmegaConf.save(compose_config(overrides), run_dir / "config.yaml")
    return leave
