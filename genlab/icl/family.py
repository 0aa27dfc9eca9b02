"""The ``icl`` family: in-context learning, a whole-run family whose law is over prompts, not ``cfg.truth``."""

from __future__ import annotations

from genlab.core.family import Family
from genlab.icl.config import ICLConfig

__all__ = ["FAMILIES", "ICL"]


def run_whole(cfg, run_dir, *, device, progress=False) -> dict:
    """An in-context-learning run (``cfg.icl``): trains on fresh prompts, writes ``icl.png`` (error
    against k with baselines and theory curves), returns the flat metrics (no samples of a law to save)."""
    from genlab.icl.run import run_icl

    return dict(run_icl(cfg.icl, run_dir, seed=cfg.seed, device=device, progress=progress))


def headline(metrics: dict) -> list[str]:
    """The error at the full prompt, the LSA risk and its theory, and the excess over Bayes at k = 2, 5, K."""
    ks = sorted(int(k[len("err_k"):]) for k in metrics if k.startswith("err_k") and k[len("err_k"):].isdigit())
    want = [f"err_k{ks[-1]}"] if ks else []
    want += ["lsa_population_risk", "theory_lsa_risk"]
    want += [f"excess_ratio_k{k}" for k in (2, 5, ks[-1] if ks else None) if k is not None]
    return [k for k in dict.fromkeys(want) if metrics.get(k) is not None]


ICL = Family("icl", run_whole=run_whole, section="icl", schema=ICLConfig,
             summary="in-context learning of regression prompts, for estimator=icl",
             validate=lambda cfg: cfg.icl.validate(), headline=headline)

#: what `genlab.families` registers from this package, in this order
FAMILIES = (ICL,)
