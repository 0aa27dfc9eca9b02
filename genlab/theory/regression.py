r"""Predicted exponents of nonparametric regression by neural networks and their kernels, each with its source.

Two tables, each row a `genlab.theory.exponents.Prediction` (exponent, source,
assumptions, log factors) or None where no theory here applies.

`regression_exponent(estimator, d=, s=)`: the excess risk
R(f_hat) = E ||f_hat - f*||^2_{L2(P_X)} ~ n^a of an estimator fitted on n points
y = f*(x) + noise, f* of smoothness s on d-dimensional inputs (d -> the intrinsic
dimension d' where the theory allows).  The minimax rate over s-smooth f* is
n^{-2s/(2s+d)} (Stone 1982); the rows say which estimators attain it and when.

`width_exponent(metric, parametrisation)`: how a quantity of a trained two-layer
network scales with its width m (a ~ m^a at fixed n and training time), in the
lazy (NTK) and mean-field regimes (Suh & Cheng 2024, arXiv 2401.07187, part 1).

Theorem numbers are given only where they were checked; otherwise the paper is
cited without one (the convention of `genlab.theory.exponents`).
"""

from __future__ import annotations

import math

from genlab.core.validation import check_in, check_positive_int
from genlab.theory.exponents import Prediction
from genlab.theory.log_factors import LogFactor

__all__ = ["regression_exponent", "width_exponent", "REGRESSION_ESTIMATORS", "WIDTH_METRICS",
           "PARAMETRISATIONS"]

#: deep = a deep ReLU network (ERM); ntk_krr = kernel ridge regression with the two-layer ReLU NTK;
#: knn = k nearest neighbours; two_layer = a wide two-layer ReLU network trained in the kernel regime
REGRESSION_ESTIMATORS = ("deep", "ntk_krr", "knn", "two_layer")
#: ntk_init_error = |Theta_m(0) - Theta| / |Theta| at initialisation; weight_movement = |W_T - W_0| / |W_0|;
#: kernel_drift = |Theta_m(T) - Theta_m(0)| / |Theta_m(0)|; flow_gap = |f_net(T) - f_flow(T)|, the network
#: against the infinite-width NTK gradient flow at the same time; twin_distance = |f_net1(T) - f_net2(T)|
#: for two independent initialisations trained on the same data
WIDTH_METRICS = ("ntk_init_error", "weight_movement", "kernel_drift", "flow_gap", "twin_distance")
#: ntk: m^{-1/2} sum_j a_j relu(.); mean_field: m^{-1} sum_j, learning rate times m; standard: a_j of
#: variance 1/m; lazy: alpha (h(theta) - h(theta_0)) (Chizat, Oyallon & Bach 2019)
PARAMETRISATIONS = ("ntk", "mean_field", "standard", "lazy")

# -- sources, written once ------------------------------------------------------------------
_STONE = ("Stone 1982 (Ann. Statist. 10(4)), 'Optimal global rates of convergence for nonparametric "
          "regression': n^(-2s/(2s+d)) is the minimax rate over s-smooth f*")
_SH = ("Schmidt-Hieber 2020 (Ann. Statist. 48(4)), 'Nonparametric regression using deep neural networks "
       "with ReLU activation function', Thm 1")
_NI = ("Nakada & Imaizumi 2020 (JMLR 21), 'Adaptive approximation and generalization of deep neural network "
       "with intrinsic dimensionality'")
_GKKW = ("Gyorfi, Kohler, Krzyzak & Walk 2002, A Distribution-Free Theory of Nonparametric Regression, "
         "Thm 6.2 (k-NN, Lipschitz f*, d >= 3)")
_KPOTUFE = "Kpotufe 2011 (NeurIPS), 'k-NN regression adapts to local intrinsic dimension'"
_NTK_RKHS = ("Bietti & Mairal 2019 (NeurIPS), 'On the inductive bias of neural tangent kernels'; Chen & Xu "
             "2021 (ICLR), 'Deep neural tangent kernel and Laplace kernel have the same RKHS'; Geifman et al. "
             "2020 (NeurIPS), 'On the similarity between the Laplace and neural tangent kernels'")
