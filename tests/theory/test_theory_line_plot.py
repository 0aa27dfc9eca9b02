"""The rate figure draws the theory line with its log factor, C n^a (log n)^q, and says which factor it is."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from genlab.plots import rates as rate_plot
from genlab.plots.rates import PanelCurve, plot_rates
from genlab.theory import predicted_exponent

XS = [250.0, 1000.0, 4000.0, 16000.0]
VALUES = np.array([[0.05, 0.052], [0.027, 0.025], [0.013, 0.014], [0.007, 0.0072]])


def _theory_line(tmp_path, monkeypatch, theory):
    figs = []
    monkeypatch.setattr(rate_plot.plt, "close", lambda fig: figs.append(fig))
    plot_rates(tmp_path / "rates", {"w1": [PanelCurve("d=2", XS, VALUES, np.full((4, 2), 1e-4), theory=theory)]})
    (line,) = [ln for ln in figs[0].axes[0].get_lines() if ln.get_label().startswith("theory")]
    x, y = (np.asarray(v, float) for v in line.get_data())
    label = line.get_label()
    plt.close(figs[0])
    return x, y, label


def test_akt_line_carries_sqrt_log_n(tmp_path, monkeypatch):
    pred = predicted_exponent("empirical", "wasserstein", d=2)
    theory = {"exponent": pred.exponent, "source": pred.source, "log_factor": pred.log_factor,
              "log_power": pred.log_power}
    x, y, label = _theory_line(tmp_path, monkeypatch, theory)
    # anchored at the first point (mean 0.051), then 0.051 (n/250)^-1/2 (log n / log 250)^1/2: exact float64
    np.testing.assert_allclose(y, 0.051 * (x / 250.0) ** -0.5 * np.sqrt(np.log(x) / np.log(250.0)), rtol=1e-12)
    # the log factor is visible in the line: its log-log slope is -1/2 + (1/2) d log log n / d log n
    slope = np.polyfit(np.log(x), np.log(y), 1)[0]
    assert slope > -0.5 + 0.5 / np.log(16000.0) - 1e-3
    assert r"(\log n)^{0.5}" in label and "-0.500" in label


def test_a_clean_power_and_an_unstated_polylog_draw_the_plain_power(tmp_path, monkeypatch):
    for theory, words in [({"exponent": -0.5, "source": "s"}, None),
                          ({"exponent": -0.25, "source": "s", "log_factor": "polylog(n) (upper bound)",
                            "log_power": None}, "up to polylog(n)")]:
        x, y, label = _theory_line(tmp_path, monkeypatch, theory)
        np.testing.assert_allclose(y, 0.051 * (x / 250.0) ** theory["exponent"], rtol=1e-12)
        assert (words in label) if words else ("log" not in label)
