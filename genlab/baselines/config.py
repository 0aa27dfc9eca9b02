"""Typed settings of the Gaussian KDE family (OmegaConf structured-config compatible): the ``kde`` section."""

from __future__ import annotations

import math
from dataclasses import dataclass

from genlab.baselines.factory import BANDWIDTH_RULES
from genlab.baselines.kde import BOUNDARIES
from genlab.core.validation import check_in

__all__ = ["KDEConfig"]


@dataclass
class KDEConfig:
    """Gaussian KDE baseline; see `genlab.baselines.make_kde`.

    ``bandwidth`` is a rule name (scott, silverman, theory, held_out) or a number.
    """

    #: scott (sd n^(-1/(d+4))), silverman, theory (c n^(-1/(2s+d)), Tsybakov 2009), held_out (maximises the
    #: log-likelihood of a random 20% of the n points), or h itself as a number
    bandwidth: str = "scott"
    #: the constant c of the theory rule h = c n^(-1/(2s+d)); no other rule reads it
    c: float = 1.0
    #: none, or reflect: fold the kernel back into the truth's cube [low, high]^d (Schuster 1985)
    boundary: str = "none"

    def validate(self) -> "KDEConfig":
        """Return self, or raise a one-line ValueError naming the key as the recipes spell it (``kde.c``)."""
        try:
            h = float(self.bandwidth)
        except ValueError:
            check_in("kde.bandwidth", self.bandwidth, BANDWIDTH_RULES + ("<a positive number>",))
        else:
            if not (math.isfinite(h) and h > 0):
                raise ValueError(f"kde.bandwidth must be > 0, got {self.bandwidth}")
        check_in("kde.boundary", self.boundary, BOUNDARIES)
        return self