_KRR_RATES = ("Fischer & Steinwart 2020 (JMLR 21), 'Sobolev norm learning rates for regularized least-squares "
              "algorithms'; Zhang, Li, Lu & Lin 2023 (ICML), 'On the optimality of misspecified kernel ridge "
              "regression'")
_NET_KERNEL = ("Hu, Wang, Lin & Cheng 2021 (AISTATS), 'Regularization matters: a nonparametric perspective on "
               "overparametrized neural network'; Suh, Ko & Huo 2022 (ICLR), 'A non-parametric regression "
               "viewpoint: generalization of overparametrized deep ReLU network under noisy observations'")
_JACOT = "Jacot, Gabriel & Hongler 2018 (NeurIPS), 'Neural tangent kernel'"
_ARORA = ("Arora, Du, Hu, Li, Salakhutdinov & Wang 2019 (NeurIPS), 'On exact computation with an infinitely "
          "wide neural net'")
_LEE = ("Lee, Xiao, Schoenholz, Bahri, Novak, Sohl-Dickstein & Pennington 2019 (NeurIPS), 'Wide neural networks "
        "of any depth evolve as linear models under gradient descent', Thm 2.1")
_DU = ("Du, Zhai, Poczos & Singh 2019 (ICLR), 'Gradient descent provably optimizes over-parameterized neural "
       "networks'")
_MMN = "Mei, Montanari & Nguyen 2018 (PNAS), 'A mean field view of the landscape of two-layer neural networks'"
_CB = ("Chizat & Bach 2018 (NeurIPS), 'On the global convergence of gradient descent for over-parameterized "
       "models using optimal transport'")
_MMM = ("Mei, Misiakiewicz & Montanari 2019 (COLT), 'Mean-field theory of two-layers neural networks: "
        "dimension-free bounds and kernel limit'")
_SS = ("Sirignano & Spiliopoulos 2020 (Stoch. Proc. Appl.), 'Mean field analysis of neural networks: a central "
       "limit theorem'")

_BIAS = ("the bias coordinate x -> (x, 1) (NTKRidge(bias=True)); without it every function of the kernel's RKHS, "
         "like every bias-free ReLU network, is positively 1-homogeneous (f(cx) = c f(x), f(0) = 0), the estimate "
         "tends to the L2(P_X) projection of f* on such functions and a generic f* (a constant, (z^2-1)/sqrt 2, "
         "the smooth target) keeps an excess risk that does not vanish: no rate")


def _check_s(s) -> float:
    """s > 0 as a float; math.inf (an analytic f*) allowed."""
    try:
        v = float(s)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(s, bool) or not v > 0:
        raise ValueError(f"s must be a number > 0 (inf for an analytic f*), got {s!r}")
    return v


def _minimax(s: float, d: int) -> float:
    """-2s/(2s+d), and its limit -1 at s = inf."""
    return -1.0 if math.isinf(s) else -2.0 * s / (2.0 * s + d)


def _row(estimator, metric, exponent, source, assumptions, formula, log_factors=()) -> Prediction:
    text = "; ".join(f"{f.label} ({f.kind})" for f in log_factors) if log_factors else False
    return Prediction(float(exponent), source, assumptions, text, estimator, metric, formula, tuple(log_factors))


