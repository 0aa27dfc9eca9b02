"""The typed schema of a run, merged with the recipe YAML by Hydra.

Every key a recipe or a command-line override may set is a field here, with
its type.  Hydra composes ``recipes/config.yaml`` on top of this schema in
struct mode, so a misspelled key or a value of the wrong type fails at
composition, before any work, naming the key.

One run = one truth, ``n`` training points from it, one estimator fitted to
them, and an evaluation at size ``eval.m`` against fresh truth samples.

The schema is assembled from the registries, so that a truth or a family
registered from outside (`genlab.register_truth`, `genlab.register_family`)
is configurable like a built-in one: ``truth`` has a key per parameter of
every registered truth (`genlab.distributions.registry.truth_parameters`),
and each family with a config section adds that section (``kde``,
``diffusion``, ``gan``, ``icl``, ...).  `run_schema` builds the class once per
state of the registries; ``RunConfig`` and ``TruthConfig`` name the current
ones (module attributes resolved on access, so that a pickled config of a
sweep job unpickles against the same schema in the job's process).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, make_dataclass
from typing import List, Optional

from hydra.core.config_store import ConfigStore

from genlab.core.family import registry_version as family_registry_version
from genlab.distributions.registry import TRUTHS, truth_parameters
from genlab.distributions.registry import registry_version as truth_registry_version
from genlab.families import family_names, get_family
from genlab.plugins import load_plugins

__all__ = ["EvalConfig", "RatesConfig", "RunSettings", "RunConfig", "TruthConfig", "run_schema", "truth_schema",
           "register_schema", "truth_kwargs", "truth_identity", "FIELD_MEANINGS"]

#: the attribute of a generated schema class that holds each field's meaning (the ``#:`` comments of a
#: written class), read by `genlab.config.reference`
FIELD_MEANINGS = "__field_meanings__"
#: the truth a recipe gets when it names none
DEFAULT_TRUTH = "gmm_anisotropic"


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
    #: w1_grid (both densities, a truth on a box in d <= 3); tv_sampler, tv_sampler_t0 (an ODE sampler's
    #: own law)
    metrics: List[str] = field(default_factory=lambda: ["w1", "sliced_w1"])
    #: w1_grid's cells per axis N: the model's density is evaluated at (N grid_nodes)^d points (each a
    #: likelihood solve for a diffusion model), and the proven quantisation error is sqrt(d) (high - low) / N
    #: times TV (genlab/run/grid.py)
    grid_cells: int = 64
    #: w1_grid's Gauss-Legendre nodes per axis and cell, k: the cell masses' quadrature error is O(h^(2k))
    grid_nodes: int = 2
    #: whole cells added to the truth's box on every side for w1_grid, where a model's mass just outside
    #: the box is put on the grid (a mass left outside is charged the box's diameter)
    grid_margin: int = 2
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
class RunSettings:
    """The keys of the run itself; `run_schema` adds the truth, the families' sections, eval and rates."""

    #: the recipe's name (each recipe sets it): names the default out_dir, a sweep's directory and plot titles
    name: str = "unnamed"
    #: the estimator family: empirical, kde, diffusion, gan, icl, regression, or one a plugin registers
    #: (`genlab.families`)
    estimator: str = "kde"
    #: training size: the estimator sees n points of the truth (an ICL run draws fresh prompts instead)
    n: int = 1000
    #: the run's seed: its n training points, the model's own randomness and the model's evaluation samples
    #: derive from it (`genlab.core.seeding.derive_seed`); the truth's evaluation samples come from eval.seed
    seed: int = 0
    #: which of two disjoint training sets of n points the run uses: 0 or 1, the halves of one 2n draw from the
    #: data seed, the model's own randomness unchanged (`genlab.run.data`; Kadkhodaie et al. 2024); null: n
    #: points drawn as always (refused by families that draw their own data)
    data_split: Optional[int] = None
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


def _format(value) -> str:
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def _truth_meaning(meaning: str, defaults: dict) -> str:
    """A truth parameter's meaning with the truths that take it and their defaults."""
    taken = ", ".join(f"{truth} {_format(v)}" for truth, v in defaults.items())
    return f"{meaning}; taken by {taken} (null: that default)"


def _make(name: str, specs: list, meanings: dict, doc: str, bases: tuple = ()) -> type:
    cls = make_dataclass(name, specs, bases=bases, namespace={"__doc__": doc})
    cls.__module__ = __name__
    setattr(cls, FIELD_MEANINGS, meanings)
    return cls


_CACHE: dict = {}


def truth_schema() -> type:
    """``TruthConfig``: ``name`` and, null by default, every parameter of every registered truth.

    Only the fields a recipe sets (non-null) are passed to `genlab.distributions.make_truth`, so a
    field that the chosen truth does not take is an error naming it.
    """
    load_plugins()
    key = ("truth", truth_registry_version())
    if key not in _CACHE:
        params = truth_parameters()
        specs = [("name", str, field(default=DEFAULT_TRUTH))]
        specs += [(k, Optional[tp], field(default=None)) for k, (tp, _, _) in params.items()]
        meanings = {"name": "the truth: " + ", ".join(TRUTHS) + " (`genlab.distributions.registry`; a plugin may "
                                                               "add more)"}
        meanings.update({k: _truth_meaning(text, defaults) for k, (_, text, defaults) in params.items()})
        _CACHE[key] = _make("TruthConfig", specs, meanings,
                            "Which known law generates the data; see `genlab.distributions.make_truth`.")
    return _CACHE[key]


def run_schema() -> type:
    """``RunConfig``: the run's own keys, ``truth``, each registered family's section, ``eval`` and ``rates``.

    The plugins (`genlab.plugins`) are imported first, so their families and truths are in it.
    """
    load_plugins()
    key = ("run", truth_registry_version(), family_registry_version())
    if key not in _CACHE:
        truth = truth_schema()
        specs = [("truth", truth, field(default_factory=truth))]
        meanings = {"truth": "the known law the data come from"}
        for name in family_names():
            fam = get_family(name)
            if fam.section:
                specs.append((fam.section, fam.schema, field(default_factory=fam.schema)))
                meanings[fam.section] = fam.summary or f"the settings of estimator={name}"
        specs += [("eval", EvalConfig, field(default_factory=EvalConfig)),
                  ("rates", RatesConfig, field(default_factory=RatesConfig))]
        meanings.update({"eval": "the evaluation against the truth",
                         "rates": "the rate sweep of scripts/rates.py over n (or another key) and seeds"})
        _CACHE[key] = _make("RunConfig", specs, meanings,
                            "One run: truth, estimator, sizes, seeds, device and where results go.",
                            bases=(RunSettings,))
    return _CACHE[key]


def __getattr__(name: str):
    """``RunConfig`` and ``TruthConfig``: the schema classes of the registries as they stand."""
    if name == "RunConfig":
        return run_schema()
    if name == "TruthConfig":
        return truth_schema()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def register_schema() -> None:
    """Store the current `run_schema` as ``genlab_schema`` for ``recipes/config.yaml``'s defaults list."""
    ConfigStore.instance().store(name="genlab_schema", node=run_schema())


def truth_kwargs(truth) -> dict:
    """The non-null parameters of a ``truth`` section, without its name."""
    return {f.name: getattr(truth, f.name) for f in fields(truth)
            if f.name != "name" and getattr(truth, f.name) is not None}


def truth_identity(truth) -> dict:
    """The truth's name and non-null parameters: what a floor-cache entry is keyed by
    (`genlab.run.floor_cache`), so a run and a check of the cache name the same entry."""
    return {"name": truth.name, **truth_kwargs(truth)}
