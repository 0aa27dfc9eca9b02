"""rate_report: each metric's floor enters its fit as its estimator says; fewer than 3 used points
is 'not fitted'; a lower bound is marked in rates.json, rates.md and rates.tex (issue 14)."""

import numpy as np
import pytest

from genlab.sweep.report import fit_metric, floor_model_for, latex_table, markdown_table
from genlab.sweep.plan import RunRecord

NS = [250, 500, 1000, 2000, 4000, 8000]
CONFIG = {"estimator": "empirical", "truth": {"name": "gmm_anisotropic"}}


def records(metric, values, floors, extra=None, config=CONFIG):
    """One record per (n, seed) from arrays (k, S)."""
    out = []
    for i, n in enumerate(NS):
        for s in range(values.shape[1]):
            mx = {metric: float(values[i, s]), f"{metric}_floor": float(floors[i, s]), **(extra or {})}
            out.append(RunRecord(recipe="r", x=n, seed=s, metrics=mx, config=config))
    return out


def test_plug_in_distances_model_the_floor_and_resolution_floors_are_cut():
    assert floor_model_for("w1") == floor_model_for("sliced_w1") == floor_model_for("tv_hist") == "quadrature"
    assert floor_model_for("tv") == floor_model_for("mmd2") == floor_model_for("kl") == "cut"
    rng = np.random.default_rng(0)
    d = 2.0 * np.asarray(NS, float)[:, None] ** -0.5 * np.exp(0.05 * rng.standard_normal((6, 5)))
    floor = np.full((6, 5), 2.0 * 8000**-0.5 / 1.5)
    e = np.hypot(d, floor)
    kde = {"estimator": "kde", "truth": {"name": "gmm_anisotropic"}}
    w1 = fit_metric(records("w1", e, floor, config=kde), "r", "w1", NS, list(range(5)), 3.0)
    assert w1.fit["floor_model"] == "quadrature" and len(w1.fit["used"]) == 6 and w1.fit["floor_share"] == 1.0
    assert w1.fit["slope_ci_low"] <= -0.5 <= w1.fit["slope_ci_high"]
    assert "quadrature" in w1.floor_warning
    # the empirical measure is scored on its fit points: its error carries half the two-sample floor
    e_emp = np.sqrt(d**2 + floor**2 / 2)
    emp = fit_metric(records("w1", e_emp, floor), "r", "w1", NS, list(range(5)), 3.0)
    assert emp.fit["floor_share"] == 0.5 and len(emp.fit["used"]) == 6
    assert emp.fit["slope_ci_low"] <= -0.5 <= emp.fit["slope_ci_high"]
    assert "share 0.5" in markdown_table([emp])
    tv = fit_metric(records("tv", e, floor), "r", "tv", NS, list(range(5)), 3.0)
    assert tv.fit["floor_model"] == "cut" and tv.fit["used"] == [250, 500, 1000, 2000]
    assert "left out" in tv.floor_warning


def test_fewer_than_three_used_points_is_not_fitted_in_every_table():
    v = np.array([[0.3], [0.2], [0.1], [0.01], [0.01], [0.01]]) * np.ones((1, 3))
    f = np.full((6, 3), 0.05)
    rate = fit_metric(records("tv", v, f), "r", "tv", NS, [0, 1, 2], 3.0)
    assert rate.fit is None and "a slope needs 3" in rate.fit_error
    assert "| r | tv | not fitted | — | — |" in markdown_table([rate])
    assert "not fitted" in latex_table([rate])


def test_a_lower_bound_is_marked():
    rng = np.random.default_rng(1)
    v = np.asarray(NS, float)[:, None] ** -0.3 * np.exp(0.1 * rng.standard_normal((6, 3)))
    rate = fit_metric(records("tv_classifier", v, np.full((6, 3), 1e-3), {"tv_classifier_is_lower_bound": 1}),
                      "r", "tv_classifier", NS, [0, 1, 2], 3.0)
    assert rate.to_dict()["is_lower_bound"] == 1
    assert "| tv_classifier (lower bound) |" in markdown_table([rate])
    assert r"tv\_classifier (lower bound)" in latex_table([rate])


def test_expected_finite_n_slope_sits_beside_theory_and_the_ci_is_read_against_both():
    # the empirical measure's E W1 against the uniform law on [-1, 1] is exact (de Moivre sums);
    # runs drawn around it with CV 0.05 must give a CI that contains the expected slope
    from genlab.distributions import make_truth
    from genlab.theory import expected_slope

    ns = [16, 32, 64, 128, 256]
    exact = expected_slope("empirical", "wasserstein", make_truth("uniform", dim=1), ns)
    rng = np.random.default_rng(2)
    v = np.asarray(exact.expected_errors)[:, None] * np.exp(0.05 * rng.standard_normal((5, 5)))
    config = {"estimator": "empirical", "truth": {"name": "uniform", "dim": 1}}
    recs = [RunRecord(recipe="r", x=n, seed=s, metrics={"w1_law": float(v[i, s]), "w1_law_floor": 0.0},
                      config=config) for i, n in enumerate(ns) for s in range(5)]
    rate = fit_metric(recs, "r", "w1_law", ns, list(range(5)), 3.0)
    assert rate.expected["slope"] == exact.slope
    assert rate.fit["slope_ci_low"] <= exact.slope <= rate.fit["slope_ci_high"]
    table = markdown_table([rate])
    assert f"| {exact.slope:+.3f} |" in table and "contains" in table and "expected" in table
    # the sampled w1 has another expectation: no expected slope is attached to it
    assert fit_metric([RunRecord("r", r.x, r.seed, {"w1": r.metrics["w1_law"], "w1_floor": 1e-4}, config)
                       for r in recs], "r", "w1", ns, list(range(5)), 3.0).expected is None


