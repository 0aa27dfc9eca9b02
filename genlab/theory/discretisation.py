"""Predicted decay of a sampler's error with its number of steps N: error ~ N^exponent.

For a deterministic sampler of the probability-flow ODE with the exact score,
the output law is the push-forward of the prior by the solver's map Phi_h,
while the continuous flow Phi pushes the prior to p_t0 (up to the horizon
error).  A one-step method of order k on a grid whose steps shrink as 1/N has
||Phi_h - Phi||_{C^1} = O(N^-k) on compacts when the velocity field is smooth
(Hairer, Norsett & Wanner 1993, Solving ODEs I, Sec. II.3, applied to the
flow and to its variational equation); by the change of variables the two
densities then differ by O(N^-k) in L1, so TV = O(N^-k): Euler k = 1, Heun
k = 2.

For the reverse SDE by Euler-Maruyama, the weak order is 1 (Kloeden & Platen
1992, Ch. 14), which bounds the error of expectations of smooth test
functions; the published TV and KL bounds are slower: TV <= ... + L sqrt(d h T)
(Chen, Chewi, Li, Li, Salim & Zhang 2023, ICLR), i.e. N^-1/2, and KL =
O(d h) (Benton, De Bortoli, Doucet & Deligiannidis 2024, ICLR), again TV ~
N^-1/2 through Pinsker.  The prediction below for ``sde_euler`` is that upper
bound's exponent; weak order 1 is stated in its assumptions.
"""

from __future__ import annotations

from genlab.theory.exponents import Prediction
from genlab.core.validation import check_in

__all__ = ["sampler_steps_exponent", "SAMPLER_ORDERS"]

_HNW = ("Hairer, Norsett & Wanner 1993, Solving Ordinary Differential Equations I, Sec. II.3 "
        "(global error of a one-step method of order k), applied to the flow map and its Jacobian; "
        "theorem number not checked here")
_CHEN = ("Chen, Chewi, Li, Li, Salim & Zhang 2023 (ICLR), 'Sampling is as easy as learning the score', "
         "main theorem (number not checked here); Benton, De Bortoli, Doucet & Deligiannidis 2024 (ICLR)")

#: sampler -> (order in the step size, source)
SAMPLER_ORDERS = {"ode_euler": (1, _HNW), "ode_heun": (2, _HNW), "sde_euler": (0.5, _CHEN)}


def sampler_steps_exponent(sampler: str) -> Prediction:
    """The exponent a in TV(sampler's law, p_t0) ~ N^a for N steps with the exact score.

    >>> sampler_steps_exponent("ode_heun").exponent
    -2.0
    """
    check_in("sampler", sampler, list(SAMPLER_ORDERS))
    order, source = SAMPLER_ORDERS[sampler]
    if sampler == "sde_euler":
        assumptions = ("exact score, L-Lipschitz in x, finite second moment; step h ~ T/N; an upper "
                       "bound (TV <= L sqrt(d h T)), not a sharp rate: Euler-Maruyama has weak order 1 "
                       "for smooth test functions, so TV may fall faster")
    else:
        assumptions = (f"exact score, smooth in (x, t) on the grid's range; steps of size O(1/N) in the "
                       f"grid's time variable; order {order} in h, asymptotic (N large enough that "
                       f"the map does not fold); horizon error e^-T negligible")
    return Prediction(-float(order), source, assumptions, False, estimator=sampler,
                      metric="tv_sampler", formula=f"-{order}")
