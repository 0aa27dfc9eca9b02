"""Shared fixtures of the regression tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """One intra-op thread, restored after: the matrices here are at most ~20000 x 512, where a second thread
    only adds synchronisation, and on a loaded machine its spin-waits made the training tests 10-40x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
