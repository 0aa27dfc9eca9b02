"""The rate figure draws each theory slope, with or without a fitted one."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

from genlab.plots import rates as rate_plot
from genlab.plots.rates import PanelCurve, plot_rates

XS = [250.0, 1000.0, 4000.0]
THEORY = {"exponent": -0.5, "source": "test"}


def _draw(tmp_path, monkeypatch, curves):
    """Draw one panel of a curve or a list of curves; return the figure (kept open) and the written paths."""
    figs = []
    monkeypatch.setattr(rate_plot.plt, "close", lambda fig: figs.append(fig))
    paths = plot_rates(tmp_path / "rates", {"w1": curves if isinstance(curves, list) else [curves]}, title="t")
    return figs[0], paths


def _slope(line):
    x, y = (np.asarray(v, float) for v in line.get_data())
    return float(np.polyfit(np.log(x), np.log(y), 1)[0]), x[0], y[0]


def _theory_lines(fig):
    return [ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("theory")]


def test_theory_line_without_a_fit_starts_at_the_first_point(tmp_path, monkeypatch):
    # every point at the floor: no fit, but the slope theory expects is still drawn
    values = np.array([[0.9, 0.8], [0.6, 0.7], [0.6, 0.5]])
    fig, paths = _draw(tmp_path, monkeypatch, PanelCurve("gan", XS, values, np.full((3, 2), 0.7),
                                                         fit=None, theory=THEORY))
    (line,) = _theory_lines(fig)
    slope, x0, y0 = _slope(line)
    assert slope == pytest.approx(-0.5, abs=1e-12)
    assert (x0, y0) == pytest.approx((250.0, 0.85))
    assert all(p.stat().st_size > 0 for p in paths)
    plt.close(fig)


def test_theory_line_with_a_fit_starts_at_the_first_fitted_point(tmp_path, monkeypatch):
    values = np.array([[0.9, 0.8], [0.4, 0.5], [0.2, 0.3]])
    fit = {"slope": -0.6, "slope_ci_low": -0.7, "slope_ci_high": -0.5, "intercept": 2.0,
           "used": [1000.0, 4000.0], "left_out": [250.0]}
    fig, _ = _draw(tmp_path, monkeypatch, PanelCurve("gan", XS, values, np.full((3, 2), 0.01), fit=fit,
                                                      theory=THEORY, left_out=[250.0]))
    (line,) = _theory_lines(fig)
    slope, x0, y0 = _slope(line)
    assert slope == pytest.approx(-0.5, abs=1e-12)
    assert (x0, y0) == pytest.approx((1000.0, 0.45))
    plt.close(fig)


def test_no_theory_no_line(tmp_path, monkeypatch):
    fig, _ = _draw(tmp_path, monkeypatch, PanelCurve("kde", XS, np.ones((3, 2)), np.zeros((3, 2))))
    assert _theory_lines(fig) == []
    plt.close(fig)


def test_a_long_legend_goes_below_without_shrinking_the_panel(tmp_path, monkeypatch):
    # two recipes, each with points left out, a fit and a theory line: more than 6 legend entries
    fit = {"slope": -0.6, "slope_ci_low": -0.7, "slope_ci_high": -0.5, "intercept": 2.0,
           "used": [250.0, 1000.0], "left_out": [4000.0]}
    values = np.array([[0.9, 0.8], [0.4, 0.5], [0.2, 0.3]])
    many = [PanelCurve(name, XS, values, np.full((3, 2), 0.1), fit=fit, theory=THEORY, left_out=[4000.0])
            for name in ("gan", "empirical")]
    few_fig, _ = _draw(tmp_path, monkeypatch, PanelCurve("gan", XS, values, np.full((3, 2), 0.1)))
    many_fig, _ = _draw(tmp_path, monkeypatch, many)
    height = [f.axes[0].get_position().height * f.get_size_inches()[1] for f in (few_fig, many_fig)]
    assert len(many_fig.axes[0].get_legend().get_texts()) > 6
    assert height[1] == pytest.approx(height[0], rel=0.05)          # the panel keeps its size
    legend_top = many_fig.axes[0].get_legend().get_window_extent().y1
    renderer = many_fig.canvas.get_renderer()
    axis_bottom = many_fig.axes[0].xaxis.get_tightbbox(renderer).y0
    assert legend_top <= axis_bottom                                 # and the legend is under its labels
    plt.close(few_fig)
    plt.close(many_fig)


def test_a_floor_modelled_fit_draws_its_levels_and_a_fit_without_ci_says_so(tmp_path, monkeypatch):
    from metrics import fit_rate

    ns = np.array([250.0, 1000.0, 4000.0, 16000.0])
    d = 2.0 * ns**-0.5
    e = np.hypot(d, 0.01)[:, None] * np.ones((1, 2))
    fit = fit_rate(ns, e, floors=0.01).to_dict()          # exact: no CI, levels are D itself
    fig, _ = _draw(tmp_path, monkeypatch, PanelCurve("emp", list(ns), e, np.full((4, 2), 0.01), fit=fit))
    lines = {ln.get_label(): ln for ln in fig.axes[0].get_lines()}
    (fit_label,) = [k for k in lines if k.startswith("fit")]
    assert fit_label == "fit -0.500 (no CI)"
    x, y = lines["D = sqrt(e^2 - floor^2) (emp)"].get_data()
    assert np.allclose(y, d) and np.allclose(x, ns)
    plt.close(fig)


def test_an_n_without_runs_draws_without_warnings(tmp_path, monkeypatch):
    values = np.array([[0.9, 0.8], [0.4, 0.5], [np.nan, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        fig, _ = _draw(tmp_path, monkeypatch, PanelCurve("k", XS, values, np.full((3, 2), np.nan)))
    plt.close(fig)


def _boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_two_panels_with_long_legends_do_not_overlap_and_say_what_they_draw(tmp_path, monkeypatch):
    """Issue 18, item 4: legends past the axes and over the other panel, raw keys as labels, no 3x line,
    and points drawn filled with no 'left out' entry when nothing could be fitted."""
    figs = []
    monkeypatch.setattr(rate_plot.plt, "close", lambda fig: figs.append(fig))
    fit = {"slope": -0.6, "slope_ci_low": -0.7, "slope_ci_high": -0.5, "intercept": 2.0,
           "used": [250.0, 1000.0], "left_out": [4000.0], "floor_model": "cut"}
    values = np.array([[0.9, 0.8], [0.4, 0.5], [0.2, 0.3]])
    long_theory = {"exponent": -0.5, "source": "t",
                   "log_factor": "up to n^delta for any delta > 0, and polylog(n) (upper bound)"}
    tv = [PanelCurve(name, XS, values, np.full((3, 2), 0.1), fit=fit, theory=long_theory, left_out=[4000.0],
                     floor_model="cut") for name in ("diffusion_smooth", "kde_smooth")]
    w1 = [PanelCurve("gan_gmm", XS, values, np.full((3, 2), 0.5), fit=None, theory=THEORY,
                     fit_error="fewer than 3 points above the floor", floor_model="quadrature")]
    plot_rates(tmp_path / "rates", {"tv": tv, "w1": w1}, title="t")
    fig = figs[0]
    renderer = fig.canvas.get_renderer()
    left, right = fig.axes[:2]
    boxes = [ax.get_tightbbox(renderer) for ax in (left, right)]
    legends = [ax.get_legend().get_window_extent(renderer) for ax in (left, right)]
    assert not _boxes_overlap(boxes[0], boxes[1])
    assert not _boxes_overlap(legends[0], legends[1]) and not _boxes_overlap(legends[0], boxes[1])
    for ax, leg in zip((left, right), legends):
        assert leg.y1 <= ax.xaxis.get_tightbbox(renderer).y0    # under its panel, off the data
    assert left.get_title().startswith("total variation") and "TV" in left.get_ylabel()
    assert "$W_1$" in right.get_ylabel()
    labels = [" ".join(t.get_text().split()) for t in right.get_legend().get_texts()]  # wrapped lines joined
    assert any(lab.startswith("gan_gmm, not fitted: fewer than 3") for lab in labels)
    assert not any("mean of 2 seeds" in lab for lab in labels)        # no point drawn as fitted
    assert any(lab.startswith("3x floor (gan_gmm)") for lab in labels)
    tv_labels = [" ".join(t.get_text().split()) for t in left.get_legend().get_texts()]
    assert any(lab.startswith("diffusion_smooth: mean of 2 seeds, 95% t-interval") for lab in tv_labels)
    (thr,) = [ln for ln in left.get_lines() if " ".join(ln.get_label().split()).startswith("3x floor (kde_smooth)")]
    assert np.allclose(thr.get_ydata(), 0.3)
    plt.close(fig)


def test_samples_picture_draws_the_truths_contours_over_the_samples(tmp_path, monkeypatch):
    from genlab.plots import samples as plots
    from genlab.distributions import make_truth

    figs = []
    monkeypatch.setattr(plots.plt, "close", lambda fig: figs.append(fig))
    truth = make_truth("gmm_ring")
    x = truth.sample(500).numpy()
    plots.plot_samples(tmp_path / "samples.png", truth, x, x, title="ring")
    ax = figs[0].axes[0]
    scatter_z = max(c.get_zorder() for c in ax.collections if c.__class__.__name__ == "PathCollection")
    contour_z = [c.get_zorder() for c in ax.collections if c.__class__.__name__ in ("QuadContourSet",)
                 or getattr(c, "filled", None) is False]
    assert contour_z and max(contour_z) > scatter_z
    assert "true density (contours)" in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(figs[0])