# -- regression rows: one function each -----------------------------------------------------
def _deep(d, s, dd):
    sh_log = LogFactor(3.0, _SH, "upper bound",
                       "depth L ~ log n: Thm 1 bounds the risk by C phi_n L (log n)^2 with phi_n = n^(-2s/(2s+d))")
    low = (f" Inputs on a d' = {dd}-dimensional linear subspace: f*(x) = g(U^T x) composes a linear map (smooth "
           f"to every order) with an s-smooth g of d' variables, so Thm 1's composition class gives d -> d'; "
           f"for sets of Minkowski dimension d' see Nakada & Imaizumi (polylog factors)." if dd < d else "")
    return _row(
        "deep", "excess_risk", _minimax(s, dd), f"{_STONE}; {_SH}" + (f"; {_NI}" if dd < d else ""),
        "f* Hölder-s on the unit cube (Schmidt-Hieber; the uniform inputs of the smooth target; Gaussian inputs are "
        "not covered), Gaussian noise; the estimator is the empirical risk minimiser over sparse ReLU networks of "
        "depth ~ log n and sparsity ~ n phi_n log n, not what gradient descent on a dense network finds (no rate is "
        "proved for that); minimax up to the log factor (Stone's lower bound). s = inf gives -1, the limit of the "
        "formula, not a theorem here." + low,
        "-2s / (2s + d')", (sh_log,))


def _knn(d, s, dd):
    s_eff = min(s, 1.0)
    return _row(
        "knn", "excess_risk", _minimax(s_eff, dd), f"{_GKKW}; {_KPOTUFE}",
        "k ~ n^(2s'/(2s'+d')) with s' = min(s, 1) (knn_theory_k, or tuned by held-out error); Thm 6.2 bounds the "
        "risk by sigma^2/k + c C^2 (k/n)^(2/d) for Lipschitz f* and bounded inputs in d >= 3 (Hölder s < 1 gives "
        "(k/n)^(2s/d)); for s > 1 the row reports s' = 1: a smoother f* is still Lipschitz, an upper bound only "
        "(a local average can do better in the interior for s <= 2 with a smooth design density, not claimed); "
        "Gaussian inputs in d <= 2 are not covered (the bias term integrates p^(1-2/d), which diverges); distances "
        "are unchanged by an isometric embedding, so on a d'-dimensional linear subspace k-NN is exactly the "
        "d'-dimensional problem (Kpotufe for general low-dimensional sets).",
        "-2 min(s,1) / (2 min(s,1) + d')")


def _kernel_assumptions(dd) -> str:
    return (f"{_BIAS}. With it the NTK of (x, 1) is |x~||y~| times a function of their angle: on a compact input "
            f"set its RKHS is norm-equivalent to the Sobolev space H^r, r = (d'+1)/2 = {(dd + 1) / 2:g} (proved on "
            "the sphere: eigenvalues k^-(d'+1); carried to the cube through x -> (x,1)/|(x,1)|, a diffeomorphism "
            "onto a spherical cap, and the smooth positive radial factor); f* of smoothness s on a bounded domain "
            "with an input density bounded above and below (the uniform cube; Gaussian inputs are not covered); "
            "the ridge ~ n^(-2r/(2s+d')) (held-out tuning adapts); rates for 0 < s <= 2r, saturating at s = 2r = "
            "d'+1 (s is capped there; f* outside the RKHS for s < r: the misspecified case); a Hölder-Zygmund f* "
            "(the smooth target) is in B^s_{2,inf}, not H^s: the same exponent through the interpolation-space "
            "source condition, not checked as a theorem here; the NTK is rotation-invariant, so on a d'-dimensional "
            "linear subspace it is the d'-dimensional kernel up to a constant factor (d -> d')")


def _ntk_krr(d, s, dd):
    s_eff = min(s, dd + 1.0)
    return _row("ntk_krr", "excess_risk", _minimax(s_eff, dd), f"{_NTK_RKHS}; {_KRR_RATES}; {_STONE}",
                _kernel_assumptions(dd), "-2 min(s, d'+1) / (2 min(s, d'+1) + d')")


