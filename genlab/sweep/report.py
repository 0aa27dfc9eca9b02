"""From the runs of a sweep to measured exponents beside theory: rates.json and tables.

For each recipe and metric: `metrics.fit_rate` over the (n, seed) grid, with
points at the floor left out and named; the theory exponent from
`genlab.theory.predicted_exponent` with its source and assumptions.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import metrics as M
from metrics.rate_table import row_mean_ci, row_means
from genlab.core.files import atomic_write_text
from genlab.distributions import make_truth
from genlab.families import get_family
from genlab.sweep.plan import RunRecord, format_value, metric_table
from genlab.theory import expected_slope, predicted_exponent

__all__ = ["MetricRate", "fit_metric", "floor_model_for", "floor_share_for", "QUADRATURE_FLOOR_METRICS",
           "theory_for", "theory_for_axis", "write_json_report", "markdown_table", "latex_table", "per_x_rows",
           "LATEX_PACKAGES", "METRIC_TO_THEORY"]

#: sample plug-in distances: their floor is a bias that adds in quadrature (metrics.fit_rate's
#: "quadrature" model); every other metric's floor is a resolution (the CI half-width of an unbiased
#: Monte Carlo estimate, the null rms of MMD^2_u; exact-law metrics have floor 0), cut at floor_factor x
QUADRATURE_FLOOR_METRICS = ("w1", "w2", "sliced_w1", "sliced_w2", "sinkhorn_w2", "tv_hist", "w1_law")


def floor_model_for(metric: str) -> str:
    """How ``metric``'s floor enters its rate fit: "quadrature" for sample plug-ins, else "cut"."""
    return "quadrature" if metric in QUADRATURE_FLOOR_METRICS else "cut"


def floor_share_for(estimator: str, metric: str) -> float:
    """The part of floor^2 a quadrature fit removes (`metrics.fit_rate`'s ``floor_share``).

    The recorded floor is the distance between two independent m-samples of the truth.  A model
    that draws m samples adds its own sample noise to the truth's, so its error carries all of
    floor^2; a family scored on its fit points (`Family.samples_are_fit_points`: the n points
    are its whole support) carries the truth side's only, about floor^2 / 2 (exact in 1-D in the
    Brownian-bridge limit).  Removing all of it over-corrected: on the uniform law in d = 1 (m = 2000, n = 16 ...
    4096, 100 repeats) the full floor gave an unresolved point at n = 4096 and the half floor slope
    -0.48 against W1 to the law's -0.51.
    """
    if floor_model_for(metric) != "quadrature":
        return 1.0
    return 0.5 if _samples_are_fit_points(estimator) else 1.0


def _family(estimator: str):
    """The family of a run's ``estimator``, or None for one this process does not know (its plugin is not
    loaded): its rates are then fitted without the family's notes."""
    try:
        return get_family(estimator)
    except ValueError:
        return None


def _section(family, config: dict) -> dict:
    """The family's own section of a run's recorded config ({} for a family without one)."""
    return (config.get(family.section) or {}) if family.section else {}


def _samples_are_fit_points(estimator: str) -> bool:
    family = _family(estimator)
    return family is not None and family.samples_are_fit_points


#: metric name -> (theory metric, p)
METRIC_TO_THEORY = {"w1": ("wasserstein", 1), "w1_law": ("wasserstein", 1), "w1_grid": ("wasserstein", 1),
                    "w2": ("wasserstein", 2), "tv": ("tv", 1),
                    "tv_hist": ("tv", 1), "sliced_w1": ("sliced_wasserstein", 1)}


@dataclass
class MetricRate:
    recipe: str
    metric: str
    xs: list
    values: np.ndarray
    floors: np.ndarray
    fit: dict | None
    fit_error: str | None
    theory: dict | None
    floor_warning: str | None
    x_key: str = "n"
    lower_bound: bool = False
    expected: dict | None = None

    @property
    def metric_label(self) -> str:
        """The metric's name, marked when its values are a lower bound of the distance (classifier TV)."""
        return f"{self.metric} (lower bound)" if self.lower_bound else self.metric

    def to_dict(self) -> dict:
        return {"recipe": self.recipe, "metric": self.metric, "x": self.x_key, self.x_key: self.xs,
                "mean": [None if not math.isfinite(v) else v for v in row_means(self.values)],
                "floor": [None if not math.isfinite(v) else v for v in row_means(self.floors)],
                "fit": self.fit, "fit_error": self.fit_error, "theory": self.theory,
                "floor_warning": self.floor_warning, "is_lower_bound": int(self.lower_bound),
                "expected": self.expected}


