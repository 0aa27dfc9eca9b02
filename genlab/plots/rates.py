"""The paper figure of a rate sweep: error against n (or sampler steps) on log-log axes, fit and theory beside.

Per metric one panel: the mean over seeds at each n with its 95% CI, the
fitted power law with slope +- CI in the legend, the theory line as a dashed
line in the recipe's colour anchored at the first fitted point (the first
measured one when nothing could be fitted) -- C n^a (log n)^q with the log
factor of `genlab.theory.theory_curve` when the theory carries a ``log_power`` q,
labelled with it -- and the noise floor as a shaded band
below which the metric cannot see.  Several recipes share a panel.
Written as PDF (vector, for papers) and PNG (to look at).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from genlab.plots.labels import metric_axis, metric_title  # noqa: E402
from genlab.core.files import save_figure  # noqa: E402
from metrics.rate_table import row_mean_ci, row_means  # noqa: E402
from genlab.theory.log_factors import theory_curve  # noqa: E402

__all__ = ["plot_rates", "PanelCurve", "theory_label"]

_STYLE = {"font.size": 9, "axes.titlesize": 10, "legend.fontsize": 7, "pdf.fonttype": 42,
          "ps.fonttype": 42}


class PanelCurve:
    """One recipe's points, fit and theory for one metric."""

    def __init__(self, label, xs, values, floors, fit=None, theory=None, left_out=(), fit_error=None,
                 floor_model=None):
        self.label = label
        self.xs = np.asarray(xs, float)
        self.values = np.asarray(values, float)      # (k, S), NaN = missing
        self.floors = np.asarray(floors, float)      # (k, S)
        self.fit = fit                               # dict from RateFit.to_dict() or None
        self.theory = theory                         # dict(exponent, source[, log_power, log_factor]) or None
        self.left_out = set(left_out)
        self.fit_error = fit_error                   # why there is no fit (fit None), one line
        self.floor_model = floor_model               # "cut" or "quadrature": what the threshold means


def _mean_ci(values: np.ndarray):
    """Seed means and the half-widths of their 95% t-intervals (0 where one run: no bar)."""
    mean, half, _ = row_mean_ci(values)
    return mean, np.nan_to_num(half)


