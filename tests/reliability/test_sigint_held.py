"""SIGINT during a checkpoint write is held until the file is complete, then delivered (the CI failure of
stop 28: a Ctrl-C inside torch.save's zip writer ended the run with the writer's RuntimeError, exit 1)."""

from __future__ import annotations

import os
import signal

import pytest
import torch

from genlab.training import checkpoint as training
from genlab.core.interrupts import sigint_held


@pytest.fixture
def default_sigint():
    """SIGINT as an interactive Python has it (a test runner may have inherited it ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_sigint_inside_the_block_is_delivered_after_it(default_sigint):
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with sigint_held():
            os.kill(os.getpid(), signal.SIGINT)
            reached.append("after the signal")
    assert reached == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_no_sigint_no_interrupt_and_the_handler_is_restored(default_sigint):
    with sigint_held():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_ignored_sigint_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with sigint_held():
            os.kill(os.getpid(), signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


class _InterruptingFile:
    """A file-like object that sends SIGINT to its own process at its third write: a Ctrl-C that lands
    while torch.save's zip writer is part-way through the archive."""

    def __init__(self, inner):
        self.inner, self.writes = inner, 0

    def write(self, data):
        self.writes += 1
        if self.writes == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return self.inner.write(data)

    def flush(self):
        self.inner.flush()


def test_sigint_mid_torch_save_completes_the_checkpoint_then_interrupts(default_sigint, tmp_path, monkeypatch):
    real = torch.save
    monkeypatch.setattr(training.torch, "save", lambda obj, f: real(obj, _InterruptingFile(f)))
    path = tmp_path / "checkpoints" / "last.pt"
    state = {"format": "genlab.train/1", "weights": torch.arange(4096.0)}
    with pytest.raises(KeyboardInterrupt):
        training.save_checkpoint(str(path), state)
    back = torch.load(path, weights_only=True)
    assert torch.equal(back["weights"], state["weights"])
    assert not list(path.parent.glob(".*.tmp"))