def theory_for(estimator: str, metric: str, config: dict) -> dict | None:
    """The theory exponent for ``estimator`` in ``metric`` at this run's truth, or None."""
    if metric not in METRIC_TO_THEORY:
        return None
    tmetric, p = METRIC_TO_THEORY[metric]
    meta = _truth_meta(config)
    d = int(meta["dim"])
    s = float(meta["smoothness"])
    s = s if math.isfinite(s) else None
    intrinsic = meta["intrinsic_dim"]
    try:
        pred = predicted_exponent(estimator, tmetric, d=d, s=s, p=p,
                                  intrinsic_dim=None if intrinsic in (None, d) else int(intrinsic))
    except ValueError:
        return None
    if pred is None:
        return None
    out = {"exponent": float(pred.exponent), "source": pred.source, "assumptions": pred.assumptions,
           "log_factor": pred.log_factor, "log_power": pred.log_power,
           "log_factors": [dataclasses.asdict(f) for f in pred.log_factors]}
    return out


def expected_for(estimator: str, metric: str, config: dict, used: list) -> dict | None:
    """The finite-n slope the fit's own used n should show (`genlab.theory.expected_slope`), or None.

    Where `genlab.theory.expected_slope` has it (from an estimator's exact bias and variance, or
    W1 against the law in 1-D: ``w1_law`` only, for a family scored on its fit points, whose
    sampled ``w1`` has another expectation).  The family's settings that fix the expectation come
    from `Family.theory_params`.  None where not computable.
    """
    family = _family(estimator)
    if (family is None or metric not in METRIC_TO_THEORY or len(used) < 2
            or (family.samples_are_fit_points and metric != "w1_law")):
        return None
    params = family.theory_params(_section(family, config)) if family.theory_params else {}
    try:
        exp = expected_slope(estimator, METRIC_TO_THEORY[metric][0], _truth(config), used, **params)
    except ValueError:
        return None
    if exp is None:
        return None
    return {"slope": exp.slope, "ns": exp.ns, "expected_errors": exp.expected_errors, "method": exp.method,
            "source": exp.source}


def _truth(config: dict):
    """The truth a run's config names (its unset parameters left at their defaults)."""
    truth = dict(config["truth"])
    name = truth.pop("name")
    return make_truth(name, **{k: v for k, v in truth.items() if v is not None})


def _truth_meta(config: dict) -> dict:
    """dim, smoothness and intrinsic dimension of the truth a run's config names."""
    return _truth(config).describe()


def fit_metric(records: list[RunRecord], recipe: str, metric: str, xs: list, seeds: list[int],
               floor_factor: float, x_key: str = "n") -> MetricRate:
    """Fit ``metric`` ~ x^slope over the sweep, with the theory exponent for this x (n, or sampler steps)."""
    values, floors = metric_table(records, metric, xs, seeds)
    config = next((r.config for r in records if r.recipe == recipe), {})
    fit, err = None, None
    try:
        res = M.fit_rate(np.asarray(xs, float), values, floors, floor_factor=floor_factor,
                         floor_model=floor_model_for(metric),
                         floor_share=floor_share_for(config.get("estimator", ""), metric))
        fit = res.to_dict()
    except ValueError as exc:
        err = str(exc)
    warn = None
    mean_v, mean_f = row_means(values), row_means(floors)
    close = [format_value(x) for x, v, f in zip(xs, mean_v, mean_f)
             if math.isfinite(v) and math.isfinite(f) and v <= floor_factor * f]
    if close and floor_model_for(metric) == "quadrature":
        warn = (f"{metric}: at {x_key} = {', '.join(close)} the error is within {floor_factor:g}x "
                f"of the floor at the evaluation size; the fit models the floor in quadrature "
                f"(D^2 = error^2 - share x floor^2) and those points rest on that correction (raise eval.m)")
    elif close:
        warn = (f"{metric}: at {x_key} = {', '.join(close)} the error is within {floor_factor:g}x "
                f"of the floor at the evaluation size; those points measure the metric, not the "
                f"model, and are left out (raise eval.m)")
    theory = theory_for_axis(x_key, metric, config)
    if theory is None and x_key == "n":
        theory = theory_for(config.get("estimator", ""), metric, config)
    lower = any(r.metrics.get(f"{metric}_is_lower_bound") for r in records if r.recipe == recipe)
    expected = None
    if x_key == "n" and fit is not None and config:
        expected = expected_for(config.get("estimator", ""), metric, config, fit["used"])
    return MetricRate(recipe, metric, list(xs), values, floors, fit, err, theory, warn, x_key, lower, expected)


def theory_for_axis(x_key: str, metric: str, config: dict) -> dict | None:
    """The predicted exponent of a sweep over ``x_key`` that the run's family states itself
    (`Family.axis_theory`: the order of a sampler swept over its number of steps; a whole-run family's
    rates in n of metrics it computes itself), or None."""
    family = _family(config.get("estimator", ""))
    if family is None or family.axis_theory is None:
        return None
    return family.axis_theory(x_key, metric, _section(family, config))


