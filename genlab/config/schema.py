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
    "register_schema", "truth_kwargs", "truth_identity",
]


@dataclass
class TruthConfig:
    """Which known law generates the data; see `genlab.distributions.make_truth`.

    Only the fields a recipe sets (non-null) are passed on, so a field that the
    chosen truth does not take is an error naming it.
    """

    #: the truth: gmm_ring, gmm_grid (PacGAN's, Lin et al. 2018), gmm_anisotropic (7 rotated modes in 2-D),
    #: gmm_random, uniform, smooth, smooth_joint, subspace, circle, sphere (`genlab.distributions.registry`)
    name: str = "gmm_anisotropic"
    #: dimension d of gmm_random, uniform, smooth, smooth_joint (null: the truth's default, 2)
    dim: Optional[int] = None
    #: number of mixture components of gmm_ring and gmm_random (null: 8)
    n_modes: Optional[int] = None
    #: radius of gmm_ring's circle of means, or of circle and sphere (null: 1.0)
    radius: Optional[float] = None
    #: standard deviation of every mode of gmm_ring (null: 0.01) and gmm_grid (null: 0.05)
    sigma: Optional[float] = None
    #: gmm_random: the means are at least separation x the largest mode standard deviation apart (null: 6.0)
    separation: Optional[float] = None
    #: smoothness s (Hoelder-Zygmund B^s_inf,inf) of smooth, smooth_joint and subspace with a smooth base
    #: (null: 1.0); sets the theory's rates, e.g. TV ~ n^(-s/(2s+d)) (Oko et al. 2023)
    s: Optional[float] = None
    #: a = sup |g - 1| of the lacunary series of smooth, smooth_joint and a smooth subspace base, in [0, 1)
    #: (0: the uniform law; null: 0.5)
    amplitude: Optional[float] = None
    #: J, the number of dyadic frequencies 2^0..2^(J-1) of that lacunary series (null: 24)
    n_terms: Optional[int] = None
    #: D, the dimension of the space that subspace, circle and sphere lie in (null: 10, 2, 3)
    ambient_dim: Optional[int] = None
    #: d', the dimension of subspace's base law (null: 2) or of sphere's S^d' (null: 2)
    intrinsic_dim: Optional[int] = None
    #: subspace's law on its d' coordinates: uniform, smooth, smooth_joint or gaussian (null: uniform)
    base: Optional[str] = None
    #: seed of the truth's own random construction (gmm_random's mixture, the smooth truths' series, the
    #: random plane of subspace, circle and sphere), not of its samples (null: 0)
    seed: Optional[int] = None


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