def _limits_and_ticks(ax, curves, floor_factor: float = 1.0) -> None:
    """y range from the data, floors and thresholds (not the band's foot), x ticks at the sampled n."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    lows, highs, xs = [], [], set()
    for cur in curves:
        mean = row_means(cur.values)
        floor = row_means(cur.floors)
        pos = [v for v in np.concatenate([mean, floor, floor_factor * floor]) if np.isfinite(v) and v > 0]
        if pos:
            lows.append(min(pos))
            highs.append(max(pos))
        xs.update(float(x) for x in cur.xs)
    if lows:
        ax.set_ylim(min(lows) / 1.6, max(highs) * 1.6)
    ticks = sorted(xs)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticklabels([f"{t:g}" for t in ticks], rotation=45 if len(ticks) > 6 else 0)


def _theory_anchor(cur: PanelCurve, mean: np.ndarray):
    """Index of the point the theory line starts from: the first fitted one, else the first measured one.

    Without a fit (every point at the floor, or too few) the line is still
    drawn, from the smallest n with a finite mean: it shows the slope theory
    expects, and the points show why none could be measured.
    """
    if cur.fit is not None and cur.fit.get("used"):
        return int(np.where(cur.xs == float(min(cur.fit["used"])))[0][0])
    finite = np.flatnonzero(np.isfinite(mean) & (mean > 0))
    return int(finite[np.argmin(cur.xs[finite])]) if len(finite) and len(cur.xs) > 1 else None


def theory_label(theory: dict, label: str) -> str:
    r"""Legend text of a theory line: its exponent, the log factor it is drawn with, the recipe.

    >>> theory_label({"exponent": -0.5, "log_power": 0.5}, "d=2")
    'theory $n^{-0.500}(\\log n)^{0.5}$ (d=2)'
    >>> theory_label({"exponent": -1 / 3, "log_factor": "polylog(n) (upper bound)"}, "x")
    'theory $n^{-0.333}$, up to polylog(n) (upper bound) (x)'
    >>> theory_label({"exponent": -0.5, "symbol": "m"}, "ntk")
    'theory $m^{-0.500}$ (ntk)'
    """
    x = theory.get("symbol", "n")   # the swept variable: n, or a width m, ...
    text = f"theory ${x}^{{{theory['exponent']:+.3f}}}$".replace("{+", "{")
    power = theory.get("log_power", 0.0)
    if power:
        text = text[:-1] + f"(\\log {x})^{{{power:g}}}$"
    elif theory.get("log_factor"):   # a factor with no power to draw (polylog, n^delta): said, not drawn
        text += f", up to {theory['log_factor']}"
    return f"{text} ({label})"


def _theory_line(ax, cur: PanelCurve, mean: np.ndarray, color) -> None:
    """The theory line through the anchor point, with its log factor where it has a power."""
    i0 = _theory_anchor(cur, mean)
    if cur.theory is None or i0 is None:
        return
    n0 = float(cur.xs[i0])
    nn = np.geomspace(n0, cur.xs.max(), 20)
    if n0 > 1:
        yy = theory_curve(cur.theory, nn, n0, float(mean[i0]))
    else:  # no log factor can be anchored at n = 1 (log 1 = 0): the plain power
        yy = mean[i0] * (nn / n0) ** cur.theory["exponent"]
    ax.plot(nn, yy, "--", color=color, lw=1, label=_wrap(theory_label(cur.theory, cur.label)))


#: legend entries are wrapped at this many characters, so that a panel's legend stays under its panel
LEGEND_WIDTH = 44
#: the same for panel titles (larger type)
TITLE_WIDTH = 34


def _wrap(text: str, width: int = LEGEND_WIDTH) -> str:
    """``text`` broken into lines of at most about ``width`` characters, at spaces outside $...$.

    (textwrap would break inside a math span, which mathtext cannot render.)
    """
    words, word, in_math = [], "", False
    for c in text:
        if c == "$":
            in_math = not in_math
        if c == " " and not in_math:
            words.append(word)
            word = ""
        else:
            word += c
    words.append(word)
    lines, line = [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    return "\n".join(lines + [line])


def _points_label(cur: PanelCurve) -> str:
    seeds = cur.values.shape[1]
    return (f"{cur.label}: mean of {seeds} seeds, 95% t-interval" if seeds > 1
            else f"{cur.label}: one seed (no interval)")


def plot_rates(path_stem: Path, panels: dict[str, list[PanelCurve]], *, title: str = "",
               xlabel: str = "training sample size $n$", floor_factor: float = 3.0) -> list[Path]:
    """Draw one panel per metric; write ``<stem>.pdf`` and ``<stem>.png``; return the paths.

    Each panel: the points (mean over seeds with its 95% t-interval; hollow when left out of the
    fit, and all hollow when no fit was possible), the fit, the theory line in the recipe's
    colour with its log factor, the floor as a band and ``floor_factor`` x floor, the threshold
    that decides, as a dotted line; the legend goes under the panel, off the data.
    """
    with plt.rc_context(_STYLE):
        k = len(panels)
        fig, axes = plt.subplots(1, k, figsize=(3.6 * k, 3.2), squeeze=False)
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        below = []
        for ax, (metric, curves) in zip(axes[0], panels.items()):
            for c_idx, cur in enumerate(curves):
                color = colors[c_idx % len(colors)]
                mean, half = _mean_ci(cur.values)
                ok = np.isfinite(mean)
                used = np.array([x not in cur.left_out for x in cur.xs]) & (cur.fit is not None)
                if np.any(ok & used):
                    ax.errorbar(cur.xs[ok & used], mean[ok & used], yerr=half[ok & used], fmt="o",
                                color=color, ms=4, capsize=2, label=_wrap(_points_label(cur)))
                if np.any(ok & ~used):
                    why = ("not fitted: " + (cur.fit_error or "no fit")) if cur.fit is None \
                        else "left out: not clearly above the floor"
                    ax.errorbar(cur.xs[ok & ~used], mean[ok & ~used], yerr=half[ok & ~used], fmt="o",
                                mfc="none", color=color, ms=4, capsize=2, label=_wrap(f"{cur.label}, {why}"))
                floor = row_means(cur.floors)
                if np.any(np.isfinite(floor) & (floor > 0)):
                    # the band runs from below the axis up to the floor: the region the metric cannot see
                    ax.fill_between(cur.xs, 1e-300, floor, color=color, alpha=0.12, lw=0,
                                    label=f"floor ({cur.label})")
                    rule = {"cut": "points below are left out",
                            "quadrature": "below it the fit rests on the floor correction"}.get(
                                cur.floor_model or (cur.fit or {}).get("floor_model"), "the fit's threshold")
                    ax.plot(cur.xs, floor_factor * floor, ":", color=color, lw=1,
                            label=_wrap(f"{floor_factor:g}x floor ({cur.label}): {rule}"))
                if cur.fit is not None:
                    nn = np.geomspace(cur.xs.min(), cur.xs.max(), 50)
                    lo, hi = cur.fit["slope_ci_low"], cur.fit["slope_ci_high"]
                    ci = "(no CI)" if lo is None or hi is None else f"[{lo:+.3f}, {hi:+.3f}]"
                    ax.plot(nn, np.exp(cur.fit["intercept"]) * nn ** cur.fit["slope"], "-", color=color,
                            lw=1.2, label=f"fit {cur.fit['slope']:+.3f} {ci}" + (
                                "" if len(curves) == 1 else f" ({cur.label})"))
                    if cur.fit.get("floor_model") in ("quadrature", "subtract"):
                        # the fit is of D with the floor removed: draw the levels it was fitted to
                        lv = np.array([np.nan if v is None else v for v in cur.fit["levels"]], float)
                        xs_fit = np.array(cur.fit["ns"], float)
                        keep = np.isin(xs_fit, np.array(cur.fit["used"], float)) & np.isfinite(lv)
                        share = cur.fit.get("floor_share", 1.0)
                        f2 = "floor^2" if share == 1.0 else f"{share:g} floor^2"
                        rule = f"sqrt(e^2 - {f2})" if cur.fit["floor_model"] == "quadrature" else "e - floor"
                        ax.plot(xs_fit[keep], lv[keep], "x", color=color, ms=5,
                                label=f"D = {rule} ({cur.label})")
                _theory_line(ax, cur, mean, color)
            ax.set_xscale("log")
            ax.set_yscale("log")
            _limits_and_ticks(ax, curves, floor_factor)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(metric_axis(metric))
            ax.set_title(_wrap(metric_title(metric), TITLE_WIDTH))
            ax.grid(True, which="both", lw=0.3, alpha=0.5)
            below.append(ax)   # every legend under its panel, never on the data
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        # A long legend goes under its panel once the layout is fixed: laid out with the panels,
        # it would shrink them to fit; saved with bbox_inches="tight", the image grows instead.
        renderer = fig.canvas.get_renderer()
        for ax in below:
            lowest = ax.transAxes.inverted().transform(ax.get_tightbbox(renderer).p0)[1]
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, lowest - 0.03), frameon=False)
        paths = [Path(f"{path_stem}.pdf"), Path(f"{path_stem}.png")]
        for p in paths:
            save_figure(fig, p, dpi=150, bbox_inches="tight")
        plt.close(fig)
    return paths