def write_json_report(path: Path, rates: list[MetricRate], missing: dict, x_key: str = "n") -> None:
    """rates.json: per recipe and metric the fit, theory and expected slope; the runs missing per recipe."""
    doc = {"rates": [r.to_dict() for r in rates],
           "missing_runs": {k: [{x_key: x, "seed": s} for x, s in v] for k, v in missing.items()}}
    atomic_write_text(path, json.dumps(doc, indent=2, default=float) + "\n")


def _fmt_fit(r: MetricRate) -> tuple[str, str]:
    """Slope and CI cells; a metric with fewer than 3 used points is 'not fitted', never a number."""
    if r.fit is None:
        return "not fitted", "—"
    lo, hi = r.fit["slope_ci_low"], r.fit["slope_ci_high"]
    ci = "—" if lo is None or hi is None else f"[{lo:+.3f}, {hi:+.3f}]"
    return f"{r.fit['slope']:+.3f}", ci


def _fmt_used(r: MetricRate) -> str:
    """The used points and the floor model of the fit, e.g. '5 of 6 (quadrature)', '5 of 5 (quadrature, share 0.5)'."""
    if r.fit is None:
        return "—"
    share = r.fit.get("floor_share", 1.0)
    model = r.fit["floor_model"] + (f", share {share:g}" if share != 1.0 else "")
    return f"{len(r.fit['used'])} of {len(r.fit['ns'])} ({model})"


def _fmt_expected(r: MetricRate) -> str:
    return f"{r.expected['slope']:+.3f}" if r.expected else "—"


def ci_holds(r: MetricRate) -> str:
    """Which of the asymptotic exponent and the finite-n expected slope the slope's CI contains."""
    if r.fit is None or r.fit["slope_ci_low"] is None or r.fit["slope_ci_high"] is None:
        return "—"
    lo, hi = r.fit["slope_ci_low"], r.fit["slope_ci_high"]
    held = []
    if r.theory:
        held.append(("theory", lo <= r.theory["exponent"] <= hi))
    if r.expected:
        held.append(("expected", lo <= r.expected["slope"] <= hi))
    if not held:
        return "—"
    inside = [k for k, ok in held if ok]
    outside = [k for k, ok in held if not ok]
    return ("contains " + " and ".join(inside) if inside else "") + ("; " if inside and outside else "") + \
        ("excludes " + " and ".join(outside) if outside else "")


def _theory_text(r: MetricRate, log_power: str, polylog: str) -> str:
    """The theory exponent and its log factor: ``log_power`` formatted with q, or ``polylog`` when
    the factor is a polylog of unknown power (``log_power`` None), nothing when there is none (0)."""
    text = f"{r.theory['exponent']:+.3f}"
    q = r.theory.get("log_power")
    if q:
        text += log_power.format(q=f"{q:g}")
    elif q is None:
        text += polylog
    return text


def _fmt_theory(r: MetricRate) -> str:
    return _theory_text(r, " (log n)^{q}", " x polylog") if r.theory else "—"


def per_x_rows(r: MetricRate) -> list[dict]:
    """One row per swept value of ``r``: runs, mean error over seeds with its 95% t-interval, mean floor,
    and the point's part in the fit (``used``, ``left out``, or ``not fitted`` when no fit was possible).

    The interval is the seed mean's (`metrics.rate_table.row_mean_ci`, as the figure draws it): one run has
    none, shown as '—'.
    """
    used = set((r.fit or {}).get("used", []))
    mean, half, count = row_mean_ci(r.values)
    floor = row_means(r.floors)
    rows = []
    for i, x in enumerate(r.xs):
        row = {"x": x, "runs": int(count[i]), "mean": float(mean[i]) if count[i] else None,
               "ci_low": None, "ci_high": None,
               "floor": float(floor[i]) if np.isfinite(floor[i]) else None}
        if np.isfinite(half[i]):
            row["ci_low"], row["ci_high"] = row["mean"] - float(half[i]), row["mean"] + float(half[i])
        row["in_fit"] = "not fitted" if r.fit is None else ("used" if float(x) in used else "left out")
        rows.append(row)
    return rows


def _num(v) -> str:
    return "—" if v is None else f"{v:.4g}"


def _heading(r: MetricRate) -> str:
    slope, ci = _fmt_fit(r)
    text = f"{r.recipe} / {r.metric_label}: slope {slope}" + (f" {ci}" if ci != "—" else "")
    if r.theory:
        text += f"; theory {_fmt_theory(r)} ({r.theory['source']})"
    return text