def _rate_with_a_left_out_point():
    from genlab.sweep.report import MetricRate

    values = np.array([[0.20, 0.21, 0.23], [0.15, 0.16, 0.14], [0.10, np.nan, 0.11], [0.004, 0.005, 0.004]])
    fit = {"slope": -0.5, "slope_ci_low": -0.6, "slope_ci_high": -0.4, "used": [250.0, 500.0, 1000.0],
           "ns": [250.0, 500.0, 1000.0, 2000.0], "floor_model": "cut", "left_out": [2000.0]}
    theory = {"exponent": -1 / 3, "source": "Tsybakov (2009) & 50% of ~x_y", "log_power": 0.5}
    return MetricRate("kde_gmm", "tv", [250, 500, 1000, 2000], values, np.full((4, 3), 0.003), fit, None, theory,
                      None)


def test_per_n_rows_give_the_seed_mean_with_its_t_interval_and_the_floor():
    from scipy import stats

    from genlab.sweep.report import per_x_rows

    rows = per_x_rows(_rate_with_a_left_out_point())
    v = np.array([0.20, 0.21, 0.23])
    half = stats.t.ppf(0.975, 2) * v.std(ddof=1) / np.sqrt(3)
    assert rows[0]["runs"] == 3 and abs(rows[0]["mean"] - v.mean()) < 1e-15
    assert abs(rows[0]["ci_low"] - (v.mean() - half)) < 1e-15 and abs(rows[0]["ci_high"] - (v.mean() + half)) < 1e-15
    assert rows[2]["runs"] == 2 and abs(rows[2]["mean"] - 0.105) < 1e-15      # the missing run is not a zero
    assert [r["in_fit"] for r in rows] == ["used", "used", "used", "left out"]
    assert all(abs(r["floor"] - 0.003) < 1e-15 for r in rows)


def test_tables_carry_per_n_errors_floors_and_the_theory_with_its_log_factor_and_source():
    r = _rate_with_a_left_out_point()
    md = markdown_table([r])
    assert "| 2000 | 3 | 0.004333 |" in md and "| 0.003 | left out |" in md
    assert "theory -0.333 (log n)^0.5 (Tsybakov (2009) & 50% of ~x_y)" in md
    tex = latex_table([r])
    assert tex.splitlines()[0] == r"% rates.tex: \input this file; the preamble needs \usepackage{booktabs}"
    assert r"$-0.333\,(\log n)^{0.5}$" in tex and r"Tsybakov (2009) \& 50\% of \textasciitilde{}x\_y" in tex
    assert r"2000 & 3 & $0.004333$" in tex and "left out" in tex


def test_every_latex_row_has_its_columns_and_the_braces_balance():
    import re

    tex = latex_table([_rate_with_a_left_out_point()])
    assert tex.count("{") - tex.count(r"\{") == tex.count("}") - tex.count(r"\}")
    assert tex.count(r"\begin{tabular}") == tex.count(r"\end{tabular}") == 2
    for block in tex.split(r"\begin{tabular}")[1:]:
        depth, end = 0, 0
        for end, c in enumerate(block):  # the column spec: the balanced {...} after \begin{tabular}
            depth += {"{": 1, "}": -1}.get(c, 0)
            if depth == 0:
                break
        cols = len(re.sub(r"p\{[^}]*\}", "p", block[1:end]))
        body = block.split(r"\end{tabular}")[0]
        for line in body.splitlines():
            if line.endswith(r"\\"):
                assert line.replace(r"\&", "").count("&") == cols - 1, line


def test_rates_tex_compiles_with_the_packages_it_names(tmp_path):
    import shutil
    import subprocess

    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (Debian: texlive-latex-base texlive-latex-recommended)")
    from genlab.sweep.report import LATEX_PACKAGES

    (tmp_path / "rates.tex").write_text(latex_table([_rate_with_a_left_out_point()]))
    preamble = "".join(f"\\usepackage{{{p}}}\n" for p in LATEX_PACKAGES)
    (tmp_path / "doc.tex").write_text(f"\\documentclass{{article}}\n{preamble}\\begin{{document}}\n"
                                      f"\\input{{rates.tex}}\n\\end{{document}}\n")
    proc = subprocess.run(["pdflatex", "-halt-on-error", "-interaction=nonstopmode", "doc.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 0
