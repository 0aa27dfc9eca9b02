"""Hold SIGINT (Ctrl-C) across a write that must not be cut, and deliver it once the write is done.

Python raises ``KeyboardInterrupt`` at the next bytecode after SIGINT, which
may be inside a library's writer.  ``torch.save``'s zip writer then fails on
its way out with its own ``RuntimeError`` ("unexpected pos ..."), which hides
the ``KeyboardInterrupt``: the run would end with exit 1 and a traceback
instead of the one line and exit 130 of an interrupt, and the checkpoint it
was writing would be lost.  The signal module has no "defer" of its own, so
`sigint_held` installs a handler that only records the signal and replays it
to the previous handler when the block ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Iterator

__all__ = ["sigint_held"]


@contextlib.contextmanager
def sigint_held() -> Iterator[None]:
    """Run the block with SIGINT recorded, not acted on; at its end (also when it raises) restore the
    previous handler and, if SIGINT came, deliver it to that handler (Python's default raises
    ``KeyboardInterrupt``; an ignored SIGINT stays ignored).

    Off the main thread, where Python runs no signal handler, the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
        if caught:
            if callable(previous):
                previous(signal.SIGINT, None)
            elif previous in (signal.SIG_DFL, None):
                os.kill(os.getpid(), signal.SIGINT)