def markdown_table(rates: list[MetricRate]) -> str:
    """The slopes beside theory, then per metric the error at each swept value with its CI and floor."""
    lines = ["| recipe | metric | measured slope | 95% CI | points used (floor) | theory | expected at these n "
             "| CI | source |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rates:
        slope, ci = _fmt_fit(r)
        src = r.theory["source"] if r.theory else "—"
        lines.append(f"| {r.recipe} | {r.metric_label} | {slope} | {ci} | {_fmt_used(r)} | {_fmt_theory(r)} "
                     f"| {_fmt_expected(r)} | {ci_holds(r)} | {src} |")
    for r in rates:
        lines += ["", f"**{_heading(r)}**", "",
                  f"| {r.x_key} | runs | mean error | 95% CI (over seeds) | floor | in the fit |", "|---|---|---|---|---|---|"]
        for row in per_x_rows(r):
            ci = "—" if row["ci_low"] is None else f"[{row['ci_low']:.4g}, {row['ci_high']:.4g}]"
            lines.append(f"| {format_value(row['x'])} | {row['runs']} | {_num(row['mean'])} | {ci} "
                         f"| {_num(row['floor'])} | {row['in_fit']} |")
    return "\n".join(lines) + "\n"


#: LaTeX's special characters in running text
_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex(text: str) -> str:
    return "".join(_TEX_SPECIAL.get(c, c) for c in str(text))


def _tex_float(v: float) -> str:
    """``v`` to 4 significant digits in math mode's notation: 1.5e-05 -> 1.5\\times10^{-5}."""
    text = f"{v:.4g}"
    if "e" in text:
        mant, exp = text.split("e")
        text = f"{mant}\\times10^{{{int(exp)}}}"
    return text


def _tex_num(v) -> str:
    return "--" if v is None else f"${_tex_float(v)}$"


def _tex_theory(r: MetricRate) -> str:
    """The theory exponent with its log factor, in math mode: $-0.333\\,(\\log n)^{0.5}$."""
    if not r.theory:
        return "--"
    return "$" + _theory_text(r, "\\,(\\log n)^{{{q}}}", "\\times\\mathrm{polylog}") + "$"


def _tex_heading(r: MetricRate) -> str:
    slope, ci = _fmt_fit(r)
    text = f"{_tex(r.recipe)} / {_tex(r.metric_label)}: slope " + (f"${slope}$" if r.fit is not None else "not fitted")
    if ci != "—":
        text += f" ${ci}$"
    if r.theory:
        text += f"; theory {_tex_theory(r)} ({_tex(r.theory['source'])})"
    return text


def _tex_key(key: str) -> str:
    return f"${key}$" if len(key) == 1 else f"\\texttt{{{_tex(key)}}}"


#: what rates.tex needs in the including document's preamble
LATEX_PACKAGES = ("booktabs",)


def latex_table(rates: list[MetricRate]) -> str:
    """rates.tex: the slope table and, per metric, the error at each swept value (booktabs rules).

    Meant for ``\\input{rates.tex}`` in a document whose preamble loads the packages in
    `LATEX_PACKAGES` (named in the file's first line).
    """
    rows = []
    for r in rates:
        slope, ci = _fmt_fit(r)
        th = _tex_theory(r)
        ci_tex = ci.replace("[", "$[").replace("]", "]$") if ci != "—" else "--"
        slope_tex = f"${slope}$" if r.fit is not None else "not fitted"
        used = _tex(_fmt_used(r).replace("—", "--"))
        exp = f"${_fmt_expected(r)}$" if r.expected else "--"
        src = _tex(r.theory["source"]) if r.theory else "--"
        rows.append(f"{_tex(r.recipe)} & {_tex(r.metric_label)} & {slope_tex} & {ci_tex} & {used} & {th} & {exp} "
                    f"& {src} \\\\")
    needs = ", ".join("\\usepackage{" + p + "}" for p in LATEX_PACKAGES)
    out = [f"% rates.tex: \\input this file; the preamble needs {needs}",
           "\\begin{tabular}{llrclrrp{0.3\\linewidth}}", "\\toprule",
           "recipe & metric & slope & 95\\% CI & points used & theory & expected & source \\\\", "\\midrule",
           *rows, "\\bottomrule", "\\end{tabular}"]
    for r in rates:
        out += ["", "\\medskip", "", _tex_heading(r), "", "\\begin{tabular}{rrrcrl}", "\\toprule",
                f"{_tex_key(r.x_key)} & runs & mean error & 95\\% CI (over seeds) & floor & in the fit \\\\", "\\midrule"]
        for row in per_x_rows(r):
            ci = "--" if row["ci_low"] is None else f"$[{_tex_float(row['ci_low'])}, {_tex_float(row['ci_high'])}]$"
            out.append(f"{format_value(row['x'])} & {row['runs']} & {_tex_num(row['mean'])} & {ci} "
                       f"& {_tex_num(row['floor'])} & {row['in_fit']} \\\\")
        out += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(out) + "\n"
