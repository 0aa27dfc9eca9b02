"""The typed schema of a run (`schema`), composed with a recipe and overrides by Hydra (`compose`)."""

from genlab.config.schema import (EvalConfig, KDEConfig, RatesConfig, RunConfig, TruthConfig, register_schema,
                                  truth_identity, truth_kwargs)

__all__ = ["TruthConfig", "KDEConfig", "EvalConfig", "RatesConfig", "RunConfig", "register_schema", "truth_kwargs",
           "truth_identity"]