def _two_layer(d, s, dd):
    s_eff = min(s, dd + 1.0)
    return _row(
        "two_layer", "excess_risk", _minimax(s_eff, dd), f"{_NET_KERNEL}; {_NTK_RKHS}; {_KRR_RATES}",
        "a wide two-layer ReLU network (width polynomial in n) in the NTK (or lazy) parametrisation, trained by "
        "gradient descent with l2 regularisation or early stopping, tracks NTK kernel ridge regression and "
        "inherits its rate (Hu et al.; Suh et al., proved for inputs on the sphere and f* in the NTK's RKHS: "
        "n^(-d/(2d-1)) on S^(d-1)); the row reads the kernel's rate for other s, not proved for networks; the "
        "network needs a bias or a constant input coordinate for the same reason as the kernel; in the "
        "mean-field parametrisation the network learns features and no rate of this form is claimed. "
        "Kernel: " + _kernel_assumptions(dd),
        "-2 min(s, d'+1) / (2 min(s, d'+1) + d')")


_REGRESSION_ROWS = {"deep": _deep, "knn": _knn, "ntk_krr": _ntk_krr, "two_layer": _two_layer}


def regression_exponent(estimator: str, *, d: int, s: float, intrinsic_dim: int | None = None) -> Prediction | None:
    """The exponent a with E ||f_hat - f*||^2_{L2(P_X)} ~ n^a for an estimator of an s-smooth f*.

    Parameters
    ----------
    estimator : {"deep", "ntk_krr", "knn", "two_layer"}
    d : int
        Input dimension.
    s : float, > 0
        Smoothness of f* (math.inf for an analytic f*: the formula's limit).
    intrinsic_dim : int, optional
        d' <= d, the dimension of the linear subspace the inputs lie on; replaces d in
        every row (each row says why).

    Returns
    -------
    Prediction
        Exponents: deep -2s/(2s+d'); knn -2s'/(2s'+d') with s' = min(s, 1); ntk_krr and
        two_layer -2s'/(2s'+d') with s' = min(s, d'+1) (KRR saturation).

    Examples
    --------
    >>> round(regression_exponent("deep", d=1, s=1.0).exponent, 12)
    -0.666666666667
    >>> regression_exponent("deep", d=10, s=1.0, intrinsic_dim=2).exponent
    -0.5
    >>> regression_exponent("knn", d=2, s=3.0).exponent        # capped at s = 1
    -0.5
    """
    check_in("estimator", estimator, REGRESSION_ESTIMATORS)
    d = check_positive_int("d", d)
    s = _check_s(s)
    dd = d if intrinsic_dim is None else check_positive_int("intrinsic_dim", intrinsic_dim)
    if dd > d:
        raise ValueError(f"intrinsic_dim must be <= d = {d}, got {intrinsic_dim!r}")
    return _REGRESSION_ROWS[estimator](d, s, dd)


# -- width rows ----------------------------------------------------------------------------
_FIXED = ("n, the data and the training time T fixed as m grows; the learning rate below the stability limit "
          "and scaled as the parametrisation prescribes")
_CENTRED = ("only for zero or centred initial outputs (f_0 = 0: an antisymmetric initialisation, or the lazy "
            "form alpha (h - h_0)): with the usual i.i.d. initialisation each twin starts from an independent O(1) "
            "Gaussian-process draw f_0, which training removes on the data but not off it, so at finite T the "
            "twins stay O(1) apart (exponent 0)")


def _init_error(p):
    extra = {
        "standard": " In the standard parametrisation the output-layer part dominates by a factor m (the limit is "
                    "the NNGP kernel) and the hidden-layer part adds a deterministic O(1/m) relative bias, below "
                    "m^-1/2.",
        "mean_field": " In the mean-field parametrisation the kernel is Theta_m / m: normalised, the same mean.",
        "lazy": " In the lazy form the kernel is alpha^2 times that of h: normalised, the same mean.",
        "ntk": ""}[p]
    return _row(p, "ntk_init_error", -0.5, f"{_JACOT} (the limit, Thm 1); {_ARORA} (a non-sharp concentration "
                "bound); the m^-1/2 is the central limit theorem",
                "the relative error |Theta_m(0) - Theta|_F / |Theta|_F at initialisation, each kernel normalised "
                "by its own scale: Theta_m(0) is a mean over m i.i.d. neurons with finite variance, so the error is "
                "m^-1/2 times a constant (sharp, no log)." + extra, "m^-1/2")


