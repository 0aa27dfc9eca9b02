"""The typed schema of a run, merged with the recipe YAML by Hydra.

Every key a recipe or a command-line override may set is a field here, with
its type.  Hydra composes ``recipes/config.yaml`` on top of this schema in
struct mode, so a misspelled key or a value of the wrong type fails at
composition, before any work, naming the key.

One run = one truth, ``n`` training points from it, one estimator fitted to
them, and an evaluation at size ``eval.m`` against fresh truth samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import List, Optional

from hydra.core.config_store import ConfigStore

from genlab.diffusion.config import DiffusionConfig
from genlab.gan.config import GANConfig
from genlab.icl.config import ICLConfig

__all__ = [
    "TruthConfig", "KDEConfig", "EvalConfig", "RatesConfig", "RunConfig",
    "ESTIMATORS", "register_schema", "truth_kwargs",
]

#: estimator families a recipe can name in ``estimator:``
ESTIMATORS = ("empirical", "kde", "diffusion", "gan", "icl")


@dataclass
class TruthConfig:
    """Which known law generates the data; see `genlab.distributions.make_truth`.

    Only the fields a recipe sets (non-null) are passed on, so a field that the
    chosen truth does not take is an error naming it.
    """

    name: str = "gmm_anisotropic"
    dim: Optional[int] = None
    n_modes: Optional[int] = None
    radius: Optional[float] = None
    sigma: Optional[float] = None
    separation: Optional[float] = None
    s: Optional[float] = None
    amplitude: Optional[float] = None
    n_terms: Optional[int] = None
    ambient_dim: Optional[int] = None
    intrinsic_dim: Optional[int] = None
    base: Optional[str] = None
    seed: Optional[int] = None


@dataclass
class KDEConfig:
    """Gaussian KDE baseline; see `genlab.baselines.make_kde`.

    ``bandwidth`` is a rule name (scott, silverman, theory, held_out) or a number.
    """

    bandwidth: str = "scott"
    c: float = 1.0
    boundary: str = "none"


@dataclass
class EvalConfig:
    """Evaluation against the truth, at a size ``m`` independent of the training n."""

    m: int = 2000
    reps: int = 3
    seed: int = 0
    #: where noise floors are kept between runs (null: recompute every run)
    floor_cache: Optional[str] = "~/.cache/genlab/floors"
    metrics: List[str] = field(default_factory=lambda: ["w1", "sliced_w1"])
    #: also fit a Gaussian KDE with held-out bandwidth on the same n points and report its
    #: TV as kde_tv (the no-training reference a trained density model must beat)
    kde_reference: bool = False


@dataclass
class RatesConfig:
    """A sweep over the training size n (or another key ``x``) and seeds, for `scripts/rates.py`.

    ``x`` is the swept key: ``n`` (values ``n``) or any run setting, e.g.
    ``diffusion.sampler_steps``, with values ``x_values``.  ``compare`` recipes
    are run on this recipe's truth and drawn on the same axes.  ``replicas``:
    ``auto`` trains a local diffusion sweep's runs as replica-batched groups in
    one process (``genlab.replica_sweep``) when they can share a network;
    ``off`` always launches one process per run through the Hydra launcher.

    ``seeds`` defaults to 5: the slope interval (`metrics.fit_rate`'s seed
    jackknife) covers at its nominal 95% from 3 seeds on, but at the noise of
    the real sweeps (CV 0.2) it is 0.29 wide with 3 seeds, 0.16 with 5 and
    0.11 with 8 (README, "Coverage of the slope interval"): 5 is the fewest
    that tells -1/3 from -1/2.  ``floor_factor`` is the 3x rule: for a floor
    modelled in quadrature it warns, for a resolution floor it leaves points out.
    """

    n: List[int] = field(default_factory=lambda: [250, 500, 1000, 2000, 4000])
    x: str = "n"
    x_values: List[float] = field(default_factory=list)
    seeds: int = 5
    floor_factor: float = 3.0
    metrics: List[str] = field(default_factory=list)
    compare: List[str] = field(default_factory=list)
    out_dir: Optional[str] = None
    replicas: str = "auto"


@dataclass
class RunConfig:
    """One run: truth, estimator, sizes, seeds, device and where results go."""

    name: str = "unnamed"
    estimator: str = "kde"
    n: int = 1000
    seed: int = 0
    device: str = "auto"
    out_dir: str = "runs/${name}/${now:%Y-%m-%d_%H-%M-%S-%f}"
    progress: bool = True
    skip_complete: bool = False
    #: continue the unfinished run in out_dir from its checkpoint (a SLURM requeue does so by itself)
    resume: bool = False
    truth: TruthConfig = field(default_factory=TruthConfig)
    kde: KDEConfig = field(default_factory=KDEConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    gan: GANConfig = field(default_factory=GANConfig)
    icl: ICLConfig = field(default_factory=ICLConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    rates: RatesConfig = field(default_factory=RatesConfig)


def register_schema() -> None:
    """Store `RunConfig` as ``genlab_schema`` for ``recipes/config.yaml``'s defaults list."""
    ConfigStore.instance().store(name="genlab_schema", node=RunConfig)


def truth_kwargs(truth: TruthConfig) -> dict:
    """The non-null parameters of ``truth``, without its name."""
    return {f.name: getattr(truth, f.name) for f in fields(truth)
            if f.name != "name" and getattr(truth, f.name) is not None}
