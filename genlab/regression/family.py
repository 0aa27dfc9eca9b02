"""The ``regression`` family: nonparametric regression of an exactly known f*, a whole-run family.

A run draws its own labelled points from ``cfg.regression``'s target (not from
``cfg.truth``: its law is over (x, y) pairs), fits one estimator and reports its
excess risk, and for a two-layer network the quantities of the lazy and mean-field
regimes.  Sweeps over n fit excess-risk rates beside n^(-2s/(2s+d)); sweeps over
``regression.width`` fit the width exponents of the NTK theory (`axis_theory`).
"""

from __future__ import annotations

from genlab.core.family import Family
from genlab.regression.catalogue import REGRESSION_METRICS, TWO_LAYER_METRICS, needs
from genlab.regression.config import RegressionConfig

__all__ = ["FAMILIES", "REGRESSION", "REGRESSION_METRICS", "TWO_LAYER_METRICS"]

#: the swept key whose exponents are the width exponents of the lazy / mean-field theory
WIDTH_KEY = "regression.width"
#: the swept key whose exponents are those of the lazy scale (Chizat, Oyallon & Bach 2019)
ALPHA_KEY = "regression.alpha"
#: the keys of the target: a sweep's compare recipes take them from the main recipe
TARGET_KEYS = ("target", "d", "s", "sigma", "link", "teacher_width", "ambient_dim", "target_seed")


def run_whole(cfg, run_dir, *, device, progress=False) -> dict:
    """A regression run (`genlab.regression.run.run_regression`): flat metrics, ``regression.png``."""
    from genlab.regression.run import run_regression

    return run_regression(cfg, run_dir, device=device, progress=progress)


def validate(cfg) -> None:
    """The section's own checks, then what only the run's n and eval.metrics decide (one-line errors)."""
    from genlab.regression.run import check_run

    cfg.regression.validate()
    check_run(cfg)


def needs_two_points(cfg) -> str | None:
    """Why n = 1 cannot be fitted: a held-out split (a network's early stopping, a tuned ridge or k)."""
    r = cfg.regression
    if (r.early_stopping and r.model in ("deep", "two_layer") or r.model == "knn" and not r.knn_k
            or r.model == "ntk_krr" and r.ridge is None):
        return "a held-out split: regression.early_stopping, or a tuned ridge or k"
    return None


def headline(metrics: dict) -> list[str]:
    """The excess risk, then whichever regime measurements the run made."""
    return [k for k in REGRESSION_METRICS if metrics.get(k) is not None]


def axis_theory(x_key: str, metric: str, section: dict) -> dict | None:
    """The excess-risk exponent in n (`genlab.theory.regression.regression_exponent`), a measurement's
    exponent in the width m (`width_exponent`) or in the lazy scale alpha (`alpha_exponent`), or None."""
    from genlab.theory.regression import alpha_exponent, regression_exponent, width_exponent

    if x_key == "n" and metric == "excess_risk":
        if section.get("target") != "smooth":
            return None
        ambient = section.get("ambient_dim")
        d = int(section["d"])
        pred = regression_exponent(section["model"], d=int(ambient or d), s=float(section["s"]),
                                   intrinsic_dim=d if ambient else None)
        symbol = "n"
    elif x_key == WIDTH_KEY and metric in TWO_LAYER_METRICS and section.get("model") == "two_layer":
        pred = width_exponent(metric, section["parametrisation"])
        symbol = "m"
    elif x_key == ALPHA_KEY and section.get("model") == "two_layer" and section.get("parametrisation") == "lazy":
        pred = alpha_exponent(metric)
        symbol = r"\alpha"
    else:
        return None
    if pred is None:
        return None
    return {"exponent": float(pred.exponent), "source": pred.source, "assumptions": pred.assumptions,
            "log_factor": pred.log_factor, "log_power": pred.log_power, "symbol": symbol}


def axis_title(cfg, x_key: str) -> str:
    """`` (two_layer, ntk, target teacher, d = 4, n = 64)``: what a figure's title adds."""
    r = cfg.regression
    model = r.model + (f", {r.parametrisation}" if r.model == "two_layer" else "")
    dims = f"d = {r.d}" + (f" in R^{r.ambient_dim}" if r.ambient_dim else "")
    size = "" if x_key == "n" else f", n = {cfg.n}"
    return f" ({model}; target {r.target}, {dims}{size})"


REGRESSION = Family(
    "regression", run_whole=run_whole, section="regression", schema=RegressionConfig,
    summary="nonparametric regression of a known f* (deep and two-layer ReLU networks, NTK kernel ridge, "
            "k-NN), for estimator=regression",
    validate=validate, needs_two_points=needs_two_points, own_metrics=REGRESSION_METRICS,
    metric_needs=lambda cfg, m: needs(m, cfg.regression),
    headline=headline, axis_theory=axis_theory,
    axis_title=axis_title,
    axis_labels={WIDTH_KEY: "hidden width $m$", ALPHA_KEY: r"lazy scale $\alpha$"},
    shared_keys=TARGET_KEYS)

#: what `genlab.families` registers from this package, in this order
FAMILIES = (REGRESSION,)