def _movement(p):
    if p == "ntk":
        return _row(p, "weight_movement", -0.5, f"{_DU}; {_LEE}",
                    "relative movement |W_T - W_0|_F / |W_0|_F: the total movement |theta_T - theta_0| stays O(1) "
                    "(Lee et al.; Du et al.: each neuron moves O(sqrt(n) / (sqrt(m) lambda_0))) while |W_0|_F ~ "
                    f"sqrt(m d); {_FIXED}.", "m^-1/2")
    if p == "mean_field":
        return _row(p, "weight_movement", 0.0, f"{_MMN}; {_CB}",
                    "relative movement |W_T - W_0|_F / |W_0|_F: with the learning rate scaled by m (the mean-field "
                    "time), each neuron follows the distributional dynamics and moves O(1) in time O(1), so the "
                    f"relative movement tends to a positive constant; {_FIXED}.", "m^0")
    return None


def _drift(p):
    if p == "ntk":
        return _row(p, "kernel_drift", -0.5, f"{_LEE}; {_JACOT} (Thm 2: constant kernel in the limit)",
                    "relative change |Theta_m(T) - Theta_m(0)|_F / |Theta_m(0)|_F: sup_t |Theta_t - Theta_0|_F = "
                    "O(m^-1/2) with high probability over the initialisation (Lee et al.), an upper bound: the "
                    "neurons' kernel changes are centred (each moves along its own random output weight), and "
                    "Dyer & Gur-Ari 2020 (ICLR, 'Asymptotics of wide networks from Feynman diagrams') argue the "
                    f"kernel's time derivative is O(1/m), so the measured slope may be steeper; {_FIXED}.",
                    "m^-1/2", log_factors=())
    if p == "mean_field":
        return _row(p, "kernel_drift", 0.0, f"{_MMN}; {_CB}",
                    "the features move O(1) (feature learning), so the normalised kernel changes by O(1) whatever "
                    f"m; {_FIXED}.", "m^0")
    return None


def _flow_gap(p):
    if p != "ntk":
        return None
    return _row(p, "flow_gap", -0.5, f"{_LEE}; {_ARORA} (Thm 3.2: a non-sharp polynomial bound)",
                "|f_net(T) - f_flow(T)| on fixed inputs, f_flow the gradient flow with the infinite-width NTK at "
                "the same time: the network is within O(m^-1/2) of its linearisation (Lee et al., sup over t, high "
                "probability), which moves with Theta_m(0) = Theta + O(m^-1/2); the reference flow must start from "
                "the network's own f_0 (or both from 0): against a reference from 0 the network's O(1) initial "
                f"function is an O(1) gap; {_FIXED}; no log factor in Lee et al.'s statement.", "m^-1/2")


def _twin(p):
    if p == "ntk" or p == "lazy":
        how = ("each twin is within O(m^-1/2) of the same kernel gradient flow from f_0 = 0 (Lee et al.), hence of "
               "the other" if p == "ntk" else
               "f_0 = 0 exactly: at alpha ~ sqrt(m) each twin is within O(m^-1/2) of the kernel flow (Lee et al.); "
               "at fixed alpha the model is a centred mean-field network and propagation of chaos gives m^-1/2")
        return _row(p, "twin_distance", -0.5, f"{_LEE}; {_MMM}" if p == "lazy" else _LEE,
                    f"|f_net1(T) - f_net2(T)| in L2(P_X): {how}; "
                    + (f"{_CENTRED}; {_FIXED}." if p == "ntk" else f"{_FIXED}."), "m^-1/2")
    if p == "mean_field":
        return _row(p, "twin_distance", -0.5, f"{_MMM}; {_SS}",
                    "|f_net1(T) - f_net2(T)| in L2(P_X): f_0 = O(m^-1/2) (a mean of m centred terms), and each "
                    "network's empirical neuron law tracks the same deterministic mean-field dynamics with error "
                    "O(m^-1/2) (propagation of chaos; Sirignano & Spiliopoulos: fluctuations exactly of order m^-1/2; "
                    "Mei et al.'s non-asymptotic bound carries sqrt(max(D, log m)) and a constant growing with T, "
                    f"an upper bound); {_FIXED}.", "m^-1/2")
    return None


