"""How a run's numbers are shown: the table of every estimate with its CI and floor, and the headline line.

One formatter for both (`format_estimate`), so the table and the last printed
line never disagree about a value, its interval, its floor or its marks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["RunResult", "HEADLINE_ORDER", "AT_FLOOR", "format_estimate", "metrics_table", "headline"]

#: metrics shown on the last printed line, in this order, when present
HEADLINE_ORDER = ("modes_captured", "high_quality_fraction", "mode_reverse_kl", "tv", "tv_t0", "tv_offset",
                  "kde_tv", "tv_sampler",
                  "tv_sampler_t0", "tv_classifier", "w1_law", "w1_grid", "w1", "kl", "sliced_w1", "w2", "mmd2")
#: a value within this factor of its floor is marked in the run table: it measures the metric's own
#: sampling error more than the model (the 3x rule of `rates.floor_factor`)
AT_FLOOR = 3.0


@dataclass
class RunResult:
    """A finished run: its directory, its metrics (as in metrics.json) and its timings (timings.json)."""

    run_dir: Path
    metrics: dict
    timings: dict = field(default_factory=dict)
    #: the metrics the headline shows, where the family chooses them (`Family.headline`); None: `HEADLINE_ORDER`
    shown: list | None = None

    def headline(self) -> str:
        """``<run_dir>  tv 0.061 [0.058, 0.064] (floor 0.002)  w1 ...`` for the last printed line."""
        return headline(self.run_dir, self.metrics, self.shown)


def _parts(name: str, mx: dict) -> tuple[str, str, str, list]:
    """The value, its 95% CI, its floor (each '' where absent) and its marks, as both formats show them."""
    value = f"{mx[name]:.4g}" if mx.get(name) is not None else "undefined"
    lo, hi, floor = mx.get(f"{name}_ci_low"), mx.get(f"{name}_ci_high"), mx.get(f"{name}_floor")
    ci = f"[{lo:.4g}, {hi:.4g}]" if lo is not None and hi is not None else ""
    marks = ["lower bound"] if mx.get(f"{name}_is_lower_bound") else []
    if mx.get(name) is not None and floor is not None and floor > 0 and mx[name] <= AT_FLOOR * floor:
        marks.append(f"within {AT_FLOOR:g}x floor")
    return value, ci, "" if floor is None else f"{floor:.3g}", marks


def format_estimate(name: str, mx: dict) -> str:
    """``name [lower bound] value [lo, hi] (floor f) [p p]`` from the flat metrics ``mx``."""
    value, ci, floor, marks = _parts(name, mx)
    text = f"{name}{' lower bound' if 'lower bound' in marks else ''} {value}"
    text += f" {ci}" if ci else ""
    text += f" (floor {floor})" if floor else ""
    if mx.get(f"{name}_p_value") is not None:  # against the metric's null distribution (mode reverse KL)
        text += f" p {mx[f'{name}_p_value']:.2g}"
    return text


def headline(self, names: list[str] | None = None) -> str:
        """``<run_dir>  tv 0.061 [0.058, 0.064] (floor 0.002)  w1 ...`` for the last printed line."""
        return headline(self.run_dir, self.metrics, names)


def _at_floor(name: str, mx: dict) -> bool:
    value, floor = mx.get(name), mx.get(f"{name}_floor")
    return value is not None and floor is not None and floor > 0 and value <= AT_FLOOR * floor


def format_estimate(name: str, mx: dict) -> str:
    """``name [lower bound] value [lo, hi] (floor f) [p p]`` from the flat metrics ``mx``."""
    bound = " lower bound" if mx.get(f"{name}_is_lower_bound") else ""
    text = f"{name}{bound} {mx[name]:.4g}"
    lo, hi = mx.get(f"{name}_ci_low"), mx.get(f"{name}_ci_high")
    if lo is not None and hi is not None:
        text += f" [{lo:.4g}, {hi:.4g}]"
    if mx.get(f"{name}_floor") is not None:
        text += f" (floor {mx[f'{name}_floor']:.3g})"
    if mx.get(f"{name}_p_value") is not None:  # against the metric's null distribution (mode reverse KL)
        text += f" p {mx[f'{name}_p_value']:.2g}"
    return text


def headline(run_dir, mx: dict, names: list[str] | None = None) -> str:
    """The run directory and the headline metrics: ``names`` (a family's own choice, `Family.headline`),
    or those of `HEADLINE_ORDER` that the run has."""
    if names is None:
        names = [k for k in HEADLINE_ORDER if mx.get(k) is not None]
    return "  ".join([str(run_dir)] + [format_estimate(k, mx) for k in names])


def metrics_table(mx: dict) -> str:
    """The table of every metric that has a floor; a metric left out of ``mx`` is shown as undefined.

    (A metric can be undefined while its floor is known: ``mode_reverse_kl`` has no
    mode histogram when no sample is of high quality.)
    """
    names = sorted(k[: -len("_floor")] for k in mx if k.endswith("_floor"))
    if not names:
        return ""
    lines = [f"{'metric':<16}{'value':>12}{'95% CI':>26}{'floor':>12}"]
    for name in names:
        value, ci, floor, marks = _parts(name, mx)
        lines.append(f"{name:<16}{value:>12}{ci:>26}{floor:>12}" + "".join(f"  {m}" for m in marks))
    return "\n".join(lines) + "\n"