@dataclass
class EvalConfig:
    """Evaluation against the truth, at a size ``m`` independent of the training n."""

    #: evaluation size: the model draws m samples (the empirical measure gives its n points) and each
    #: truth sample has m points
    m: int = 2000
    #: R, truth samples per metric: a sample metric's value is the mean of R distances, its CI and noise
    #: floor come from them; a density metric is one Monte Carlo sum over R m truth points
    reps: int = 3
    #: seed of the evaluation's truth samples; independent of n and of the run's seed, so every run of a
    #: sweep is scored against the same truth samples
    seed: int = 0
    #: where noise floors are kept between runs (null: recompute every run)
    floor_cache: Optional[str] = "~/.cache/genlab/floors"
    #: metrics against the truth, each with CI and floor (`metrics.evaluate`): w1, w2, sliced_w1, sliced_w2,
    #: sinkhorn_w2, mmd2, tv_hist, tv_classifier; tv, kl, hellinger (both densities); w1_law (1-D);
    #: tv_sampler, tv_sampler_t0 (an ODE sampler's own law)
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
    one process (``genlab.sweep.groups``) when they can share a network;
    ``off`` always launches one process per run through the Hydra launcher.

    ``seeds`` defaults to 5: the slope interval (`metrics.fit_rate`'s seed
    jackknife) covers at its nominal 95% from 3 seeds on, but at the noise of
    the real sweeps (CV 0.2) it is 0.29 wide with 3 seeds, 0.16 with 5 and
    0.11 with 8 (README, "Coverage of the slope interval"): 5 is the fewest
    that tells -1/3 from -1/2.  ``floor_factor`` is the 3x rule: for a floor
    modelled in quadrature it warns, for a resolution floor it leaves points out.
    """

    #: the training sizes swept when x is n (at least two distinct)
    n: List[int] = field(default_factory=lambda: [250, 500, 1000, 2000, 4000])
    #: the swept key: n, or any run key such as diffusion.sampler_steps (not seed, out_dir, recipe, rates.*)
    x: str = "n"
    #: the values of x when x is not n (at least two distinct positive values)
    x_values: List[float] = field(default_factory=list)
    #: training seeds 0..seeds-1 at every swept value; the slope's CI is a jackknife over them
    seeds: int = 5
    #: a point within floor_factor x its noise floor is warned about (quadrature floors) or left out
    #: of the fit (resolution floors)
    floor_factor: float = 3.0
    #: metrics whose rate is fitted, each among eval.metrics (empty: all of eval.metrics)
    metrics: List[str] = field(default_factory=list)
    #: recipes swept over the same x and seeds on this recipe's truth, eval.m and eval.reps, drawn on the
    #: same axes
    compare: List[str] = field(default_factory=list)
    #: the sweep's directory (null: runs/<name>/rates-<hash of the recipe and overrides>)
    out_dir: Optional[str] = None
    #: auto: a local diffusion sweep trains replica-batched groups in one process; off: one process per run
    replicas: str = "auto"


@dataclass
class RunConfig:
    """One run: truth, estimator, sizes, seeds, device and where results go."""

    #: the recipe's name (each recipe sets it): names the default out_dir, a sweep's directory and plot titles
    name: str = "unnamed"
    #: the estimator family: empirical, kde, diffusion, gan or icl (`genlab.families` lists them)
    estimator: str = "kde"
    #: training size: the estimator sees n points of the truth (an ICL run draws fresh prompts instead)
    n: int = 1000
    #: the run's seed: its n training points, the model's own randomness and the model's evaluation samples
    #: derive from it (`genlab.core.seeding.derive_seed`); the truth's evaluation samples come from eval.seed
    seed: int = 0
    #: auto (cuda when torch sees one, else cpu), cpu, cuda or cuda:K
    device: str = "auto"
    #: the run's directory: config.yaml, metrics.json, samples, checkpoints (default: a new timestamped one)
    out_dir: str = "runs/${name}/${now:%Y-%m-%d_%H-%M-%S-%f}"
    #: show tqdm progress bars during training
    progress: bool = True
    #: if out_dir holds a complete run of the same settings, print its metrics instead of running again
    #: (one of other settings is refused, naming the differing keys)
    skip_complete: bool = False
    #: continue the unfinished run in out_dir from its checkpoint (a SLURM requeue does so by itself)
    resume: bool = False
    #: the known law the data come from
    truth: TruthConfig = field(default_factory=TruthConfig)
    #: the Gaussian KDE baseline, for estimator=kde
    kde: KDEConfig = field(default_factory=KDEConfig)
    #: the score-based diffusion model, for estimator=diffusion
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    #: the GAN, for estimator=gan
    gan: GANConfig = field(default_factory=GANConfig)
    #: in-context learning of regression prompts, for estimator=icl
    icl: ICLConfig = field(default_factory=ICLConfig)
    #: the evaluation against the truth
    eval: EvalConfig = field(default_factory=EvalConfig)
    #: the rate sweep of scripts/rates.py over n (or another key) and seeds
    rates: RatesConfig = field(default_factory=RatesConfig)


def register_schema() -> None:
    """Store `RunConfig` as ``genlab_schema`` for ``recipes/config.yaml``'s defaults list."""
    ConfigStore.instance().store(name="genlab_schema", node=RunConfig)


def truth_kwargs(truth: TruthConfig) -> dict:
    """The non-null parameters of ``truth``, without its name."""
    return {f.name: getattr(truth, f.name) for f in fields(truth)
            if f.name != "name" and getattr(truth, f.name) is not None}


def truth_identity(truth: TruthConfig) -> dict:
    """The truth's name and non-null parameters: what a floor-cache entry is keyed by
    (`genlab.run.floor_cache`), so a run and a check of the cache name the same entry."""
    return {"name": truth.name, **truth_kwargs(truth)}