_WIDTH_ROWS = {"ntk_init_error": _init_error, "weight_movement": _movement, "kernel_drift": _drift,
               "flow_gap": _flow_gap, "twin_distance": _twin}


def width_exponent(metric: str, parametrisation: str) -> Prediction | None:
    """The exponent a with metric ~ m^a in the width m of a trained two-layer ReLU network, or None.

    None where no theory here gives a power of m: the standard parametrisation after
    training (its regime depends on how the learning rate is scaled with m), the lazy
    form's weight movement, kernel drift and flow gap (they scale with alpha, which the
    sweep may or may not tie to m; Chizat, Oyallon & Bach 2019), and the mean-field flow
    gap (the NTK flow is not its limit).

    Parameters
    ----------
    metric : {"ntk_init_error", "weight_movement", "kernel_drift", "flow_gap", "twin_distance"}
    parametrisation : {"ntk", "mean_field", "standard", "lazy"}

    Returns
    -------
    Prediction or None
        ``estimator`` holds the parametrisation; the exponent is in m, not n.

    Examples
    --------
    >>> width_exponent("weight_movement", "ntk").exponent, width_exponent("weight_movement", "mean_field").exponent
    (-0.5, 0.0)
    >>> width_exponent("flow_gap", "mean_field") is None
    True
    """
    check_in("metric", metric, WIDTH_METRICS)
    check_in("parametrisation", parametrisation, PARAMETRISATIONS)
    return _WIDTH_ROWS[metric](parametrisation)


# -- the lazy scale alpha ----------------------------------------------------------------------
_COB = ("Chizat, Oyallon & Bach 2019 (NeurIPS), 'On lazy training in differentiable programming' (Sec. 2: "
        "on a bounded time the parameters of alpha (h(theta) - h(theta_0)) trained on loss / alpha^2 move "
        "O(1/alpha))")
#: what the lazy scale's rows predict
ALPHA_METRICS = ("weight_movement", "kernel_drift")


def alpha_exponent(metric: str) -> Prediction | None:
    """The exponent a with metric ~ alpha^a in the lazy scale alpha (regression.parametrisation=lazy), or None.

    The parameters move O(1/alpha) (Chizat, Oyallon & Bach 2019), and the kernel, a smooth function of
    them, by as much; only past the crossover (alpha well above 1 in genlab's units, where alpha =
    sqrt(m) is the NTK scaling): at alpha ~ 1 the network is a (centred) mean-field one and moves O(1).

    >>> alpha_exponent("weight_movement").exponent
    -1.0
    >>> alpha_exponent("alignment") is None
    True
    """
    if metric not in ALPHA_METRICS:
        return None
    what = {"weight_movement": "relative movement |theta_T - theta_0| / |theta_0|",
            "kernel_drift": "relative kernel change |Theta_T - Theta_0|_F / |Theta_0|_F"}[metric]
    return _row("lazy", metric, -1.0, _COB,
                f"{what} of the lazy two-layer network f = alpha (h(theta) - h(theta_0)), h mean-field, loss / "
                "alpha^2, step scaled by m: the lazy regime, alpha large against 1 (the crossover from feature "
                "learning; Geiger, Spigler, Jacot & Wyart 2020); the width, data and training time fixed.",
                "alpha^-1")
