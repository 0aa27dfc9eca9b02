"""One regression run: draw n labelled points of the target, fit ``cfg.regression.model``, score its excess risk.

The n training points come from the run's ``seed`` (stream ``data``); the fresh
test inputs of the Monte Carlo excess risk and the kernel measurements' fixed
inputs come from ``eval.seed``, so every run of a sweep over n, the width or the
seed is scored on the same inputs (`genlab.core.seeding`).
"""

from __future__ import annotations

from pathlib import Path

from genlab.core.seeding import derive_seed, make_generator
from genlab.regression.catalogue import REGRESSION_METRICS
from genlab.regression.fit import fit_estimator, network_inputs
from genlab.regression.measure import FLOW_TEST_POINTS, TwoLayerProbe, two_layer_metrics
from genlab.regression.picture import plot_regression
from genlab.regression.risk import excess_risk
from genlab.regression.targets import make_target

__all__ = ["run_regression", "check_run", "build_target"]

#: a float64 Gram matrix's bytes per entry
_BYTES = 8
#: the hidden activations of one prediction batch, in bytes
_ACTIVATION_BYTES = 64 * 2 ** 20


def build_target(r):
    """The target of ``r`` (a RegressionConfig), seeded by ``r.target_seed``."""
    return make_target(r.target, d=r.d, s=r.s, sigma=r.sigma, link=r.link, teacher_width=r.teacher_width,
                       ambient_dim=r.ambient_dim, seed=r.target_seed)


def _gram_bytes(cfg) -> tuple[int, str]:
    """The largest kernel matrix the run will allocate, and what it is."""
    r, n = cfg.regression, cfg.n
    if r.model == "ntk_krr":   # the Gram matrix, its eigenvectors and the held-out cross products: ~3 n^2
        return 3 * _BYTES * n * n, f"the NTK Gram matrix of n = {n} points with its eigendecomposition"
    if r.model == "two_layer" and r.flow_reference:
        cols = n + min(r.test_points, FLOW_TEST_POINTS)
        return _BYTES * n * cols, f"the NTK flow reference's {n} x {cols} kernel"
    return 0, ""


def _test_batch(r) -> int:
    """Test inputs per prediction batch: a network's hidden activations (batch x width floats) stay near
    64 MiB, whatever the width (65,536 inputs at most)."""
    width = r.width if r.model in ("deep", "two_layer") else 1
    return int(min(65536, max(256, _ACTIVATION_BYTES // (_BYTES * width))))


def check_run(cfg) -> None:
    """What the section alone cannot decide: the metrics asked for (what each needs is `catalogue.needs`,
    asked by the shared check through `Family.metric_needs`) and the kernel memory (one line each); n = 1
    is refused by the shared check through `Family.needs_two_points`."""
    r = cfg.regression
    for name in cfg.eval.metrics:
        if name not in REGRESSION_METRICS:
            raise ValueError(f"eval.metrics: estimator regression reports {', '.join(REGRESSION_METRICS)}; "
                             f"got {name!r}")
    size, what = _gram_bytes(cfg)
    if size > r.max_gram_bytes:
        raise ValueError(f"{what} needs {size / 2 ** 30:.2f} GiB, over regression.max_gram_bytes = "
                         f"{r.max_gram_bytes / 2 ** 30:.2f} GiB (refused before allocation)")


def run_regression(cfg, run_dir: Path, *, device, progress: bool = False) -> dict:
    """Fit and score one estimator of ``cfg.regression`` on ``cfg.n`` points; flat metrics, ``regression.png``."""
    r = cfg.regression
    target = build_target(r)
    x, y = target.sample(cfg.n, generator=make_generator(derive_seed(cfg.seed, "data")))
    g_eval = make_generator(derive_seed(cfg.eval.seed, "regression_test"))
    x_test = target.sample_x(r.test_points, generator=g_eval)
    probe = None
    if r.model == "two_layer":
        probe = TwoLayerProbe(*(network_inputs(r, z) for z in (target.sample_x(r.kernel_points, generator=g_eval),
                                                                 x, x_test)))
    fit = fit_estimator(r, x, y, seed=cfg.seed, device=device, progress=progress,
                        **({"on_init": probe} if probe is not None else {}))
    # the same inputs as x_test: the risk's Monte Carlo draws them again from the same stream
    risk = excess_risk(fit.predict, target, r.test_points, batch=_test_batch(r),
                       generator=make_generator(derive_seed(cfg.eval.seed, "regression_test")))
    out = {**risk.as_flat("excess_risk"), "train_loss_final": fit.train_loss, "train_loss_final_floor": 0.0,
           "n": cfg.n, "dim": target.dim, "intrinsic_dim": target.intrinsic_dim, **fit.extras}
    if probe is not None:
        twin = None
        if r.twin:
            twin = fit_estimator(r, x, y, seed=cfg.seed, device=device, progress=progress, init_tag="twin")
        out.update(two_layer_metrics(r, probe, fit, target, y, x_test, twin=twin))
    out["fit_seconds"] = fit.fit_seconds
    plot_regression(Path(run_dir) / "regression.png", target, fit, x, y, x_test,
                    title=f"{cfg.name}: {r.model}, n = {cfg.n}, excess risk {risk.value:.3g}")
    return out
